"""Roster sync as seed 002 runs it on a schedule (issue #16 item 4): one university at a
time, every field change in audit_logs, created_at and full_name shown in Notion; and
seed 004's Phase 3 columns (item 5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.builders import rt
from tests.conftest import CLI, Database, Repo
from tests.doubles.notion_server import NotionServer, NotionState, edit_time, point_cli_at, serve


@pytest.fixture
def notion(
    repo: Repo, db: Database, monkeypatch: pytest.MonkeyPatch, cli: CLI
) -> Iterator[NotionServer]:
    for server in serve(NotionState()):
        point_cli_at(server, monkeypatch, repo.root)
        db.conn.execute(
            "INSERT INTO universities (id, name, full_name, code) VALUES "
            "('cpp', 'Cal Poly Pomona', 'California State Polytechnic University, Pomona', "
            "'CPP'), ('uci', 'UC Irvine', 'University of California, Irvine', 'UCI')"
        )
        db.conn.execute(
            "INSERT INTO teams (name, university_id, status, created_at) VALUES "
            "('Structures', 'cpp', 'active', '2025-09-01 10:00'), "
            "('Optics', 'uci', 'active', '2025-09-02 10:00'), "
            "('PROVES core', NULL, 'active', '2025-09-03 10:00')"
        )
        parent = server.state.add_page({}, [])["id"]
        assert cli("sync", "setup", "--parent-page", parent).code == 0
        yield server


def pages(notion: NotionServer, repo: Repo, entity: str) -> dict[str, dict[str, Any]]:
    """postgres_id -> page of an entity's database."""
    config = json.loads((repo.root / "notion-sync.json").read_text())
    source = config["databases"][entity]["data_source_id"]
    found = [p for p in notion.state.pages.values() if p["parent"].get("data_source_id") == source]
    return {
        "".join(t["plain_text"] for t in p["properties"]["postgres_id"]["rich_text"]): p
        for p in found
    }


def text(page: dict[str, Any], name: str) -> str:
    prop = page["properties"][name]
    return "".join(t["plain_text"] for t in prop[prop["type"]])


def test_one_university_at_a_time(repo: Repo, db: Database, notion: NotionServer, cli: CLI) -> None:
    result = cli("sync", "push", "--university", "cpp", "--json")
    assert result.code == 0, result.err
    assert sorted(r["entity"] for r in json.loads(result.out)) == [
        "faculty",
        "interfaces",
        "teams",
        "universities",
    ]  # projects and the modules catalog belong to no university: left out
    assert set(pages(notion, repo, "universities")) == {"cpp"}
    teams = {text(p, "Name") for p in pages(notion, repo, "teams").values()}
    assert teams == {"Structures"}
    assert cli("sync", "push", "teams", "--university", "none").code == 0
    teams = {text(p, "Name") for p in pages(notion, repo, "teams").values()}
    assert teams == {"Structures", "PROVES core"}  # the shared nucleus: no university
    details = db.value("SELECT details FROM sync_log ORDER BY started_at DESC LIMIT 1")
    assert details == {"entities": ["teams"], "university": "none"}


def test_created_at_and_full_name_are_shown_and_never_pulled(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    assert cli("sync", "push").code == 0
    cpp = pages(notion, repo, "universities")["cpp"]
    assert text(cpp, "full_name") == "California State Polytechnic University, Pomona"
    [team_id] = db.rows("SELECT id::text FROM teams WHERE name = 'Structures'")[0]
    team = pages(notion, repo, "teams")[team_id]
    assert team["properties"]["created_at"]["date"]["start"] == "2025-09-01"

    team["properties"]["created_at"]["date"] = {"start": "1999-01-01"}
    cpp["properties"]["full_name"]["rich_text"] = [rt("Renamed in Notion")]
    for page in (team, cpp):
        page["last_edited_time"] = edit_time()
    assert cli("sync", "pull").code == 0
    assert db.value("SELECT created_at::date::text FROM teams WHERE name = 'Structures'") == (
        "2025-09-01"
    )
    assert db.value("SELECT full_name FROM universities WHERE id = 'cpp'").startswith("California")


def test_every_field_a_sync_changes_is_in_the_audit_log(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    assert cli("sync", "push", "teams").code == 0
    [team_id] = db.rows("SELECT id::text FROM teams WHERE name = 'Structures'")[0]
    created = db.rows(
        "SELECT field, old_value, new_value, side FROM audit_logs WHERE postgres_id = %s "
        "ORDER BY field",
        team_id,
    )
    assert ("name", None, "Structures", "notion") in created

    page = pages(notion, repo, "teams")[team_id]
    page["properties"]["status"]["select"] = {"name": "on_hold"}
    page["last_edited_time"] = edit_time()
    assert cli("sync", "pull", "teams").code == 0
    pulled = db.rows(
        "SELECT field, old_value, new_value, side, sync_log_id IS NOT NULL FROM audit_logs "
        "WHERE side = 'postgres'"
    )
    assert pulled == [("status", "active", "on_hold", "postgres", True)]

    db.conn.execute("UPDATE teams SET subsystem = 'ADCS' WHERE name = 'Structures'")
    assert cli("sync", "push", "teams").code == 0
    pushed = db.rows(
        "SELECT field, old_value, new_value FROM audit_logs WHERE side = 'notion' "
        "AND field = 'subsystem'"
    )
    assert pushed == [("subsystem", None, "ADCS")]


def test_setup_adds_what_a_database_made_earlier_lacks(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    config = json.loads((repo.root / "notion-sync.json").read_text())
    source = notion.state.sources[config["databases"]["teams"]["data_source_id"]]
    del source["properties"]["created_at"]  # as an older version made it
    parent = config["parent_page_id"]
    assert cli("sync", "setup", "--parent-page", parent).code == 0
    assert source["properties"]["created_at"]["type"] == "date"
    assert cli("sync", "push", "teams").code == 0


PHASE_3 = {
    ("module_assignments", "auto_assigned"): ("boolean", "false"),
    ("module_assignments", "assignment_rule"): ("character varying", None),
    ("module_progress", "difficulty_adjustments"): ("json", None),
    ("module_progress", "mastery_score"): ("numeric", None),
    ("module_analytics_events", "struggle_signal"): ("numeric", None),
    ("module_analytics_events", "pattern_detected"): ("character varying", None),
    ("module_feedback", "engagement_rating"): ("integer", None),
    ("module_feedback", "clarity_rating"): ("integer", None),
    ("module_feedback", "tags"): ("json", None),
}


def test_seed_004_phase_3_columns(db: Database) -> None:
    rows = db.rows(
        "SELECT table_name, column_name, data_type, column_default, numeric_precision, "
        "numeric_scale, character_maximum_length FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    )
    found = {(t, c): (kind, default) for t, c, kind, default, *_ in rows}
    for column, (kind, default) in PHASE_3.items():
        assert found[column][0] == kind, column
        assert found[column][1] == default, column
    sizes = {(t, c): rest for t, c, _k, _d, *rest in rows}
    assert sizes[("module_progress", "mastery_score")][:2] == [3, 2]  # DECIMAL(3,2)
    assert sizes[("module_analytics_events", "pattern_detected")][2] == 100
    assert sizes[("module_assignments", "assignment_rule")][2] == 255
