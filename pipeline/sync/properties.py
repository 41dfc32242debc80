"""Reference rows <-> Notion pages, as pure functions (seed 002's database schemas).

Each synced database has the entity's fields plus four of its own:
postgres_id (the row's key), last_synced, sync_status (synced / pending /
conflict) and sync_notes (why a row is not synced, in words), which team
leads see on every row.

A database is read and written by property name and type, so before a run
touches one, `schema_problems` checks that it still has every property the
sync maps (a team lead may have renamed, deleted or retyped one); a page is
read only property by property of the right type (`row_from_page`): a value
that cannot be read is never taken as empty.

Values go to Notion whole or not at all: long text is split into Notion's
pieces (2,000 characters each, at most 100 in one property), and a value
beyond Notion's limits raises TooLarge, so the row is reported, never cut.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pipeline.errors import ContentError
from pipeline.notion.page import property_value
from pipeline.sync.entities import Entity, Field, Values, canonical
from pipeline.sync.plan import NotionRow

SyncStatus = Literal["synced", "pending", "conflict"]
STATUS_COLOURS = {"synced": "green", "pending": "yellow", "conflict": "red"}
KEY, LAST_SYNCED, SYNC_STATUS = "postgres_id", "last_synced", "sync_status"
SYNC_NOTES = "sync_notes"
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
    schema[SYNC_NOTES] = {"rich_text": {}}
    return schema


# -- the database's properties, checked before a run reads or writes it -----------------------

BOOKKEEPING = (
    Field(KEY, KEY, "rich_text"),
    Field(LAST_SYNCED, LAST_SYNCED, "date"),
    Field(SYNC_STATUS, SYNC_STATUS, "select"),
    Field(SYNC_NOTES, SYNC_NOTES, "rich_text"),
)
# Properties `sync setup` may add back without harm: their values are rewritten at every sync.
_REWRITTEN = frozenset({LAST_SYNCED, SYNC_STATUS, SYNC_NOTES})
_KIND_WORDS = {"rich_text": "text", "multi_select": "multi-select", "phone_number": "phone"}
RESTORE = "the database's ••• menu > Properties > Deleted properties"


def kind_words(kind: str) -> str:
    """A property type as Notion's menus name it ("text", not "rich_text")."""
    return _KIND_WORDS.get(kind, kind.replace("_", " "))


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """A property the sync maps that the database lacks (found None) or holds as another
    type (found: that type)."""

    database: str
    name: str
    kind: str
    found: str | None = None
    renamed: str | None = None  # a property that looks like it, renamed
    may_add: bool = False  # `sync setup` may add it: no synced value depends on it

    def for_operator(self) -> str:
        """What is wrong and what to do, for whoever runs the sync."""
        if self.found is not None:
            return (
                f'the {self.database} database\'s property "{self.name}" is '
                f"{_a(kind_words(self.found))} in Notion, and the sync reads and writes "
                f"{_a(kind_words(self.kind))} there; change its type back to "
                f"{kind_words(self.kind)}{self._one()}"
            )
        text = (
            f'the {self.database} database in Notion has no property "{self.name}" '
            f"({kind_words(self.kind)})"
        )
        if self.renamed:
            text += f'; "{self.renamed}" may be it, renamed'
        text += f'; rename it back to "{self.name}", or restore it if it was deleted ({RESTORE})'
        if self.may_add and not self.renamed:
            text += "; `pipeline sync setup --parent-page ID` adds it if the database never had it"
        return text

    def for_row(self) -> str:
        """The same, in words for the team lead who sees it on a row."""
        if self.found is not None:
            return (
                f'this database\'s property "{self.name}" is {_a(kind_words(self.found))} now; '
                f"change its type back to {kind_words(self.kind)}{self._one()}"
            )
        return (
            f'this database\'s property "{self.name}" is missing (renamed or deleted?); '
            f'rename it back to "{self.name}", or restore it ({RESTORE})'
        )

    def _one(self) -> str:
        return " (one choice per row)" if self.kind == "select" else ""


