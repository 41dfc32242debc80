"""One section of a content page -> one section of the module file.

Among the section's first paragraphs, wherever they are in that run, lines such as

    Type: Interactive        (the section type, matched loosely: "Multiple choice" is quiz;
                              a component's name, "Drag and drop", is interactive with it)
    Component: Drag and drop (the interactive component, for a "Type: Interactive")
    Duration: 2 minutes
    Complete when: 5 hotspots clicked

are read and left out of the text. Then: the settings code block (YAML 1.2 or JSON, in
any language Notion offers, Plain text included, when it reads as name: value lines),
the section's media (the first video of a video section, the first picture of an image
section, the first picture or video of an interactive one), the forms of typed sections
(`forms.py`), and everything else becomes the section's Markdown.

Captions go with their media: an image section's is its alt_text (its caption, when
the settings block gives the alt_text); a video's or an interactive section's picture's
stays in the text, where the media was. In every other section (text, quiz, ...)
pictures and videos are part of the text: they stay where they are, and a picture's
caption is written under it.

Where each value came from is kept (`report.Origins`), so a problem found later in the
module file names the line of the settings block, the to-do or the table row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.notion import criteria, forms
from pipeline.notion.markdown import (
    Block,
    FileResolver,
    PageLinks,
    Skipped,
    plain_text,
    plain_text_loss,
    to_markdown,
)
from pipeline.notion.outline import Section
from pipeline.notion.report import PageError, quoted
from pipeline.notion.settings_block import Settings, SettingsRefused, read_settings

SECTION_TYPES = (
    "text",
    "video",
    "image",
    "checklist",
    "interactive",
    "quiz",
    "sandbox",
    "game",
    "guided_struggle",
)
# How team leads name section types, as `_words` writes them.
_TYPE_NAMES = {
    "text": "text",
    "reading": "text",
    "read": "text",
    "article": "text",
    "lesson": "text",
    "content": "text",
    "video": "video",
    "movie": "video",
    "clip": "video",
    "film": "video",
    "image": "image",
    "picture": "image",
    "photo": "image",
    "diagram": "image",
    "illustration": "image",
    "checklist": "checklist",
    "check list": "checklist",
    "to do list": "checklist",
    "todo list": "checklist",
    "to dos": "checklist",
    "task list": "checklist",
    "interactive": "interactive",
    "interaction": "interactive",
    "interactive exercise": "interactive",
    "quiz": "quiz",
    "multiple choice": "quiz",
    "mcq": "quiz",
    "test": "quiz",
    "knowledge check": "quiz",
    "questions": "quiz",
    "question": "quiz",
    "assessment": "quiz",
    "sandbox": "sandbox",
    "code": "sandbox",
    "coding": "sandbox",
    "code sandbox": "sandbox",
    "coding exercise": "sandbox",
    "game": "game",
    "mini game": "game",
    "guided struggle": "guided_struggle",
    "struggle": "guided_struggle",
    "guided problem": "guided_struggle",
}
# Names of components, beyond their file names, that team leads use.
_COMPONENT_NAMES = {"hotspots": "image_hotspots", "hotspot": "image_hotspots"}
_DIRECTIVE = re.compile(
    r"^\s*(?P<key>type|section type|duration|component|interactive component|"
    r"complete when|completion|complete after|done when)\s*:\s*(?P<value>.+?)\s*$",
    re.IGNORECASE,
)
_KEYS = {
    "type": "type",
    "section type": "type",
    "duration": "duration",
    "component": "component",
    "interactive component": "component",
    "complete when": "complete",
    "completion": "complete",
    "complete after": "complete",
    "done when": "complete",
}
_SETTINGS_LANGUAGES = ("yaml", "json")
# The sections whose media is the section's own (media_url), and the blocks it may be.
_MEDIA = {"video": ("video",), "image": ("image",), "interactive": ("image", "video")}


def _words(text: str) -> str:
    """A name as compared: lowercase words, "&" and "and" dropped, separators as spaces."""
    text = text.lower().replace("&", " ").replace("-", " ").replace("_", " ")
    return " ".join(w for w in re.findall(r"[a-z0-9]+", text) if w != "and")


def display_type(kind: str) -> str:
    return kind.replace("_", " ").capitalize()


@dataclass
class Kinds:
    """The interactive components validate knows, and the one a section gets by default."""

    components: tuple[str, ...] = ()
    default: str = "image_hotspots"

    def component(self, name: str) -> str | None:
        words = _words(name)
        if words in _COMPONENT_NAMES:
            return _COMPONENT_NAMES[words]
        return next((c for c in self.components if _words(c) == words), None)


def section_type(text: str, kinds: Kinds) -> tuple[str, str | None] | None:
    """(section type, component) a "Type:" line names, or None when it names none."""
    words = _words(text)
    if words.endswith(" section"):
        words = words.removesuffix(" section")
    if words in _TYPE_NAMES:
        return _TYPE_NAMES[words], None
    component = kinds.component(words)
    if component is not None:
        return "interactive", component
    return None


def _unknown_type(value: str, kinds: Kinds) -> str:
    import difflib

    names = sorted({*_TYPE_NAMES, *(_words(c) for c in kinds.components)})
    close = difflib.get_close_matches(_words(value), names, n=1, cutoff=0.6)
    hint = ""
    if close:
        kind = _TYPE_NAMES.get(close[0]) or "interactive"
        hint = f" (did you mean {display_type(kind) if close[0] in _TYPE_NAMES else close[0]}?)"
    listed = ", ".join(display_type(k) for k in SECTION_TYPES)
    return (
        f"“{value}” is not a section type{hint}. The section types are: {listed}; "
        "write it like “Type: Quiz”"
    )


# -- the leading lines ------------------------------------------------------------------------


@dataclass
class _Directive:
    value: str
    line: str  # as written, for messages: "Type: Vidoe"


def _lines(items: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """Rich text split at its line breaks, each line a list of rich text items."""
    lines: list[list[Mapping[str, Any]]] = [[]]
    for item in items:
        text = str(item.get("plain_text", ""))
        if item.get("type") != "text" or "\n" not in text:
            lines[-1].append(item)
            continue
        for index, part in enumerate(text.split("\n")):
            if index:
                lines.append([])
            if part:
                piece = dict(item, plain_text=part)
                piece["text"] = {**(item.get("text") or {}), "content": part}
                lines[-1].append(piece)
    return lines


def _directives(
    blocks: Sequence[Block], place: str, page_id: str
) -> tuple[dict[str, _Directive], list[Block]]:
    """The Type/Duration/Complete when lines of the section's leading paragraphs (and any
    paragraph that is just a "Complete when" line), and the blocks without them."""
    found: dict[str, _Directive] = {}
    kept: list[Block] = []
    index = 0
    while index < len(blocks) and blocks[index].get("type") == "paragraph":
        if blocks[index].get("children"):
            break
        left = _take_lines(blocks[index], found, place, page_id)
        if left is not None:
            kept.append(left)
        index += 1
    for block in blocks[index:]:
        text = _paragraph_text(block)
        match = _DIRECTIVE.match(text) if text else None
        if match and _KEYS[" ".join(match["key"].lower().split())] == "complete":
            _note(found, "complete", _Directive(match["value"], text), place, page_id)
        else:
            kept.append(block)
    return found, kept


def _note(
    found: dict[str, _Directive], key: str, line: _Directive, place: str, page_id: str
) -> None:
    if key in found:
        raise PageError(
            page_id,
            f"it has two lines for the same thing ({quoted(found[key].line)} and "
            f"{quoted(line.line)}); keep one",
            where=place,
            guide="the-page-layout",
        )
    found[key] = line


def _take_lines(
    block: Block, found: dict[str, _Directive], place: str, page_id: str
) -> Block | None:
    """A leading paragraph without its directive lines (None: nothing is left of it)."""
    lines = _lines(block["paragraph"].get("rich_text") or [])
    rest: list[list[Mapping[str, Any]]] = []
    for line in lines:
        text = plain_text(list(line)).strip()
        match = _DIRECTIVE.match(text)
        if match is None:
            rest.append(line)
        else:
            key = _KEYS[" ".join(match["key"].lower().split())]
            _note(found, key, _Directive(match["value"], text), place, page_id)
    if len(rest) == len(lines):
        return block
    text_left = [line for line in rest if plain_text(list(line)).strip()]
    if not text_left:
        return None
    joined: list[Mapping[str, Any]] = []
    for number, line in enumerate(text_left):
        if number:
            joined.append(_newline())
        joined.extend(line)
    return {**block, "paragraph": {**block["paragraph"], "rich_text": joined}}


def _paragraph_text(block: Block) -> str:
    if block.get("type") != "paragraph" or block.get("children"):
        return ""
    text = plain_text(block["paragraph"].get("rich_text") or []).strip()
    return "" if "\n" in text else text


def _newline() -> dict[str, Any]:
    return {
        "type": "text",
        "text": {"content": "\n", "link": None},
        "annotations": {},
        "plain_text": "\n",
        "href": None,
    }


# -- one section ------------------------------------------------------------------------------


@dataclass
class Converted:
    section: dict[str, Any]
    places: dict[str, str] = field(default_factory=dict)  # pointer in the section -> place
    notes: list[Skipped] = field(default_factory=list)


@dataclass
class _State:
    section: Section
    page_id: str
    kinds: Kinds
    places: dict[str, str] = field(default_factory=dict)
    notes: list[Skipped] = field(default_factory=list)

    @property
    def place(self) -> str:
        return self.section.place

    def fail(self, message: str, *, where: str = "", guide: str = "") -> PageError:
        place = f"{self.place}, {where}" if where else self.place
        return PageError(self.page_id, message, where=place, guide=guide)


def convert_section(
    section: Section,
    page_id: str,
    kinds: Kinds,
    *,
    resolve_file: FileResolver,
    pages: PageLinks | None = None,
) -> Converted:
    try:
        return _convert(section, page_id, kinds, resolve_file, pages)
    except PageError as exc:  # a file that cannot be downloaded names its block only
        raise exc.at(section.place) from None


def _convert(
    section: Section,
    page_id: str,
    kinds: Kinds,
    resolve_file: FileResolver,
    pages: PageLinks | None,
) -> Converted:
    state = _State(section, page_id, kinds)
    place = section.place
    state.places[""] = place
    state.places["/title"] = f"{place}, its heading"
    directives, blocks = _directives(section.blocks, place, page_id)
    kind, component = _kind(directives, state)
    duration = _duration(directives.get("duration"), state)
    settings, rest, media, media_block, unread = _settings_and_media(
        blocks, kind, state, resolve_file
    )
    config: dict[str, Any] = dict(settings.value) if settings is not None else {}
    if settings is not None:
        state.places["/section_config"] = f"{place}, settings block"
        for at, line in settings.lines.items():
            if at:
                state.places[f"/section_config{at}"] = f"{place}, settings block line {line}"
    criteria_setting = config.pop("completion_criteria", None)
    rest = _typed(kind, component, config, rest, state)
    if kind in _NEEDS_SETTINGS and not config and unread is not None:
        raise unread
    section_criteria = _criteria(
        criteria_setting,
        settings.line_of("/completion_criteria") if settings is not None else None,
        directives.get("complete"),
        kind,
        config,
        state,
    )

    rendered = to_markdown(rest, resolve_file, pages)
    state.notes += [replace(s, where=s.where or place) for s in rendered.skipped]
    result: dict[str, Any] = {
        "section_number": section.number,
        "section_type": kind,
        "title": section.title,
        "content": rendered.markdown.rstrip("\n"),
        "media_url": media,
        "duration_seconds": duration,
    }
    state.places["/content"] = f"{place}, its text"
    if media_block is not None:
        state.places["/media_url"] = f"{place}, the {media_block['type']} block {media_block['id']}"
    if kind == "image" and media_block is not None:
        _image_caption(media_block, config, state)
    if config or kind not in ("text", "video"):
        result["section_config"] = config
    if section_criteria is not None:
        result["completion_criteria"] = section_criteria
    return Converted(result, state.places, state.notes)


_NEEDS_SETTINGS = ("checklist", "interactive", "quiz", "sandbox", "game", "guided_struggle")


def _kind(directives: Mapping[str, _Directive], state: _State) -> tuple[str, str | None]:
    """(section type, component) from the Type and Component lines; text by default."""
    kind, component = "text", None
    line = directives.get("type")
    if line is not None:
        found = section_type(line.value, state.kinds)
        if found is None:
            raise state.fail(
                _unknown_type(line.value, state.kinds),
                where=f"the line {quoted(line.line)}",
                guide="section-types",
            )
        kind, component = found
        state.places["/section_type"] = f"{state.place}, the line {quoted(line.line)}"
    if "component" in directives:
        component = _component(directives["component"], state, kind)
    return kind, component


def _duration(line: _Directive | None, state: _State) -> int | None:
    if line is None:
        return None
    duration = criteria.parse_duration(line.value)
    if duration is None:
        raise state.fail(
            f"cannot read the duration {quoted(line.value)}; write e.g. “Duration: 2 minutes” "
            "or “Duration: 90 seconds”",
            where=f"the line {quoted(line.line)}",
            guide="the-page-layout",
        )
    state.places["/duration_seconds"] = f"{state.place}, the line {quoted(line.line)}"
    return duration


def _component(directive: _Directive, state: _State, kind: str) -> str:
    component = state.kinds.component(directive.value)
    if component is None:
        raise state.fail(
            _unknown_component(directive.value, state.kinds),
            where=f"the line {quoted(directive.line)}",
            guide="interactive-sections",
        )
    if kind != "interactive":
        raise state.fail(
            f"a component is for interactive sections, and this is a {display_type(kind)} "
            "section; write “Type: Interactive” or remove the line",
            where=f"the line {quoted(directive.line)}",
            guide="interactive-sections",
        )
    return component


def _unknown_component(value: str, kinds: Kinds) -> str:
    import difflib

    names = [c.replace("_", " ") for c in kinds.components]
    close = difflib.get_close_matches(_words(value), [_words(c) for c in kinds.components], n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return (
        f"“{value}” is not an interactive component the LMS knows{hint}; the components "
        f"are: {', '.join(names)}. A new kind is added by the pipeline's developers (a "
        "schema in schemas/components/)"
    )


def _settings_and_media(
    blocks: Sequence[Block], kind: str, state: _State, resolve_file: FileResolver
) -> tuple[Settings | None, list[Block], str | None, Block | None, PageError | None]:
    """The settings block, the media, the other blocks; and, for a section that needs
    settings, why a code block that may have been meant as them could not be read."""
    settings: Settings | None = None
    media: str | None = None
    media_block: Block | None = None
    unread: PageError | None = None
    rest: list[Block] = []
    for block in blocks:
        kind_of_block = block.get("type")
        if kind_of_block == "code" and settings is None:
            payload = block["code"]
            language = str(payload.get("language") or "plain text").lower()
            source = plain_text(payload.get("rich_text", []))
            if language in _SETTINGS_LANGUAGES:
                settings = _read(source, language, state)
                continue
            if kind != "text":
                try:
                    candidate = read_settings(source, language)
                except SettingsRefused as exc:
                    unread = unread or _refused(exc, state)
                else:
                    if isinstance(candidate.value, dict) and candidate.value:
                        settings = candidate
                        continue
            rest.append(block)
        elif kind_of_block in _MEDIA.get(kind, ()) and media is None:
            media, media_block = resolve_file(block), block
            caption = _caption(block)
            if caption is not None and kind != "image":
                rest.append(caption)
        else:
            rest.append(block)
    return settings, rest, media, media_block, unread


def _caption(block: Block) -> Block | None:
    """A media block's caption as a paragraph of its own, in italics (None: it has none)."""
    items = (block.get(str(block.get("type"))) or {}).get("caption") or []
    if not plain_text(items).strip():
        return None
    italic = [{**i, "annotations": {**(i.get("annotations") or {}), "italic": True}} for i in items]
    return {
        "object": "block",
        "id": block.get("id"),
        "type": "paragraph",
        "paragraph": {"rich_text": italic, "color": "default"},
        "has_children": False,
        "children": [],
    }


