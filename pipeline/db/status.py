"""What students see: the modules as the database serves them, and what a deploy did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pipeline.db.migrate import require_current
from pipeline.errors import UsageError


@dataclass(slots=True)  # not frozen: a frozen init costs 8 ms per 10,000 rows
class ModuleStatus:
    module_id: str
    title: str
    revision: int
    status: str
    updated_at: datetime | None
    git_sha: str | None
    sections: int
    # Its rows no longer hash as the pipeline wrote them: changed behind its back.
    drifted: bool = False
    deploy_id: int | None = None  # the deploy that last wrote it


def status(conn: psycopg.Connection) -> list[ModuleStatus]:
    """Every module as students see it, with whether its rows drifted. The view hashes
    each module from its sections' stored md5s (migration 0012): one index scan."""
    require_current(conn)
    rows = conn.execute("""
        SELECT m.module_id, m.title, m.revision, m.status, m.updated_at, d.git_sha,
               h.sections,
               m.status <> 'archived' AND m.rows_hash IS DISTINCT FROM h.live_hash,
               m.last_deploy_id
        FROM modules m JOIN pipeline_live_hashes h ON h.module_pk = m.id
        LEFT JOIN pipeline_deploys d ON d.id = m.last_deploy_id
        ORDER BY m.module_id""").fetchall()
    return [ModuleStatus(*row) for row in rows]


# Bookkeeping, not what students read: the row ids and each row's md5 (migration 0012).
_NOT_SHOWN = frozenset({"id", "module_id", "row_md5"})


def show(conn: psycopg.Connection, module_id: str) -> dict[str, Any]:
    require_current(conn)
    with conn.cursor(row_factory=dict_row) as cur:
        module = cur.execute("SELECT * FROM modules WHERE module_id = %s", (module_id,)).fetchone()
        if module is None:
            raise UsageError(
                f"no module {module_id!r} in the database; `pipeline status` lists them"
            )
        sections = cur.execute(
            "SELECT * FROM module_sections WHERE module_id = %s ORDER BY section_number",
            (module["id"],),
        ).fetchall()
    module["sections"] = [{k: v for k, v in s.items() if k not in _NOT_SHOWN} for s in sections]
    return module


@dataclass(frozen=True, slots=True)
class Deployed:
    """A module as a deploy left it, for telling Notion."""

    module_id: str
    notion_page_id: str | None
    revision: int
    status: str


def deployed_modules(conn: psycopg.Connection, deploy_id: int | None) -> tuple[int, list[Deployed]]:
    """The modules a deploy (default: the latest) inserted or updated and left unarchived."""
    require_current(conn)
    if deploy_id is None:
        row = conn.execute("SELECT max(id) FROM pipeline_deploys").fetchone()
        if row is None or row[0] is None:
            raise UsageError("no deploy has been logged yet; run `pipeline deploy` first")
        deploy_id = int(row[0])
    rows = conn.execute(
        "SELECT module_id, notion_page_id, revision, status FROM modules "
        "WHERE last_deploy_id = %s AND status <> 'archived' ORDER BY module_id",
        (deploy_id,),
    ).fetchall()
    return deploy_id, [Deployed(*row) for row in rows]
