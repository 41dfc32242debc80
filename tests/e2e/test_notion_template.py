"""`pipeline notion template`: the Module template page in a Module Library with seed 001's
schema; exporting it gives a valid module with every section type."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.modules.validate import validate_paths
from pipeline.notion.sections import SECTION_TYPES
from tests.builders import para, rt
from tests.conftest import CLI, Repo
from tests.doubles.notion_server import (
    NotionServer,
    NotionState,
    point_cli_at,
    seed_001_row,
    seed_001_schema,
    serve,
)


@pytest.fixture
def seed(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotionServer]:
    state = NotionState(schema=seed_001_schema())
    for server in serve(state):
        point_cli_at(server, monkeypatch, repo.root, database=True)
        yield server


def writes(state: NotionState) -> int:
    return sum(
        n for hit, n in state.hits.items() if not hit.startswith(("GET", "POST /v1/data_sources"))
    )


def library_pages(state: NotionState) -> list[dict[str, Any]]:
    return [
        p
        for p in state.pages.values()
        if p["parent"].get("data_source_id") == state.data_source_id and not p["in_trash"]
    ]


def test_the_template_exports_to_a_module_with_every_section_type(
    repo: Repo, seed: NotionServer, cli: CLI
) -> None:
    state = seed.state
    result = cli("notion", "template", "--json")
    assert result.code == 0, result.out + result.err
    made = json.loads(result.out)
    assert (made["kind"], made["action"]) == ("page", "created")
    [page] = library_pages(state)
    assert page["properties"]["Module Name"]["title"][0]["plain_text"] == "Module template"
    assert page["properties"]["Status"]["status"] is None  # neither exported nor checked

    exported = cli("export", "--page", page["id"], "--json")
    assert exported.code == 0, exported.out + exported.err
    data = json.loads((repo.modules / "module-template.json").read_text())
    assert {s["section_type"] for s in data["sections"]} == set(SECTION_TYPES)
    assert [s["section_type"] for s in data["sections"]] == made["section_types"]
    assert validate_paths([repo.modules]).valid
    # Only the template's note to the team lead is left out, and listed.
    [note] = json.loads(exported.out)["results"][0]["skipped"]
    assert (note["block_type"], note["where"]) == ("callout", "before the first section")


def test_rerunning_changes_nothing_and_an_edited_template_is_written_anew(
    repo: Repo, seed: NotionServer, cli: CLI
) -> None:
    state = seed.state
    assert cli("notion", "template").code == 0
    [page] = library_pages(state)
    original = [b["type"] for b in state.children[page["id"]]]
    state.hits.clear()
    result = cli("notion", "template")
    assert "Module template (page): unchanged" in result.out
    assert writes(state) == 0, state.hits

    state.children[page["id"]].pop(3)  # a team lead deleted a block, and typed one
    state.children[page["id"]].append({**para(rt("scribble")), "children": []})
    result = cli("notion", "template")
    assert "Module template (page): updated" in result.out
    assert [b["type"] for b in state.children[page["id"]]] == original
    assert len(library_pages(state)) == 1  # the same page, never a second one


def test_a_database_template_named_module_template_is_filled(
    repo: Repo, seed: NotionServer, cli: CLI
) -> None:
    state = seed.state
    template = state.add_template("Module template", [])
    result = cli("notion", "template")
    assert result.code == 0, result.out + result.err
    assert "Module template (database template): updated" in result.out
    assert library_pages(state) == []
    assert len(state.children[template["id"]]) > 40


def test_dry_run_writes_nothing(repo: Repo, seed: NotionServer, cli: CLI) -> None:
    state = seed.state
    result = cli("notion", "template", "--dry-run")
    assert result.code == 0, result.out + result.err
    assert "would be created" in result.out and "dry run: nothing written" in result.out
    assert library_pages(state) == [] and writes(state) == 0


def test_a_page_made_from_the_template_needs_its_own_module_id(
    repo: Repo, seed: NotionServer, cli: CLI
) -> None:
    state = seed.state
    assert cli("notion", "template").code == 0
    [template] = library_pages(state)
    copy = state.add_page(seed_001_row("Lab Safety 101"), [])
    state.children[copy["id"]] = state.children[template["id"]]
    for b in state.children[copy["id"]]:
        b["parent"] = {"type": "block_id", "block_id": copy["id"]}
    result = cli("export")
    assert result.code == 1
    comment = "".join(t["plain_text"] for t in state.comments[-1]["rich_text"])
    assert "the page still has the template's Module ID (module-template" in comment
    assert "like lab-safety-101" in comment
