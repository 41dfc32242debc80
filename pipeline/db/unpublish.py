"""`pipeline unpublish` / `pipeline republish`: hide a module from students at once, and
show it again, each recorded with who and why (table pipeline_unpublished).

Unpublishing sets the module's status to 'draft' (what the students' app leaves out,
as seed 000's emergency procedure does by hand) in one transaction under the deploy
lock, so it never interleaves with a deploy. It stays in force: a later deploy of a
changed file writes the new content but keeps the module a draft (`hidden`), and
remembers the status the file asks for; republishing restores that status. The fix
itself goes through Git like any change (or `pipeline rollback`).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from pipeline.db.migrate import require_current
from pipeline.errors import UsageError
from pipeline.modules.records import MODULE_COLUMNS, ModuleRows

HIDDEN = "draft"
_STATUS = MODULE_COLUMNS.index("status")


@dataclass(frozen=True, slots=True)
class Hold:
    """An unpublish in force."""

    module_id: str
    reason: str
    by: str
    at: datetime
    status_before: str


@dataclass(frozen=True, slots=True)
class VisibilityChange:
    """What `unpublish` or `republish` did."""

    module_id: str
    action: str  # unpublished, already-unpublished, republished, republished-archived
    status: str  # the module's status now
    reason: str
    by: str
    at: datetime | None = None
    since: Hold | None = None  # the unpublish in force before (or still)


def who() -> str:
    """The person acting, as deploys and unpublishes record them: GITHUB_ACTOR in Actions,
    else the login name, else "uid <n>": in a container the UID often has neither USER
    nor LOGNAME nor a passwd entry, and getpass cannot name it."""
    name = os.environ.get("GITHUB_ACTOR")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError, ImportError):  # OSError from 3.13; no pwd on Windows
            return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
    # A name of bytes that are not UTF-8 (surrogate escapes), as text the database takes.
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def hidden(record: ModuleRows) -> ModuleRows:
    """A module's rows as an unpublish keeps them: status 'draft' (pure)."""
    if record.status == HIDDEN:
        return record
    row = list(record.row)
    row[_STATUS] = HIDDEN
    return record._replace(status=HIDDEN, row=tuple(row))


IN_FORCE = (
    "SELECT module_id, reason, unpublished_by, unpublished_at, status_before "
    "FROM pipeline_unpublished WHERE republished_at IS NULL"
)


def holds(conn: psycopg.Connection, module_ids: Iterable[str] | None = None) -> dict[str, Hold]:
    """The unpublishes in force (of `module_ids`, or all), by module id."""
    if module_ids is None:
        return holds_from(conn.execute(IN_FORCE))
    return holds_from(conn.execute(IN_FORCE + " AND module_id = ANY(%s)", (list(module_ids),)))


def holds_from(rows: Iterable[Sequence[Any]]) -> dict[str, Hold]:
    """holds() from the rows of IN_FORCE (deploy sends it with its other reads)."""
    return {row[0]: Hold(*row) for row in rows}


def remember_file_status(conn: psycopg.Connection, statuses: dict[str, str]) -> None:
    """A deploy wrote these held modules: the status their files ask for, for republish."""
    if statuses:
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE pipeline_unpublished SET status_before = %s "
                "WHERE module_id = %s AND republished_at IS NULL",
                [(status, module_id) for module_id, status in statuses.items()],
            )


def _lock(conn: psycopg.Connection) -> None:
    from pipeline.db.deploy import DEPLOY_LOCK  # the deploy's own lock: one at a time

    conn.execute("SELECT set_config('lock_timeout', '60s', true)")
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (DEPLOY_LOCK,))


def _module(conn: psycopg.Connection, module_id: str) -> tuple[int, str]:
    row = None
    if _is_text(module_id):  # no module id is anything else: the database holds text
        row = conn.execute(
            "SELECT id, status FROM modules WHERE module_id = %s FOR UPDATE", (module_id,)
        ).fetchone()
    if row is None:
        raise UsageError(f"no module {module_id!r} in the database; `pipeline status` lists them")
    return int(row[0]), str(row[1])


