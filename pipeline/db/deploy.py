"""`pipeline deploy`: module files -> Postgres, all in one transaction.

Order inside the transaction: timeouts, the deploy lock, read what is live (and
place a row for each new module), then validation's rows streamed into ON COMMIT
DROP staging tables as the workers make them (db/stage.py: memory stays flat
however large the library; a new module's sections go straight into the live
table), plan from their summaries, check reference rows, publish the asset files
of the modules it writes, then write only what changed, set-based from the
stage. A failure anywhere rolls everything back, and so does a killed process
(the transaction simply never commits). A thousand modules cost a handful of
statements, and the same SQL works through a transaction-mode pooler.

Assets (issue #16): the rows hold absolute URLs of the store (assets/rewrite.py),
never repository paths. A module whose file is unchanged but whose assets' URLs
would change (new bytes, another store) is written again, same revision (a
repair); one whose file and URLs are unchanged is not touched, and a no-op deploy
uploads nothing.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import orjson
import psycopg
from psycopg import sql

from pipeline.assets.publish import (
    AssetFile,
    identify_one,
    index_blob_ids,
    key_of,
    publish,
    url_of,
)
from pipeline.assets.rewrite import with_urls
from pipeline.assets.store import AssetStore, LocalStore
from pipeline.config import AssetSettings
from pipeline.db.connect import translated
from pipeline.db.migrate import require_current
from pipeline.db.plan import (
    ArchiveLimit,
    CurrentModule,
    DeployItem,
    Plan,
    archive_refusal,
    make_plan,
    needs_record,
)
from pipeline.db.stage import STAGED_MODULES, STAGED_SECTIONS, Stage, columns, missing_from
from pipeline.db.trust import (
    TRUSTED,
    Trusted,
    each_checked_for_deploy,
    read_trusted,
    record_for,
    trusted_from,
    validate_for_deploy,
    validator_fingerprint,
)
from pipeline.db.unpublish import IN_FORCE, Hold, hidden, holds_from, remember_file_status, who
from pipeline.errors import ContentError, ServiceError, UsageError
from pipeline.git import blob_id, head_sha
from pipeline.layout import is_module_id
from pipeline.modules.parse import file_stem
from pipeline.modules.records import MODULE_COLUMNS, SECTION_COLUMNS, ModuleRows
from pipeline.modules.validate import (
    FileResult,
    Report,
    collect,
    cross_checked,
    repo_root,
    workers,
)
from pipeline.render import render_text

_ANALYZE_AFTER = 10_000  # section rows written
DEPLOY_LOCK = 0x6D6F645F646570  # "mod_dep"
_NOW = sql.SQL("(now() AT TIME ZONE 'utc')")


@dataclass(frozen=True, slots=True)
class Settings:
    lock_timeout: str = "60s"
    statement_timeout: str = "300s"
    git_sha: str | None = None
    actor: str | None = None
    # Scope: a whole tree archives what has no file (within the limit); files do not.
    archive_missing: bool = True
    allow_archive: bool = False
    archive_limit: ArchiveLimit = field(default_factory=ArchiveLimit)
    verify: bool = False  # also repair rows changed behind the pipeline's back
    # Where asset files go; None: the local store in .pipeline/assets (the embedded default)
    assets: AssetStore | None = None

    @classmethod
    def from_environment(cls, lock_timeout: str, statement_timeout: str, **scope: Any) -> Settings:
        """Who deploys what: GITHUB_SHA and GITHUB_ACTOR in Actions, else HEAD and the
        user (`who`, as unpublish records them)."""
        return cls(lock_timeout, statement_timeout, head_sha(), who(), **scope)


@dataclass
class DeployResult:
    plan: Plan
    applied: bool
    deploy_id: int | None = None
    sections_written: int = 0
    sections_removed: int = 0
    duration_ms: int = 0
    assets_uploaded: list[str] = field(default_factory=list)  # repo paths put in the store
    # Where the write-ahead log stood just before the first write, and when (server clock):
    # restoring to it gives the database as it was before this deploy.
    restore_lsn: str | None = None
    restore_time: datetime | None = None


def deploy_tree(
    session: Callable[[], AbstractContextManager[psycopg.Connection]],
    paths: Path | Sequence[Path],
    settings: Settings,
    *,
    dry_run: bool = False,
) -> DeployResult:
    """What `pipeline deploy` does: validate, then deploy.

    Directories are whole trees: a live module without a file there is archived
    (within the archive limit). Files deploy just those modules and archive
    nothing. Files whose bytes the database already holds, passed by this same
    validator, are not parsed again (their assets and references are still
    checked). An invalid file deploys nothing. Worker processes for validation
    start before `session()` connects, so none of them holds the connection; their
    results are staged in the database as they come (db/stage.py), inside the
    deploy's transaction, so memory does not grow with the library.
    """
    paths = [paths] if isinstance(paths, Path) else list(paths)
    whole_tree = all(path.is_dir() for path in paths)
    settings = replace(settings, archive_missing=settings.archive_missing and whole_tree)
    files = collect(paths)
    with workers(len(files)) as pool, session() as conn:
        require_current(conn)

        def validated(trusted: Mapping[str, Trusted], new: Collection[str]) -> Iterator[DeployItem]:
            # The files of modules the database has first: their rows are staged, the
            # others' go straight into the live table (db/stage.py), one COPY after the other.
            ordered = sorted(files, key=lambda file: file_stem(file[0]) in new)
            return _valid_items(ordered, each_checked_for_deploy(ordered, trusted, pool))

        candidates = [file_stem(path) for path, _ in files]
        with translated("the deploy"):
            return _deploy(conn, validated, settings, dry_run=dry_run, candidates=candidates)


def _valid_items(
    files: list[tuple[str, str]], results: Iterable[FileResult]
) -> Iterator[DeployItem]:
    """Each file's item as validation passes it. After the first invalid file no more
    are handed on, but every file is still checked, so that the ContentError raised at
    the end (after the checks across files) names every problem at once."""
    kept: list[FileResult] = []
    valid = True
    for result in results:
        valid = valid and not any(p.is_error for p in result.problems)
        kept.append(result._replace(record=None))
        if valid:
            yield DeployItem(str(result.module_id), result.path, result.file_hash, result.record)
    _require_valid(cross_checked(files, kept))


def check_tree(conn: psycopg.Connection, paths: Path | Sequence[Path]) -> list[DeployItem]:
    """Validate the module files at `paths`: what to deploy, or ContentError naming
    every problem. Files the database trusts are not parsed."""
    files = collect([paths] if isinstance(paths, Path) else paths)
    report = validate_for_deploy(files, read_trusted(conn))
    _require_valid(report)
    return [DeployItem(str(r.module_id), r.path, r.file_hash, r.record) for r in report.results]


def _require_valid(report: Report) -> None:
    if not report.valid:
        text = io.StringIO()
        render_text(report, text)
        raise ContentError(f"{text.getvalue()}module files are invalid; nothing was deployed")


def load_records(files: Sequence[Path]) -> list[DeployItem]:
    """Module files that validation has passed, read in full."""
    return [_load(DeployItem(path.stem, str(path), None, None)) for path in files]


def _load(item: DeployItem) -> DeployItem:
    raw = Path(item.path).read_bytes()
    file_hash = blob_id(raw)
    if item.file_hash is not None and file_hash != item.file_hash:
        raise ContentError(
            f"{item.path} changed while deploying; nothing was written. Run the deploy again"
        )
    return DeployItem(
        item.module_id, item.path, file_hash, record_for(orjson.loads(raw), file_hash)
    )


# The files to deploy, validated trusting what the database vouches for (db/trust.py),
# those of new modules (whose rows are placed ahead: db/stage.py) last. Called before
# the rows are placed, so that the workers are at work meanwhile.
Source = Callable[[Mapping[str, Trusted], Collection[str]], Iterable[DeployItem]]


def _deploy(
    conn: psycopg.Connection,
    source: Source,
    settings: Settings,
    *,
    dry_run: bool = False,
    candidates: Sequence[str] = (),
) -> DeployResult:
    """Round trips, not rows, are what a deploy over a network pays for (a runner to
    Neon: milliseconds each), so statements whose answers can wait go together in
    psycopg's pipeline mode: the reads before the rows come, the last reads, the
    writes, the log. A full deploy costs about a dozen round trips, whatever its size."""
    started = datetime.now(UTC)
    clock = time.perf_counter()
    with conn.transaction() as tx:
        plan, stage, assets, held = _plan(
            conn, source, settings, dry_run=dry_run, candidates=candidates
        )
        writing = plan.ids("insert", "update", "repair")
        outcome = DeployResult(plan, applied=False)
        if dry_run or plan.writes_nothing:
            if writing:
                _check_references(missing_from(stage.missing_references(writing)))
            tx.force_rollback = True  # nothing to write; a dry run writes nothing
            return outcome
        with conn.pipeline():
            missing = stage.missing_references(writing)
            point = conn.execute("SELECT pg_current_wal_lsn()::text, clock_timestamp()")
            recorded = assets.recorded(set(writing))
            number = conn.execute("SELECT nextval('pipeline_deploys_id_seq')")
        _check_references(missing_from(missing))
        outcome.restore_lsn, outcome.restore_time = _one(point)
        outcome.deploy_id = int(_one(number)[0])
        published = assets.publish(set(writing), recorded)
        with conn.pipeline():
            written = _apply(conn, plan, stage, outcome.deploy_id)
            assets.record(conn, published, outcome)
            remember_file_status(conn, {m: s for m, s in held.items() if m in writing})
        outcome.sections_removed, outcome.sections_written = written.counts()
        outcome.duration_ms = int((time.perf_counter() - clock) * 1000)
        with conn.pipeline():
            _log(conn, outcome, started, settings)
            if outcome.sections_written >= _ANALYZE_AFTER:
                # After a bulk load the planner's statistics still say "empty tables";
                # the next deploy's plan query would be planned for that. The columns
                # queries join and filter on: sampling the sections' text too cost 5x.
                conn.execute(
                    "ANALYZE modules (id, module_id, status), "
                    "module_sections (module_id, section_number)"
                )
        outcome.applied = True
    return outcome


def _one(cursor: psycopg.Cursor[Any]) -> tuple[Any, ...]:
    row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def deploy(
    conn: psycopg.Connection,
    desired: Iterable[DeployItem],
    settings: Settings,
    *,
    dry_run: bool = False,
) -> DeployResult:
    """Plan and (unless dry_run) apply, in one transaction; on any error nothing is written."""
    items = list(desired)

    def source(_trusted: Mapping[str, Trusted], new: Collection[str]) -> list[DeployItem]:
        return sorted(items, key=lambda item: item.module_id in new)

    candidates = [item.module_id for item in items]
    with translated("the deploy"):
        return _deploy(conn, source, settings, dry_run=dry_run, candidates=candidates)


_LIVE = (
    "SELECT m.id, m.module_id, m.status, m.content_hash, m.revision, m.file_hash, "
    "coalesce(c.sections, 0), m.asset_paths::text, m.asset_urls::text FROM modules m "
    "LEFT JOIN (SELECT module_id, count(*) AS sections FROM module_sections "
    "GROUP BY module_id) c ON c.module_id = m.id"
)
_REMEMBERED = "SELECT DISTINCT ON (blob_id) blob_id, sha256, size FROM pipeline_assets"


class _Before(NamedTuple):
    """What the plan reads before the rows come, all sent in one round trip."""

    live: dict[str, CurrentModule]
    linked: dict[str, tuple[list[str], dict[str, str]]]  # asset paths, URLs as live
    unpublished: dict[str, Hold]
    trusted: dict[str, Trusted]
    remembered: dict[str, tuple[str, int]]  # blob id -> (sha256, size) published before
    stage: Stage


def _before(conn: psycopg.Connection, settings: Settings, *, dry_run: bool) -> _Before:
    """Timeouts, the deploy lock (deploys one at a time; LockNotAvailable after
    lock_timeout means another one runs), then what is live, what is unpublished, what
    the database vouches for and which asset blobs it published, and the staging
    tables. The server runs them in this order, so everything is read under the lock."""
    with conn.pipeline():
        conn.execute(
            "SELECT set_config('lock_timeout', %s, true), "
            "set_config('statement_timeout', %s, true)",
            (settings.lock_timeout, settings.statement_timeout),
        )
        if not dry_run:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (DEPLOY_LOCK,))
        live = conn.execute(_LIVE)
        unpublished = conn.execute(IN_FORCE)
        trusted = conn.execute(TRUSTED, (validator_fingerprint(),))
        remembered = conn.execute(_REMEMBERED)
        stage = Stage(conn)
    current: dict[str, CurrentModule] = {}
    linked: dict[str, tuple[list[str], dict[str, str]]] = {}
    for row in live:
        current[row[1]] = CurrentModule(*row[:7])
        linked[row[1]] = (orjson.loads(row[7] or "[]"), orjson.loads(row[8] or "{}"))
    return _Before(
        current,
        linked,
        holds_from(unpublished),
        trusted_from(trusted),
        {blob: (sha256, int(size)) for blob, sha256, size in remembered},
        stage,
    )


def _plan(
    conn: psycopg.Connection,
    source: Source,
    settings: Settings,
    *,
    dry_run: bool,
    candidates: Sequence[str],
) -> tuple[Plan, Stage, _Assets, dict[str, str]]:
    """The plan, made under the lock, with the rows of every module to write staged
    (asset paths made URLs, unpublished modules kept hidden); also the assets they use,
    and the status the files of unpublished modules ask for."""
    live, linked, unpublished, trusted, remembered, stage = _before(conn, settings, dry_run=dry_run)
    new = sorted({c for c in candidates if c not in live and is_module_id(c)})
    items = source(trusted, set(new))  # the workers start on the files now
    if not dry_run:  # new modules, as their files are named: their rows go in ahead
        stage.place(new)
    store = settings.assets or LocalStore.from_settings(AssetSettings())
    assets = _Assets(conn, store, remembered)
    held: dict[str, str] = {}  # module id -> the status its file asks for

    def ready(item: DeployItem, record: ModuleRows) -> ModuleRows:
        """The rows as students get them: asset URLs, and hidden while unpublished."""
        paths = orjson.loads(record.row[_ASSET_PATHS] or "[]")
        record = with_urls(record, assets.use(item, paths))
        if record.module_id in unpublished:
            held[record.module_id] = record.status
            record = hidden(record)
        return record

    desired = stage.take(items, ready)
    known = [d.module_id for d in desired if d.module_id in live]
    drifted = _drifted(conn, known) if settings.verify else set()
    for d in desired:  # files not read: the database knows their assets
        if d.module_id not in stage.staged:
            assets.use(d, linked.get(d.module_id, ([], {}))[0])
    # Unchanged files whose assets' URLs would change are written again (same revision).
    relinked = {
        d.module_id
        for d in desired
        if d.module_id in live
        and live[d.module_id].status != "archived"
        and linked[d.module_id][1] != assets.urls.get(d.module_id, {})
    }
    # Files not read that must be after all: another deploy changed the row since
    # validation trusted the file, or the rows are to be written again.
    again = [
        d
        for d in desired
        if needs_record(d, live, stage.staged)
        or (d.module_id not in stage.staged and d.module_id in drifted | relinked)
    ]
    stage.take(map(_load, again), ready)
    repaired = drifted  # changed behind the pipeline's back (--verify)
    drifted = drifted | relinked
    differing = [
        m
        for m, rows in stage.staged.items()
        if m in live
        and (
            m in drifted
            or (live[m].content_hash, live[m].status) != (rows.content_hash, rows.status)
        )
    ]
    archive_missing = settings.archive_missing and bool(desired)
    plan = make_plan(
        desired,
        stage.staged,
        live,
        stage.section_changes(differing),
        archive_missing=archive_missing,
        drifted=drifted,
    )
    if settings.archive_missing and not desired:
        plan.notes.append("no module files there: nothing deployed, nothing archived")
    refusal = "" if settings.allow_archive else archive_refusal(plan, live, settings.archive_limit)
    if refusal:
        raise UsageError(refusal)
    relinking = sorted(set(plan.ids("repair")) & (relinked - repaired))
    if relinking:
        plan.notes.append(
            "written again for their asset files' URLs (same content, same revision): "
            + ", ".join(relinking)
        )
    plan.notes += [
        f"{m}: kept hidden from students (unpublished by {h.by}: {h.reason}); "
        f"`pipeline republish {m}` shows it again"
        for m, h in sorted(unpublished.items())
        if m in set(plan.ids("insert", "update", "repair"))
    ]
    return plan, stage, assets, held


@dataclass
class _Assets:
    """The asset files the desired modules use, and the URLs their rows get; each file
    identified once, as the modules that use it come (db/stage.py streams them)."""

    conn: psycopg.Connection
    store: AssetStore
    remembered: dict[str, tuple[str, int]]  # blob id -> (sha256, size) published before
    root: Path | None = None
    blobs: dict[str, str] = field(default_factory=dict)  # git's index: path -> blob id
    files: dict[str, AssetFile] = field(default_factory=dict)  # repo path -> its bytes
    url: dict[str, str] = field(default_factory=dict)  # repo path -> its URL
    paths: dict[str, list[str]] = field(default_factory=dict)  # module id -> paths it uses
    urls: dict[str, dict[str, str]] = field(default_factory=dict)  # module id -> {path: URL}
    uploaded: list[AssetFile] = field(default_factory=list)

    def use(self, item: DeployItem, paths: list[str]) -> dict[str, str]:
        """{path: URL} of the assets a module uses (remembered for publishing)."""
        if not paths:
            return {}
        module_id = item.module_id
        if self.root is None:  # the repository of the files deployed
            self.root = Path(repo_root(os.path.dirname(item.path)))
            self.blobs = index_blob_ids(self.root)
        for path in paths:
            if path not in self.url:
                asset = identify_one(self.root, path, self.blobs, self.remembered)
                self.files[path] = asset
                self.url[path] = url_of(self.store, asset)  # once per file
        self.paths[module_id] = paths
        self.urls[module_id] = urls = {p: self.url[p] for p in paths}
        return urls

    def _needed(self, modules: set[str]) -> list[AssetFile]:
        return [self.files[p] for p in sorted({p for m in modules for p in self.paths.get(m, [])})]

    def recorded(self, modules: set[str]) -> psycopg.Cursor[Any] | None:
        """Which of the files of `modules` the database says the store has (sent with
        the deploy's last reads); None when they use none."""
        files = self._needed(modules)
        if not files:
            return None
        return self.conn.execute(
            "SELECT key FROM pipeline_assets WHERE store = %s AND key = ANY(%s)",
            (self.store.identity, [key_of(self.store, f) for f in files]),
        )

    def publish(self, modules: set[str], recorded: psycopg.Cursor[Any] | None) -> list[AssetFile]:
        """Put the files of `modules` in the store (those it lacks); all of them."""
        files = self._needed(modules)
        if not files or self.root is None or recorded is None:
            return []
        keys = [row[0] for row in recorded]
        self.uploaded = publish(self.store, files, self.root, recorded=keys)
        return files

    def record(
        self, conn: psycopg.Connection, published: list[AssetFile], outcome: DeployResult
    ) -> None:
        """What is in the store now, for later deploys (a rolled-back deploy forgets it;
        the objects stay, and the next one finds them there)."""
        outcome.assets_uploaded = [f.path for f in self.uploaded]
        if not published:
            return
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO pipeline_assets (store, key, sha256, size, blob_id, deploy_id) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [
                    (
                        self.store.identity,
                        key_of(self.store, f),
                        f.sha256,
                        f.size,
                        f.blob_id,
                        outcome.deploy_id,
                    )
                    for f in published
                ],
            )


