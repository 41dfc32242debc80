"""The synced entities of seed 002: which tables, which fields, and their Notion shape.

Student progress, analytics, feedback and assignments are never synced;
students only when configured, and then only the fields listed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

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
    # Shown in Notion, owned by Postgres: pushed with the row, never compared or pulled
    # (a creation time, a name kept in data/reference.yaml).
    shown: tuple[Field, ...] = ()

    def only(self, columns: Sequence[str]) -> Entity:
        keep = tuple(f for f in self.fields if f.kind == "title" or f.column in columns)
        shown = tuple(f for f in self.shown if f.column in columns)  # students: only as listed
        return Entity(self.name, self.table, keep, self.pull, self.integer_key, shown)


def _f(column: str, kind: str = "rich_text", *options: str) -> Field:
    return Field(column, "Name" if kind == "title" else column, kind, tuple(options))


ENTITIES: dict[str, Entity] = {
    "universities": Entity(
        "Universities",
        "universities",
        (_f("name", "title"), _f("code"), _f("location"), _f("contact_email", "email")),
        shown=(_f("full_name"),),
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
        shown=(_f("created_at", "date"),),
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
        shown=(_f("created_at", "date"),),
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
        shown=(_f("created_at", "date"),),
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


def canonical(
    entity: Entity, values: Mapping[str, Any], fields: Sequence[Field] | None = None
) -> Values:
    """Values in one comparable form, whichever side they came from (of `fields`,
    by default the entity's synced ones)."""
    out: Values = {}
    for f in entity.fields if fields is None else fields:
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


@dataclass(frozen=True, slots=True)
class Column:
    """What a Postgres column holds: only whole numbers; at most so many characters."""

    integer: bool = False
    max_length: int | None = None


def misfits(entity: Entity, values: Mapping[str, Any], columns: Mapping[str, Column]) -> list[str]:
    """What of `values` the entity's table cannot hold as it is, named as Notion shows it.

    Postgres would round 1.5 into an integer column without a word, so it is caught here;
    what Postgres refuses by itself (a key, a CHECK) is caught when the row is written.
    """
    problems: list[str] = []
    for f in entity.fields:
        value, column = values.get(f.column), columns.get(f.column, Column())
        if column.integer and isinstance(value, float) and not value.is_integer():
            problems.append(f"{f.notion} is {value}, but Postgres holds whole numbers there")
        limit = column.max_length
        if limit is not None and isinstance(value, str) and len(value) > limit:
            problems.append(
                f"{f.notion} is {len(value):,} characters long; Postgres holds at most "
                f"{limit:,} there"
            )
    return problems


def values_hash(values: Values) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()
