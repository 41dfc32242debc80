"""One section of a module, rendered for a reviewer who reads no JSON: its text, its media
(images that show in the PR), its typed settings (a quiz as questions with the correct
options ticked, a checklist as its items, hotspots as a table), its completion criteria
in words; and, given the section as it was, every change marked where it is. Pure
functions; text from the module goes through `gfm` (shown, never acting).

Marks: 🆕 added, ✏️ changed, 🗑️ removed; words ~~removed~~ and **added** (`prose`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pipeline.layout import ASSET_PREFIX
from pipeline.propose import prose
from pipeline.propose.gfm import AssetURL, code, code_block, inline, is_image, markdown, text

Section = Mapping[str, Any]
NEW, CHANGED, REMOVED = "🆕", "✏️", "🗑️"
# Where a section's content headings go: below the section's own heading (level 4).
CONTENT_SHIFT = 4


def listed(value: Any) -> list[Any]:
    """The items of a value a module should hold as a list; anything else (in a file
    validate rejects, which propose still shows) as none."""
    return value if isinstance(value, list) else []


def objects(value: Any) -> list[Mapping[str, Any]]:
    """The objects in a value a module should hold as a list of objects; anything else
    left out."""
    return [item for item in listed(value) if isinstance(item, Mapping)]


@dataclass(frozen=True)
class Assets:
    """Absolute URLs of repository paths: at the PR's head (`now`) and at its base
    (`before`, for what a change replaced). None: shown as paths."""

    now: AssetURL | None = None
    before: AssetURL | None = None


def _media(value: Any, alt: str, url: AssetURL | None) -> str:
    """A media field (a data/assets path or an https URL) as an image that renders, or a
    link; anything else as code."""
    source = str(value)
    if source.startswith(ASSET_PREFIX) and url is not None:
        path = quote(source, safe="/-_.~")
        if is_image(source):
            return f"![{inline(alt)}]({url(path, True)})"
        return f"{_icon(source)} [{inline(source)}]({url(path, False)})"
    if source.startswith("https://") and not any(c in source for c in " <>()\n"):
        if is_image(source):
            return f"![{inline(alt)}]({source})"
        return f"{_icon(source)} [{inline(source)}]({source})"
    return code(source)


def _icon(source: str) -> str:
    """▶️ for a video (a file or a video site), 📎 for any other file."""
    video = (".mp4", ".webm", ".mov", ".m4v", ".ogv")
    sites = ("https://www.youtube.com/", "https://youtu.be/", "https://vimeo.com/")
    return "▶️" if source.lower().endswith(video) or source.startswith(sites) else "📎"


def media_cell(value: Any, alt: str, url: AssetURL | None) -> str:
    """A media field for a table cell: an image that renders, or a link."""
    return _cell(_media(value, alt, url))


def _value(value: Any) -> str:
    """A field's value in a line of text."""
    if value is None or value in ([], ""):
        return "*none*"
    if isinstance(value, list):
        return ", ".join(code(v) if isinstance(v, str) else code(json.dumps(v)) for v in value)
    if isinstance(value, str):
        return code(value)
    return code(json.dumps(value, ensure_ascii=False))


def before_after(old: Any, new: Any) -> str:
    """A changed value: prose as a word diff, anything else as before → after."""
    if isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > 40:
        return prose.one_line(old, new)
    return f"{_value(old)} → {_value(new)}"


def _minutes(seconds: Any) -> str:
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return text(seconds)
    if seconds >= 60 and seconds % 30 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _percent(share: Any) -> str:
    if isinstance(share, int | float) and not isinstance(share, bool):
        return f"{share * 100:g} %"
    return text(share)


# -- completion criteria in words -------------------------------------------------------------


