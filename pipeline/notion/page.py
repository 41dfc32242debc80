"""A Module Library page (properties + body blocks) -> a module dict, as pure functions.

The body follows seed 001's content-page template (see `outline.py` for the parts and
where headings may be, `sections.py` for a section's lines, settings and forms):

    Metadata                       (optional "Key: Value" lines: Module ID, Category,
    - Estimated Time: 10 minutes    Estimated Time, Target Audience, ...; a property of
                                    the row wins over its line, and a disagreement is noted)
    Learning Objectives            (a heading, or a paragraph of just that text)
    1. Identify ...                (list items: the objectives)
    Section 1: Welcome             (a heading per section, or a toggle heading)
    Type: Interactive              (optional lines: Type, Component, Duration, Complete when)
    ```yaml                        (optional code block, any language that reads as name:
    instruction: ...                value lines: section_config)
    ```
    <image or video block>         (a video, image or interactive section's media_url;
                                    elsewhere, part of the text: see sections.py)
    <anything else>                (the section's Markdown content)

Links and mentions of other Module Library pages become `module:<module_id>` links;
links to other Notion pages are dropped (students cannot open them) and reported.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.config import NotionSettings
from pipeline.layout import is_module_id
from pipeline.notion.criteria import parse_duration
from pipeline.notion.markdown import (
    Block,
    FileResolver,
    PageLinks,
    Skipped,
    external_or_hosted_url,
    plain_text,
)
from pipeline.notion.outline import MetaLine, Outline, outline
from pipeline.notion.report import Origins, PageError, quoted
from pipeline.notion.sections import Kinds, convert_section

__all__ = [
    "Converted",
    "PageError",
    "convert_page",
    "module_id_of",
    "page_title",
    "parse_duration",
    "property_value",
]

# The page `pipeline notion template` makes, and the Module ID its Metadata list gives.
TEMPLATE_TITLE = "Module template"
TEMPLATE_MODULE_ID = "module-template"
_NOTION_ID = re.compile(r"([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})")
MODULE_LINK = "module:"


@dataclass
class Converted:
    module: dict[str, Any]
    skipped: list[Skipped] = field(default_factory=list)
    origins: Origins = field(default_factory=Origins)


# -- properties -----------------------------------------------------------------------------


def _people(value: Any) -> list[str]:
    return [
        person.get("person", {}).get("email") or person.get("name") or person["id"]
        for person in value or []
    ]


_READERS: dict[str, Callable[[Any], Any]] = {
    "title": lambda v: plain_text(v or []).strip() or None,
    "rich_text": lambda v: plain_text(v or []).strip() or None,
    "select": lambda v: v.get("name") if v else None,
    "status": lambda v: v.get("name") if v else None,
    "multi_select": lambda v: [option["name"] for option in v or []],
    "relation": lambda v: [item["id"] for item in v or []],
    "people": _people,
    "date": lambda v: v.get("start") if v else None,
}


def property_value(page: Mapping[str, Any], name: str) -> Any:
    """A page property as plain Python: text, number, names, ids, e-mails; None when empty."""
    prop = page.get("properties", {}).get(name)
    if not prop:
        return None
    kind = prop.get("type")
    reader = _READERS.get(str(kind), lambda v: v)  # number, url, checkbox, email, phone
    return reader(prop.get(kind))


def _text_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part for part in re.split(r"[,\s]+", str(value)) if part]


def page_title(page: Mapping[str, Any]) -> str:
    for prop in page.get("properties", {}).values():
        if prop.get("type") == "title":
            return plain_text(prop.get("title", [])).strip()
    return ""


def content_page_id(page: Mapping[str, Any], settings: NotionSettings) -> str | None:
    """The page the row's "Content Page" property names (a URL, a relation or a mention),
    as 32 hex digits; None when it names none."""
    prop = page.get("properties", {}).get(settings.properties["content_page"]) or {}
    kind = prop.get("type")
    value = prop.get(kind) if kind else None
    if not value:
        return None
    if kind == "relation":
        return str(value[0]["id"]).replace("-", "").lower()
    if kind in ("rich_text", "title"):
        for item in value:
            mention = item.get("mention") or {}
            if mention.get("type") == "page":
                return str(mention["page"]["id"]).replace("-", "").lower()
        value = item.get("href") or plain_text(value)
    match = _NOTION_ID.search(str(value).rsplit("/", 1)[-1].split("?")[0])
    return match[1].replace("-", "").lower() if match else None


# -- the Metadata list ------------------------------------------------------------------------

_META_FIELDS = {
    "module id": "module_id",
    "id": "module_id",
    "category": "category",
    "estimated time": "estimated_minutes",
    "estimated minutes": "estimated_minutes",
    "estimated duration": "estimated_minutes",
    "duration": "estimated_minutes",
    "time": "estimated_minutes",
    "length": "estimated_minutes",
    "target audience": "target_audience",
    "audience": "target_audience",
    "description": "description",
    "summary": "description",
    "tags": "tags",
    "keywords": "tags",
    "prerequisites": "prerequisites",
    "prerequisite": "prerequisites",
    "difficulty": "difficulty_level",
    "difficulty level": "difficulty_level",
}
_META_READ = (
    "Module ID, Category, Estimated Time, Target Audience, Description, Tags, "
    "Prerequisites and Difficulty"
)


def _meta_key(label: str) -> str | None:
    return _META_FIELDS.get(" ".join(re.findall(r"[a-z]+", label.lower())))


def _meta_lines(shape: Outline) -> dict[str, MetaLine]:
    found: dict[str, MetaLine] = {}
    for line in shape.metadata:
        key = _meta_key(line.label)
        if key is not None:
            found.setdefault(key, line)
        else:
            shape.notes.append(
                Skipped(
                    line.block_id,
                    "metadata",
                    f"the Metadata line {quoted(line.label + ': ' + line.value)} is not read: "
                    f"the pipeline reads {_META_READ}",
                    "Metadata",
                )
            )
    return found


def module_id_of(
    page: Mapping[str, Any], settings: NotionSettings, blocks: Sequence[Block] | None = None
) -> str:
    """The page's Module ID (its property, else the Metadata line), checked to be a slug
    (never a path like ../x)."""
    name = settings.properties["module_id"]
    value = property_value(page, name)
    where = f"the “{name}” property"
    if not value and blocks is not None:
        line = _meta_lines(outline(blocks, page_title(page))).get("module_id")
        if line is not None:
            value, where = (
                line.value.strip(),
                f"the Metadata line {quoted('Module ID: ' + line.value)}",
            )
    if not value:
        raise PageError(
            page["id"],
            f"the Module ID is empty: set the “{name}” property (or a line “Module ID: ...” "
            "under Metadata) to a short id of lowercase words joined by hyphens, like "
            "lab-safety-101",
            guide="module-id",
        )
    if not is_module_id(str(value)):
        raise PageError(
            page["id"],
            f"{name} {str(value)!r} (in {where}) is not a valid id: use lowercase letters, "
            f"digits and single hyphens, like {_suggested_id(str(value))}",
            guide="module-id",
        )
    if value == TEMPLATE_MODULE_ID and page_title(page) != TEMPLATE_TITLE:
        raise PageError(
            page["id"],
            f"the page still has the template's Module ID ({TEMPLATE_MODULE_ID}, in {where}): "
            f"give your module its own, like {_suggested_id(page_title(page))}",
            guide="module-id",
        )
    return str(value)


def _suggested_id(value: str) -> str:
    words = re.findall(r"[a-z0-9]+", value.lower())
    return "-".join(words)[:60] or "lab-safety-101"


def _audience(value: Any) -> str | None:
    """Seed 001's "Incoming Students" as its file's incoming_students."""
    if not value:
        return None
    words = re.findall(r"[a-z0-9]+", str(value).lower())
    return "_".join(words)[:100] or None


def _minutes(text: str, page_id: str, where: str) -> int:
    seconds = parse_duration(
        text if not re.fullmatch(r"\s*\d+(\.\d+)?\s*", text) else text + " min"
    )
    if seconds is None or seconds < 1:
        raise PageError(
            page_id,
            f"cannot read the time {quoted(text)}; write it like “Estimated Time: 10 minutes”",
            where=where,
            guide="the-page-layout",
        )
    return max(1, math.ceil(seconds / 60))


def _metadata(
    page: Mapping[str, Any],
    settings: NotionSettings,
    module_ids_by_page: Mapping[str, str],
    shape: Outline,
    blocks: Sequence[Block],
    origins: Origins,
) -> dict[str, Any]:
    props = settings.properties
    page_id = str(page["id"])
    lines = _meta_lines(shape)

    def chosen(key: str, prop_value: Any, line_value: Any, shown: Callable[[Any], str]) -> Any:
        """The property when it is set, else the Metadata line; a disagreement noted."""
        line = lines.get(key)
        prop_name = props.get(key, key)
        if prop_value not in (None, [], ""):
            origins.add(f"/{key}", f"the “{prop_name}” property")
            if line is not None and line_value not in (None, [], "") and line_value != prop_value:
                shape.notes.append(
                    Skipped(
                        line.block_id,
                        "metadata",
                        f"the Metadata line says {quoted(line.label + ': ' + line.value)} but the "
                        f"“{prop_name}” property says {quoted(shown(prop_value))}; the property "
                        "is used. Change one so they agree",
                        "Metadata",
                    )
                )
            return prop_value
        if line is not None:
            origins.add(f"/{key}", f"the Metadata line {quoted(line.label + ': ' + line.value)}")
            return line_value
        return None

    def get(key: str) -> Any:
        return property_value(page, props[key])

    def line_text(key: str) -> str | None:
        line = lines.get(key)
        return line.value.strip() if line is not None else None

    minutes = get("estimated_minutes")
    if minutes is not None and (not isinstance(minutes, int | float) or minutes < 1):
        raise PageError(
            page_id,
            f"{props['estimated_minutes']} must be a positive number of minutes",
            where=f"the “{props['estimated_minutes']}” property",
            guide="the-page-layout",
        )
    line_minutes = None
    if line_text("estimated_minutes"):
        meta = lines["estimated_minutes"]
        line_minutes = _minutes(
            meta.value, page_id, f"the Metadata line {quoted(meta.label + ': ' + meta.value)}"
        )
    estimated = chosen(
        "estimated_minutes",
        int(minutes) if minutes is not None else None,
        line_minutes,
        lambda v: f"{v} minutes",
    )
    university = get("university")
    university_id = None
    if university:
        university_id = settings.universities.get(university)
        if university_id is None:
            raise PageError(
                page_id,
                f"University {university!r} has no id; add it under notion.universities in "
                f"pipeline.yaml, e.g. `{university}: cpp`",
                kind="operator",
                guide="for-operators",
            )
    people = get("team_lead") or []
    created_by = next((settings.people[p] for p in people if p in settings.people), None)
    module_id = module_id_of(page, settings, blocks)
    chosen("module_id", property_value(page, props["module_id"]), line_text("module_id"), str)
    tags_line = line_text("tags")
    prerequisites_line = line_text("prerequisites")
    difficulty = _difficulty(lines.get("difficulty_level"), page_id)
    module: dict[str, Any] = {
        "module_id": module_id,
        "title": get("title") or page_title(page) or "Untitled",
        "description": chosen("description", get("description"), line_text("description"), str),
        "category": chosen("category", get("category"), line_text("category"), str),
        "estimated_minutes": estimated if estimated is not None else 10,
        "created_by_id": created_by,
        "university_id": university_id,
        "status": "ready",
        "prerequisites": chosen(
            "prerequisites",
            _prerequisites(page, get("prerequisites"), module_ids_by_page, props["prerequisites"]),
            sorted(set(_text_list(prerequisites_line))) if prerequisites_line else None,
            ", ".join,
        )
        or [],
        "related_modules": [],
        "tags": chosen(
            "tags",
            sorted(set(_text_list(get("tags")))),
            sorted({t.strip() for t in tags_line.split(",") if t.strip()}) if tags_line else None,
            ", ".join,
        )
        or [],
        "target_audience": chosen(
            "target_audience",
            _audience(get("target_audience")),
            _audience(line_text("target_audience")),
            str,
        )
        or "incoming_students",
    }
    if difficulty is not None:
        module["difficulty_level"] = difficulty
    return module


def _difficulty(line: MetaLine | None, page_id: str) -> int | None:
    if line is None:
        return None
    words = {"easy": 1, "beginner": 1, "medium": 3, "intermediate": 3, "hard": 5, "advanced": 5}
    value = line.value.strip().lower().split("/")[0].strip()
    if value in words:
        return words[value]
    if value.isdigit() and 1 <= int(value) <= 5:
        return int(value)
    raise PageError(
        page_id,
        f"the difficulty {quoted(line.value)} cannot be read; write a number from 1 (easy) to "
        "5 (hard), or easy, medium or hard",
        where=f"the Metadata line {quoted(line.label + ': ' + line.value)}",
        guide="the-page-layout",
    )


def _prerequisites(
    page: Mapping[str, Any], value: Any, module_ids_by_page: Mapping[str, str], name: str
) -> list[str]:
    prop = page.get("properties", {}).get(name) or {}
    if prop.get("type") != "relation":
        return sorted(set(_text_list(value)))
    found = []
    for page_id in value or []:
        module_id = _lookup(module_ids_by_page, page_id)
        if module_id is None:
            raise PageError(
                page["id"],
                f"{name} links to a page without a Module ID ({page_id}); give that page a "
                "Module ID (and export it) or remove the link",
                kind="cross",
                guide="links-to-other-modules",
            )
        found.append(module_id)
    return sorted(set(found))


def _lookup(module_ids_by_page: Mapping[str, str], page_id: str) -> str | None:
    if page_id in module_ids_by_page:
        return module_ids_by_page[page_id]
    plain = page_id.replace("-", "").lower()
    for key, module_id in module_ids_by_page.items():
        if key.replace("-", "").lower() == plain:
            return module_id
    return None


def _page_links(module_ids_by_page: Mapping[str, str], own: str) -> PageLinks:
    """Links to Module Library pages become module links; others are dropped (reported)."""
    by_id = {k.replace("-", "").lower(): v for k, v in module_ids_by_page.items()}
    own_id = own.replace("-", "").lower()

    def link(page_id: str) -> str | None:
        if page_id == own_id or page_id not in by_id:
            return None
        return MODULE_LINK + by_id[page_id]

    return link


# -- the page ---------------------------------------------------------------------------------


def _check_numbers(shape: Outline, page_id: str) -> None:
    for position, section in enumerate(shape.sections, 1):
        if section.number == position:
            continue
        before = shape.sections[position - 2].place if position > 1 else None
        said = (
            f"{section.place} comes right after {before}"
            if before
            else f"the first section is numbered {section.number}"
        )
        raise PageError(
            page_id,
            f"{said}: number the sections 1, 2, 3, … in the order they appear on the page, "
            "without gaps or repeats",
            guide="the-page-layout",
        )


def convert_page(
    page: Mapping[str, Any],
    blocks: Sequence[Block],
    settings: NotionSettings,
    *,
    resolve_file: FileResolver = external_or_hosted_url,
    module_ids_by_page: Mapping[str, str] | None = None,
    kinds: Kinds | None = None,
) -> Converted:
    """The module a Module Library page describes (without its `metadata` block)."""
    ids = module_ids_by_page or {}
    origins = Origins()
    shape = outline(blocks, page_title(page))
    module = _metadata(page, settings, ids, shape, blocks, origins)
    origins.add("/title", f"the “{settings.properties['title']}” property")
    if not shape.sections:
        raise PageError(
            page["id"],
            "the page has no sections: add a heading like “Section 1: Welcome” for each "
            "section (a toggle heading, or a heading inside a toggle or column, counts too)",
            guide="the-page-layout",
        )
    _check_numbers(shape, str(page["id"]))
    module["learning_objectives"] = [o for o in shape.objectives if o]
    origins.add("/learning_objectives", "Learning Objectives")
    module["notion_page_id"] = str(page["id"])
    source = property_value(page, settings.properties["content_source"])
    module["content_source"] = (
        re.sub(r"[^a-z0-9]+", "-", str(source).lower()).strip("-")[:50] if source else "notion"
    )
    skipped = list(shape.notes)
    links = _page_links(ids, str(page["id"]))
    kinds = kinds or _kinds()
    sections = []
    for index, section in enumerate(shape.sections):
        converted = convert_section(
            section, str(page["id"]), kinds, resolve_file=resolve_file, pages=links
        )
        for at, place in converted.places.items():
            origins.add(f"/sections/{index}{at}", place)
        origins.sections.append((section.number, section.title))
        skipped += converted.notes
        sections.append(converted.section)
    module["sections"] = sections
    return Converted(module, skipped, origins)


def _kinds() -> Kinds:
    from pipeline.modules.schema import component_names, default_component

    return Kinds(tuple(component_names()), default_component())
