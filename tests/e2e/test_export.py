"""`pipeline export` end to end: real notion-client -> local Notion server -> files."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from pipeline.modules.validate import validate_paths
from tests.builders import block, body, code, heading, para, properties, rt, schema
from tests.conftest import CLI, Repo
from tests.doubles.notion_fixtures import tree
from tests.doubles.notion_server import (
    TOKEN,
    Bucket,
    NotionServer,
    NotionState,
    edit_time,
)

HOUR_AGO = time.time() - 3600


def files(repo: Repo) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(repo.modules.glob("*.json"))}


def test_ready_pages_become_valid_module_files(repo: Repo, notion: NotionServer, cli: CLI) -> None:
    state = notion.state
    page = state.add_page(properties("lab-safety-101", "Lab Safety 101"), body(), HOUR_AGO)
    state.add_page(properties("draft-one", "Draft", status="Drafting"), body(), HOUR_AGO)
    result = cli("export")
    assert result.code == 0, result.err
    assert "1 exported, 0 unchanged, 0 failed" in result.out
    assert list(files(repo)) == ["lab-safety-101.json"]
    data = json.loads((repo.modules / "lab-safety-101.json").read_text())
    assert data["title"] == "Lab Safety 101"
    assert data["notion_page_id"] == page["id"]
    assert data["learning_objectives"] == ["Stay safe"]
    assert [s["section_type"] for s in data["sections"]] == ["text", "checklist"]
    assert data["metadata"]["revision"] == 1
    assert data["metadata"]["exported_at"] == page["last_edited_time"].split(".")[0] + "Z"
    assert validate_paths([repo.modules]).valid
    assert TOKEN not in result.out + result.err


def test_same_content_gives_the_same_bytes(repo: Repo, notion: NotionServer, cli: CLI) -> None:
    page = notion.state.add_page(properties("a", "A"), body(), HOUR_AGO)
    cli("export")
    before = files(repo)
    mtime = (repo.modules / "a.json").stat().st_mtime_ns
    result = cli("export", "--full")
    assert "0 exported, 1 unchanged" in result.out
    assert files(repo) == before
    assert (repo.modules / "a.json").stat().st_mtime_ns == mtime

    notion.state.set_blocks(page["id"], body("Changed text."))
    page["last_edited_time"] = "2030-01-01T10:00:00.000Z"
    cli("export", "--full")
    data = json.loads((repo.modules / "a.json").read_text())
    assert data["metadata"]["revision"] == 2
    assert data["metadata"]["exported_at"] == "2030-01-01T10:00:00Z"
    assert data["sections"][0]["content"] == "Changed text."


def test_incremental_runs_ask_only_for_edited_pages(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state
    for i in range(5):
        state.add_page(properties(f"m{i}", f"M{i}"), body(), HOUR_AGO)
    cli("export")
    assert (repo.root / ".pipeline" / "notion-export.json").is_file()
    state.hits.clear()
    result = cli("export")
    assert "0 exported, 0 unchanged, 0 failed" in result.out
    assert sum(state.hits.values()) <= 4, state.hits
    assert state.hits["GET /v1/blocks/{id}/children"] == 0

    edited = next(iter(state.pages.values()))
    state.set_blocks(edited["id"], body("New words."))
    edited["last_edited_time"] = edit_time()
    state.hits.clear()
    result = cli("export")
    assert "1 exported, 0 unchanged" in result.out
    assert state.hits["GET /v1/blocks/{id}/children"] == 1


def file_downloads(state: NotionState) -> int:
    return sum(n for request, n in state.hits.items() if request.startswith("GET /files/"))


def test_notion_hosted_files_are_downloaded_once(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state
    image = block(
        "image",
        type="file",
        caption=[rt("Floor plan")],
        file=state.hosted_file("plan.PNG", b"\x89PNG fake", notion.url),
    )
    image["last_edited_time"] = "2025-01-01T00:00:00.000Z"
    page = state.add_page(
        properties("a", "A"), [heading("Section 1: Plan"), para(rt("Type: Image")), image], HOUR_AGO
    )
    assert cli("export").code == 0
    data = json.loads((repo.modules / "a.json").read_text())
    path = data["sections"][0]["media_url"]
    assert path.startswith("data/assets/a/") and path.endswith(".png")
    assert (repo.root / path).read_bytes() == b"\x89PNG fake"
    assert "amazonaws" not in json.dumps(data) and "X-Amz" not in json.dumps(data)
    assert file_downloads(state) == 1, state.hits

    page["last_edited_time"] = "2030-01-01T00:00:00.000Z"  # page edited, file not
    assert cli("export", "--full").code == 0
    assert file_downloads(state) == 1, "the unchanged file was downloaded again"
    assert json.loads((repo.modules / "a.json").read_text())["sections"][0]["media_url"] == path


def test_expired_file_url_fails_only_that_page(repo: Repo, notion: NotionServer, cli: CLI) -> None:
    state = notion.state
    state.file_lifetime = -10
    image = block(
        "image", type="file", caption=[], file=state.hosted_file("x.png", b"x", notion.url)
    )
    state.add_page(properties("bad", "Bad"), [heading("Section 1: P"), image], HOUR_AGO)
    state.add_page(properties("good", "Good"), body(), HOUR_AGO)
    result = cli("export")
    assert result.code == 1
    assert "could not download the file" in result.out
    assert list(files(repo)) == ["good.json"]


@pytest.mark.parametrize(
    ("module_id", "blocks", "words"),
    [
        (None, body(), "the Module ID is empty"),
        ("../etc", body(), "is not a valid id"),
        ("a", [heading("Section 1: A"), code("a: [1,")], "not valid YAML"),
        ("a", [para(rt("no sections here"))], "has no sections"),
        (
            "a",
            [heading("Section 1: A"), para(rt("Type: Quiz"))],
            "Section 1 (A): a quiz needs its questions: write each question followed by its "
            "options as to-dos",
        ),
    ],
)
def test_a_bad_page_is_reported_on_its_row_and_others_export(
    repo: Repo,
    notion: NotionServer,
    cli: CLI,
    module_id: str | None,
    blocks: list[dict[str, Any]],
    words: str,
) -> None:
    state = notion.state
    bad = state.add_page(properties(module_id, "Bad page"), blocks, HOUR_AGO)
    state.add_page(properties("good", "Good"), body(), HOUR_AGO)
    result = cli("export")
    assert result.code == 1
    assert words in result.out
    assert "1 exported, 0 unchanged, 1 failed" in result.out
    assert list(files(repo)) == ["good.json"]
    error = state.pages[bad["id"]]["properties"]["Export Error"]["rich_text"]
    assert error and error[0]["text"]["content"].startswith("Export failed: ")
    assert words in error[0]["text"]["content"]


def test_error_is_cleared_when_the_page_is_fixed(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state
    page = state.add_page(properties("a", "A"), [para(rt("nothing"))], HOUR_AGO)
    cli("export")
    assert state.pages[page["id"]]["properties"]["Export Error"]["rich_text"]
    state.set_blocks(page["id"], body())
    assert cli("export", "--full").code == 0
    assert state.pages[page["id"]]["properties"]["Export Error"]["rich_text"] == []


def test_without_an_error_property_a_comment_is_left(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    notion.state.schema = schema(with_error_property=False)
    page = notion.state.add_page(properties("a", "A"), [para(rt("nothing"))], HOUR_AGO)
    assert cli("export").code == 1
    [comment] = notion.state.comments
    assert comment["parent"] == {"type": "page_id", "page_id": page["id"]}
    assert "has no sections" in comment["rich_text"][0]["text"]["content"]


def test_duplicate_module_ids_fail_both_pages(repo: Repo, notion: NotionServer, cli: CLI) -> None:
    notion.state.add_page(properties("same", "One"), body(), HOUR_AGO)
    notion.state.add_page(properties("same", "Two"), body(), HOUR_AGO)
    result = cli("export")
    assert result.code == 1
    assert result.out.count("is also used by the page") == 2
    assert files(repo) == {}


def test_prerequisite_cycle_is_not_written(repo: Repo, notion: NotionServer, cli: CLI) -> None:
    state = notion.state
    a = state.add_page(properties("a", "A"), body(), HOUR_AGO)
    b = state.add_page(properties("b", "B", prerequisites=[a["id"]]), body(), HOUR_AGO)
    a["properties"]["Prerequisites"]["relation"] = [{"id": b["id"]}]
    result = cli("export")
    assert result.code == 1
    assert "prerequisites form a cycle" in result.out
    assert files(repo) == {}


def test_rate_limits_and_faults_still_export_everything(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state
    for i in range(6):
        state.add_page(properties(f"m{i}", f"M{i}"), body(f"Body {i}."), HOUR_AGO)
    state.bucket = Bucket(rate=30, burst=2)
    state.retry_after = 0.1
    state.faults.extend(
        [(r"POST /v1/data_sources", 503), (r"GET /v1/blocks", 502), (r"GET /v1/blocks", 500)]
    )
    result = cli("export")
    assert result.code == 0, result.out
    assert len(files(repo)) == 6
    for i in range(6):
        data = json.loads((repo.modules / f"m{i}.json").read_text())
        assert data["sections"][0]["content"] == f"Body {i}."
    assert validate_paths([repo.modules]).valid


def test_dry_run_writes_nothing_anywhere(repo: Repo, notion: NotionServer, cli: CLI) -> None:
    page = notion.state.add_page(properties("a", "A"), [para(rt("x"))], HOUR_AGO)
    notion.state.add_page(properties("b", "B"), body(), HOUR_AGO)
    result = cli("export", "--dry-run")
    assert "dry run" in result.out
    assert files(repo) == {}
    assert not (repo.root / ".pipeline").exists()
    assert notion.state.pages[page["id"]]["properties"]["Export Error"]["rich_text"] == []


def test_step_summary_and_single_module(
    repo: Repo, notion: NotionServer, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = repo.root / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    notion.state.add_page(properties("a", "A"), body(), HOUR_AGO)
    notion.state.add_page(properties("b", "B"), body(), HOUR_AGO)
    assert cli("export", "--module", "b").code == 0
    assert list(files(repo)) == ["b.json"]
    text = summary.read_text()
    assert text.startswith("## Notion export\n")
    assert "| b | B | exported |" in text


def test_configuration_errors(
    repo: Repo, notion: NotionServer, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo.root / "pipeline.yaml").write_text(
        "notion:\n  properties:\n    status: State\n"
        f"  database_id: {notion.state.database_id}\n"
        "  requests_per_second: 200\n"
    )
    result = cli("export")
    assert result.code == 2
    assert "no property 'State'" in result.err
    (repo.root / "pipeline.yaml").write_text("notion: {}\n")
    assert "no notion.database_id" in cli("export").err
    monkeypatch.delenv("NOTION_TOKEN")
    assert "NOTION_TOKEN is not set" in cli("export").err


def test_a_recorded_notion_page_exports(repo: Repo, notion: NotionServer, cli: CLI) -> None:
    """Real payloads from shared/notion-fixtures, as one section of a module."""
    state = notion.state
    recorded = tree("test_page_to_markdown.yaml", "00000000-0000-4000-8000-000000000004")

    def local_files(blocks: list[dict[str, Any]]) -> None:
        for b in blocks:
            payload = b.get(b["type"], {})
            if isinstance(payload, dict) and payload.get("type") == "file":
                payload["file"] = state.hosted_file("picture.jpg", b"JPEG", notion.url)
            local_files(b.get("children", []))

    local_files(recorded)
    state.add_page(
        properties("recorded", "Recorded"),
        [heading("Section 1: Everything Notion has"), *recorded],
        HOUR_AGO,
    )
    result = cli("export")
    assert result.code == 0, result.out
    assert "'button' cannot be exported" in result.out  # reported, with its block id
    data = json.loads((repo.modules / "recorded.json").read_text())
    content = data["sections"][0]["content"]
    assert "# Headline 1" in content and "| Cell 1, 1 | Cell 1, 2 |" in content
    # A text section: its pictures stay in the text, downloaded, where they were.
    assert data["sections"][0]["media_url"] is None
    pictures = re.findall(r"!\[[^\]]*\]\((data/assets/recorded/[^)]+)\)", content)
    assert pictures and all((repo.root / p).is_file() for p in pictures), content
    assert "X-Amz" not in json.dumps(data)
    assert validate_paths([repo.modules]).valid


def test_export_one_page_by_id(repo: Repo, notion: NotionServer, cli: CLI) -> None:
    notion.state.add_page(properties("a", "A"), body(), HOUR_AGO)
    page = notion.state.add_page(properties("b", "B"), body(), HOUR_AGO)
    assert cli("export", "--page", page["id"]).code == 0
    assert list(files(repo)) == ["b.json"]
    assert cli("export", "--page", page["id"], "--module", "b").code == 2


def test_export_records_the_modules_it_looked_at(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    notion.state.add_page(properties("a", "A"), body(), HOUR_AGO)
    notion.state.add_page(properties("b", "B"), [para(rt("no sections"))], HOUR_AGO)
    cli("export")
    record = json.loads((repo.root / ".pipeline" / "last-export.json").read_text())
    assert record == {"checked": ["a"]}  # b failed: nothing is known of it


def test_a_file_the_module_no_longer_uses_is_removed_by_the_export(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state

    def image(name: str, data: bytes, edited: str) -> dict[str, Any]:
        found = block(
            "image", type="file", caption=[], file=state.hosted_file(name, data, notion.url)
        )
        found["last_edited_time"] = edited
        return found

    page = state.add_page(
        properties("a", "A"),
        [
            heading("Section 1: Plan"),
            para(rt("Type: Image")),
            image("old.png", b"old", "2025-01-01T00:00:00.000Z"),
        ],
        HOUR_AGO,
    )
    assert cli("export").code == 0
    old = json.loads((repo.modules / "a.json").read_text())["sections"][0]["media_url"]
    # A file the team lead's repository keeps beside it, used by another module: it stays.
    shared = repo.root / "data/assets/a/shared.png"
    shared.write_bytes(b"shared")

    state.set_blocks(
        page["id"],
        [
            heading("Section 1: Plan"),
            para(rt("Type: Image")),
            image("new.png", b"new", "2030-01-01T00:00:00.000Z"),
        ],
    )
    page["last_edited_time"] = "2030-01-01T00:00:00.000Z"
    preview = cli("export", "--full", "--dry-run")
    assert preview.code == 0, preview.err
    assert f"unused, to remove: {old}" in " ".join(preview.out.split())
    assert (repo.root / old).is_file(), "a dry run removed a file"

    other = json.loads((repo.modules / "a.json").read_text())
    other.update(module_id="b", notion_page_id="0" * 32, title="B")
    other["sections"][0]["media_url"] = "data/assets/a/shared.png"
    (repo.modules / "b.json").write_text(json.dumps(other))

    result = cli("export", "--full", "--json")
    assert result.code == 0, result.err
    [exported] = [r for r in json.loads(result.out)["results"] if r["outcome"] == "exported"]
    assert exported["removed"] == [old]
    new = json.loads((repo.modules / "a.json").read_text())["sections"][0]["media_url"]
    assert (repo.root / new).read_bytes() == b"new"
    assert not (repo.root / old).exists()
    assert shared.read_bytes() == b"shared", "a file another module uses was removed"
    manifest = json.loads((repo.root / "data/assets/a/.notion-assets.json").read_text())
    assert [entry["path"] for entry in manifest.values()] == [new]
