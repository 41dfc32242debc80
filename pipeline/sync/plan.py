"""Two-way sync of reference tables (seed 002), the deciding part, as pure functions.

Postgres stays authoritative. For each row the planner compares three things:
the row in Postgres, the row in Notion, and the hash of the values both sides
agreed on at the last sync (sync_state). Only one side changed since: that
side wins (last write wins). Both changed to different values: nothing is
overwritten, the row is marked conflict for a person to resolve. Student
progress, analytics, feedback and assignments are never synced; students only
when configured, and then only the fields listed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

Direction = Literal["push", "pull"]
Action = Literal[
    "create_in_notion",
    "update_notion",
    "create_in_postgres",
    "update_postgres",
    "mark_synced",
    "mark_pending",
    "conflict",
]
Values = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Field:
    column: str
    notion: str  # property name
    kind: str  # title, rich_text, select, number, date, email, checkbox
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Entity:
    name: str  # the Notion database title
    table: str
    fields: tuple[Field, ...]
    pull: bool = True  # modules come from Git: Notion only shows them
    integer_key: bool = False

    def only(self, columns: Sequence[str]) -> Entity:
        keep = tuple(f for f in self.fields if f.kind == "title" or f.column in columns)
        return Entity(self.name, self.table, keep, self.pull, self.integer_key)


def _f(column: str, kind: str = "rich_text", *options: str) -> Field:
    return Field(column, "Name" if kind == "title" else column, kind, tuple(options))


ENTITIES: dict[str, Entity] = {
    "universities": Entity(
        "Universities",
        "universities",
        (_f("name", "title"), _f("code"), _f("location"), _f("contact_email", "email")),
    ),
    "teams": Entity(
        "Teams",
        "teams",
        (
            _f("name", "title"),
            _f("university_id"),
            _f("team_type", "select", "design", "analysis", "testing", "integration"),
            _f("status", "select", "active", "completed", "on_hold"),
            _f("project_id"),
            _f("subsystem"),
        ),
        integer_key=True,
    ),
    "faculty": Entity(
        "Faculty",
        "faculty",
        (
            _f("name", "title"),
            _f("email", "email"),
            _f("university_id"),
            _f("department"),
            _f("role"),
        ),
    ),
    "projects": Entity(
        "Projects",
        "projects",
        (
            _f("name", "title"),
            _f("description"),
            _f("status", "select", "planned", "active", "completed", "on_hold"),
            _f("start_date", "date"),
            _f("end_date", "date"),
        ),
    ),
    "interfaces": Entity(
        "Interfaces",
        "interfaces",
        (
            _f("name", "title"),
            _f("from_university"),
            _f("to_university"),
            _f("from_team_id", "number"),
            _f("to_team_id", "number"),
            _f("bond_type", "select", "codified-strong", "institutional-weak", "fragile-temporary"),
            _f("energy_loss", "number"),
            _f("is_cross_university", "checkbox"),
        ),
    ),
    "modules": Entity(
        "Modules",
        "modules",
        (
            _f("title", "title"),
            _f("category", "select"),
            _f("difficulty_level", "number"),
            _f("status", "select", "draft", "published", "archived"),
        ),
        pull=False,
    ),
    "students": Entity(
        "Students",
        "students",
        (
            _f("name", "title"),
            _f("email", "email"),
            _f("university_id"),
            _f("team_id", "number"),
            _f("status", "select", "incoming", "established", "outgoing", "alumni"),
            _f("terms_remaining", "number"),
        ),
    ),
}
# Never leave Postgres, whatever the configuration says (seeds 000 and 001).
NEVER_SYNCED = frozenset(
    {"module_progress", "module_analytics_events", "module_feedback", "module_assignments"}
)


def entities(student_fields: Sequence[str] | None) -> dict[str, Entity]:
    """What is synced: everything but students, unless their fields are configured."""
    chosen = {k: v for k, v in ENTITIES.items() if k != "students"}
    if student_fields:
        chosen["students"] = ENTITIES["students"].only(student_fields)
    return chosen


def canonical(entity: Entity, values: Mapping[str, Any]) -> Values:
    """Values in one comparable form, whichever side they came from."""
    out: Values = {}
    for f in entity.fields:
        value = values.get(f.column)
        if isinstance(value, datetime):
            value = value.date().isoformat() if f.kind == "date" else value.isoformat()
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, str):
            value = value.strip() or None
        if f.kind == "number" and isinstance(value, float) and value.is_integer():
            value = int(value)
        out[f.column] = value
    return out


def values_hash(values: Values) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NotionRow:
    """A Notion row; values None: not edited since the last sync (not fetched)."""

    page_id: str
    postgres_id: str | None
    values: Values | None


@dataclass(frozen=True, slots=True)
class SyncState:
    postgres_id: str
    notion_page_id: str
    synced_hash: str


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    postgres_id: str | None
    notion_page_id: str | None
    values: Values  # what to write (or, for a conflict, the Postgres side)
    reason: str = ""


def plan(
    entity: Entity,
    postgres: Mapping[str, Values],
    notion: Sequence[NotionRow],
    states: Mapping[str, SyncState],
    direction: Direction,
) -> list[Step]:
    """The steps of one sync run in `direction` for one entity (rows in canonical form)."""
    by_pg = {row.postgres_id: row for row in notion if row.postgres_id}
    by_page = {row.page_id: row for row in notion}
    steps: list[Step] = []
    for pg_id in sorted(postgres):
        state = states.get(pg_id)
        row = by_pg.get(pg_id) or (by_page.get(state.notion_page_id) if state else None)
        steps += _pair(entity, pg_id, postgres[pg_id], row, state, direction=direction)
    if direction == "pull" and entity.pull:
        steps += [
            Step("create_in_postgres", None, row.page_id, row.values, "added in Notion")
            for row in notion
            if not row.postgres_id
            and row.values is not None
            and not any(s.notion_page_id == row.page_id for s in states.values())
        ]
    return steps


def _pair(
    entity: Entity,
    pg_id: str,
    pg_values: Values,
    row: NotionRow | None,
    state: SyncState | None,
    *,
    direction: Direction,
) -> list[Step]:
    if row is None:
        return (
            [Step("create_in_notion", pg_id, None, pg_values, "not in Notion yet")]
            if direction == "push"
            else []
        )
    pg_hash = values_hash(pg_values)
    if pg_hash == _notion_hash(row, state):
        fresh = state is None or (state.synced_hash, state.notion_page_id) != (pg_hash, row.page_id)
        return [Step("mark_synced", pg_id, row.page_id, pg_values)] if fresh else []
    if state is None:  # linked for the first time and different: Postgres is authoritative
        if direction == "push":
            return [Step("update_notion", pg_id, row.page_id, pg_values, "first sync")]
        return (
            [
                Step(
                    "conflict",
                    pg_id,
                    row.page_id,
                    pg_values,
                    "differs and was never synced; push first",
                )
            ]
            if entity.pull
            else []
        )
    return _since_last_sync(entity, pg_id, pg_values, row, state, direction=direction)


def _since_last_sync(
    entity: Entity,
    pg_id: str,
    pg_values: Values,
    row: NotionRow,
    state: SyncState,
    *,
    direction: Direction,
) -> list[Step]:
    """The sides differ; which of them moved since they last agreed decides."""
    pg_changed = values_hash(pg_values) != state.synced_hash
    notion_changed = _notion_hash(row, state) != state.synced_hash
    if pg_changed and notion_changed:
        return [
            Step(
                "conflict",
                pg_id,
                row.page_id,
                pg_values,
                "changed in both Postgres and Notion since the last sync",
            )
        ]
    if pg_changed or not entity.pull:  # Git owns modules: Notion edits are overwritten
        reason = "changed in Postgres" if pg_changed else "edited in Notion, but Git owns it"
        return (
            [Step("update_notion", pg_id, row.page_id, pg_values, reason)]
            if direction == "push"
            else []
        )
    edited = row.values or {}  # not None here: the Notion side changed, so it was fetched
    if direction == "pull":
        return [Step("update_postgres", pg_id, row.page_id, edited, "changed in Notion")]
    return [Step("mark_pending", pg_id, row.page_id, edited, "changed in Notion")]


def _notion_hash(row: NotionRow, state: SyncState | None) -> str:
    if row.values is not None:
        return values_hash(row.values)
    return state.synced_hash if state else ""
