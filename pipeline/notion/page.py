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
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
        data = read_settings(source, "json" if payload.get("language") == "json" else "yaml")
    except SettingsRefused as exc:
        raise PageError(page_id, f"{where}: the settings code block {exc}") from None
    if not isinstance(data, dict):
        raise PageError(
            page_id, f"{where}: the settings code block must be a mapping of names to values"
        )
    return data


# -- settings code blocks -------------------------------------------------------------------
#
# A settings block becomes JSON in the module file, so it may hold JSON values only: text,
# whole numbers within 64 bits, finite numbers, true/false, null, lists and mappings with
# text keys. YAML is read as YAML 1.2 (`No` stays the word) from ruamel.yaml's parse
# events, so an alias is refused before anything is built: no "billion laughs", no
# self-referring value. Values are built here, without recursion, to a bounded depth.

SETTINGS_MAX_DEPTH = 32
SETTINGS_MAX_BYTES = 64 * 1024
_INT64 = (-(2**63), 2**63 - 1)
_CORE = "tag:yaml.org,2002:"
_WHAT_SETTINGS_HOLD = "settings hold only text, numbers, true/false, null, lists and mappings"


class SettingsRefused(ValueError):
    """A settings block that cannot be read; the message continues "the settings code
    block ..." and says what to change."""


def read_settings(source: str, language: str) -> Any:
    """The value of a settings code block written in `language` ("yaml" or "json")."""
    size = len(source.encode("utf-8"))
    if size > SETTINGS_MAX_BYTES:
        raise SettingsRefused(
            f"is {round(size / 1024)} KiB; settings may be at most "
            f"{SETTINGS_MAX_BYTES // 1024} KiB. Move long text into the section's content"
        )
    return _json_settings(source) if language == "json" else _yaml_settings(source)


def _too_deep(line: int | None = None) -> SettingsRefused:
    at = f" (line {line})" if line else ""
    return SettingsRefused(
        f"is nested more than {SETTINGS_MAX_DEPTH} levels deep{at}; flatten the settings"
    )


def _checked_int(number: int, text: str, line: int | None = None) -> int:
    if not _INT64[0] <= number <= _INT64[1]:
        at = f" (line {line})" if line else ""
        raise SettingsRefused(
            f"has the number {text[:30]}{'…' if len(text) > 30 else ''}{at}, which is too "
            f"large: whole numbers must lie between {_INT64[0]} and {_INT64[1]}. Put it in "
            "quotes to keep it as text"
        )
    return number