def _named(ids: Sequence[Any], section: Section) -> str:
    """Task ids as people know them: the label of the checklist item, task or hotspot."""
    config = _config(section)
    names: dict[str, str] = {}
    for key, label in (("items", "label"), ("tasks", "description"), ("hotspots", "label")):
        for item in objects(config.get(key)):
            if "id" in item:
                names[str(item["id"])] = str(item.get(label, item["id"]))
    return ", ".join(
        f"{text(names[str(i)])} ({code(i)})" if str(i) in names else code(i) for i in ids
    )


def criteria_words(criteria: Any, section: Section) -> str:
    """'complete after clicking 5 hotspots' and the like."""
    if not isinstance(criteria, Mapping):
        return "complete when viewed"
    count = criteria.get("hotspots_clicked")
    words: dict[Any, Callable[[], str]] = {
        "view": lambda: "complete when viewed",
        "time": lambda: f"complete after {_minutes(criteria.get('value'))} on the section",
        "hotspots": lambda: (
            f"complete after clicking {text(count)} hotspot{'s' if count != 1 else ''}"
        ),
        "tasks": lambda: (
            f"complete after checking off: {_named(listed(criteria.get('tasks')), section)}"
        ),
        "score": lambda: f"complete with a score of at least {_percent(criteria.get('min_score'))}",
    }
    said = words.get(str(criteria.get("type")))
    if said is None:
        return f"complete when: {code(json.dumps(criteria, ensure_ascii=False))}"
    return said()


# -- typed settings ---------------------------------------------------------------------------


def _by_id(items: Any) -> dict[str, Mapping[str, Any]]:
    return {str(item["id"]): item for item in objects(items) if "id" in item}


def _removed_ids(old: Any, new: Any) -> list[str]:
    now = _by_id(new)
    return [key for key in _by_id(old) if key not in now]


def _words(old: Mapping[str, Any] | None, new: Mapping[str, Any], key: str) -> str:
    """A text field of an item, its changed words marked."""
    if old is not None and old.get(key) != new.get(key):
        return prose.one_line(old.get(key, ""), new.get(key, ""))
    return text(new.get(key, ""))


def _quiz(old: Mapping[str, Any] | None, new: Mapping[str, Any], diff: bool) -> list[str]:
    lines: list[str] = []
    if "pass_score" in new or (old and "pass_score" in old):
        score = _percent(new.get("pass_score"))
        if diff and old is not None and old.get("pass_score") != new.get("pass_score"):
            score = f"{_percent(old.get('pass_score'))} → **{score}** {CHANGED}"
        lines += [f"**Pass score:** {score}", ""]
    before = _by_id((old or {}).get("questions")) if diff else {}
    for number, question in enumerate(listed(new.get("questions")), 1):
        if isinstance(question, Mapping):
            was = before.get(str(question.get("id"))) if diff else None
            lines += _question(number, was, question, diff)
    for key in _removed_ids((old or {}).get("questions"), new.get("questions")) if diff else []:
        lines += [f"{REMOVED} ~~{inline(before[key].get('prompt', key))}~~ (question removed)", ""]
    return lines


def _answers(kind: Any) -> str:
    return "one answer" if kind == "single" else "one or more answers"


