"""`pipeline db seed`: upsert reference rows (universities, faculty, teams) from YAML.

Postgres is authoritative for these rows; this exists so a fresh database
(the embedded one on a laptop, a CI service container) has the rows that
module files refer to. It inserts and updates, never deletes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql

from pipeline.errors import ContentError, UsageError

# Order matters: faculty and teams refer to universities.
TABLES: dict[str, tuple[str, ...]] = {
    "universities": ("id", "name", "location", "contact_email"),
    "faculty": ("id", "name", "email", "university_id", "department"),
    "teams": ("id", "name", "university_id", "subsystem"),
}


def load(path: Path) -> dict[str, list[dict[str, Any]]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ContentError(f"{path}: not readable YAML ({exc})") from None
    if not isinstance(data, dict) or set(data) - set(TABLES):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise ContentError(
            f"{path}: expected a mapping with the keys {', '.join(TABLES)}; found {found}"
        )
    rows: dict[str, list[dict[str, Any]]] = {}
    for table, columns in TABLES.items():
        entries = data.get(table) or []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or "id" not in entry or set(entry) - set(columns):
                raise ContentError(
                    f"{path}: {table}[{index}] must be a mapping with an id and "
                    f"only these keys: {', '.join(columns)}"
                )
        rows[table] = entries
    return rows


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
