"""What students see: the modules as the database serves them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pipeline.errors import UsageError


@dataclass(frozen=True, slots=True)
class LiveModule:
    module_id: str
    title: str
    revision: int
    status: str
    updated_at: datetime | None
    git_sha: str | None
    sections: int


def status(conn: psycopg.Connection) -> list[LiveModule]:
    rows = conn.execute("""
        SELECT m.module_id, m.title, m.revision, m.status, m.updated_at, d.git_sha,
               (SELECT count(*) FROM module_sections s WHERE s.module_id = m.id)
        FROM modules m LEFT JOIN pipeline_deploys d ON d.id = m.last_deploy_id
        ORDER BY m.module_id""").fetchall()
    return [LiveModule(*row) for row in rows]


def show(conn: psycopg.Connection, module_id: str) -> dict[str, Any]:
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
    module["sections"] = [
        {k: v for k, v in s.items() if k not in ("id", "module_id")} for s in sections
    ]
    return module
