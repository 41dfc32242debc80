"""Staged Notion pages -> canonical rows, and the hashes that tell what changed. Pure.

Lenient in: a property is read by its type (title, rich text, select, status,
number, date, relation, formula, rollup, unique id, ...), whatever it is called
in pipeline.yaml. Strict out: a value the canonical tables cannot hold (an unknown
status, a score outside 0..10, a flashcard with no question, a CardID two pages
share) makes that page's failure, named with what to change; the other pages go on.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson

Properties = Mapping[str, Any]

CONCEPT_STATUSES = ("to_learn", "active", "reviewing", "mastered", "stale")
PROGRAM_STATUSES = ("active", "completed", "paused", "archived")
MODULE_STATUSES = ("not_started", "in_progress", "completed", "reviewing")
ATOM_TYPES = ("flashcard", "cloze", "mcq", "true_false", "matching", "parsons")
_CLOZE = re.compile(r"\{\{c\d+::")


class PageProblem(ValueError):
    """What is wrong with one page, in the words its owner needs."""


# -- ids and hashes ------------------------------------------------------------------------


def page_id(value: str) -> str:
    """A Notion id in its dashed form, however it was written."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value


def sync_hash(page: Mapping[str, Any]) -> str:
    """MD5 (seed 003) of a page's properties and edit time: a page whose hash is the
    staged one has not changed, so neither its row nor its blocks are fetched again."""
    payload = orjson.dumps(
        [page.get("last_edited_time"), page.get("properties") or {}], option=orjson.OPT_SORT_KEYS
    )
    return hashlib.md5(payload, usedforsecurity=False).hexdigest()


# -- property values -----------------------------------------------------------------------


def _plain(items: Any) -> str:
    """Rich text's plain text: from Notion's objects, or the plain_text pieces staging's
    learn_slim_properties leaves of them."""
    return "".join(
        t if isinstance(t, str) else str(t.get("plain_text") or "")
        for t in items or []
        if isinstance(t, str | dict)
    )


def value(prop: Any) -> Any:  # noqa: PLR0911 - one return per property type
    """A property's value as plain Python, by its type."""
    if not isinstance(prop, dict):
        return None
    kind = prop.get("type")
    raw = prop.get(kind) if isinstance(kind, str) else None
    if kind in ("title", "rich_text"):
        return _plain(raw)
    if kind in ("select", "status"):
        return raw.get("name") if isinstance(raw, dict) else None
    if kind == "multi_select":
        return [o.get("name") for o in raw or [] if isinstance(o, dict)]
    if kind == "relation":
        return [page_id(str(r["id"])) for r in raw or [] if isinstance(r, dict) and "id" in r]
    if kind == "date":
        return raw if isinstance(raw, dict) else None
    if kind == "unique_id" and isinstance(raw, dict):
        prefix, number = raw.get("prefix"), raw.get("number")
        return f"{prefix}-{number}" if prefix else (str(number) if number is not None else None)
    if kind == "formula" and isinstance(raw, dict):
        return raw.get(raw.get("type", ""))
    if kind == "rollup" and isinstance(raw, dict):
        inner = raw.get(raw.get("type", ""))
        if isinstance(inner, list):
            return [value(item) for item in inner]
        return inner
    if kind == "people":
        return [p.get("name") or p.get("id") for p in raw or [] if isinstance(p, dict)]
    return raw