def _image_caption(block: Block, config: dict[str, Any], state: _State) -> None:
    """An image section's caption: its alt_text, or its caption when the settings block
    gives the alt_text; listed when the settings give both, or when a link or formatting
    cannot be kept (both are plain text)."""
    items = block["image"].get("caption") or []
    caption = plain_text(items).strip()
    if not caption:
        config.setdefault("alt_text", state.section.title)
        return
    where = f"{state.place}, the picture's caption"
    if "alt_text" not in config:
        key = "alt_text"
    elif "caption" not in config:
        key = "caption"
    else:
        if caption not in (config["alt_text"], config["caption"]):
            state.notes.append(
                Skipped(
                    str(block.get("id", "?")),
                    "image",
                    f"the picture's caption {quoted(caption)} is not used: the settings block "
                    "gives both alt_text and caption. Remove one of them from the settings "
                    "block, or the caption from the picture",
                    state.place,
                )
            )
        return
    config[key] = caption
    state.places[f"/section_config/{key}"] = where
    reason = plain_text_loss(
        items, f"the picture's caption, as its {key.replace('_', ' ')},", "the section's text"
    )
    if reason is not None:
        state.notes.append(Skipped(str(block.get("id", "?")), "image", reason, state.place))


def _read(source: str, language: str, state: _State) -> Settings:
    try:
        settings = read_settings(source, language)
    except SettingsRefused as exc:
        raise _refused(exc, state) from None
    if not isinstance(settings.value, dict):
        raise state.fail(
            "the settings block must be “name: value” lines, like `instruction: Click on the "
            "5 stations`",
            where="settings block",
            guide="settings-blocks",
        )
    return settings