def _set_status(conn: psycopg.Connection, pk: int, status: str) -> None:
    """The new status, and the drift hash with it, unless the rows had drifted already
    (then `pipeline status` keeps saying so)."""
    clean = conn.execute(
        "SELECT rows_hash IS NOT DISTINCT FROM pipeline_rows_hash(id) FROM modules WHERE id = %s",
        (pk,),
    ).fetchone()
    conn.execute(
        "UPDATE modules SET status = %s, updated_at = (now() AT TIME ZONE 'utc') WHERE id = %s",
        (status, pk),
    )
    if clean and clean[0]:
        conn.execute("UPDATE modules SET rows_hash = pipeline_rows_hash(id) WHERE id = %s", (pk,))


def _is_text(value: str) -> bool:
    """Whether the database can hold `value` as text: UTF-8 (a byte of another encoding
    on the command line comes as a surrogate escape, which has none) and no NUL."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _reason(reason: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise UsageError(f"say why with --reason: it is recorded with the {what}")
    if not _is_text(reason):
        raise UsageError(
            "--reason is not valid text: it holds a byte that is not UTF-8 (text from a "
            "Latin-1 terminal or file?) or a NUL; write it again in UTF-8, as it is recorded "
            f"with the {what}"
        )
    return reason


@contextmanager
def _changing(conn: psycopg.Connection, module_id: str) -> Iterator[tuple[int, str, Hold | None]]:
    """A transaction under the deploy's lock, with the module's row locked: its id, its
    status and the unpublish in force, if any."""
    require_current(conn)
    with conn.transaction():
        _lock(conn)
        pk, status = _module(conn, module_id)
        yield pk, status, holds(conn, [module_id]).get(module_id)


def unpublish(
    conn: psycopg.Connection, module_id: str, reason: str, actor: str
) -> VisibilityChange:
    """Hide `module_id` from students now; idempotent (a second call changes nothing)."""
    reason = _reason(reason, "unpublish")
    with _changing(conn, module_id) as (pk, status, current):
        if current is not None:
            return VisibilityChange(
                module_id, "already-unpublished", status, current.reason, current.by, since=current
            )
        if status == "archived":
            raise UsageError(
                f"{module_id} is archived: students do not see it; there is nothing to hide"
            )
        row = conn.execute(
            "INSERT INTO pipeline_unpublished (module_id, reason, unpublished_by, status_before) "
            "VALUES (%s, %s, %s, %s) RETURNING unpublished_at",
            (module_id, reason, actor, status),
        ).fetchone()
        _set_status(conn, pk, HIDDEN)
    return VisibilityChange(
        module_id, "unpublished", HIDDEN, reason, actor, row[0] if row else None
    )


def republish(
    conn: psycopg.Connection, module_id: str, reason: str, actor: str
) -> VisibilityChange:
    """End the unpublish of `module_id`: it gets back the status its file asks for."""
    reason = _reason(reason, "republish")
    with _changing(conn, module_id) as (pk, status, current):
        if current is None:
            raise UsageError(
                f"{module_id} is not unpublished (its status is {status}); nothing to republish"
            )
        row = conn.execute(
            "UPDATE pipeline_unpublished SET republished_by = %s, republished_at = now(), "
            "republish_reason = %s WHERE module_id = %s AND republished_at IS NULL "
            "RETURNING republished_at",
            (actor, reason, module_id),
        ).fetchone()
        at = row[0] if row else None
        if status == "archived":  # its file went while it was hidden: it stays archived
            return VisibilityChange(
                module_id, "republished-archived", status, reason, actor, at, current
            )
        _set_status(conn, pk, current.status_before)
    return VisibilityChange(
        module_id, "republished", current.status_before, reason, actor, at, current
    )
