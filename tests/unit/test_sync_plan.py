"""The two-way sync planner: who changed what since the last sync decides."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from pipeline.db.migrate import available
from pipeline.sync.entities import (
    ENTITIES,
    NEVER_SYNCED,
    Column,
    canonical,
    entities,
    misfits,
    values_hash,
)
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
    assert pushed.note == ""  # waiting for a pull, nothing to change: old notes go


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


def test_a_row_postgres_does_not_have_is_told_on_pull_never_created() -> None:
    rows = [
        NotionRow("page-9", None, team("New team")),  # added in Notion
        NotionRow("page-8", "8", team("Typo")),  # an id that names no row
        NotionRow("page-7", "7", team("Gone")),  # synced once, deleted in Postgres since
        NotionRow("page-6", "6", None),  # not edited since the last sync: nothing to tell
        NotionRow("page-1", None, team("Structures")),  # its postgres_id cleared: still row 1
    ]
    values = team("Structures")
    states = {
        "1": SyncState("1", "page-1", values_hash(values)),
        "7": SyncState("7", "page-7", values_hash(team("Gone"))),
    }
    steps = plan(TEAMS, {"1": values}, rows, states, "pull")
    assert actions(steps) == [
        ("not_in_postgres", "page-9"),
        ("not_in_postgres", "8"),
        ("not_in_postgres", "7"),
    ]
    added, typo, gone = steps
    assert 'the row "New team" was added in Notion and has no postgres_id' in added.reason
    assert added.note and added.note.startswith("Not synced: this row is not in Postgres")
    assert typo.note and 'postgres_id "8" names no row in Postgres\'s teams table' in typo.note
    assert gone.note and "is no longer in Postgres" in gone.note
    assert plan(TEAMS, {"1": values}, rows, states, "push") == []


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


# -- issue #12 item 17: a duplicated Notion row is a conflict, never an overwrite --------------


@pytest.mark.parametrize("direction", ["push", "pull"])
@pytest.mark.parametrize("original_fetched", [True, False])
def test_two_pages_with_one_postgres_id_are_a_conflict(
    direction: Direction, original_fetched: bool
) -> None:
    before = team("Structures")
    original = NotionRow("page-1", "1", before if original_fetched else None)
    copy = NotionRow("page-2", "1", team("Structures (copy)"))
    pg = {"1": team("Structures", "completed")}  # something to push, too
    [step] = plan(TEAMS, pg, [copy, original], synced(before), direction)
    assert step.action == "conflict"
    assert (step.notion_page_id, step.also) == ("page-1", ("page-2",))  # the known page first
    assert "page-1" in step.reason and "page-2" in step.reason
    assert "Duplicate" in step.reason


def test_a_conflict_mark_is_cleared_once_the_sides_agree() -> None:
    values = team("Structures")
    marked = [NotionRow("page-1", "1", values, sync_status="conflict")]
    [step] = plan(TEAMS, {"1": values}, marked, synced(values), "pull")
    assert step.action == "mark_synced"
    # Not fetched: its mark is not known, and nothing is asked of Notion.
    assert (
        plan(TEAMS, {"1": values}, [NotionRow("page-1", "1", None)], synced(values), "pull") == []
    )


# -- issue #12 item 16: text an older push cut at 2,000 characters is not an edit ------------

PROJECTS = ENTITIES["projects"]
LONG = " ".join(f"{i:05d}" for i in range(1000))  # 5,999 characters


def project(description: str, status: str = "active") -> dict[str, object]:
    return canonical(PROJECTS, {"name": "PROVES", "description": description, "status": status})


def test_text_an_older_push_cut_is_not_pulled_but_written_whole() -> None:
    whole = project(LONG)
    states = {"p1": SyncState("p1", "page-1", values_hash(whole))}
    cut = [NotionRow("page-1", "p1", project(LONG[:2000]))]
    assert plan(PROJECTS, {"p1": whole}, cut, states, "pull") == []
    [step] = plan(PROJECTS, {"p1": whole}, cut, states, "push")
    assert (step.action, step.values["description"]) == ("update_notion", LONG)


def test_an_edit_beside_cut_text_is_pulled_with_the_text_whole() -> None:
    whole = project(LONG)
    states = {"p1": SyncState("p1", "page-1", values_hash(whole))}
    edited = [NotionRow("page-1", "p1", project(LONG[:2000], "on_hold"))]
    [step] = plan(PROJECTS, {"p1": whole}, edited, states, "pull")
    assert step.action == "update_postgres"
    assert step.values == project(LONG, "on_hold")


def test_text_shortened_by_a_person_is_an_edit() -> None:
    whole = project(LONG)
    states = {"p1": SyncState("p1", "page-1", values_hash(whole))}
    for shorter in (LONG[:1999], LONG[:2001], "short"):
        [step] = plan(
            PROJECTS, {"p1": whole}, [NotionRow("page-1", "p1", project(shorter))], states, "pull"
        )
        assert (step.action, step.values["description"]) == ("update_postgres", shorter)


# -- issue #12 item 18: what a column cannot hold is that row's failure ------------------------


def test_misfits_name_the_property_and_the_limit() -> None:
    interfaces = ENTITIES["interfaces"]
    columns = {"energy_loss": Column(integer=True), "name": Column(max_length=255)}
    values = canonical(interfaces, {"name": "x" * 256, "energy_loss": 1.5})
    assert misfits(interfaces, values, columns) == [
        "Name is 256 characters long; Postgres holds at most 255 there",
        "energy_loss is 1.5, but Postgres holds whole numbers there",
    ]
    fine = canonical(interfaces, {"name": "x" * 255, "energy_loss": 40.0})
    assert misfits(interfaces, fine, columns) == []