def _refused(exc: SettingsRefused, state: _State) -> PageError:
    where = f"settings block line {exc.line}" if exc.line else "settings block"
    return state.fail(str(exc), where=where, guide="settings-blocks")


def _typed(
    kind: str, component: str | None, config: dict[str, Any], rest: list[Block], state: _State
) -> list[Block]:
    """The section's settings completed from its Notion structures and short forms; the
    blocks those structures did not use."""
    try:
        form = _FORMS[kind](config, component, rest, state) if kind in _FORMS else None
    except forms.FormError as exc:
        raise state.fail(exc.message, where=exc.where, guide=_FORM_GUIDES[kind]) from None
    if form is None:
        return rest
    config.update(form.config)
    for at, where in form.places.items():
        state.places[f"/section_config{at}"] = f"{state.place}, {where}"
    state.notes += [replace(n, where=n.where or state.place) for n in form.notes]
    return [b for b in rest if str(b.get("id")) not in form.used]


def _checklist(
    config: dict[str, Any], _component: str | None, rest: list[Block], _state: _State
) -> forms.Form | None:
    if "items" in config:
        config["items"] = forms.checklist_setting(config["items"])
        return None
    return forms.checklist(rest)


def _quiz(
    config: dict[str, Any], _component: str | None, rest: list[Block], _state: _State
) -> forms.Form | None:
    if isinstance(config.get("pass_score"), str):
        config["pass_score"] = _percent(config["pass_score"])
    if "questions" in config:
        config["questions"] = forms.quiz_setting(config["questions"], _question_place)
        return None
    return forms.quiz(rest, _question_place)


