"""`pipeline learn sync`: Notion -> staging -> canonical, one sync_log row per run.

1. Each configured database is asked for its pages: all of them with --full (or when
   no run has completed yet), else only those edited since the last completed run.
2. A page whose sync_hash equals the staged one is skipped; a changed flashcard's
   blocks are fetched (raw_content). A page Notion would not give is that page's
   failure, and is asked for again next time (the cursor stays before it).
3. In one transaction: changed pages are staged; a full run deletes staging rows of
   pages Notion no longer has; the whole of staging is transformed into the canonical
   tables (guarded writes: unchanged rows are not touched); quiz questions of deployed
   LMS modules become atoms (`learn.modules`).
4. The sync_log row says notion_full or notion_incremental, the counts, and failures.

One bad page (a value the tables cannot hold) is reported and the rest goes on;
the command then exits 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pipeline.db.connect import translated
from pipeline.db.migrate import require_current
from pipeline.errors import ContentError, PipelineError, UsageError
from pipeline.learn import notion_read
from pipeline.learn.modules import ModulesReport, atoms_from_modules
from pipeline.learn.settings import ENTITIES, LearnSettings
from pipeline.learn.staging import (
    StagePage,
    read_staged,
    stage,
    staged_hashes,
    unstage_missing,
    write_canonical,
)
from pipeline.learn.transform import (
    Failure,
    Page,
    concept_parent,
    page_id,
    sync_hash,
    transform,
)
from pipeline.notion.api import NotionAPI

_LOG_TYPES = ("notion_full", "notion_incremental")


@dataclass
class SyncReport:
    sync_type: str
    dry_run: bool
    since: str | None = None
    pages_read: dict[str, int] = field(default_factory=dict)
    pages_staged: dict[str, int] = field(default_factory=dict)
    pages_unstaged: dict[str, int] = field(default_factory=dict)
    added: int = 0
    updated: int = 0
    removed: int = 0
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    not_fetched: list[str] = field(default_factory=list)  # pages whose blocks failed
    notion_requests: int = 0
    modules: ModulesReport | None = None

    @property
    def failed(self) -> int:
        return len(self.failures)


def require_success(report: SyncReport) -> None:
    if report.failures or (report.modules and report.modules.failures):
        raise ContentError(
            "some pages could not be synced (listed above); fix them in Notion and run "
            "`pipeline learn sync` again"
        )


def learn_sync(
    conn: psycopg.Connection, settings: LearnSettings, *, full: bool, dry_run: bool
) -> SyncReport:
    """The command: Notion (when databases are configured), then LMS modules."""
    require_current(conn)
    unknown = sorted(set(settings.databases) - set(ENTITIES))
    if unknown:
        raise UsageError(f"learn.databases: unknown database {unknown[0]!r}")
    report = SyncReport("notion_full", dry_run)
    if settings.databases:
        api = NotionAPI.from_environment(per_second=settings.requests_per_second)
        report = run_sync(conn, api, settings, full=full, dry_run=dry_run)
    elif not settings.modules:
        raise UsageError(
            "nothing to sync: name the Notion databases in pipeline.yaml (learn.databases) "
            "or turn on learn.modules"
        )
    if settings.modules:
        report.modules = atoms_from_modules(conn, dry_run=dry_run)
    return report


def _cursor(conn: psycopg.Connection) -> str | None:
    row = conn.execute(
        "SELECT details->>'cursor' FROM sync_log WHERE sync_type = ANY(%s) AND status = "
        "'completed' AND details ? 'cursor' ORDER BY started_at DESC LIMIT 1",
        (list(_LOG_TYPES),),
    ).fetchone()
    return row[0] if row else None


def _notion_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:00.000Z")


class _Rollback(Exception):
    """Raised inside a dry run's transaction to undo it."""


def run_sync(
    conn: psycopg.Connection,
    api: NotionAPI,
    settings: LearnSettings,
    *,
    full: bool,
    dry_run: bool,
) -> SyncReport:
    since = None if full else _cursor(conn)
    report = SyncReport(_LOG_TYPES[0] if since is None else _LOG_TYPES[1], dry_run, since)
    started = datetime.now(UTC)
    log_id = None
    if not dry_run:
        row = conn.execute(
            "INSERT INTO sync_log (sync_type, details) VALUES (%s, %s) RETURNING id",
            (report.sync_type, Jsonb({"since": since})),
        ).fetchone()
        assert row is not None
        log_id = row[0]
    requests_before = api.stats.requests
    try:
        fetched, retry_from = _read_notion(conn, api, settings, since, report)
        report.notion_requests = api.stats.requests - requests_before
        try:
            with translated("the learning sync"), conn.transaction():
                _write(conn, settings, fetched, full=since is None, report=report)
                if dry_run:
                    raise _Rollback
        except _Rollback:
            pass
    except PipelineError as exc:
        if log_id is not None:
            _finish(conn, log_id, report, error=str(exc), cursor=None)
        raise
    if log_id is not None:
        cursor = min([_notion_time(started - timedelta(minutes=1)), *retry_from])
        _finish(conn, log_id, report, error=None, cursor=cursor)
    return report