@dataclass(frozen=True)
class Page:
    """A staged page and the property names its database uses."""

    notion_id: str
    properties: Properties
    names: Mapping[str, str]

    def raw(self, key: str) -> Any:
        name = self.names.get(key, key)
        if name in self.properties:
            return value(self.properties[name])
        if key in ("name", "front"):  # every database has exactly one title property
            for prop in self.properties.values():
                if isinstance(prop, dict) and prop.get("type") == "title":
                    return value(prop)
        return None

    def text(self, key: str, *, required: bool = False) -> str | None:
        raw = self.raw(key)
        if isinstance(raw, list):
            raw = ", ".join(str(v) for v in raw if v is not None)
        if isinstance(raw, dict):  # a date
            raw = raw.get("start")
        text = str(raw).strip() if raw is not None else ""
        if required and not text:
            raise PageProblem(f"its {self.names.get(key, key)!r} is empty; fill it in")
        return text or None

    def number(self, key: str, low: float, high: float, *, whole: bool = False) -> Any:
        raw = self.raw(key)
        if isinstance(raw, str):
            try:
                raw = float(raw) if raw.strip() else None
            except ValueError:
                raise PageProblem(
                    f"its {self.names.get(key, key)!r} is {raw!r}, not a number"
                ) from None
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise PageProblem(f"its {self.names.get(key, key)!r} is not a number")
        if not low <= raw <= high or (whole and raw != int(raw)):
            kind = "a whole number" if whole else "a number"
            raise PageProblem(
                f"its {self.names.get(key, key)!r} is {raw}; write {kind} from {low:g} to {high:g}"
            )
        return int(raw) if whole else raw

    def choice(self, key: str, allowed: tuple[str, ...], default: str | None) -> str | None:
        text = self.text(key)
        if text is None:
            return default
        slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
        if slug in allowed:
            return slug
        words = ", ".join(a.replace("_", " ").title() for a in allowed)
        raise PageProblem(f"its {self.names.get(key, key)!r} is {text!r}; choose one of {words}")

    def relation(self, key: str) -> str | None:
        raw = self.raw(key)
        if isinstance(raw, list):
            return str(raw[0]) if raw else None
        return None

    def day(self, key: str, *, end: bool = False) -> date | None:
        raw = self.raw(key)
        if not isinstance(raw, dict):
            return None
        text = raw.get("end" if end else "start")
        if not text:
            return None
        try:
            return date.fromisoformat(str(text)[:10])
        except ValueError:
            raise PageProblem(f"its {self.names.get(key, key)!r} is not a date") from None


# -- canonical rows ------------------------------------------------------------------------
# Tuples in the column order staging.py copies them in; relations as Notion ids.