def _interactive(
    config: dict[str, Any], component: str | None, rest: list[Block], state: _State
) -> forms.Form | None:
    _environment(config, component, state)
    if (config.get("environment_type") or state.kinds.default) != "image_hotspots":
        return None
    if "hotspots" in config:
        config["hotspots"] = forms.hotspots_setting(config["hotspots"])
        return None
    return forms.hotspot_table(rest)


_FORMS: dict[
    str,
    Callable[[dict[str, Any], str | None, list[Block], _State], forms.Form | None],
] = {"checklist": _checklist, "quiz": _quiz, "interactive": _interactive}
_FORM_GUIDES = {"checklist": "checklists", "quiz": "quizzes", "interactive": "interactive-sections"}


def _question_place(number: int, prompt: str) -> str:
    return f"question {number} ({quoted(prompt, 40)})"


def _percent(text: str) -> Any:
    value = text.strip()
    if value.endswith("%"):
        try:
            return round(float(value[:-1]) / 100, 4)
        except ValueError:
            return text
    return text


def _environment(config: dict[str, Any], component: str | None, state: _State) -> None:
    given = config.get("environment_type")
    if isinstance(given, str):
        found = state.kinds.component(given)
        if found is None:
            raise state.fail(
                _unknown_component(given, state.kinds),
                where=state.places.get(
                    "/section_config/environment_type", "settings block"
                ).removeprefix(f"{state.place}, "),
                guide="interactive-sections",
            )
        if component is not None and component != found:
            raise state.fail(
                f"the settings say environment_type {given}, but the Type or Component line "
                f"says {component.replace('_', ' ')}; keep one",
                where="settings block",
                guide="interactive-sections",
            )
        config["environment_type"] = found
    elif component is not None:
        config["environment_type"] = component


