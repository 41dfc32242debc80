"""Reference rows <-> Notion pages, as pure functions (seed 002's database schemas).

Each synced database has the entity's fields plus three of its own:
postgres_id (the row's key), last_synced and sync_status (synced / pending /
conflict), which team leads see on every row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pipeline.notion.page import property_value
from pipeline.sync.entities import Entity, Field, Values, canonical
from pipeline.sync.plan import NotionRow

SyncStatus = Literal["synced", "pending", "conflict"]
STATUS_COLOURS = {"synced": "green", "pending": "yellow", "conflict": "red"}
KEY, LAST_SYNCED, SYNC_STATUS = "postgres_id", "last_synced", "sync_status"


def database_properties(entity: Entity) -> dict[str, Any]:
    """The property schema to create the entity's Notion database with."""
    schema: dict[str, Any] = {}
    for f in entity.fields:
        config: dict[str, Any] = {}
        if f.kind == "select":
            config = {"options": [{"name": o} for o in f.options]}
        elif f.kind == "number":
            config = {"format": "number"}
        schema[f.notion] = {f.kind: config}
    schema[KEY] = {"rich_text": {}}
    schema[LAST_SYNCED] = {"date": {}}
    schema[SYNC_STATUS] = {
        "select": {
            "options": [{"name": name, "color": colour} for name, colour in STATUS_COLOURS.items()]
        }
    }
    return schema


def _payload(f: Field, value: Any) -> dict[str, Any]:
    if f.kind in ("title", "rich_text"):
        text = "" if value is None else str(value)
        return {f.kind: [{"type": "text", "text": {"content": text[:2000]}}] if text else []}
    if f.kind == "select":
        return {"select": {"name": str(value)} if value not in (None, "") else None}
    if f.kind == "date":
        return {"date": {"start": str(value)} if value else None}
    if f.kind == "checkbox":
        return {"checkbox": bool(value)}
    return {f.kind: value}  # number, email


def page_properties(
    entity: Entity, values: Mapping[str, Any], postgres_id: str, status: SyncStatus, synced_at: str
) -> dict[str, Any]:
    """Properties to write for a row: its values and the sync bookkeeping."""
    props = {f.notion: _payload(f, values.get(f.column)) for f in entity.fields}
    props[KEY] = {"rich_text": [{"type": "text", "text": {"content": postgres_id}}]}
    props[LAST_SYNCED] = {"date": {"start": synced_at}}
    props[SYNC_STATUS] = {"select": {"name": status}}
    return props


def status_properties(status: SyncStatus, synced_at: str | None = None) -> dict[str, Any]:
    """Only the bookkeeping (a conflict or pending mark leaves the values alone)."""
    props: dict[str, Any] = {SYNC_STATUS: {"select": {"name": status}}}
    if synced_at:
        props[LAST_SYNCED] = {"date": {"start": synced_at}}
    return props


def row_from_page(entity: Entity, page: Mapping[str, Any]) -> NotionRow:
    """A Notion page as the planner sees it: key and values in canonical form."""
    raw: Values = {}
    for f in entity.fields:
        value = property_value(page, f.notion)
        raw[f.column] = value[0] if isinstance(value, list) and value else value
    key = property_value(page, KEY)
    return NotionRow(str(page["id"]), str(key) if key else None, canonical(entity, raw))
