"""`pipeline sync`: the reference tables in Notion databases (seed 002), I/O side.

`setup` creates one database per synced entity under a Notion page and keeps
their ids in notion-sync.json (commit it); rerunning reuses what exists, found
by the saved ids or, failing that, by title under the page.

A run reads every entity (Postgres and Notion) before it writes anything. A
pull then writes Postgres, sync_state included, in one transaction, each row
in a savepoint of its own; only then does it mark the pages in Notion. One
row that cannot be written (Postgres refuses it, Notion cannot hold it whole,
its page is in the trash) is that row's failure, listed with what to do; the
rest goes on. A Notion or connection failure ends the run (nothing of a pull
written).

Each database's properties are checked first: one that lacks a property the
sync maps, or holds it as another type (a team lead renamed, deleted or
retyped it), is held: nothing of its entity is read or written, the rows
edited since its last sync are told what to change (sync_notes), and its
entity does not count as synced, so those edits are read again once it is
fixed. The other entities go on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
from pipeline.notion.page import property_value
from pipeline.sync.entities import (
    Column,
    Entity,
    Values,
    canonical,
    entities,
    misfits,
    values_hash,
)
from pipeline.sync.plan import Direction, NotionRow, SyncState, SyncStep, plan
from pipeline.sync.properties import (
    KEY,
    SYNC_NOTES,
    SYNC_STATUS,
    SchemaProblem,
    SyncStatus,
    TooLarge,
    Unreadable,
    database_properties,
    in_trash,
    page_properties,
    row_from_page,
    schema_problems,
    status_properties,
)

# Seed 002's university filtering: which columns tie each entity's rows to a
# university. Projects and the modules catalog belong to none, so a filtered run
# leaves them out.
UNIVERSITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "universities": ("id",),
    "teams": ("university_id",),
    "faculty": ("university_id",),
    "students": ("university_id",),
    "interfaces": ("from_university", "to_university"),
}


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
    renamed: list[str] = []
    for key, entity in chosen.items():
        known = saved.get(key, {})
        if known.get("database_id") in under_page.values():
            database = Database(key, known["database_id"], known["data_source_id"])
        elif entity.name in under_page:
            database_id = under_page[entity.name]
            database = Database(key, database_id, api.data_source_id(database_id))
        else:
            database_id, source_id = api.create_database(
                parent_page_id, entity.name, database_properties(entity)
            )
            database = Database(key, database_id, source_id, created=True)
        if not database.created:
            renamed += _add_missing_properties(api, database.data_source_id, entity)
        found.append(database)
    config = {
        "parent_page_id": parent_page_id,
        "databases": {
            d.entity: {"database_id": d.database_id, "data_source_id": d.data_source_id}
            for d in found
        },
    }
    atomic_write(path, (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    if renamed:
        raise ContentError(f"{'; '.join(renamed)} (the database ids are saved)")
    return found


def _add_missing_properties(api: NotionAPI, source_id: str, entity: Entity) -> list[str]:
    """A database made by an older version lacks properties added since: add them.

    Not one that looks renamed ("Code" for "code"): an empty "code" beside it would
    pass a sync's check and be pulled as every row's value cleared. What to do about
    those is returned."""
    have = api.data_source(source_id).get("properties", {})
    renamed = {p.name: p for p in schema_problems(entity, have, push=True) if p.renamed}
    missing = {
        k: v for k, v in database_properties(entity).items() if k not in have and k not in renamed
    }
    if missing:
        api.add_properties(source_id, missing)
    return [f"{p.for_operator()}; it was not added again" for p in renamed.values()]


# -- push and pull ---------------------------------------------------------------------------


@dataclass
class SyncResult:
    entity: str
    added: int = 0
    updated: int = 0
    conflicts: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # Problems of its Notion database's properties: the entity was not synced at all.
    held: list[str] = field(default_factory=list)


def require_no_conflicts(results: list[SyncResult]) -> None:
    """Exit 1 when some rows or databases need a person (the renderer lists them)."""
    problems = sum(len(r.conflicts) + len(r.failed) + len(r.held) for r in results)
    if problems:
        counted = "1 problem needs" if problems == 1 else f"{problems} problems need"
        raise ContentError(f"{counted} a person (listed above); nothing of theirs was overwritten")


def _postgres_rows(conn: psycopg.Connection, entity: Entity) -> dict[str, Values]:
    columns = [f.column for f in entity.fields]
    query = sql.SQL("SELECT id::text, {cols} FROM {table}").format(
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)), table=sql.Identifier(entity.table)
    )
    return {
        row[0]: canonical(entity, dict(zip(columns, row[1:], strict=True)))
        for row in conn.execute(query)
    }


def _columns(conn: psycopg.Connection, table: str) -> dict[str, Column]:
    rows = conn.execute(
        "SELECT column_name, data_type, character_maximum_length FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s",
        (table,),
    )
    return {
        name: Column(integer=kind in ("smallint", "integer", "bigint"), max_length=length)
        for name, kind, length in rows
    }


def _states(conn: psycopg.Connection, key: str) -> dict[str, SyncState]:
    rows = conn.execute(
        "SELECT postgres_id, notion_page_id, synced_hash FROM sync_state WHERE entity = %s", (key,)
    )
    return {row[0]: SyncState(*row) for row in rows}


def _synced_values(conn: psycopg.Connection, key: str) -> dict[str, Values]:
    """The values each row had at its last sync (rows synced before 0009 have none)."""
    rows = conn.execute(
        "SELECT postgres_id, synced_values FROM sync_state WHERE entity = %s "
        "AND synced_values IS NOT NULL",
        (key,),
    )
    return {row[0]: row[1] for row in rows}


def _shown_rows(conn: psycopg.Connection, entity: Entity) -> dict[str, Values]:
    """The Postgres-owned values shown in Notion (entity.shown), by row id."""
    if not entity.shown:
        return {}
    columns = [f.column for f in entity.shown]
    query = sql.SQL("SELECT id::text, {cols} FROM {table}").format(
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)), table=sql.Identifier(entity.table)
    )
    return {
        row[0]: canonical(entity, dict(zip(columns, row[1:], strict=True)), entity.shown)
        for row in conn.execute(query)
    }


def _audit(
    conn: psycopg.Connection,
    log_id: Any,
    key: str,
    postgres_id: str,
    old: Values,
    new: Values,
    side: str,
) -> None:
    """Seed 002's audit_logs: one row per field this sync changed, on `side`."""
    changed = [(f, old.get(f), new.get(f)) for f in new if old.get(f) != new.get(f)]
    if changed:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO audit_logs (sync_log_id, entity, postgres_id, field, old_value, "
                "new_value, side) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(log_id, key, postgres_id, f, Jsonb(a), Jsonb(b), side) for f, a, b in changed],
            )


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