_ASSET_PATHS = MODULE_COLUMNS.index("asset_paths")


def _drifted(conn: psycopg.Connection, module_ids: list[str]) -> set[str]:
    """Modules whose live rows no longer hash as the pipeline wrote them."""
    rows = conn.execute(
        "SELECT m.module_id FROM modules m JOIN pipeline_live_hashes h ON h.module_pk = m.id "
        "WHERE m.module_id = ANY(%s) AND m.status <> 'archived' "
        "AND m.rows_hash IS DISTINCT FROM h.live_hash",
        (module_ids,),
    )
    return {row[0] for row in rows}


def _check_references(problems: list[str]) -> None:
    """Name every missing university or faculty row before anything is written."""
    if problems:
        raise ContentError(
            "nothing was deployed: " + "; ".join(problems) + ". Add the rows "
            "(pipeline db seed) or fix the module files"
        )


@dataclass
class _Written:
    """The statements that wrote sections; their counts are known once they have run
    (at the end of the pipeline that sent them)."""

    removed: psycopg.Cursor[Any] | None = None
    upserted: psycopg.Cursor[Any] | None = None
    already: int = 0  # the sections of new modules, written while staging (db/stage.py)

    def counts(self) -> tuple[int, int]:
        """(sections removed, sections written)."""

        def rows(cursor: psycopg.Cursor[Any] | None) -> int:
            return max(cursor.rowcount, 0) if cursor is not None else 0

        return rows(self.removed), self.already + rows(self.upserted)


