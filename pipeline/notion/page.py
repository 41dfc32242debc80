"""A Module Library page (properties + body blocks) -> a module dict, as pure functions.

The body follows seed 001's content-page template:

    Learning Objectives            (a heading, or a paragraph of just that text)
    1. Identify ...                (list items: the objectives)
    Section 1: Welcome             (a heading per section)
    Type: Interactive              (optional paragraph; default text)
    Duration: 2 minutes            (optional paragraph)
    ```yaml                        (optional code block, YAML or JSON: section_config;
    instruction: ...                a completion_criteria key becomes the section's)
    ```
    <image or video block>         (the first one is the section's media_url)
    <anything else>                (the section's Markdown content)

Anything before the first section other than the objectives (a Metadata
list, the "Sections" label) and an "Export Notes" part are not content.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from pipeline.config import NotionSettings
from pipeline.errors import ContentError
from pipeline.notion.markdown import (
    Block,
    FileResolver,
    Skipped,
    external_or_hosted_url,
    plain_text,
    to_markdown,
)

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_SECTION = re.compile(r"^\s*section\s+(\d+)\s*[:.\-\u2013\u2014]\s*(.+?)\s*$", re.IGNORECASE)
_TYPE_LINE = re.compile(r"^\s*type\s*:\s*(.+?)\s*$", re.IGNORECASE)
_DURATION_LINE = re.compile(r"^\s*duration\s*:\s*(.+?)\s*$", re.IGNORECASE)
_DURATION = re.compile(
    r"^(?:(?P<clock>\d+):(?P<secs>[0-5]\d)|(?P<n>\d+(?:\.\d+)?)\s*"
    r"(?P<unit>s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)?)$",
    re.IGNORECASE,
)
_MARKERS = {
    "learning objectives": "objectives",
    "sections": "sections",
    "metadata": "skip",
    "export notes": "stop",
}
_TEXT_BLOCKS = ("paragraph", "heading_1", "heading_2", "heading_3")
_LIST_ITEMS = ("numbered_list_item", "bulleted_list_item", "to_do")
_SECTION_MEDIA = ("image", "video")


class PageError(ContentError):
    """A page that cannot become a module file; the message is for the team lead."""

    def __init__(self, page_id: str, message: str) -> None:
        super().__init__(message)
        self.page_id = page_id


@dataclass
class Converted:
    module: dict[str, Any]
    skipped: list[Skipped] = field(default_factory=list)


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


def module_id_of(page: Mapping[str, Any], settings: NotionSettings) -> str:
    """The page's Module ID, checked to be a slug (never a path like ../x)."""
    value = property_value(page, settings.properties["module_id"])
    name = settings.properties["module_id"]
    if not value:
        raise PageError(
            page["id"], f"the {name!r} property is empty; set it to a short id like lab-safety-101"
        )
    if not SLUG.match(str(value)) or len(str(value)) > 100:
        raise PageError(
            page["id"],
            f"{name} {str(value)!r} is not a valid id: use lowercase "
            "letters, digits and single hyphens, like lab-safety-101",
        )
    return str(value)


def _metadata(
    page: Mapping[str, Any], settings: NotionSettings, module_ids_by_page: Mapping[str, str]
) -> dict[str, Any]:
    props = settings.properties

    def get(key: str) -> Any:
        return property_value(page, props[key])

    minutes = get("estimated_minutes")
    if minutes is not None and (not isinstance(minutes, int | float) or minutes < 1):
        raise PageError(
            page["id"], f"{props['estimated_minutes']} must be a positive number of minutes"
        )
    university = get("university")
    university_id = None
    if university:
        university_id = settings.universities.get(university)
        if university_id is None:
            raise PageError(
                page["id"],
                f"University {university!r} has no id; add it under "
                "notion.universities in pipeline.yaml",
            )
    people = get("team_lead") or []
    created_by = next((settings.people[p] for p in people if p in settings.people), None)
    return {
        "module_id": module_id_of(page, settings),
        "title": get("title") or page_title(page) or "Untitled",
        "description": get("description"),
        "category": get("category"),
        "estimated_minutes": int(minutes) if minutes is not None else 10,
        "created_by_id": created_by,
        "university_id": university_id,
        "status": "ready",
        "prerequisites": _prerequisites(
            page, get("prerequisites"), module_ids_by_page, props["prerequisites"]
        ),
        "related_modules": [],
        "tags": sorted(set(_text_list(get("tags")))),
        "target_audience": get("target_audience") or "incoming_students",
    }


def _prerequisites(
    page: Mapping[str, Any], value: Any, module_ids_by_page: Mapping[str, str], name: str
) -> list[str]:
    prop = page.get("properties", {}).get(name) or {}
    if prop.get("type") != "relation":
        return sorted(set(_text_list(value)))
    found = []
    for page_id in value or []:
        if page_id not in module_ids_by_page:
            raise PageError(
                page["id"],
                f"{name} links to a page without a Module ID "
                f"({page_id}); give that page a Module ID or remove the link",
            )
        found.append(module_ids_by_page[page_id])
    return sorted(set(found))


# -- body -----------------------------------------------------------------------------------