def _edited_pages(
    api: NotionAPI, source_id: str, entity: Entity, since: str | None
) -> list[dict[str, Any]]:
    """The database's pages edited since `since` (all of them without)."""
    body: dict[str, Any] = {}
    if since:
        body["filter"] = {
            "timestamp": "last_edited_time",
            "last_edited_time": {"on_or_after": since},
        }
    return list(api.query(source_id, what=f"the {entity.name} database", **body))


def _notion_rows(
    api: NotionAPI,
    pages: list[dict[str, Any]],
    states: dict[str, SyncState],
    read: Callable[[dict[str, Any]], NotionRow | None],
) -> list[NotionRow]:
    """Rows of the edited `pages` (as `read` makes them; None: left out, so the row
    counts as unchanged), and the others as 'unchanged' (values None).

    A known page that was not fetched while another page claims its row (a copy made
    with Duplicate) is looked at: in the trash, the copy takes its place; else both
    pages are there, and the planner makes that a conflict.
    """
    fetched = [row for row in map(read, pages) if row is not None]
    seen = {row.page_id for row in fetched}
    claimed = {row.postgres_id for row in fetched}
    rest: list[NotionRow] = []
    for state in states.values():
        if state.notion_page_id in seen:
            continue
        if state.postgres_id not in claimed:
            rest.append(NotionRow(state.notion_page_id, state.postgres_id, None))
            continue
        try:
            page = api.page(state.notion_page_id)
        except UsageError:  # the query worked, so this page alone is gone (deleted for good)
            continue
        if not in_trash(page) and (row := read(page)) is not None:
            rest.append(row)
    return fetched + rest


