"""`pipeline sync push/pull` with a real Postgres and the local Notion server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import CLI, Database, Repo
from tests.doubles.notion_server import NotionServer, NotionState, edit_time, point_cli_at, serve


@pytest.fixture
def notion(
    repo: Repo, db: Database, monkeypatch: pytest.MonkeyPatch, cli: CLI
) -> Iterator[NotionServer]:
    for server in serve(NotionState()):
        point_cli_at(server, monkeypatch, repo.root)
        db.conn.execute(
            "INSERT INTO universities (id, name, code) VALUES ('cpp', 'Cal Poly "
            "Pomona', 'CPP'), ('uci', 'UC Irvine', 'UCI')"
        )
        db.conn.execute(
            "INSERT INTO teams (name, university_id, status) VALUES ('Structures', 'cpp', 'active')"
        )
        db.conn.execute(
            "INSERT INTO students (id, name, university_id) VALUES ('s1', 'Ada', 'cpp')"
        )
        parent = server.state.add_page({}, [])["id"]
        assert cli("sync", "setup", "--parent-page", parent).code == 0
        yield server


def rows_of(notion: NotionServer, repo: Repo, entity: str) -> dict[str, dict[str, Any]]:
    """postgres_id -> page of an entity's database."""
    source = json.loads((repo.root / "notion-sync.json").read_text())["databases"][entity][
        "data_source_id"
    ]
    pages = [p for p in notion.state.pages.values() if p["parent"].get("data_source_id") == source]
    return {
        "".join(t["plain_text"] for t in p["properties"]["postgres_id"]["rich_text"]): p
        for p in pages
    }


def edit(page: dict[str, Any], name: str, kind: str, value: Any) -> None:
    """A team lead's edit in Notion: the value and the page's edit time change."""
    if kind == "select":
        value = {"name": value}
    page["properties"][name][kind] = value
    page["last_edited_time"] = edit_time()


def test_push_then_edit_in_notion_then_pull(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    result = cli("sync", "push")
    assert result.code == 0, result.out + result.err
    assert "universities: 2 added" in result.out
    universities = rows_of(notion, repo, "universities")
    assert sorted(universities) == ["cpp", "uci"]
    cpp = universities["cpp"]["properties"]
    assert cpp["Name"]["title"][0]["plain_text"] == "Cal Poly Pomona"
    assert cpp["sync_status"]["select"]["name"] == "synced"
    assert "students" not in json.loads((repo.root / "notion-sync.json").read_text())["databases"]

    again = cli("sync", "push")
    assert "universities: 0 added, 0 updated" in again.out

    edit(rows_of(notion, repo, "teams")["1"], "status", "select", "on_hold")
    result = cli("sync", "pull", "teams")
    assert result.code == 0, result.out + result.err
    assert "teams: 0 added, 1 updated" in result.out
    assert db.value("SELECT status FROM teams") == "on_hold"
    assert db.rows("SELECT sync_type, status FROM sync_log ORDER BY started_at") == [
        ("push", "completed"),
        ("push", "completed"),
        ("pull", "completed"),
    ]


def test_edit_in_postgres_then_push(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    cli("sync", "push")
    db.conn.execute("UPDATE universities SET location = 'Pomona, CA' WHERE id = 'cpp'")
    result = cli("sync", "push", "universities")
    assert "universities: 0 added, 1 updated" in result.out
    page = rows_of(notion, repo, "universities")["cpp"]
    assert page["properties"]["location"]["rich_text"][0]["plain_text"] == "Pomona, CA"


def test_both_edited_is_a_conflict_and_nothing_is_lost(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    cli("sync", "push")
    db.conn.execute("UPDATE teams SET status = 'completed'")
    page = rows_of(notion, repo, "teams")["1"]
    edit(page, "status", "select", "on_hold")
    for direction in ("push", "pull"):
        result = cli("sync", direction, "teams")
        assert result.code == 1
        assert "teams 1: changed in both Postgres and Notion" in result.out
        assert db.value("SELECT status FROM teams") == "completed"
        assert page["properties"]["status"]["select"]["name"] == "on_hold"
        assert page["properties"]["sync_status"]["select"]["name"] == "conflict"
    assert db.value("SELECT items_conflicted FROM sync_log ORDER BY started_at DESC LIMIT 1") == 1


def test_a_notion_failure_leaves_postgres_alone(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    cli("sync", "push")
    edit(rows_of(notion, repo, "teams")["1"], "status", "select", "on_hold")
    notion.state.faults.extend([(r"POST /v1/data_sources", 409)])  # not safe to repeat
    result = cli("sync", "pull", "teams")
    assert result.code == 4, result.err
    assert db.value("SELECT status FROM teams") == "active"
    assert db.rows(
        "SELECT status, error_message IS NOT NULL FROM sync_log ORDER BY started_at DESC LIMIT 1"
    ) == [("failed", True)]


def test_students_never_without_configuration(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    result = cli("sync", "push", "students")
    assert result.code == 2
    assert "unknown entity 'students'" in result.err