def _apply(conn: psycopg.Connection, plan: Plan, stage: Stage, deploy_id: int) -> _Written:
    new = plan.ids("insert")
    _require_placed(new, stage)
    written = _Written(already=sum(stage.written.values()))
    changed = plan.ids("update", "repair")
    archive = plan.ids("archive")
    if new or changed or archive:
        # The drift hash is read back from the live rows at the end: until the commit,
        # nobody else may write sections (a hand edit committed between these writes
        # and that read would pass for the pipeline's own). Readers are not held.
        conn.execute("LOCK TABLE module_sections IN SHARE ROW EXCLUSIVE MODE")
    if new:
        _fill_placed(conn, deploy_id, new)
    if changed:
        _upsert_modules(conn, deploy_id, changed)
        written.removed, written.upserted = _write_sections(conn, changed)
    if archive:
        conn.execute(
            sql.SQL(
                "UPDATE modules SET status = 'archived', updated_at = {now}, "
                "file_hash = NULL, last_deploy_id = %s WHERE module_id = ANY(%s)"
            ).format(now=_NOW),
            (deploy_id, archive),
        )
    if new or changed or archive:
        # The drift hash of the rows as written, by the view `pipeline status` checks
        # against (each section's md5 is already stored with it, migration 0012).
        conn.execute(
            "UPDATE modules m SET rows_hash = h.live_hash FROM pipeline_live_hashes h "
            "WHERE h.module_pk = m.id AND m.module_id = ANY(%s)",
            (new + changed + archive,),
        )
    return written