def sync(
    conn: psycopg.Connection,
    config: Config,
    direction: Direction,
    names: list[str] | None,
    university: str | None = None,
) -> list[SyncResult]:
    """`pipeline sync push|pull [ENTITY ...] [--university ID]`: the named entities
    (default: all synced), all rows or one university's (seed 002's filtering; "none":
    the rows of no university, such as the shared PROVES project's)."""
    available = entities(config.sync.students)
    unknown = sorted(set(names or []) - set(available))
    if unknown:
        raise UsageError(f"unknown entity {unknown[0]!r}; choose from {', '.join(available)}")
    chosen = {k: v for k, v in available.items() if not names or k in names}
    databases = read_sync_config(SYNC_CONFIG)
    if not databases:
        raise UsageError(f"no {SYNC_CONFIG}; run `pipeline sync setup --parent-page ID` first")
    if university is not None:
        chosen = {k: v for k, v in chosen.items() if k in UNIVERSITY_COLUMNS}
    api = NotionAPI.from_environment(per_second=config.notion.requests_per_second)
    require_current(conn)
    return run_sync(conn, api, direction, chosen, databases, university)


def run_sync(
    conn: psycopg.Connection,
    api: NotionAPI,
    direction: Direction,
    chosen: dict[str, Entity],
    databases: dict[str, dict[str, str]],
    university: str | None = None,
) -> list[SyncResult]:
    """One sync run; logged in sync_log whether it completes or fails."""
    details: dict[str, Any] = {"entities": sorted(chosen)}
    if university is not None:
        details["university"] = university
    log = conn.execute(
        "INSERT INTO sync_log (sync_type, details) VALUES (%s, %s) RETURNING id",
        (direction, Jsonb(details)),
    ).fetchone()
    assert log is not None
    results: list[SyncResult] = []
    try:
        missing = [key for key in chosen if key not in databases]
        if missing:
            raise UsageError(f"no Notion database for {missing[0]}; run `pipeline sync setup`")
        parts = [
            _EntitySync(
                conn, api, key, entity, databases[key]["data_source_id"], log[0], university
            )
            for key, entity in chosen.items()
        ]
        # Every read first: a failure on a later entity leaves every entity unwritten.
        plans = [part.plan(direction) for part in parts]
        if direction == "pull":
            with translated("the pull from Notion"), conn.transaction():
                plans = [
                    part.write_postgres(steps) for part, steps in zip(parts, plans, strict=True)
                ]
        results = [part.result for part in parts]  # a rolled-back pull counts nothing
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for part, steps in zip(parts, plans, strict=True):
            for step in steps:
                part.tell_notion(step, now, direction)
    except PipelineError as exc:
        _finish(conn, log[0], results, details, error=str(exc))
        raise
    # A held entity did not sync: its next run reads what was edited since the last one.
    held = {r.entity: r.held for r in results if r.held}
    details["entities"] = [key for key in details["entities"] if key not in held]
    if held:
        details["held"] = held
    _finish(conn, log[0], results, details, error=None)
    return results


def _finish(
    conn: psycopg.Connection,
    log_id: Any,
    results: list[SyncResult],
    details: dict[str, Any],
    error: str | None,
) -> None:
    conn.execute(
        "UPDATE sync_log SET completed_at = now(), status = %s, items_processed = %s, "
        "items_added = %s, items_updated = %s, items_conflicted = %s, items_failed = %s, "
        "error_message = %s, details = %s WHERE id = %s",
        (
            "failed" if error else "completed",
            sum(r.added + r.updated + len(r.conflicts) + len(r.failed) for r in results),
            sum(r.added for r in results),
            sum(r.updated for r in results),
            sum(len(r.conflicts) for r in results),
            sum(len(r.failed) for r in results),
            error,
            Jsonb(details),
            log_id,
        ),
    )


class _Trashed(ContentError):
    """The row's Notion page is in the trash: it takes no update until restored."""


