"""The two-way sync planner: who changed what since the last sync decides."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from pipeline.db.migrate import available
from pipeline.sync.entities import ENTITIES, NEVER_SYNCED, canonical, entities, values_hash
from pipeline.sync.plan import Direction, NotionRow, SyncState, SyncStep, plan

TEAMS = ENTITIES["teams"]


def team(name: str, status: str = "active") -> dict[str, object]:
    return canonical(TEAMS, {"name": name, "university_id": "cpp", "status": status})


def synced(values: dict[str, object]) -> dict[str, SyncState]:
    return {"1": SyncState("1", "page-1", values_hash(values))}


def actions(steps: list[SyncStep]) -> list[tuple[str, str | None]]:
    return [(s.action, s.postgres_id or s.notion_page_id) for s in steps]


def test_new_postgres_row_is_created_in_notion_on_push_only() -> None:
    pg = {"1": team("Structures")}
    assert actions(plan(TEAMS, pg, [], {}, "push")) == [("create_in_notion", "1")]
    assert plan(TEAMS, pg, [], {}, "pull") == []


def test_unchanged_rows_do_nothing() -> None:
    values = team("Structures")
    rows = [NotionRow("page-1", "1", values)]
    for direction in ("push", "pull"):
        assert plan(TEAMS, {"1": values}, rows, synced(values), direction) == []


def test_only_postgres_changed_wins_on_push() -> None:
    before, after = team("Structures"), team("Structures", "completed")
    rows = [NotionRow("page-1", "1", before)]
    [step] = plan(TEAMS, {"1": after}, rows, synced(before), "push")
    assert (step.action, step.values["status"]) == ("update_notion", "completed")
    assert plan(TEAMS, {"1": after}, rows, synced(before), "pull") == []


def test_only_notion_changed_wins_on_pull_and_is_pending_on_push() -> None:
    before, edited = team("Structures"), team("Structures", "on_hold")
    rows = [NotionRow("page-1", "1", edited)]
    [pulled] = plan(TEAMS, {"1": before}, rows, synced(before), "pull")
    assert (pulled.action, pulled.values["status"]) == ("update_postgres", "on_hold")
    [pushed] = plan(TEAMS, {"1": before}, rows, synced(before), "push")
    assert pushed.action == "mark_pending"


@pytest.mark.parametrize("direction", ["push", "pull"])
def test_both_changed_is_a_conflict_and_nothing_is_overwritten(direction: Direction) -> None:
    before = team("Structures")
    rows = [NotionRow("page-1", "1", team("Structures", "on_hold"))]
    [step] = plan(TEAMS, {"1": team("Structures", "completed")}, rows, synced(before), direction)
    assert step.action == "conflict"
    assert "both" in step.reason


def test_both_changed_to_the_same_values_is_just_synced() -> None:
    before, same = team("Structures"), team("Structures", "completed")
    rows = [NotionRow("page-1", "1", same)]
    [step] = plan(TEAMS, {"1": same}, rows, synced(before), "pull")
    assert step.action == "mark_synced"


def test_first_link_of_different_rows() -> None:
    rows = [NotionRow("page-1", "1", team("Old name"))]
    pg = {"1": team("New name")}
    assert actions(plan(TEAMS, pg, rows, {}, "push")) == [("update_notion", "1")]
    assert actions(plan(TEAMS, pg, rows, {}, "pull")) == [("conflict", "1")]


def test_row_added_in_notion_is_created_in_postgres_on_pull() -> None:
    rows = [NotionRow("page-9", None, team("New team"))]
    assert actions(plan(TEAMS, {}, rows, {}, "pull")) == [("create_in_postgres", "page-9")]
    assert plan(TEAMS, {}, rows, {}, "push") == []


def test_modules_are_never_pulled() -> None:
    modules = ENTITIES["modules"]
    before = canonical(modules, {"title": "Lab", "status": "published"})
    edited = canonical(modules, {"title": "Lab!", "status": "published"})
    rows = [NotionRow("page-1", "1", edited), NotionRow("page-2", None, edited)]
    states = {"1": SyncState("1", "page-1", values_hash(before))}
    assert plan(modules, {"1": before}, rows, states, "pull") == []
    [step] = plan(modules, {"1": before}, rows, states, "push")
    assert (step.action, step.values["title"]) == ("update_notion", "Lab")


def test_students_are_off_by_default_and_limited_to_listed_fields() -> None:
    assert "students" not in entities(None)
    students = entities(["status"])["students"]
    assert [f.column for f in students.fields] == ["name", "status"]
    # Every table of per-student records in the schema is never synced, configured or not.
    assert student_record_tables() == NEVER_SYNCED
    synced = {e.table for e in [*ENTITIES.values(), *entities(["status"]).values()]}
    assert not NEVER_SYNCED & synced


def student_record_tables() -> set[str]:
    """Tables the migrations create with a student_id column (records about a student)."""
    sql = "\n".join(m.sql for m in available())
    tables = re.findall(r"^CREATE TABLE (\w+) \((.*?)^\);", sql, re.M | re.S)
    assert len(tables) >= 10, "the migrations' CREATE TABLE statements were not found"
    return {name for name, body in tables if re.search(r"^\s*student_id\s", body, re.M)}


def test_canonical_forms_compare_equal() -> None:
    projects = ENTITIES["projects"]
    from_pg = canonical(
        projects, {"name": "CubeSat", "start_date": dt.date(2025, 9, 1), "description": ""}
    )
    from_notion = canonical(
        projects, {"name": " CubeSat ", "start_date": "2025-09-01", "description": None}
    )
    assert values_hash(from_pg) == values_hash(from_notion)
    interfaces = ENTITIES["interfaces"]
    assert canonical(interfaces, {"energy_loss": 40.0})["energy_loss"] == 40


def test_rows_not_fetched_count_as_unchanged_in_notion() -> None:
    before, after = team("Structures"), team("Structures", "completed")
    untouched = [NotionRow("page-1", "1", None)]
    assert plan(TEAMS, {"1": before}, untouched, synced(before), "pull") == []
    [step] = plan(TEAMS, {"1": after}, untouched, synced(before), "push")
    assert step.action == "update_notion"