def _require_placed(new: list[str], stage: Stage) -> None:
    """Every new module's sections went in under the row placed for it (db/stage.py),
    and every placed row is a new module's: anything else would commit a row unfilled
    or a module without sections."""
    unplaced = sorted(set(new) - set(stage.written))
    if unplaced:  # a row made by hand between the deploy's reads and its placing rows
        raise ServiceError(
            "Postgres",
            f"{', '.join(unplaced)}: a row for this module appeared in `modules` while the "
            "deploy ran, not written by the pipeline; nothing was deployed. Run the deploy "
            "again",
        )
    if set(stage.placed) != set(new):
        raise RuntimeError("rows were placed for modules the plan does not insert")


def _first_values(row: str) -> list[tuple[str, sql.Composable]]:
    """What a module's row gets when it first goes live, besides its staged columns
    (`row` qualifies those: "s." or ""); last_deploy_id is the query's parameter."""
    published = sql.SQL("CASE WHEN {row}status = 'published' THEN {now} END")
    return [
        ("revision", sql.SQL("1")),
        ("created_at", _NOW),
        ("updated_at", _NOW),
        ("published_at", published.format(row=sql.SQL(row), now=_NOW)),
        ("last_deploy_id", sql.Placeholder()),
    ]


def _upsert_modules(conn: psycopg.Connection, deploy_id: int, module_ids: list[str]) -> None:
    """Insert or update the staged rows of these modules."""
    names = sql.SQL(", ").join(map(sql.Identifier, MODULE_COLUMNS))
    updates = sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c))
        for c in MODULE_COLUMNS
        if c != "module_id"
    )
    first = _first_values("")
    conn.execute(
        sql.SQL("""
        INSERT INTO modules ({columns}, {first_columns})
        SELECT {columns}, {first_values}
        FROM {stage} WHERE module_id = ANY(%s)
        ON CONFLICT (module_id) DO UPDATE SET {updates},
            -- a repair writes the same content again: the revision stays
            revision = modules.revision
                + CASE WHEN modules.content_hash = EXCLUDED.content_hash
                        AND modules.status = EXCLUDED.status THEN 0 ELSE 1 END,
            updated_at = EXCLUDED.updated_at,
            published_at = COALESCE(modules.published_at, EXCLUDED.published_at),
            last_deploy_id = EXCLUDED.last_deploy_id
    """).format(
            columns=names,
            first_columns=sql.SQL(", ").join(sql.Identifier(c) for c, _ in first),
            first_values=sql.SQL(", ").join(value for _, value in first),
            updates=updates,
            stage=sql.Identifier(STAGED_MODULES),
        ),
        (deploy_id, module_ids),
    )


