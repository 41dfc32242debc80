"""`pipeline notion mark-live`: tell Notion which modules a deploy made live.

Reads the deploy log, so it works in a later step or a rerun: every module
the deploy inserted or updated (and that came from Notion) gets Status Live,
Last Updated and its deployed revision. Setting the same values twice
changes nothing, so it is safe to rerun.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
from notion_client.helpers import extract_notion_id

from pipeline.config import NotionSettings
from pipeline.db.status import Deployed, deployed_modules
from pipeline.errors import PipelineError, UsageError
from pipeline.notion.api import NotionAPI
from pipeline.notion.page import property_value

Marked = Literal["live", "not-from-notion", "not-published", "failed"]


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
    if not (settings.data_source_id or settings.database_id):
        raise UsageError(
            "pipeline.yaml has no notion.database_id; mark-live checks that each page is "
            "in the Module Library before it marks it"
        )
    source = settings.data_source_id or api.data_source_id(str(settings.database_id))
    schema = api.data_source(source).get("properties", {})
    return MarkLiveReport(deploy, mark_live(api, settings, modules, schema, source))


def mark_live(
    api: NotionAPI,
    settings: NotionSettings,
    modules: list[Deployed],
    schema: dict[str, dict[str, object]],
    source: str,
) -> list[MarkResult]:
    """Update each module's row; one result per module.

    A module file names its page, but a file can be wrong: only a published module is
    marked, and only on a page of the Module Library (data source `source`) whose
    Module ID is that module's.
    """
    props = settings.properties
    status_kind = str(schema.get(props["status"], {}).get("type", "status"))
    now = datetime.now(UTC).isoformat(timespec="seconds")
    results = []
    for module in modules:
        if not module.notion_page_id:
            results.append(MarkResult(module.module_id, "not-from-notion", module.revision))
            continue
        if module.status != "published":
            results.append(MarkResult(module.module_id, "not-published", module.revision))
            continue
        values: dict[str, object] = {
            props["status"]: {status_kind: {"name": settings.live_status}},
            props["last_updated"]: {"date": {"start": now}},
        }
        if props["deployed_revision"] in schema:
            values[props["deployed_revision"]] = {"number": module.revision}
        try:
            wrong = _not_its_page(api.page(module.notion_page_id), module, settings, source)
            if wrong:
                results.append(MarkResult(module.module_id, "failed", module.revision, wrong))
                continue
            api.update_page(module.notion_page_id, values)
            results.append(MarkResult(module.module_id, "live", module.revision))
        except PipelineError as exc:  # that row; the others still go
            results.append(MarkResult(module.module_id, "failed", module.revision, str(exc)))
    return results


def _not_its_page(
    page: dict[str, Any], module: Deployed, settings: NotionSettings, source: str
) -> str:
    """Why `page` is not this module's row in the Module Library ("" when it is)."""
    parent = page.get("parent") or {}
    if _plain_id(str(parent.get("data_source_id", ""))) != _plain_id(source):
        return (
            f"the page {module.notion_page_id} is not in the Module Library; fix "
            "notion_page_id in the module file"
        )
    name = settings.properties["module_id"]
    found = property_value(page, name)
    if found != module.module_id:
        return (
            f"the page's {name} is {found!r}, not {module.module_id!r}; fix notion_page_id in "
            "the module file or the page's Module ID"
        )
    return ""


def _plain_id(object_id: str) -> str:
    return extract_notion_id(object_id) or object_id
