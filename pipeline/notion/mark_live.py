"""`pipeline notion mark-live`: tell Notion which modules a deploy made live.

Reads the deploy log, so it works in a later step or a rerun: every module
the deploy inserted or updated (and that came from Notion) gets Status Live,
Last Updated and its deployed revision. Setting the same values twice
changes nothing, so it is safe to rerun.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import psycopg

from pipeline.config import NotionSettings
from pipeline.db.status import Deployed, deployed_modules
from pipeline.errors import PipelineError
from pipeline.notion.api import NotionAPI

Marked = Literal["live", "not-from-notion", "failed"]


@dataclass(frozen=True, slots=True)
class MarkResult:
    module_id: str
    state: Marked
    revision: int
    error: str = ""


@dataclass
class MarkLiveReport:
    deploy_id: int
    results: list[MarkResult] = field(default_factory=list)

    @property
    def failed(self) -> list[MarkResult]:
        return [r for r in self.results if r.state == "failed"]


def mark_deploy_live(
    conn: psycopg.Connection, settings: NotionSettings, deploy_id: int | None = None
) -> MarkLiveReport:
    """Mark the modules of a deploy (default: the latest) Live; NOTION_TOKEN from the
    environment."""
    deploy, modules = deployed_modules(conn, deploy_id)
    api = NotionAPI.from_environment(per_second=settings.requests_per_second)
    source = settings.data_source_id or (
        api.data_source_id(settings.database_id) if settings.database_id else None
    )
    schema = api.data_source(source).get("properties", {}) if source else {}
    return MarkLiveReport(deploy, mark_live(api, settings, modules, schema))


def mark_live(
    api: NotionAPI,
    settings: NotionSettings,
    modules: list[Deployed],
    schema: dict[str, dict[str, object]],
) -> list[MarkResult]:
    """Update each module's row; one result per module."""
    props = settings.properties
    status_kind = str(schema.get(props["status"], {}).get("type", "status"))
    now = datetime.now(UTC).isoformat(timespec="seconds")
    results = []
    for module in modules:
        if not module.notion_page_id:
            results.append(MarkResult(module.module_id, "not-from-notion", module.revision))
            continue
        values: dict[str, object] = {
            props["status"]: {status_kind: {"name": settings.live_status}},
            props["last_updated"]: {"date": {"start": now}},
        }
        if props["deployed_revision"] in schema:
            values[props["deployed_revision"]] = {"number": module.revision}
        try:
            api.update_page(module.notion_page_id, values)
            results.append(MarkResult(module.module_id, "live", module.revision))
        except PipelineError as exc:  # that row; the others still go
            results.append(MarkResult(module.module_id, "failed", module.revision, str(exc)))
    return results