@dataclass
class Canonical:
    areas: list[tuple[Any, ...]] = field(default_factory=list)
    clusters: list[tuple[Any, ...]] = field(default_factory=list)
    concepts: list[tuple[Any, ...]] = field(default_factory=list)
    programs: list[tuple[Any, ...]] = field(default_factory=list)
    tracks: list[tuple[Any, ...]] = field(default_factory=list)
    modules: list[tuple[Any, ...]] = field(default_factory=list)
    atoms: list[tuple[Any, ...]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


@dataclass(frozen=True)
class Failure:
    entity: str
    notion_id: str
    title: str
    reason: str

    def __str__(self) -> str:
        return f"{self.entity} page {self.notion_id} ({self.title or 'untitled'}): {self.reason}"


@dataclass(frozen=True)
class Staged:
    """A staging row: page id, raw properties, and (flashcards) blocks and hash."""

    notion_id: str
    properties: Properties
    content: list[dict[str, Any]] | None = None
    hash: str | None = None


def _area(p: Page) -> tuple[Any, ...]:
    return (
        p.notion_id,
        p.text("name", required=True),
        p.text("description"),
        p.text("domain"),
        p.number("display_order", -(2**31), 2**31 - 1, whole=True) or 0,
    )


def _cluster(p: Page) -> tuple[Any, ...]:
    return (
        p.notion_id,
        p.relation("area"),
        p.text("name", required=True),
        p.text("description"),
        p.number("exam_weight", 0, 100),
        p.number("display_order", -(2**31), 2**31 - 1, whole=True) or 0,
    )


def concept_parent(p: Page) -> tuple[str | None, str | None]:
    """stg_notion_concepts' parent_type and parent_notion_id: a cluster if it has one,
    else an area, else none (an orphan, kept)."""
    cluster = p.relation("cluster")
    if cluster:
        return "cluster", cluster
    area = p.relation("area")
    return ("area", area) if area else (None, None)


def _concept(p: Page) -> tuple[Any, ...]:
    parent_type, parent = concept_parent(p)
    return (
        p.notion_id,
        parent if parent_type == "cluster" else None,
        parent if parent_type == "area" else None,
        p.text("name", required=True),
        p.text("definition"),
        p.text("domain"),
        p.choice("status", CONCEPT_STATUSES, "to_learn"),
        p.number("dec_score", 0, 10),
        p.number("proc_score", 0, 10),
        p.number("app_score", 0, 10),
    )


def _program(p: Page) -> tuple[Any, ...]:
    start = p.day("start_date")
    end = p.day("end_date") or p.day("start_date", end=True)
    if start and end and end < start:
        raise PageProblem(f"it ends ({end}) before it starts ({start})")
    return (
        p.notion_id,
        p.text("name", required=True),
        p.text("description"),
        p.choice("status", PROGRAM_STATUSES, "active"),
        start,
        end,
    )


def _track(p: Page) -> tuple[Any, ...]:
    return (
        p.notion_id,
        p.relation("program"),
        p.text("name", required=True),
        p.text("description"),
        p.number("display_order", -(2**31), 2**31 - 1, whole=True) or 0,
    )


def _module(p: Page) -> tuple[Any, ...]:
    return (
        p.notion_id,
        p.relation("track"),
        p.text("name", required=True),
        p.text("description"),
        p.number("week_order", 1, 2**31 - 1, whole=True),
        p.choice("status", MODULE_STATUSES, "not_started"),
    )


def block_text(blocks: Iterable[dict[str, Any]]) -> str:
    """The text of a page's blocks, a line per block, nested ones after their parent."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        payload = block.get(kind) if isinstance(kind, str) else None
        if isinstance(payload, dict) and "rich_text" in payload:
            text = _plain(payload["rich_text"]).strip()
            if text:
                lines.append(text)
        children = block.get("children") or []
        if children:
            nested = block_text(children)
            if nested:
                lines.append(nested)
    return "\n".join(lines)


def _atom(p: Page, staged: Staged) -> tuple[Any, ...]:
    front = p.text("front", required=True)
    back = p.text("back") or (block_text(staged.content) if staged.content else "") or None
    kind = p.text("type")
    if kind is None:
        atom_type = "cloze" if _CLOZE.search(f"{front} {back or ''}") else "flashcard"
    else:
        atom_type = p.choice("type", ATOM_TYPES, "flashcard") or "flashcard"
    return (
        p.notion_id,
        p.text("card_id"),
        atom_type,
        front,
        back,
        p.relation("concept"),
        p.relation("module"),
        p.text("deck"),
        staged.hash,
    )


_BUILDERS = {
    "concept_areas": ("areas", _area),
    "concept_clusters": ("clusters", _cluster),
    "concepts": ("concepts", _concept),
    "programs": ("programs", _program),
    "tracks": ("tracks", _track),
    "modules": ("modules", _module),
}


def title_of(staged: Staged, names: Mapping[str, str]) -> str:
    page = Page(staged.notion_id, staged.properties, names)
    try:
        return page.text("front" if "front" in names else "name") or ""
    except PageProblem:
        return ""


def transform(
    staged: Mapping[str, Iterable[Staged]], names: Mapping[str, Mapping[str, str]]
) -> Canonical:
    """Every staged page as its canonical row; a page that cannot be one is a failure."""
    out = Canonical()
    for entity, (target, build) in _BUILDERS.items():
        rows = getattr(out, target)
        for item in staged.get(entity, ()):
            try:
                rows.append(build(Page(item.notion_id, item.properties, names[entity])))
            except PageProblem as exc:
                out.failures.append(
                    Failure(entity, item.notion_id, title_of(item, names[entity]), str(exc))
                )
    built: list[tuple[Staged, tuple[Any, ...]]] = []
    for item in staged.get("flashcards", ()):
        try:
            built.append(
                (item, _atom(Page(item.notion_id, item.properties, names["flashcards"]), item))
            )
        except PageProblem as exc:
            out.failures.append(
                Failure("flashcards", item.notion_id, title_of(item, names["flashcards"]), str(exc))
            )
    # A CardID on two pages (Notion's "Duplicate" copies it): both fail, neither page's
    # atom changes, until one of them gets its own.
    pages_of: dict[str, list[str]] = {}
    for item, row in built:
        if row[1] is not None:
            pages_of.setdefault(row[1], []).append(item.notion_id)
    for item, row in built:
        shared = pages_of.get(row[1], []) if row[1] is not None else []
        if len(shared) > 1:
            others = ", ".join(sorted(p for p in shared if p != item.notion_id))
            out.failures.append(
                Failure(
                    "flashcards",
                    item.notion_id,
                    title_of(item, names["flashcards"]),
                    f"its CardID {row[1]!r} is also on page {others}; give each flashcard its own",
                )
            )
        else:
            out.atoms.append(row)
    return out