def _json_settings(source: str) -> Any:
    """JSON through orjson first (it stops at a fixed depth instead of recursing without
    end), then, once the depth is known to be small, the standard parser for exact whole
    numbers and duplicate names."""
    import json

    import orjson

    try:
        shape = orjson.loads(source)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc).lower():
            raise _too_deep() from None
        raise SettingsRefused(f"is not valid JSON ({exc})") from None
    stack: list[tuple[Any, int]] = [(shape, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > SETTINGS_MAX_DEPTH:
                raise _too_deep()
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, value in pairs:
            if key in found:
                raise SettingsRefused(f"names {key!r} twice; keep one")
            found[key] = value
        return found

    return json.loads(
        source, object_pairs_hook=unique, parse_int=lambda text: _checked_int(int(text), text)
    )


def _yaml_settings(source: str) -> Any:
    from ruamel.yaml import YAML, events
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    builder = _YAMLBuilder()
    try:
        for event in YAML(typ="safe", pure=True).parse(source):
            line = event.start_mark.line + 1 if event.start_mark else 0
            builder.refuse_anchors(event, line)
            if isinstance(event, events.DocumentStartEvent):
                builder.document(line)
            elif isinstance(event, events.ScalarEvent):
                builder.add(_yaml_scalar(event, line), line)
            elif isinstance(event, events.CollectionStartEvent):
                builder.start(event, line)
            elif isinstance(event, events.CollectionEndEvent):
                builder.add(builder.stack.pop()[0], line)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f", line {mark.line + 1}" if mark else ""
        raise SettingsRefused(
            f"is not valid YAML ({exc.problem or exc.context or 'unreadable'}{at})"
        ) from None
    except YAMLError as exc:
        first = (str(exc).strip().splitlines() or ["unreadable"])[0]
        raise SettingsRefused(f"is not valid YAML ({first})") from None
    return builder.root[0] if builder.root else None


_NO_KEY: Any = object()


class _YAMLBuilder:
    """JSON values from parse events, without recursion and to a bounded depth."""

    def __init__(self) -> None:
        # Each open collection: [the list or dict, the key waiting for its value (dicts)].
        self.stack: list[list[Any]] = []
        self.root: list[Any] = []
        self.documents = 0

    def refuse_anchors(self, event: Any, line: int) -> None:
        from ruamel.yaml.events import AliasEvent

        also = "aliases and anchors (*name, &name) are not allowed in settings"
        if isinstance(event, AliasEvent):
            raise SettingsRefused(
                f"uses the alias *{event.anchor} (line {line}); {also}: write the value out in full"
            )
        if getattr(event, "anchor", None):
            raise SettingsRefused(
                f"uses the anchor &{event.anchor} (line {line}); {also}: remove it and "
                "write every value out in full"
            )

    def document(self, line: int) -> None:
        self.documents += 1
        if self.documents > 1:
            raise SettingsRefused(
                f"holds more than one YAML document ('---', line {line}); keep one"
            )

    def awaits_key(self) -> bool:
        return (
            bool(self.stack)
            and isinstance(self.stack[-1][0], dict)
            and (self.stack[-1][1] is _NO_KEY)
        )

    def start(self, event: Any, line: int) -> None:
        from ruamel.yaml.events import MappingStartEvent

        is_map = isinstance(event, MappingStartEvent)
        if event.tag not in (None, "!", _CORE + ("map" if is_map else "seq")):
            raise _tag_refused(str(event.tag), line)
        if self.awaits_key():
            raise SettingsRefused(
                f"uses a list or mapping as a key (line {line}); keys must be text"
            )
        if len(self.stack) >= SETTINGS_MAX_DEPTH:
            raise _too_deep(line)
        self.stack.append([{} if is_map else [], _NO_KEY])

    def add(self, value: Any, line: int) -> None:
        if not self.stack:
            self.root.append(value)
            return
        top = self.stack[-1]
        container, key = top
        if isinstance(container, list):
            container.append(value)
        elif key is not _NO_KEY:
            container[key] = value
            top[1] = _NO_KEY
        elif not isinstance(value, str):
            shown = _shown(value)
            raise SettingsRefused(
                f"has the key {shown} (line {line}), which is not text; put it in quotes, "
                f'like "{shown}"'
            )
        elif value in container:
            raise SettingsRefused(f"names {value!r} twice (line {line}); keep one")
        else:
            top[1] = value


def _shown(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)


def _tag_refused(tag: str, line: int) -> SettingsRefused:
    shown = "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
    return SettingsRefused(
        f"uses the YAML tag {shown} (line {line}); {_WHAT_SETTINGS_HOLD}. Remove the tag"
    )


_RESOLVER: Any = None


def _yaml_scalar(event: Any, line: int) -> Any:
    """A YAML 1.2 scalar as a JSON value; a date stays the text written."""
    global _RESOLVER  # noqa: PLW0603 - built once, on first use (ruamel loads lazily)
    value: str = event.value
    tag = event.tag
    if tag in (None, "!"):
        if tag == "!" or not event.implicit[0]:  # quoted, or a block of text
            return value
        if _RESOLVER is None:
            from ruamel.yaml.resolver import VersionedResolver

            _RESOLVER = VersionedResolver(version=(1, 2))
        from ruamel.yaml.nodes import ScalarNode

        tag = str(_RESOLVER.resolve(ScalarNode, value, (True, False)))
    kind = tag.removeprefix(_CORE) if tag.startswith(_CORE) else None
    if kind == "str" or (kind == "timestamp" and event.tag is None):
        return value
    if kind == "null" and value in ("", "~", "null", "Null", "NULL"):
        return None
    if kind == "bool" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind == "int":
        return _yaml_int(value, line)
    if kind == "float":
        return _yaml_float(value, line)
    raise _tag_refused(tag, line)


def _yaml_int(value: str, line: int) -> int:
    text = value.replace("_", "")
    digits = text.lstrip("+-")
    base = {"0x": 16, "0o": 8, "0b": 2}.get(digits[:2].lower(), 10)
    if len(digits) > 80 and digits.isdigit():  # no need to read it to know it is too large
        return _checked_int(_INT64[1] + 1, value, line)
    try:
        number = int(digits if base == 10 else digits[2:], base)
    except ValueError:
        raise SettingsRefused(f"has {value!r} (line {line}), which is not a whole number") from None
    return _checked_int(-number if text.startswith("-") else number, value, line)


def _yaml_float(value: str, line: int) -> float:
    try:
        number = float(value.replace("_", ""))
    except ValueError:
        number = math.inf
    if not math.isfinite(number):
        raise SettingsRefused(
            f"has {value!r} (line {line}), which is not a finite number; write a number "
            "like 0.5 or 1e6"
        )
    return number


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
