"""`pipeline sync`: the reference tables in Notion databases (seed 002), I/O side.

`setup` creates one database per synced entity under a Notion page and keeps
their ids in notion-sync.json (commit it); rerunning reuses what exists, found
by the saved ids or, failing that, by title under the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from pipeline.config import Config
from pipeline.db.connect import translated
from pipeline.db.migrate import require_current
from pipeline.errors import ContentError, PipelineError, UsageError
from pipeline.files import atomic_write
from pipeline.layout import SYNC_CONFIG
from pipeline.notion.api import NotionAPI
from pipeline.sync.entities import Entity, Values, canonical, entities, values_hash
from pipeline.sync.plan import Direction, NotionRow, SyncState, SyncStep, plan
from pipeline.sync.properties import (
    database_properties,
    page_properties,
    row_from_page,
    status_properties,
)


@dataclass(frozen=True, slots=True)
class Database:
    entity: str
    database_id: str
    data_source_id: str
    created: bool = False


def read_sync_config(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"{path}: not readable JSON ({exc}); fix it or delete it and run "
            "`pipeline sync setup` again"
        ) from None
    databases = data.get("databases") if isinstance(data, dict) else None
    return databases if isinstance(databases, dict) else {}


def setup_databases(config: Config, parent_page_id: str) -> list[Database]:
    """`pipeline sync setup`: NOTION_TOKEN from the environment; every synced entity."""
    api = NotionAPI.from_environment(per_second=config.notion.requests_per_second)
    return setup(api, parent_page_id, entities(config.sync.students))


def setup(
    api: NotionAPI, parent_page_id: str, chosen: dict[str, Entity], path: Path = SYNC_CONFIG
) -> list[Database]:
    """Create the missing databases under the page; reuse the ones already there."""
    saved = read_sync_config(path)
    under_page = {
        b["child_database"]["title"]: b["id"]
        for b in api.children(parent_page_id)
        if b.get("type") == "child_database"
    }
    found: list[Database] = []
    for key, entity in chosen.items():
        known = saved.get(key, {})
        if known.get("database_id") in under_page.values():
            found.append(Database(key, known["database_id"], known["data_source_id"]))
        elif entity.name in under_page:
            database_id = under_page[entity.name]
            found.append(Database(key, database_id, api.data_source_id(database_id)))
        else:
            database_id, source_id = api.create_database(
                parent_page_id, entity.name, database_properties(entity)
            )
            found.append(Database(key, database_id, source_id, created=True))
    config = {
        "parent_page_id": parent_page_id,
        "databases": {
            d.entity: {"database_id": d.database_id, "data_source_id": d.data_source_id}
            for d in found
        },
    }
    atomic_write(path, (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    return found


# -- push and pull ---------------------------------------------------------------------------


@dataclass
class SyncResult:
    entity: str
    added: int = 0
    updated: int = 0
    conflicts: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def require_no_conflicts(results: list[SyncResult]) -> None:
    """Exit 1 when some rows need a person (the renderer lists them)."""
    problems = sum(len(r.conflicts) + len(r.failed) for r in results)
    if problems:
        raise ContentError(
            f"{problems} rows need a person (listed above); nothing of theirs was overwritten"
        )


def _postgres_rows(conn: psycopg.Connection, entity: Entity) -> dict[str, Values]:
    columns = [f.column for f in entity.fields]
    query = sql.SQL("SELECT id::text, {cols} FROM {table}").format(
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)), table=sql.Identifier(entity.table)
    )
    return {
        row[0]: canonical(entity, dict(zip(columns, row[1:], strict=True)))
        for row in conn.execute(query)
    }


def _states(conn: psycopg.Connection, key: str) -> dict[str, SyncState]:
    rows = conn.execute(
        "SELECT postgres_id, notion_page_id, synced_hash FROM sync_state WHERE entity = %s", (key,)
    )
    return {row[0]: SyncState(*row) for row in rows}


def _last_sync(conn: psycopg.Connection, key: str) -> str | None:
    row = conn.execute(
        "SELECT max(started_at) FROM sync_log WHERE status = 'completed' AND "
        "details->'entities' ? %s",
        (key,),
    ).fetchone()
    if row is None or row[0] is None:
        return None
    since: datetime = row[0] - timedelta(minutes=1)
    return since.strftime("%Y-%m-%dT%H:%M:00.000Z")


def _notion_rows(
    api: NotionAPI, source_id: str, entity: Entity, since: str | None, states: dict[str, SyncState]
) -> list[NotionRow]:
    """Rows edited since the last sync, and the others as 'unchanged' (values None)."""
    body: dict[str, Any] = {}
    if since:
        body["filter"] = {
            "timestamp": "last_edited_time",
            "last_edited_time": {"on_or_after": since},
        }
    fetched = [row_from_page(entity, page) for page in api.query(source_id, **body)]
    seen = {row.page_id for row in fetched}
    return fetched + [
        NotionRow(s.notion_page_id, s.postgres_id, None)
        for s in states.values()
        if s.notion_page_id not in seen
    ]


def sync(
    conn: psycopg.Connection, config: Config, direction: Direction, names: list[str] | None
) -> list[SyncResult]:
    """`pipeline sync push|pull [ENTITY ...]`: the named entities (default: all synced)."""
    available = entities(config.sync.students)
    unknown = sorted(set(names or []) - set(available))
    if unknown:
        raise UsageError(f"unknown entity {unknown[0]!r}; choose from {', '.join(available)}")
    chosen = {k: v for k, v in available.items() if not names or k in names}
    databases = read_sync_config(SYNC_CONFIG)
    if not databases:
        raise UsageError(f"no {SYNC_CONFIG}; run `pipeline sync setup --parent-page ID` first")
    api = NotionAPI.from_environment(per_second=config.notion.requests_per_second)
    require_current(conn)
    return run_sync(conn, api, direction, chosen, databases)


def run_sync(
    conn: psycopg.Connection,
    api: NotionAPI,
    direction: Direction,
    chosen: dict[str, Entity],
    databases: dict[str, dict[str, str]],
) -> list[SyncResult]:
    """One sync run; logged in sync_log whether it completes or fails."""
    log = conn.execute(
        "INSERT INTO sync_log (sync_type, details) VALUES (%s, %s) RETURNING id",
        (direction, Jsonb({"entities": sorted(chosen)})),
    ).fetchone()
    assert log is not None
    results: list[SyncResult] = []
    try:
        for key, entity in chosen.items():
            if key not in databases:
                raise UsageError(f"no Notion database for {key}; run `pipeline sync setup`")
            part = _EntitySync(conn, api, key, entity, databases[key]["data_source_id"])
            results.append(part.run(direction))
    except PipelineError as exc:
        _finish(conn, log[0], results, error=str(exc))
        raise
    _finish(conn, log[0], results, error=None)
    return results


def _finish(
    conn: psycopg.Connection, log_id: Any, results: list[SyncResult], error: str | None
) -> None:
    conn.execute(
        "UPDATE sync_log SET completed_at = now(), status = %s, items_processed = %s, "
        "items_added = %s, items_updated = %s, items_conflicted = %s, items_failed = %s, "
        "error_message = %s WHERE id = %s",
        (
            "failed" if error else "completed",
            sum(r.added + r.updated + len(r.conflicts) + len(r.failed) for r in results),
            sum(r.added for r in results),
            sum(r.updated for r in results),
            sum(len(r.conflicts) for r in results),
            sum(len(r.failed) for r in results),
            error,
            log_id,
        ),
    )


@dataclass
class _EntitySync:
    """One entity's part of a run: its connection, API, database and tally."""

    conn: psycopg.Connection
    api: NotionAPI
    key: str
    entity: Entity
    source_id: str

    def run(self, direction: Direction) -> SyncResult:
        states = _states(self.conn, self.key)
        postgres = _postgres_rows(self.conn, self.entity)
        notion = _notion_rows(
            self.api, self.source_id, self.entity, _last_sync(self.conn, self.key), states
        )
        steps = plan(self.entity, postgres, notion, states, direction)
        result = SyncResult(self.key)
        if direction == "pull":
            _pull_into_postgres(self.conn, self.key, self.entity, steps, result)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for step in steps:
            self.tell_notion(step, now, result)
        return result

    def tell_notion(self, step: SyncStep, now: str, result: SyncResult) -> None:
        pg_id, page_id = str(step.postgres_id), str(step.notion_page_id)
        if step.action == "create_in_notion":
            page_id = self.api.create_page(
                self.source_id, page_properties(self.entity, step.values, pg_id, "synced", now)
            )
            _save_state(self.conn, self.key, pg_id, page_id, step.values)
            result.added += 1
        elif step.action == "update_notion":
            self.api.update_page(
                page_id, page_properties(self.entity, step.values, pg_id, "synced", now)
            )
            _save_state(self.conn, self.key, pg_id, page_id, step.values)
            result.updated += 1
        elif step.action in ("mark_synced", "update_postgres"):
            self.api.update_page(page_id, status_properties("synced", now))
            if step.action == "mark_synced":
                _save_state(self.conn, self.key, pg_id, page_id, step.values)
        elif step.action == "mark_pending":
            self.api.update_page(page_id, status_properties("pending"))
        elif step.action == "conflict":
            self.api.update_page(page_id, status_properties("conflict"))
            result.conflicts.append(f"{self.key} {pg_id}: {step.reason}")
        elif step.action == "create_in_postgres":
            result.failed.append(
                f"{self.key}: a row added in Notion ({page_id}) has no "
                "postgres_id; add the row in Postgres and push"
            )