def _question(
    number: int, was: Mapping[str, Any] | None, question: Mapping[str, Any], diff: bool
) -> list[str]:
    """One question: its prompt, its options with the correct ones ticked; a changed
    answer called out above the options and at each option it concerns."""
    mark = f" {NEW}" if diff and was is None else ""
    if was is not None and was.get("kind") != question.get("kind"):
        mark += f" ({CHANGED} was {_answers(was.get('kind'))})"
    lines = [
        f"**Q{number}.** {_words(was, question, 'prompt')} ({code(question.get('id'))}, "
        f"{_answers(question.get('kind'))}){mark}",
        "",
    ]
    answer = {str(a) for a in listed(question.get("answer"))}
    old_answer = {str(a) for a in listed((was or {}).get("answer"))}
    old_options = _by_id((was or {}).get("options"))
    if was is not None and answer != old_answer:
        lines += [
            f"> ⚠️ **The correct answer changed:** was {_options(was, old_answer)}, "
            f"now {_options(question, answer)}",
            "",
        ]
    for option in objects(question.get("options")):
        key = str(option.get("id"))
        tick = "✅" if key in answer else "⬜"
        old_option = old_options.get(key) if was is not None else None
        note = ""
        if was is not None and old_option is None:
            note = f" {NEW}"
        elif was is not None and (key in answer) != (key in old_answer):
            note = " ⬅️ **now correct**" if key in answer else " ⬅️ **no longer correct**"
        lines.append(f"- {tick} {code(key)} {_words(old_option, option, 'text')}{note}")
    for key in _removed_ids((was or {}).get("options"), question.get("options")):
        lines.append(f"- {REMOVED} ~~{inline(old_options[key].get('text', key))}~~ (removed)")
    if question.get("explanation") or (was and was.get("explanation")):
        lines += ["", f"*Why:* {_words(was, question, 'explanation')}"]
    return [*lines, ""]


def _options(question: Mapping[str, Any], ids: set[str]) -> str:
    texts = {str(o.get("id")): o.get("text", "") for o in objects(question.get("options"))}
    chosen = [f"{code(i)} {text(texts.get(i, ''))}".strip() for i in sorted(ids)]
    return " and ".join(chosen) or "*none*"


def _checklist(old: Mapping[str, Any] | None, new: Mapping[str, Any], diff: bool) -> list[str]:
    before = _by_id((old or {}).get("items")) if diff else {}
    lines: list[str] = []
    for item in objects(new.get("items")):
        was = before.get(str(item.get("id"))) if diff else None
        need = "required" if item.get("required", True) else "optional"
        note = ""
        if diff and was is None:
            note = f" {NEW}"
        elif was is not None and was.get("required", True) != item.get("required", True):
            note = f" {CHANGED} was {'required' if was.get('required', True) else 'optional'}"
        lines.append(f"- ☐ {_words(was, item, 'label')} ({code(item.get('id'))}, {need}){note}")
    for key in _removed_ids((old or {}).get("items"), new.get("items")) if diff else []:
        lines.append(f"- {REMOVED} ~~{inline(before[key].get('label', key))}~~ (removed)")
    return [*lines, ""] if lines else []


def _coordinate(old: Mapping[str, Any] | None, new: Mapping[str, Any], key: str) -> str:
    if old is not None and old.get(key) != new.get(key):
        return f"{text(old.get(key))} → **{text(new.get(key))}**"
    return text(new.get(key, ""))


def _interactive(old: Mapping[str, Any] | None, new: Mapping[str, Any], diff: bool) -> list[str]:
    lines: list[str] = []
    was = old if diff else None
    if new.get("instruction"):
        lines += [f"**Instruction:** {_words(was, new, 'instruction')}", ""]
    if new.get("environment_type"):
        lines += [f"**Kind:** {text(str(new['environment_type']).replace('_', ' '))}", ""]
    lines += _hotspots(was, new, diff)
    tasks = objects(new.get("tasks"))
    removed = _removed_ids((was or {}).get("tasks"), new.get("tasks")) if diff else []
    if tasks or removed:
        before = _by_id((was or {}).get("tasks"))
        lines += ["**Tasks:**", ""]
        for task in tasks:
            old_task = before.get(str(task.get("id"))) if diff else None
            note = f" {NEW}" if diff and old_task is None else ""
            lines.append(
                f"- {_words(old_task, task, 'description')} ({code(task.get('id'))}){note}"
            )
        for key in removed:
            lines.append(f"- {REMOVED} ~~{inline(before[key].get('description', key))}~~ (removed)")
        lines.append("")
    return lines


