"""Versioned SQL migrations: applied in order, each once, in its own transaction.

Each migration takes a transaction-level advisory lock (session locks do not
survive a transaction-mode pooler) and re-reads what is applied under it, so
two runners at once apply every migration exactly once. A migration whose
file changed after it was applied is refused: the database would no longer
match what the files say.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import psycopg

from pipeline.errors import PipelineError, UsageError

MIGRATE_LOCK = 0x6D6F645F6D6967  # "mod_mig"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS pipeline_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    checksum    TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
)"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Applied:
    version: int
    name: str
    checksum: str
    applied_at: datetime


def available() -> list[Migration]:
    """The migrations shipped in the package, in version order."""
    found = []
    for entry in resources.files("pipeline.db.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def applied(conn: psycopg.Connection) -> list[Applied]:
    exists = conn.execute("SELECT to_regclass('pipeline_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return []
    rows = conn.execute(
        "SELECT version, name, checksum, applied_at FROM pipeline_migrations ORDER BY version"
    ).fetchall()
    return [Applied(*row) for row in rows]


def drift(migrations: list[Migration], done: list[Applied]) -> list[str]:
    """Why the applied migrations no longer match the files; empty when they do."""
    by_version = {m.version: m for m in migrations}
    problems = []
    for row in done:
        migration = by_version.get(row.version)
        if migration is None:
            problems.append(
                f"migration {row.version:04d}_{row.name} is applied but its file is "
                "missing from this version of the pipeline"
            )
        elif migration.checksum != row.checksum:
            problems.append(
                f"migration {row.version:04d}_{row.name}.sql changed after it was "
                "applied; restore the file and add a new migration instead"
            )
    return problems


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """What `pipeline db status` reports: applied and pending migrations, and drift."""

    applied: list[Applied]
    pending: list[Migration]
    problems: list[str]

    def require_current(self) -> None:
        """Exit 2 when applied migrations no longer match their files; 1 when some are
        pending, so a script can ask `pipeline db status` whether to migrate."""
        if self.problems:
            raise UsageError("; ".join(self.problems))
        if self.pending:
            names = ", ".join(f"{m.version:04d}_{m.name}" for m in self.pending)
            raise PipelineError(f"migrations pending ({names}); run `pipeline db migrate`")


def migration_status(conn: psycopg.Connection) -> MigrationStatus:
    done = applied(conn)
    versions = {row.version for row in done}
    todo = [m for m in available() if m.version not in versions]
    return MigrationStatus(done, todo, drift(available(), done))


def pending(conn: psycopg.Connection, migrations: list[Migration] | None = None) -> list[Migration]:
    migrations = available() if migrations is None else migrations
    done = applied(conn)
    problems = drift(migrations, done)
    if problems:
        raise UsageError("; ".join(problems))
    versions = {row.version for row in done}
    return [m for m in migrations if m.version not in versions]


def migrate(conn: psycopg.Connection, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply every pending migration (default: the package's); return those applied here."""
    migrations = available() if migrations is None else migrations
    ran = []
    for migration in migrations:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
            conn.execute(_BOOTSTRAP)
            todo = pending(conn, migrations)  # re-read under the lock; also checks drift
            if migration not in todo:
                continue
            try:
                conn.execute(migration.sql.encode())
            except psycopg.Error as exc:
                raise UsageError(
                    f"migration {migration.version:04d}_{migration.name} failed: "
                    f"{str(exc).strip()}; nothing of it was applied"
                ) from None
            conn.execute(
                "INSERT INTO pipeline_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            ran.append(migration)
    return ran


def require_current(conn: psycopg.Connection) -> None:
    """Refuse to work on a database whose schema is behind the package."""
    todo = pending(conn)
    if todo:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in todo)
        raise UsageError(
            f"the database is missing migrations ({names}); run `pipeline db migrate` first"
        )
