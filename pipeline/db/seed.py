"""`pipeline db seed`: upsert reference rows (universities, faculty, teams) from YAML.

Postgres is authoritative for these rows; this exists so a fresh database
(the embedded one on a laptop, a CI service container) has the rows that
module files refer to. It inserts and updates, never deletes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import psycopg
from psycopg import sql

from pipeline.errors import ContentError, UsageError
from pipeline.layout import REFERENCE_SCHEMA, schema_file
from pipeline.modules.problems import did_you_mean
from pipeline.yamlfile import place, read_yaml

# Order matters: faculty and teams refer to universities. The columns are the ones
# schemas/reference.schema.json allows.
TABLES: dict[str, tuple[str, ...]] = {
    "universities": ("id", "name", "full_name", "location", "contact_email"),
    "faculty": ("id", "name", "email", "university_id", "department"),
    "teams": ("id", "name", "university_id", "subsystem"),
}
_SHOWN = 40  # characters of a value too long for its column that a message shows


def load(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows of a reference file, checked against schemas/reference.schema.json."""
    data = read_yaml(path, ContentError)
    problems = problems_of(data)
    if problems:
        raise ContentError(f"{path}: " + "; ".join(problems))
    return {table: data.get(table) or [] for table in TABLES}


@cache
def _schema() -> tuple[dict[str, Any], Any]:
    """The reference schema and its compiled validator."""
    path = schema_file(REFERENCE_SCHEMA)
    try:
        schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return schema, jsonschema_rs.Draft202012Validator(schema)
    except (OSError, ValueError, jsonschema_rs.ValidationError) as exc:
        raise UsageError(
            f"{path}: the reference schema itself is broken ({exc}); fix or restore it from Git"
        ) from None


def problems_of(data: Any) -> list[str]:
    """What is wrong with loaded reference data (plain data, as read_yaml returns it),
    each problem with its place."""
    schema, validator = _schema()
    return [text for error in validator.iter_errors(data) for text in _describe(error, schema)]


def _describe(error: Any, schema: dict[str, Any]) -> list[str]:
    where = list(error.instance_path)
    kind = error.kind
    kinds = jsonschema_rs.ValidationErrorKind
    if isinstance(kind, kinds.AdditionalProperties):
        what = "column" if where else "table"
        allowed = list(_at(schema, error.schema_path[:-1]).get("properties", {}))
        return [
            f"{place([*where, key])}: unknown {what}{_did_you_mean(key, allowed)}"
            for key in kind.unexpected
        ]
    if isinstance(kind, kinds.Required):
        return [f"{place(where)}: missing the required key {json.dumps(kind.property)}"]
    if isinstance(kind, kinds.Pattern):  # the schema's only pattern is the one for emails
        return [f"{place(where)}: {_start(error.instance)} is not an email address"]
    if isinstance(kind, kinds.MaxLength):
        return [
            f"{place(where)}: {_start(error.instance)} ({len(error.instance)} characters) "
            f"is longer than {kind.limit} characters"
        ]
    return [f"{place(where)}: {error.message}"]


def _start(text: str) -> str:
    """`text` quoted, or its start when it is long: a message that names a value too long
    for its column need not repeat all of it."""
    if len(text) <= _SHOWN:
        return json.dumps(text)
    return json.dumps(text[:_SHOWN])[:-1] + '..."'


def _at(schema: dict[str, Any], schema_path: Sequence[str | int]) -> dict[str, Any]:
    """The part of the schema at `schema_path`; empty if the path leads nowhere."""
    node: Any = schema
    for part in schema_path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return {}
    return node if isinstance(node, dict) else {}


def _did_you_mean(key: str, allowed: list[str]) -> str:
    if hint := did_you_mean(key, allowed):
        return hint
    return f"; expected one of {', '.join(allowed)}" if allowed else ""


def seed(conn: psycopg.Connection, rows: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    counts = {}
    with conn.transaction():
        for table, columns in TABLES.items():
            for entry in rows.get(table, []):
                present = [c for c in columns if c in entry]
                query = sql.SQL(
                    "INSERT INTO {table} ({cols}) VALUES ({vals}) ON CONFLICT (id) DO UPDATE "
                    "SET {updates}"
                ).format(
                    table=sql.Identifier(table),
                    cols=sql.SQL(", ").join(map(sql.Identifier, present)),
                    vals=sql.SQL(", ").join(sql.Placeholder() * len(present)),
                    updates=sql.SQL(", ").join(
                        sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in present
                    ),
                )
                try:
                    conn.execute(query, [entry[c] for c in present])
                except psycopg.errors.ForeignKeyViolation as exc:
                    raise ContentError(
                        f"{table} {entry['id']!r}: {exc.diag.message_detail}"
                    ) from None
            if table == "teams" and rows.get(table):
                conn.execute(
                    "SELECT setval(pg_get_serial_sequence('teams', 'id'), "
                    "(SELECT max(id) FROM teams))"
                )
            counts[table] = len(rows.get(table, []))
    return counts