def _criteria(
    setting: Any,
    setting_line: int | None,
    line: _Directive | None,
    kind: str,
    config: Mapping[str, Any],
    state: _State,
) -> dict[str, Any] | None:
    if setting is None and line is None:
        return None
    context = _context(kind, config)
    place = state.place
    if setting is not None and line is not None:
        raise state.fail(
            f"it says when it is complete twice (in the settings block and in "
            f"{quoted(line.line)}); keep one",
            guide="when-a-section-is-complete",
        )
    where = (
        f"the line {quoted(line.line)}"
        if line is not None
        else f"settings block line {setting_line}"
        if setting_line
        else "settings block"
    )
    try:
        found = (
            criteria.from_line(line.value, context)
            if line is not None
            else criteria.from_setting(setting, context)
        )
    except criteria.CriteriaError as exc:
        raise state.fail(str(exc), where=where, guide="when-a-section-is-complete") from None
    if found["type"] == "tasks":
        found["tasks"] = [_task_id(task, config) for task in found["tasks"]]
    state.places["/completion_criteria"] = f"{place}, {where}"
    return found


def _context(kind: str, config: Mapping[str, Any]) -> criteria.Context:
    ids: list[str] = []
    required: list[str] = []
    for key in ("items", "tasks", "hotspots"):
        for item in config.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                ids.append(item["id"])
                if item.get("required", True) is not False:
                    required.append(item["id"])
    hotspots = config.get("hotspots")
    return criteria.Context(
        kind,
        hotspots=len(hotspots) if isinstance(hotspots, list) else 0,
        item_ids=tuple(ids),
        required_ids=tuple(required),
    )


def _task_id(task: str, config: Mapping[str, Any]) -> str:
    """A task named by its label ("Safety glasses") as its id ("safety-glasses")."""
    for key in ("items", "tasks", "hotspots"):
        for item in config.get(key) or []:
            if not isinstance(item, dict):
                continue
            if item.get("id") == task:
                return task
            label = item.get("label") or item.get("description")
            if isinstance(label, str) and label.strip().lower() == task.strip().lower():
                return str(item.get("id", task))
    return task
