"""`pipeline sync setup` against the local Notion server: create once, reuse after."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import CLI, Repo
from tests.doubles.notion_server import (
    NotionServer,
    NotionState,
    point_cli_at,
    rename_property,
    serve,
)


@pytest.fixture
def notion(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotionServer]:
    for server in serve(NotionState()):
        point_cli_at(server, monkeypatch, repo.root)
        yield server


def test_setup_twice_makes_no_duplicates(repo: Repo, notion: NotionServer, cli: CLI) -> None:
    parent = notion.state.add_page({}, [])["id"]
    first = cli("sync", "setup", "--parent-page", parent)
    assert first.code == 0, first.err
    titles = sorted(d["title"] for d in notion.state.databases.values())
    assert titles == ["Faculty", "Interfaces", "Modules", "Projects", "Teams", "Universities"]
    saved = json.loads((repo.root / "notion-sync.json").read_text())
    assert set(saved["databases"]) == {
        "faculty",
        "interfaces",
        "modules",
        "projects",
        "teams",
        "universities",
    }
    teams = notion.state.sources[saved["databases"]["teams"]["data_source_id"]]["properties"]
    assert [o["name"] for o in teams["team_type"]["select"]["options"]] == [
        "design",
        "analysis",
        "testing",
        "integration",
    ]
    assert "sync_status" in teams and "postgres_id" in teams

    second = cli("sync", "setup", "--parent-page", parent)
    assert second.code == 0
    assert second.out.count(": found") == 6
    assert len(notion.state.databases) == 6
    assert json.loads((repo.root / "notion-sync.json").read_text()) == saved

    (repo.root / "notion-sync.json").unlink()  # lost: found again by title
    third = cli("sync", "setup", "--parent-page", parent)
    assert third.out.count(": found") == 6
    assert len(notion.state.databases) == 6


def test_students_only_when_configured(repo: Repo, notion: NotionServer, cli: CLI) -> None:
    parent = notion.state.add_page({}, [])["id"]
    (repo.root / "pipeline.yaml").write_text(
        "notion:\n  requests_per_second: 200\nsync:\n  students: [status]\n"
    )
    assert cli("sync", "setup", "--parent-page", parent).code == 0
    [students] = [
        s
        for s in notion.state.sources.values()
        if notion.state.databases[s["database_id"]]["title"] == "Students"
    ]
    assert set(students["properties"]) == {
        "Name",
        "status",
        "postgres_id",
        "last_synced",
        "sync_status",
        "sync_notes",
    }


def test_setup_under_a_page_that_is_not_shared(repo: Repo, notion: NotionServer, cli: CLI) -> None:
    result = cli("sync", "setup", "--parent-page", "00000000-0000-4000-8000-000000000000")
    assert result.code == 2  # the operator shares the page; waiting will not help
    assert "Could not find block" in result.err
    assert "Share it with the integration" in result.err


def test_setup_does_not_add_an_empty_property_beside_one_renamed(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    """An empty "code" beside the team lead's "Code" would pass a sync's check, and a pull
    would take it as every edited row's code cleared."""
    parent = notion.state.add_page({}, [])["id"]
    assert cli("sync", "setup", "--parent-page", parent).code == 0
    saved = json.loads((repo.root / "notion-sync.json").read_text())
    source = saved["databases"]["universities"]["data_source_id"]
    rename_property(notion.state, source, "code", "Code")
    del notion.state.sources[source]["properties"]["location"]  # never had it: added

    result = cli("sync", "setup", "--parent-page", parent)
    assert result.code == 1
    assert "Traceback" not in result.err
    assert '"Code" may be it, renamed; rename it back to "code"' in result.err
    assert "it was not added again" in result.err
    properties = notion.state.sources[source]["properties"]
    assert "code" not in properties and properties["Code"]["type"] == "rich_text"
    assert properties["location"]["type"] == "rich_text"
    assert json.loads((repo.root / "notion-sync.json").read_text()) == saved