def _read_notion(
    conn: psycopg.Connection,
    api: NotionAPI,
    settings: LearnSettings,
    since: str | None,
    report: SyncReport,
) -> tuple[dict[str, list[StagePage] | None], list[str]]:
    """Each database's changed pages (None: the database was not read)."""
    hashes = staged_hashes(conn)
    fetched: dict[str, list[StagePage] | None] = {}
    retry_from: list[str] = []
    for entity in ENTITIES:
        database_id = settings.databases.get(entity)
        if not database_id:
            fetched[entity] = None
            continue
        names = settings.properties[entity]
        what = f"the {entity.replace('_', ' ')} database"
        source = notion_read.data_source(api, database_id)
        found = notion_read.pages(api, source, what=what, since=since)
        report.pages_read[entity] = len(found)
        pages: list[StagePage] = []
        for page in found:
            if page.get("in_trash") or page.get("archived"):
                continue
            notion_id = page_id(str(page["id"]))
            properties = page.get("properties") or {}
            if entity == "flashcards":
                digest = sync_hash(page)
                content = None
                if hashes.get(notion_id) != digest:
                    try:
                        content = notion_read.blocks(api, notion_id)
                    except PipelineError as exc:
                        report.failures.append(
                            str(Failure(entity, notion_id, "", f"its blocks: {exc}"))
                        )
                        retry_from.append(str(page.get("last_edited_time")))
                        report.not_fetched.append(notion_id)
                        continue
                pages.append(StagePage(notion_id, properties, content, digest))
            elif entity in ("concepts", "concept_clusters"):
                parent_type, parent = concept_parent(Page(notion_id, properties, names))
                if entity == "concept_clusters":
                    parent_type, parent = (
                        "area",
                        Page(notion_id, properties, names).relation("area"),
                    )
                pages.append(StagePage(notion_id, properties, None, None, parent_type, parent))
            else:
                pages.append(StagePage(notion_id, properties))
        fetched[entity] = pages
    return fetched, retry_from


def _write(
    conn: psycopg.Connection,
    settings: LearnSettings,
    fetched: dict[str, list[StagePage] | None],
    *,
    full: bool,
    report: SyncReport,
) -> None:
    hashes = staged_hashes(conn)
    for entity, pages in fetched.items():
        if pages is None:
            continue
        if entity == "flashcards":
            changed = [p for p in pages if hashes.get(p.notion_id) != p.hash]
        else:
            changed = pages  # the upsert compares the properties
        report.pages_staged[entity] = stage(conn, entity, changed)
        if full:
            # a page Notion listed but whose blocks failed is still there: kept
            seen = [p.notion_id for p in pages] + report.not_fetched
            report.pages_unstaged[entity] = unstage_missing(conn, entity, seen)
    canonical = transform(read_staged(conn, settings.properties), settings.properties)
    counts = write_canonical(conn, canonical, settings.properties)
    report.added, report.updated, report.removed = counts.added, counts.updated, counts.removed
    report.tables = counts.by_table
    report.failures += [str(f) for f in canonical.failures]


def _finish(
    conn: psycopg.Connection,
    log_id: Any,
    report: SyncReport,
    *,
    error: str | None,
    cursor: str | None,
) -> None:
    details: dict[str, Any] = {
        "since": report.since,
        "pages_read": report.pages_read,
        "pages_staged": report.pages_staged,
        "tables": report.tables,
        "failures": report.failures[:100],
        "notion_requests": report.notion_requests,
    }
    if cursor is not None:
        details["cursor"] = cursor
    conn.execute(
        "UPDATE sync_log SET completed_at = now(), status = %s, items_processed = %s, "
        "items_added = %s, items_updated = %s, items_removed = %s, items_failed = %s, "
        "error_message = %s, details = %s WHERE id = %s",
        (
            "failed" if error else "completed",
            sum(report.pages_read.values()),
            report.added,
            report.updated,
            report.removed,
            report.failed,
            error or (f"{report.failed} pages failed" if report.failures else None),
            Jsonb(details),
            log_id,
        ),
    )