def _hotspots(was: Mapping[str, Any] | None, new: Mapping[str, Any], diff: bool) -> list[str]:
    """Hotspots as a table: id, label, x, y (radius, description where any has one); a
    moved one marked, its old place beside the new."""
    hotspots = objects(new.get("hotspots"))
    removed = _removed_ids((was or {}).get("hotspots"), new.get("hotspots")) if diff else []
    if not hotspots and not removed:
        return []
    before = _by_id((was or {}).get("hotspots"))
    every = hotspots + [before[key] for key in removed]
    extra = [key for key in ("radius", "description") if any(key in h for h in every)]
    lines = [
        "| | Hotspot | Label | x | y |" + "".join(f" {key.title()} |" for key in extra),
        "| --- " * (5 + len(extra)) + "|",
    ]
    for spot in hotspots:
        old_spot = before.get(str(spot.get("id"))) if diff else None
        cells = [
            _spot_change(old_spot, spot) if diff else "",
            code(spot.get("id"), table=True),
            _words(old_spot, spot, "label"),
            _coordinate(old_spot, spot, "x"),
            _coordinate(old_spot, spot, "y"),
        ]
        cells += [
            _words(old_spot, spot, key)
            if key == "description"
            else _coordinate(old_spot, spot, key)
            for key in extra
        ]
        lines.append("| " + " | ".join(cells) + " |")
    for key in removed:
        spot = before[key]
        cells = [
            f"{REMOVED} removed",
            code(key, table=True),
            f"~~{inline(spot.get('label', ''))}~~",
        ]
        cells += [text(spot.get(name, "")) for name in ("x", "y", *extra)]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def _spot_change(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> str:
    if old is None:
        return f"{NEW} new"
    marks = []
    if (old.get("x"), old.get("y")) != (new.get("x"), new.get("y")):
        marks.append("📍 moved")
    if old.get("label") != new.get("label"):
        marks.append(f"{CHANGED} renamed")
    if old.get("radius") != new.get("radius") or old.get("description") != new.get("description"):
        marks.append(f"{CHANGED} changed")
    return ", ".join(marks)


def _sandbox(_old: Mapping[str, Any] | None, new: Mapping[str, Any], _diff: bool) -> list[str]:
    lines = [f"**Language:** {text(new.get('language', ''))}", ""]
    for file in objects(new.get("files")):
        note = " (read-only)" if file.get("readonly") else ""
        lines += [f"{code(file.get('path', ''))}{note}", ""]
        lines += [*code_block(str(file.get("content", "")), str(new.get("language", ""))), ""]
    if new.get("expected_output"):
        lines += ["**Expected output:**", "", *code_block(str(new["expected_output"])), ""]
    return lines + _hints(new)


def _hints(config: Mapping[str, Any]) -> list[str]:
    hints = [h for h in listed(config.get("hints")) if isinstance(h, str)]
    if not hints:
        return []
    return ["**Hints:**", "", *(f"{i}. {text(h)}" for i, h in enumerate(hints, 1)), ""]


def _game(_old: Mapping[str, Any] | None, new: Mapping[str, Any], _diff: bool) -> list[str]:
    facts = [f"**Game:** {text(new.get('game_type', ''))}"]
    if new.get("time_limit"):
        facts.append(f"**Time limit:** {_minutes(new['time_limit'])}")
    if listed(new.get("difficulty_levels")):
        levels = ", ".join(text(level) for level in new["difficulty_levels"])
        facts.append(f"**Difficulty levels:** {levels}")
    challenges = listed(new.get("challenges"))
    lines = [" · ".join(facts), ""]
    if challenges:
        lines.append(f"**Challenges:** {len(challenges)} (in the settings below)")
        lines.append("")
    return lines


def _guided(_old: Mapping[str, Any] | None, new: Mapping[str, Any], _diff: bool) -> list[str]:
    facts = [f"**Problem type:** {text(new.get('problem_type', ''))}"]
    if new.get("buddy_personality"):
        facts.append(f"**Buddy:** {text(new['buddy_personality'])}")
    return [" · ".join(facts), "", *_hints(new)]


def _video(
    old: Mapping[str, Any] | None, new: Mapping[str, Any], diff: bool, assets: Assets
) -> list[str]:
    lines: list[str] = []
    facts = []
    if new.get("provider"):
        facts.append(f"**Provider:** {text(new['provider'])}")
    if new.get("start_seconds"):
        facts.append(f"**Starts at:** {_minutes(new['start_seconds'])}")
    if new.get("captions_url"):
        facts.append(f"**Captions:** {_media(new['captions_url'], 'captions', assets.now)}")
    if facts:
        lines += [" · ".join(facts), ""]
    if new.get("transcript"):
        was = old if diff else None
        if was is not None and was.get("transcript") != new.get("transcript"):
            lines += ["**Transcript** (" + prose.LEGEND + "):", ""]
            lines += [*prose.block(str(was.get("transcript", "")), str(new["transcript"])), ""]
        else:
            lines += ["**Transcript:**", "", *_quoted(text_lines(str(new["transcript"]))), ""]
    return lines


def text_lines(value: str) -> list[str]:
    return [text(line) if line.strip() else "" for line in value.replace("\r\n", "\n").split("\n")]


def _quoted(lines: list[str]) -> list[str]:
    return [f"> {line}" if line else ">" for line in lines]


# Section types whose rendering shows every setting; others' settings follow as JSON.
_SHOWN_WHOLE = (
    "text",
    "quiz",
    "checklist",
    "interactive",
    "sandbox",
    "guided_struggle",
    "video",
    "image",
)

Renderer = Callable[[Mapping[str, Any] | None, Mapping[str, Any], bool], list[str]]
_TYPED: dict[str, Renderer] = {
    "quiz": _quiz,
    "checklist": _checklist,
    "interactive": _interactive,
    "sandbox": _sandbox,
    "game": _game,
    "guided_struggle": _guided,
}


# -- a whole section ----------------------------------------------------------------------------


def kind_and_length(section: Section) -> str:
    duration = section.get("duration_seconds")
    extra = f", {_minutes(duration)}" if isinstance(duration, int | float) else ""
    return f"{text(section.get('section_type'))}{extra}"


def heading(section: Section, state: str = "") -> str:
    """`#### 2. Locate Safety Equipment (interactive, 3 min)`, and what happened to it."""
    number, title = text(section.get("section_number")), text(section.get("title"))
    return f"#### {number}. {title} ({kind_and_length(section)}){state}"


def removed_heading(section: Section) -> str:
    """`#### 🗑️ Removed: Check Your Understanding (quiz, 2 min), was section 4`: never
    mistaken for the section that has its number now."""
    number, title = text(section.get("section_number")), text(section.get("title"))
    return f"#### {REMOVED} Removed: {title} ({kind_and_length(section)}), was section {number}"


def _config(section: Section | None) -> Mapping[str, Any]:
    config = (section or {}).get("section_config")
    return config if isinstance(config, Mapping) else {}


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def _settings(old: Section | None, new: Section, diff: bool) -> list[str]:
    """The section's settings exactly, collapsed: as JSON, or as a diff of the JSON."""
    config = new.get("section_config")
    before = (old or {}).get("section_config") if diff else None
    if diff and before != config and (before or config):
        changes = difflib.unified_diff(
            _json(before or {}).splitlines(), _json(config or {}).splitlines(), lineterm="", n=2
        )
        source = "\n".join(list(changes)[2:])
        return [
            "<details><summary>section_config, exactly: what changed</summary>",
            "",
            *code_block(source, "diff"),
            "",
            "</details>",
            "",
        ]
    if not config or new.get("section_type") in _SHOWN_WHOLE:
        return []  # the rendering above shows all of it
    return [
        "<details><summary>section_config, exactly</summary>",
        "",
        *code_block(_json(config), "json"),
        "",
        "</details>",
        "",
    ]


def render(
    new: Section, old: Section | None = None, *, diff: bool = False, assets: Assets = Assets()
) -> list[str]:
    """The section's body (its heading is the caller's). With `diff`, `old` is the section
    as it was (None: it is new) and every change is marked."""
    was = old if diff else None
    lines: list[str] = []
    if was is not None:
        lines += _header_changes(was, new)
    content = str(new.get("content") or "")
    old_content = str((was or {}).get("content") or "")
    shown = markdown(content, shift=CONTENT_SHIFT, asset_url=assets.now) if content else ""
    if was is not None and old_content != content:
        lines += [f"**What changed in the text** ({prose.LEGEND}):", ""]
        lines += [*prose.block(old_content, content), ""]
        if shown:
            lines += [
                "<details><summary>The text as students will see it</summary>",
                "",
                shown,
                "",
                "</details>",
                "",
            ]
    elif shown:
        lines += [shown, ""]
    lines += _media_lines(was, new, assets)
    config, old_config = _config(new), _config(was) if was is not None else None
    renderer = _TYPED.get(str(new.get("section_type")))
    if new.get("section_type") == "video":
        lines += _video(old_config, config, was is not None, assets)
    elif new.get("section_type") == "image":
        lines += _caption(old_config, config, was is not None)
    elif renderer is not None and config:
        lines += renderer(old_config, config, was is not None)
    if listed(config.get("assets")):
        lines += [
            "**Files:** " + ", ".join(_media(a, "", assets.now) for a in config["assets"]),
            "",
        ]
    lines += _criteria(was, new)
    lines += _settings(old, new, diff and old is not None)
    return lines


def _header_changes(old: Section, new: Section) -> list[str]:
    found = []
    if old.get("title") != new.get("title"):
        found.append(f"- Title: {prose.one_line(old.get('title', ''), new.get('title', ''))}")
    if old.get("section_type") != new.get("section_type"):
        found.append(
            f"- Type: {text(old.get('section_type'))} → **{text(new.get('section_type'))}**"
        )
    if old.get("duration_seconds") != new.get("duration_seconds"):
        found.append(
            f"- Duration: {_minutes(old.get('duration_seconds'))} → "
            f"**{_minutes(new.get('duration_seconds'))}**"
        )
    return [*found, ""] if found else []


def _cell(markdown_text: str) -> str:
    """Markdown for a table cell: every pipe not yet escaped, escaped."""
    return re.sub(r"(?<!\\)\|", r"\\|", markdown_text)


def _alt(section: Section) -> str:
    config = _config(section)
    return str(config.get("alt_text") or section.get("title") or "image")


def _media_lines(old: Section | None, new: Section, assets: Assets) -> list[str]:
    media = new.get("media_url")
    before = (old or {}).get("media_url") if old is not None else media
    if old is not None and before != media and (before or media):
        old_shown = _media(before, _alt(old), assets.before) if before else "*none*"
        new_shown = _media(media, _alt(new), assets.now) if media else "*none*"
        return [
            f"**Media** {CHANGED} replaced:",
            "",
            "| Before | After |",
            "| --- | --- |",
            f"| {_cell(old_shown)} | {_cell(new_shown)} |",
            "",
        ]
    if not media:
        return []
    return [_media(media, _alt(new), assets.now), ""]


def _caption(old: Mapping[str, Any] | None, new: Mapping[str, Any], diff: bool) -> list[str]:
    lines = []
    was = old if diff else None
    if new.get("caption"):
        lines += [f"*Caption:* {_words(was, new, 'caption')}", ""]
    lines += [f"*Alt text:* {_words(was, new, 'alt_text')}", ""]
    return lines


def _criteria(old: Section | None, new: Section) -> list[str]:
    criteria = new.get("completion_criteria")
    now = criteria_words(criteria, new)
    if old is not None and old.get("completion_criteria") != criteria:
        was = criteria_words(old.get("completion_criteria"), old)
        return [f"**Completion** {CHANGED}: {now} (was: {was})", ""]
    if not criteria:
        return []
    return [f"**Completion:** {now}", ""]
