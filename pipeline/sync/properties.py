"""Reference rows <-> Notion pages, as pure functions (seed 002's database schemas).

Each synced database has the entity's fields plus three of its own:
postgres_id (the row's key), last_synced and sync_status (synced / pending /
conflict), which team leads see on every row.

Values go to Notion whole or not at all: long text is split into Notion's
pieces (2,000 characters each, at most 100 in one property), and a value
beyond Notion's limits raises TooLarge, so the row is reported, never cut.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pipeline.errors import ContentError
from pipeline.notion.page import property_value
from pipeline.sync.entities import Entity, Field, Values, canonical
from pipeline.sync.plan import NotionRow

SyncStatus = Literal["synced", "pending", "conflict"]
STATUS_COLOURS = {"synced": "green", "pending": "yellow", "conflict": "red"}
KEY, LAST_SYNCED, SYNC_STATUS = "postgres_id", "last_synced", "sync_status"
# Notion's request limits (developers.notion.com/reference/request-limits). Characters
# are counted as Notion counts them: UTF-16 code units.
PIECE = 2000  # characters in one rich-text item
PIECES = 100  # rich-text items in one property
EMAIL = 200  # characters in an e-mail property
REQUEST = 500_000  # bytes of one request's body


class TooLarge(ContentError):
    """A value Notion cannot hold whole; the row is not written to Notion at all."""


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def pieces(text: str) -> list[str]:
    """`text` in rich-text items of at most PIECE characters, never splitting one."""
    if len(text.encode("utf-16-le")) == 2 * len(text):  # no character needs two units
        return [text[i : i + PIECE] for i in range(0, len(text), PIECE)]
    out: list[str] = []
    start = size = 0
    for index, char in enumerate(text):
        if size + _units(char) > PIECE:
            out.append(text[start:index])
            start, size = index, 0
        size += _units(char)
    return [*out, text[start:]] if text else out


def database_properties(entity: Entity) -> dict[str, Any]:
    """The property schema to create the entity's Notion database with."""
    schema: dict[str, Any] = {}
    for f in (*entity.fields, *entity.shown):
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
        parts = pieces("" if value is None else str(value))
        if len(parts) > PIECES:
            raise TooLarge(
                f"{f.notion} is {len(str(value)):,} characters long; a Notion text property "
                f"holds at most {PIECES * PIECE:,} ({PIECES} pieces of {PIECE:,})"
            )
        return {f.kind: [{"type": "text", "text": {"content": part}} for part in parts]}
    if f.kind == "email" and value is not None and sum(map(_units, str(value))) > EMAIL:
        raise TooLarge(
            f"{f.notion} is {len(str(value)):,} characters long; a Notion e-mail property "
            f"holds at most {EMAIL}"
        )
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
    """Properties to write for a row: its values and the sync bookkeeping.

    Raises TooLarge when Notion cannot take a value whole (or the row as one request).
    """
    props = {f.notion: _payload(f, values.get(f.column)) for f in entity.fields}
    props.update(
        (f.notion, _payload(f, values[f.column])) for f in entity.shown if f.column in values
    )
    props[KEY] = {"rich_text": [{"type": "text", "text": {"content": postgres_id}}]}
    props[LAST_SYNCED] = {"date": {"start": synced_at}}
    props[SYNC_STATUS] = {"select": {"name": status}}
    # As httpx sends it: compact UTF-8 JSON (the parent adds a few bytes more).
    size = len(
        json.dumps({"properties": props}, ensure_ascii=False, separators=(",", ":")).encode()
    )
    if size > REQUEST - 1000:
        raise TooLarge(
            f"the row is {size:,} bytes as a Notion request, and Notion takes at most "
            f"{REQUEST:,}; its longest text is too long"
        )
    return props


def status_properties(status: SyncStatus, synced_at: str | None = None) -> dict[str, Any]:
    """Only the bookkeeping (a conflict or pending mark leaves the values alone)."""
    props: dict[str, Any] = {SYNC_STATUS: {"select": {"name": status}}}
    if synced_at:
        props[LAST_SYNCED] = {"date": {"start": synced_at}}
    return props


def row_from_page(entity: Entity, page: Mapping[str, Any]) -> NotionRow:
    """A Notion page as the planner sees it: key and values in canonical form (a text
    property's pieces joined), and the sync_status it shows."""
    raw: Values = {}
    for f in entity.fields:
        value = property_value(page, f.notion)
        raw[f.column] = value[0] if isinstance(value, list) and value else value
    key = property_value(page, KEY)
    status = property_value(page, SYNC_STATUS)
    return NotionRow(
        str(page["id"]),
        str(key) if key else None,
        canonical(entity, raw),
        sync_status=str(status) if status else None,
    )


def in_trash(page: Mapping[str, Any]) -> bool:
    """Whether a page is in Notion's trash (`in_trash`; `archived` before 2026-03-11)."""
    return bool(page.get("in_trash") or page.get("archived"))