def _fill_placed(conn: psycopg.Connection, deploy_id: int, module_ids: list[str]) -> None:
    """The rows placed ahead for these new modules (db/stage.py), filled from the stage
    as _upsert_modules would have inserted them."""
    conn.execute(
        sql.SQL(
            "UPDATE modules m SET {columns}, {first} FROM {stage} s "
            "WHERE s.module_id = m.module_id AND m.module_id = ANY(%s)"
        ).format(
            columns=sql.SQL(", ").join(
                sql.SQL("{c} = s.{c}").format(c=sql.Identifier(c))
                for c in MODULE_COLUMNS
                if c != "module_id"
            ),
            first=sql.SQL(", ").join(
                sql.SQL("{c} = {value}").format(c=sql.Identifier(c), value=value)
                for c, value in _first_values("s.")
            ),
            stage=sql.Identifier(STAGED_MODULES),
        ),
        (deploy_id, module_ids),
    )


def _write_sections(
    conn: psycopg.Connection, changed: list[str]
) -> tuple[psycopg.Cursor[Any], psycopg.Cursor[Any]]:
    """Remove numbers that are gone, then upsert the rest; unchanged rows are not touched.
    The two statements, for their counts."""
    stage = sql.Identifier(STAGED_SECTIONS)
    removed = conn.execute(
        sql.SQL("""
        DELETE FROM module_sections ms USING modules m
        WHERE ms.module_id = m.id AND m.module_id = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM {stage} s
                          WHERE s.module_id = m.module_id
                            AND s.section_number = ms.section_number)
    """).format(stage=stage),
        (changed,),
    )
    data = [c for c in SECTION_COLUMNS if c != "section_number"]
    written = conn.execute(
        sql.SQL("""
        INSERT INTO module_sections (module_id, {columns})
        SELECT m.id, {staged} FROM {stage} s
        JOIN modules m ON m.module_id = s.module_id
        WHERE s.module_id = ANY(%s)
        ON CONFLICT (module_id, section_number) DO UPDATE SET {updates}
        WHERE ({current}) IS DISTINCT FROM ({incoming})
    """).format(
            columns=columns("", SECTION_COLUMNS),
            staged=columns("s.", SECTION_COLUMNS),
            stage=stage,
            updates=sql.SQL(", ").join(
                sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in data
            ),
            current=columns("module_sections.", data, compare=True),
            incoming=columns("EXCLUDED.", data, compare=True),
        ),
        (changed,),
    )
    return removed, written


def _log(
    conn: psycopg.Connection, outcome: DeployResult, started: datetime, settings: Settings
) -> None:
    plan = outcome.plan
    conn.execute(
        "INSERT INTO pipeline_deploys (id, started_at, git_sha, actor, inserted, updated, "
        "unchanged, archived, sections_written, sections_removed, duration_ms, restore_lsn, "
        "restore_time) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            outcome.deploy_id,
            started,
            settings.git_sha,
            settings.actor,
            plan.count("insert"),
            plan.count("update"),
            plan.count("unchanged"),
            plan.count("archive"),
            outcome.sections_written,
            outcome.sections_removed,
            outcome.duration_ms,
            outcome.restore_lsn,
            outcome.restore_time,
        ),
    )