def _pull_into_postgres(
    conn: psycopg.Connection, key: str, entity: Entity, steps: list[SyncStep], result: SyncResult
) -> None:
    """All of a pull's Postgres writes, in one transaction (all or nothing)."""
    writes = [s for s in steps if s.action in ("update_postgres", "create_in_postgres")]
    if not writes:
        return
    with translated(f"the pull of {key} from Notion"), conn.transaction():
        for step in writes:
            columns = [c for c in step.values if c in {f.column for f in entity.fields}]
            if step.action == "update_postgres":
                conn.execute(
                    sql.SQL("UPDATE {t} SET {sets} WHERE id::text = %s").format(
                        t=sql.Identifier(entity.table),
                        sets=sql.SQL(", ").join(
                            sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns
                        ),
                    ),
                    [step.values[c] for c in columns] + [step.postgres_id],
                )
                result.updated += 1
                _save_state(conn, key, str(step.postgres_id), str(step.notion_page_id), step.values)


def _save_state(
    conn: psycopg.Connection, key: str, postgres_id: str, page_id: str, values: Values
) -> None:
    conn.execute(
        "INSERT INTO sync_state (entity, postgres_id, notion_page_id, synced_hash) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (entity, postgres_id) DO UPDATE SET "
        "notion_page_id = EXCLUDED.notion_page_id, synced_hash = "
        "EXCLUDED.synced_hash, synced_at = now()",
        (key, postgres_id, page_id, values_hash(values)),
    )