@dataclass
class _Section:
    number: int
    title: str
    heading_id: str
    blocks: list[Block] = field(default_factory=list)


def _text(block: Block) -> str:
    payload = block.get(block.get("type", ""), {}) or {}
    return plain_text(payload.get("rich_text", []))


def _split(blocks: Sequence[Block]) -> tuple[list[str], list[_Section]]:
    objectives: list[str] = []
    sections: list[_Section] = []
    mode = "preamble"
    for block in blocks:
        kind = block.get("type")
        text = _text(block).strip() if kind in _TEXT_BLOCKS else ""
        match = _SECTION.match(text) if kind and kind.startswith("heading") else None
        marker = _MARKERS.get(text.rstrip(":").strip().lower()) if text else None
        if match:
            sections.append(_Section(int(match[1]), match[2], block["id"]))
            mode = "section"
        elif marker:
            mode = marker
        elif mode == "objectives" and kind in _LIST_ITEMS:
            objectives.append(_text(block).strip())
        elif mode == "section":
            sections[-1].blocks.append(block)
    return [o for o in objectives if o], sections


def parse_duration(text: str) -> int | None:
    """Seconds in '2 minutes', '90 seconds', '1:30', '1.5 min', '45' (seconds); None if not."""
    match = _DURATION.match(text.strip())
    if match is None:
        return None
    if match["clock"]:
        return int(match["clock"]) * 60 + int(match["secs"])
    unit = (match["unit"] or "s").lower()
    factor = 3600 if unit.startswith("h") else 60 if unit.startswith("m") else 1
    return round(float(match["n"]) * factor)


def _config(block: Block, page_id: str, where: str) -> dict[str, Any]:
    payload = block["code"]
    source = plain_text(payload.get("rich_text", []))
    try:
        data = json.loads(source) if payload.get("language") == "json" else yaml.safe_load(source)
    except (ValueError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise PageError(
            page_id,
            f"{where}: the settings code block is not valid "
            f"{payload.get('language', 'YAML').upper()} ({first})",
        ) from None
    if not isinstance(data, dict):
        raise PageError(
            page_id, f"{where}: the settings code block must be a mapping of names to values"
        )
    return data


def _section(
    section: _Section, page_id: str, resolve_file: FileResolver, skipped: list[Skipped]
) -> dict[str, Any]:
    where = f"Section {section.number} ({section.title})"
    kind, duration, config, media, media_block = "text", None, None, None, None
    rest: list[Block] = []
    for block in section.blocks:
        text = _text(block).strip() if block.get("type") == "paragraph" else ""
        type_match, duration_match = _TYPE_LINE.match(text), _DURATION_LINE.match(text)
        if type_match and not rest:
            kind = re.sub(r"[\s-]+", "_", type_match[1].strip().lower())
        elif duration_match and not rest and duration is None:
            duration = parse_duration(duration_match[1])
            if duration is None:
                raise PageError(
                    page_id,
                    f"{where}: cannot read the duration "
                    f"{duration_match[1]!r}; write e.g. '2 minutes' or '90 seconds'",
                )
        elif (
            block.get("type") == "code"
            and config is None
            and block["code"].get("language") in ("yaml", "json")
        ):
            config = _config(block, page_id, where)
        elif block.get("type") in _SECTION_MEDIA and media is None:
            media, media_block = resolve_file(block), block
        else:
            rest.append(block)
    rendered = to_markdown(rest, resolve_file)
    skipped += rendered.skipped
    result: dict[str, Any] = {
        "section_number": section.number,
        "section_type": kind,
        "title": section.title,
        "content": rendered.markdown.rstrip("\n"),
        "media_url": media,
        "duration_seconds": duration,
    }
    config = dict(config or {})
    criteria = config.pop("completion_criteria", None)
    if kind == "image" and media_block is not None and "alt_text" not in config:
        caption = plain_text(media_block["image"].get("caption", [])).strip()
        config["alt_text"] = caption or section.title
    if config or kind not in ("text", "video"):
        result["section_config"] = config
    if criteria is not None:
        result["completion_criteria"] = criteria
    return result


def convert_page(
    page: Mapping[str, Any],
    blocks: Sequence[Block],
    settings: NotionSettings,
    *,
    resolve_file: FileResolver = external_or_hosted_url,
    module_ids_by_page: Mapping[str, str] | None = None,
) -> Converted:
    """The module a Module Library page describes (without its `metadata` block)."""
    module = _metadata(page, settings, module_ids_by_page or {})
    objectives, sections = _split(blocks)
    if not sections:
        raise PageError(
            page["id"],
            "the page has no sections: add a heading like 'Section 1: Welcome' for each section",
        )
    skipped: list[Skipped] = []
    module["learning_objectives"] = objectives
    module["notion_page_id"] = str(page["id"])
    source = property_value(page, settings.properties["content_source"])
    module["content_source"] = (
        re.sub(r"[^a-z0-9]+", "-", str(source).lower()).strip("-")[:50] if source else "notion"
    )
    module["sections"] = [_section(s, page["id"], resolve_file, skipped) for s in sections]
    return Converted(module, skipped)