def schema_problems(
    entity: Entity,
    schema: Mapping[str, Mapping[str, Any]],
    *,
    push: bool,
    synced_columns: Collection[str] = (),
) -> list[SchemaProblem]:
    """What keeps the sync from reading and writing the database as `schema` (its
    properties, by name) stands: every mapped property must be there with its type.

    A pull does not need the properties only shown in Notion (entity.shown); a push
    writes them. `synced_columns`: columns whose values a past sync recorded (such a
    property added back empty would read as cleared, so setup is not offered)."""
    wanted = [*entity.fields, *(entity.shown if push else ()), *BOOKKEEPING]
    names = {f.notion for f in wanted}
    problems: list[SchemaProblem] = []
    for f in wanted:
        found = schema.get(f.notion)
        if found is not None and found.get("type") == f.kind:
            continue
        problems.append(
            SchemaProblem(
                entity.name,
                f.notion,
                f.kind,
                found=None if found is None else str(found.get("type")),
                renamed=None if found is not None else _renamed(f, schema, names),
                may_add=(f.notion in _REWRITTEN)
                or (f.notion != KEY and f.kind != "title" and f.column not in synced_columns),
            )
        )
    return problems


def _renamed(f: Field, schema: Mapping[str, Mapping[str, Any]], taken: set[str]) -> str | None:
    """A property not the sync's that is probably `f` renamed: the title, or one of its
    type whose name differs only in case, spaces or punctuation."""

    def simple(name: str) -> str:
        return "".join(c for c in name.casefold() if c.isalnum())

    for name, spec in schema.items():
        if name in taken or spec.get("type") != f.kind:
            continue
        if f.kind == "title" or simple(name) == simple(f.notion):
            return name
    return None


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
    props[SYNC_NOTES] = _notes("")  # written whole: nothing to tell
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


def status_properties(
    status: SyncStatus, synced_at: str | None = None, note: str | None = None
) -> dict[str, Any]:
    """Only the bookkeeping (a conflict or pending mark leaves the values alone).

    `note`: the row's sync_notes, why it is not synced, for the team lead ("" empties
    it; None leaves it as it is)."""
    props: dict[str, Any] = {SYNC_STATUS: {"select": {"name": status}}}
    if synced_at:
        props[LAST_SYNCED] = {"date": {"start": synced_at}}
    if note is not None:
        props[SYNC_NOTES] = _notes(note)
    return props


def _notes(note: str) -> dict[str, Any]:
    return {"rich_text": [{"type": "text", "text": {"content": part}} for part in pieces(note)]}


class Unreadable(ContentError):
    """A page property the sync reads is gone or of another type (the database changed
    while the sync read it); nothing is taken from the page."""


def row_from_page(entity: Entity, page: Mapping[str, Any]) -> NotionRow:
    """A Notion page as the planner sees it: key and values in canonical form (a text
    property's pieces joined), and the sync_status and sync_notes it shows.

    Raises Unreadable rather than read a property that is missing or of another type
    as empty: an empty value is pulled into Postgres as a team lead's edit."""
    raw: Values = {f.column: _read(entity, page, f) for f in entity.fields}
    key = _read(entity, page, BOOKKEEPING[0])
    status = property_value(page, SYNC_STATUS)
    notes = property_value(page, SYNC_NOTES)
    return NotionRow(
        str(page["id"]),
        str(key) if key else None,
        canonical(entity, raw),
        sync_status=str(status) if status else None,
        sync_notes=str(notes) if notes else None,
    )


def _read(entity: Entity, page: Mapping[str, Any], f: Field) -> Any:
    prop = (page.get("properties") or {}).get(f.notion) or {}
    if prop.get("type") != f.kind:
        raise Unreadable(
            f"Notion page {page.get('id')} of the {entity.name} database has no "
            f'{kind_words(f.kind)} property "{f.notion}" (the database changed while the sync '
            "read it?); nothing was taken from it; if the property was renamed or its type "
            "changed, change it back, and sync again"
        )
    return property_value(page, f.notion)


def in_trash(page: Mapping[str, Any]) -> bool:
    """Whether a page is in Notion's trash (`in_trash`; `archived` before 2026-03-11)."""
    return bool(page.get("in_trash") or page.get("archived"))