@dataclass
class _EntitySync:
    """One entity's part of a run: its connection, API, database, what it read, its tally."""

    conn: psycopg.Connection
    api: NotionAPI
    key: str
    entity: Entity
    source_id: str
    log_id: Any = None
    university: str | None = None  # only this university's rows ("none": rows of none)
    postgres: dict[str, Values] = field(default_factory=dict)
    shown: dict[str, Values] = field(default_factory=dict)
    synced: dict[str, Values] = field(default_factory=dict)
    # What each fetched page shows: its sync_status and sync_notes (a mark it already
    # shows is not written again).
    marks: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    result: SyncResult = field(init=False)

    def __post_init__(self) -> None:
        self.result = SyncResult(self.key)

    def plan(self, direction: Direction) -> list[SyncStep]:
        """Read Postgres and Notion (nothing written but a missing sync_notes property)
        and decide; a database whose properties do not fit is held."""
        states = _states(self.conn, self.key)
        self.postgres = _postgres_rows(self.conn, self.entity)
        self.shown = _shown_rows(self.conn, self.entity)
        self.synced = _synced_values(self.conn, self.key)
        schema = self._schema()
        problems = schema_problems(
            self.entity,
            schema,
            push=direction == "push",
            synced_columns={column for values in self.synced.values() for column in values},
        )
        pages = _edited_pages(
            self.api, self.source_id, self.entity, _last_sync(self.conn, self.key)
        )
        if problems:
            return self._hold(problems, pages)
        notion = _notion_rows(self.api, pages, states, self._read)
        self.marks = {
            row.page_id: (row.sync_status, row.sync_notes)
            for row in notion
            if row.values is not None
        }
        if self.university is not None:
            self.postgres = {k: v for k, v in self.postgres.items() if self._of_university(k, v)}
            notion = [
                row
                for row in notion
                if (row.postgres_id in self.postgres)
                or (
                    row.postgres_id is None
                    and row.values is not None
                    and self._of_university(None, row.values)
                )
            ]
            states = {k: v for k, v in states.items() if k in self.postgres}
        return plan(self.entity, self.postgres, notion, states, direction)

    def _read(self, page: dict[str, Any]) -> NotionRow | None:
        """The page's row; a page that cannot be read is that row's failure, and nothing
        is taken from it."""
        try:
            return row_from_page(self.entity, page)
        except Unreadable as exc:
            key = property_value(page, KEY)
            self.result.failed.append(f"{self.key} {key or ''}".rstrip() + f": {exc}")
            return None

    def _schema(self) -> dict[str, Any]:
        """The database's properties; sync_notes, added by versions since, is added when
        missing (the sync's own, empty: nothing of anyone's changes)."""
        schema: dict[str, Any] = self.api.data_source(self.source_id).get("properties", {})
        if SYNC_NOTES not in schema:
            notes = {SYNC_NOTES: database_properties(self.entity)[SYNC_NOTES]}
            self.api.add_properties(self.source_id, notes)
            schema = {**schema, SYNC_NOTES: {"name": SYNC_NOTES, "type": "rich_text"}}
        return schema

    def _hold(self, problems: list[SchemaProblem], pages: list[dict[str, Any]]) -> list[SyncStep]:
        """Nothing of the entity is synced; the steps that tell the edited rows why (when
        the database's sync_status and sync_notes can be written)."""
        waits = self.entity.pull  # else Git owns the rows: Notion edits are never pulled
        self.result.held = [
            f"{problem.for_operator()}; nothing of {self.key} was synced"
            + (", and what team leads edit there waits in Notion until then" if waits else "")
            for problem in problems
        ]
        if any(p.name in (KEY, SYNC_STATUS, SYNC_NOTES) for p in problems):
            return []
        note = (
            f"Not synced: {'; '.join(p.for_row() for p in problems)}. Nothing of this "
            "database is synced until then"
            + ("; edits made here wait in Notion." if waits else ".")
        )
        steps: list[SyncStep] = []
        for page in pages:
            key = property_value(page, KEY)
            if self.university is not None and not (
                key in self.postgres and self._of_university(key, self.postgres[key])
            ):
                continue
            page_id = str(page["id"])
            status, notes = property_value(page, SYNC_STATUS), property_value(page, SYNC_NOTES)
            self.marks[page_id] = (status, notes)
            steps.append(SyncStep("mark_pending", key, page_id, {}, note=note))
        return steps

    def _of_university(self, postgres_id: str | None, values: Values) -> bool:
        wanted = None if self.university == "none" else self.university
        columns = UNIVERSITY_COLUMNS[self.key]
        if columns == ("id",):
            return postgres_id == wanted
        return any(values.get(column) == wanted for column in columns)

    # -- a pull's Postgres side: inside the run's one transaction --------------------------

    def write_postgres(self, steps: list[SyncStep]) -> list[SyncStep]:
        """Write the pulled rows and their sync_state; the steps to tell Notion about."""
        columns = _columns(self.conn, self.entity.table)
        told: list[SyncStep] = []
        for step in steps:
            if step.action == "mark_synced":
                _save_state(self.conn, self.key, *self._ids(step), step.values)
            told.append(
                self._write_row(step, columns) if step.action == "update_postgres" else step
            )
        return told

    def _write_row(self, step: SyncStep, columns: dict[str, Column]) -> SyncStep:
        """One pulled row in a savepoint of its own: refused, it alone is rolled back."""
        pg_id, page_id = self._ids(step)
        problems = misfits(self.entity, step.values, columns)
        if problems:
            return self._refused(step, "; ".join(problems))
        try:
            with self.conn.transaction():
                if self._read_for_update(pg_id) != self.postgres.get(pg_id):
                    return replace(
                        step,
                        action="conflict",
                        reason="changed in Postgres while this pull ran; nothing was "
                        "overwritten; pull again",
                    )
                names = [f.column for f in self.entity.fields if f.column in step.values]
                self.conn.execute(
                    sql.SQL("UPDATE {t} SET {sets} WHERE id::text = %s").format(
                        t=sql.Identifier(self.entity.table),
                        sets=sql.SQL(", ").join(
                            sql.SQL("{} = %s").format(sql.Identifier(c)) for c in names
                        ),
                    ),
                    [step.values[c] for c in names] + [pg_id],
                )
                _save_state(self.conn, self.key, pg_id, page_id, step.values)
                old = self.postgres.get(pg_id, {})
                _audit(self.conn, self.log_id, self.key, pg_id, old, step.values, "postgres")
        except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:
            return self._refused(step, f"Postgres refused it: {_refusal(exc)}")
        self.result.updated += 1
        return step

    def _read_for_update(self, pg_id: str) -> Values | None:
        columns = [f.column for f in self.entity.fields]
        row = self.conn.execute(
            sql.SQL("SELECT {cols} FROM {table} WHERE id::text = %s FOR UPDATE").format(
                cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
                table=sql.Identifier(self.entity.table),
            ),
            (pg_id,),
        ).fetchone()
        return None if row is None else canonical(self.entity, dict(zip(columns, row, strict=True)))

    def _refused(self, step: SyncStep, problem: str) -> SyncStep:
        """The row's failure; its page is marked pending (edited, not in Postgres yet)."""
        pg_id, page_id = self._ids(step)
        self.result.failed.append(
            f"{self.key} {pg_id}: {problem} (Notion page {page_id}); correct it in Notion "
            "and pull again"
        )
        note = (
            f"Not synced: Postgres cannot take this row as it is ({problem}). Correct it "
            "here; the next sync takes it."
        )
        return replace(step, action="mark_pending", note=note)

    # -- Notion's side ---------------------------------------------------------------------

    def tell_notion(self, step: SyncStep, now: str, direction: Direction) -> None:
        """One step's Notion writes; a row Notion cannot take is that row's failure."""
        pg_id = str(step.postgres_id)
        try:
            self._tell(step, now, direction)
        except TooLarge as exc:
            self.result.failed.append(
                f"{self.key} {pg_id}: {exc}; shorten it in Postgres and push again "
                "(nothing of this row was written to Notion)"
            )
        except _Trashed as exc:
            self.result.failed.append(str(exc))

    def _tell(self, step: SyncStep, now: str, direction: Direction) -> None:
        pg_id, page_id = self._ids(step)
        result = self.result
        values = {**step.values, **self.shown.get(pg_id, {})}
        if step.action == "create_in_notion":
            page_id = self.api.create_page(
                self.source_id, page_properties(self.entity, values, pg_id, "synced", now)
            )
            _save_state(self.conn, self.key, pg_id, page_id, step.values)
            _audit(self.conn, self.log_id, self.key, pg_id, {}, step.values, "notion")
            result.added += 1
        elif step.action == "update_notion":
            properties = page_properties(self.entity, values, pg_id, "synced", now)
            self._update(step, page_id, properties)
            _save_state(self.conn, self.key, pg_id, page_id, step.values)
            old = self.synced.get(pg_id, {})
            _audit(self.conn, self.log_id, self.key, pg_id, old, step.values, "notion")
            result.updated += 1
        elif step.action in ("mark_synced", "update_postgres"):
            self._mark(step, "synced", now)
            if step.action == "mark_synced" and direction == "push":  # a pull saved it already
                _save_state(self.conn, self.key, pg_id, page_id, step.values)
        elif step.action == "mark_pending":
            self._mark(step, "pending")
        elif step.action == "conflict":
            # Listed first: a page in the trash among a duplicate's pages is listed as well.
            result.conflicts.append(f"{self.key} {pg_id}: {step.reason}")
            self._mark(replace(step, note=f"Not synced (conflict): {step.reason}."), "conflict")
        elif step.action == "not_in_postgres":
            where = self.key if step.postgres_id is None else f"{self.key} {pg_id}"
            result.failed.append(f"{where}: {step.reason} (Notion page {page_id})")
            self._mark(step, "pending")

    def _mark(self, step: SyncStep, status: SyncStatus, now: str | None = None) -> None:
        """Mark the step's pages (a synced one with its notes emptied); a page that shows
        the mark already is left alone, so a row is told once, not at every run."""
        note = "" if status == "synced" else step.note
        for page_id in (str(step.notion_page_id), *step.also):
            if now is None and self._shows(page_id, status, note):
                continue
            self._update(step, page_id, status_properties(status, now, note))

    def _shows(self, page_id: str, status: SyncStatus, note: str | None) -> bool:
        """Whether the page, as read, shows this mark (and these notes, when given)."""
        shows = self.marks.get(page_id)
        if shows is None or shows[0] != status:
            return False
        return note is None or (shows[1] or "") == note.strip()

    def _update(self, step: SyncStep, page_id: str, properties: dict[str, Any]) -> None:
        """Update a page; refused because it is in the trash, that row's failure."""
        try:
            self.api.update_page(page_id, properties)
        except UsageError:
            if not in_trash(self.api.page(page_id)):
                raise
            raise _Trashed(
                f"{self.key} {step.postgres_id}: the Notion page of {self.key} "
                f"{step.postgres_id} is in the trash ({page_id}); restore it in Notion, or, "
                "for a new page at the next push, delete its sync_state row (entity "
                f"{self.key!r}, postgres_id {step.postgres_id!r})"
            ) from None

    def _ids(self, step: SyncStep) -> tuple[str, str]:
        return str(step.postgres_id), str(step.notion_page_id)


def _refusal(exc: psycopg.Error) -> str:
    """What Postgres said, with the key when it names one ("Key (x)=(y) is not present")."""
    diag = exc.diag
    message = diag.message_primary or str(exc).strip()
    detail = diag.message_detail or ""
    return f"{message} ({detail.rstrip('.')})" if detail.startswith("Key ") else message


def _save_state(
    conn: psycopg.Connection, key: str, postgres_id: str, page_id: str, values: Values
) -> None:
    conn.execute(
        "INSERT INTO sync_state (entity, postgres_id, notion_page_id, synced_hash, "
        "synced_values) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (entity, postgres_id) DO "
        "UPDATE SET notion_page_id = EXCLUDED.notion_page_id, synced_hash = "
        "EXCLUDED.synced_hash, synced_values = EXCLUDED.synced_values, synced_at = now()",
        (key, postgres_id, page_id, values_hash(values), Jsonb(values)),
    )
