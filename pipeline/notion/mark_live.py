"""`pipeline notion mark-live`: tell Notion which modules a deploy made live.

Reads the deploy log, so it works in a later step or a rerun: every module
the deploy inserted or updated (and that came from Notion) gets Status Live,
Last Updated and its deployed revision. Setting the same values twice
changes nothing, so it is safe to rerun.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from pipeline.config import NotionSettings
from pipeline.errors import UsageError
from pipeline.notion.api import NotionAPI, ServiceError


@dataclass(frozen=True, slots=True)
class Deployed:
    module_id: str
    notion_page_id: str | None
    revision: int


def deployed_modules(conn: psycopg.Connection, deploy_id: int | None) -> tuple[int, list[Deployed]]:
    if deploy_id is None:
        row = conn.execute("SELECT max(id) FROM pipeline_deploys").fetchone()
        if row is None or row[0] is None:
            raise UsageError("no deploy has been logged yet; run `pipeline deploy` first")
        deploy_id = int(row[0])
    rows = conn.execute(
        "SELECT module_id, notion_page_id, revision FROM modules "
        "WHERE last_deploy_id = %s AND status <> 'archived' ORDER BY module_id",
        (deploy_id,),
    ).fetchall()
    return deploy_id, [Deployed(*row) for row in rows]


def mark_live(
    api: NotionAPI,
    settings: NotionSettings,
    modules: list[Deployed],
    schema: dict[str, dict[str, object]],
) -> list[str]:
    """Update each row; returns one line per module (what happened)."""
    props = settings.properties
    status_kind = str(schema.get(props["status"], {}).get("type", "status"))
    now = datetime.now(UTC).isoformat(timespec="seconds")
    lines = []
    for module in modules:
        if not module.notion_page_id:
            lines.append(f"{module.module_id}: not from Notion, nothing to mark")
            continue
        values: dict[str, object] = {
            props["status"]: {status_kind: {"name": settings.live_status}},
            props["last_updated"]: {"date": {"start": now}},
        }
        if props["deployed_revision"] in schema:
            values[props["deployed_revision"]] = {"number": module.revision}
        try:
            api.update_page(module.notion_page_id, values)
            lines.append(f"{module.module_id}: Live (revision {module.revision})")
        except ServiceError as exc:
            lines.append(f"{module.module_id}: NOT marked live: {exc}")
    return lines
