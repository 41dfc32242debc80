"""Typed sections from Notion's own structures, and settings written the short way.

- A checklist from to-do blocks: each to-do is an item; its id comes from its text
  (`item_id`); every item is required unless its text ends with "(optional)".
- A quiz from questions followed by to-do options, the ticked ones correct; a callout
  or quote after the options is the explanation. In the settings block, options may be
  a plain list of text and the answer given by its text or its position (1 = first).
- Hotspots from a Notion table whose header names the columns id (optional), label, x,
  y (and radius, description).

Ids made here are stable: the same text always gives the same id (see `item_id`).
Pure functions; problems raise FormError with the place on the page.

Labels, prompts, options, explanations and hotspot cells are plain text in the module
file. What plain text cannot hold (a link, bold; a picture in an explanation; a table
column without a name) is listed in `Form.notes`, with what to write instead; the words
are always kept, an explanation's nested blocks included.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.notion.markdown import Block, Skipped, plain_text, plain_text_loss
from pipeline.notion.report import quoted

_ID_LENGTH = 40
_OPTIONAL = re.compile(r"\s*\((?:optional|not required)\)\s*$", re.IGNORECASE)
_QUESTION_NUMBER = re.compile(r"^\s*(?:q(?:uestion)?\s*)?\d+\s*[.):]\s*", re.IGNORECASE)
_PROMPTS = (
    "paragraph",
    "heading_1",
    "heading_2",
    "heading_3",
    "numbered_list_item",
    "bulleted_list_item",
    "toggle",
)
_EXPLANATIONS = ("callout", "quote")


class FormError(ValueError):
    """A form that cannot be read: where it is ("question 2 (“…”)", "hotspot table row
    3") and what to change."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def item_id(text: str, taken: set[str] | None = None) -> str:
    """An id from an item's text: letters and digits in lowercase, words joined by "-",
    accents dropped, "&" as "and", cut to 40 characters at a word; "item" when nothing is
    left. A second item with the same id gets "-2", a third "-3", in page order."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("&", " and "))
    ascii_text = ascii_text.encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > _ID_LENGTH:
            break
        slug = candidate
    slug = slug or (words[0][:_ID_LENGTH] if words else "item")
    if taken is None:
        return slug
    unique, n = slug, 1
    while unique in taken:
        n += 1
        unique = f"{slug}-{n}"
    taken.add(unique)
    return unique


def _text(block: Block) -> str:
    payload = block.get(str(block.get("type", "")), {}) or {}
    return plain_text(payload.get("rich_text", []) or []).strip()


def _skip(block: Block, reason: str) -> Skipped:
    return Skipped(str(block.get("id", "?")), str(block.get("type", "")), reason)


def _rich_text(block: Block) -> list[Any]:
    payload = block.get(str(block.get("type", "")), {}) or {}
    return list(payload.get("rich_text", []) or [])


def _note_lost(
    block: Block, items: Sequence[Any], what: str, instead: str, notes: list[Skipped]
) -> None:
    """A note when plain text leaves a link or formatting of `items` out."""
    reason = plain_text_loss(items, what, instead)
    if reason is not None:
        notes.append(_skip(block, reason))


@dataclass
class Form:
    """What a form made of the section's blocks: the settings, the blocks it used, where
    each setting came from (pointer relative to section_config -> place), notes."""

    config: dict[str, Any] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    places: dict[str, str] = field(default_factory=dict)
    notes: list[Skipped] = field(default_factory=list)


# -- checklists ---------------------------------------------------------------------------


def checklist(blocks: Sequence[Block]) -> Form:
    """Items from the section's to-do blocks (none: an empty form)."""
    form = Form()
    items: list[dict[str, Any]] = []
    taken: set[str] = set()
    for block in blocks:
        if block.get("type") != "to_do":
            continue
        text = _text(block)
        if not text:
            continue
        required = not _OPTIONAL.search(text)
        label = _OPTIONAL.sub("", text).strip() or text
        form.places[f"/items/{len(items)}"] = f"the to-do “{label}”"
        _note_lost(
            block,
            _rich_text(block),
            f"the checklist item {quoted(label)}",
            "the section's text, above or below the checklist",
            form.notes,
        )
        items.append({"id": item_id(label, taken), "label": label, "required": required})
        form.used.add(str(block["id"]))
        for child in block.get("children") or []:
            form.notes.append(
                _skip(
                    child,
                    "blocks under a checklist item are not exported (an item is its text); "
                    "put details in the section's text",
                )
            )
    if items:
        form.config["items"] = items
    return form


def checklist_setting(items: Any) -> Any:
    """Checklist items written as plain text, as items; others as they are."""
    if not isinstance(items, list):
        return items
    taken: set[str] = {str(i["id"]) for i in items if isinstance(i, dict) and "id" in i}
    result: list[Any] = []
    for item in items:
        if isinstance(item, str):
            required = not _OPTIONAL.search(item)
            label = _OPTIONAL.sub("", item).strip() or item
            result.append({"id": item_id(label, taken), "label": label, "required": required})
        elif isinstance(item, dict) and "id" not in item and isinstance(item.get("label"), str):
            result.append({"id": item_id(item["label"], taken), **item})
        else:
            result.append(item)
    return result


# -- quizzes --------------------------------------------------------------------------------


def quiz(blocks: Sequence[Block], where: Callable[[int, str], str]) -> Form:
    """Questions from the section's blocks: a question (a paragraph, heading or list item)
    followed by to-do options (or with to-dos under it), the ticked ones correct, then
    perhaps a callout or quote: the explanation. `where(n, prompt)` names question n."""
    form = Form()
    questions: list[dict[str, Any]] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        prompt = _text(block) if block.get("type") in _PROMPTS else ""
        children = list(block.get("children") or [])
        nested = [c for c in children if c.get("type") == "to_do"]
        following: list[Block] = []
        probe = index + 1
        while probe < len(blocks) and blocks[probe].get("type") == "to_do":
            following.append(blocks[probe])
            probe += 1
        options = nested or following
        if not prompt or not options:
            index += 1
            continue
        used = [block, *options] if nested else [block, *following]
        next_index = index + 1 if nested else probe
        explanation = None
        if next_index < len(blocks) and blocks[next_index].get("type") in _EXPLANATIONS:
            explanation = blocks[next_index]
            used.append(explanation)
            next_index += 1
        number = len(questions) + 1
        text = _QUESTION_NUMBER.sub("", prompt).strip() or prompt
        _note_lost(
            block,
            _rich_text(block),
            f"the prompt of question {number} ({quoted(text, 40)})",
            _QUIZ_INSTEAD,
            form.notes,
        )
        questions.append(_question(number, text, options, explanation, where, form))
        form.used.update(str(b["id"]) for b in used)
        for child in children:
            if child.get("type") != "to_do":
                form.notes.append(
                    _skip(
                        child,
                        "blocks under a quiz question other than its options are "
                        "not exported; put them before the question",
                    )
                )
        index = next_index
    if questions:
        form.config["questions"] = questions
    return form


def _question(
    number: int,
    prompt: str,
    options: Sequence[Block],
    explanation: Block | None,
    where: Callable[[int, str], str],
    form: Form,
) -> dict[str, Any]:
    at = f"/questions/{number - 1}"
    form.places[at] = where(number, prompt)
    taken: set[str] = set()
    made = []
    answer = []
    for position, option in enumerate(options):
        text = _text(option)
        if not text:
            continue
        option_id = item_id(text, taken)
        made.append({"id": option_id, "text": text})
        _note_lost(
            option,
            _rich_text(option),
            f"the option {quoted(text, 40)} of question {number}",
            _QUIZ_INSTEAD,
            form.notes,
        )
        form.places[f"{at}/options/{position}"] = f"{where(number, prompt)}, option “{text}”"
        if (option.get("to_do") or {}).get("checked"):
            answer.append(option_id)
        for child in option.get("children") or []:
            form.notes.append(_skip(child, "blocks under a quiz option are not exported"))
    if len(made) < 2:
        raise FormError(
            where(number, prompt),
            "a question needs at least two options: write each as a to-do under the question",
        )
    if not answer:
        raise FormError(
            where(number, prompt),
            "no option is ticked: tick the box of the correct option (or of each correct one)",
        )
    question: dict[str, Any] = {
        "id": f"q{number}",
        "prompt": prompt,
        "kind": "single" if len(answer) == 1 else "multiple",
        "options": made,
        "answer": answer,
    }
    if explanation is not None:
        parts: list[str] = []
        _explanation(explanation, number, parts, form.notes)
        text = "\n\n".join(parts)
        if text:
            question["explanation"] = text
    return question


_QUIZ_INSTEAD = "the section's text, before the questions"
# Blocks that only hold others: their children are read, they add nothing themselves.
_HOLDERS = ("column_list", "column", "synced_block", "tab")
_NO_CONTENT = ("divider", "breadcrumb", "table_of_contents")
_MEDIA_NAMES = {"image": "picture", "video": "video"}


def _explanation(block: Block, number: int, parts: list[str], notes: list[Skipped]) -> None:
    """The text of an explanation block and of every block under it, each a paragraph of
    `parts`; what is not text (a picture, a table, ...) is listed, with what it holds."""
    kind = str(block.get("type", ""))
    payload = block.get(kind, {}) or {}
    what = f"the explanation of question {number}"
    if isinstance(payload.get("rich_text"), list):
        text = plain_text(payload["rich_text"]).strip()
        if text:
            parts.append(text)
        _note_lost(block, payload["rich_text"], what, _QUIZ_INSTEAD, notes)
    elif kind == "equation":
        parts.append(str(payload.get("expression", "")).strip())
    elif kind not in (*_HOLDERS, *_NO_CONTENT):
        name = _MEDIA_NAMES.get(kind, "file" if "caption" in payload else f"{kind} block")
        caption = plain_text(payload.get("caption") or []).strip()
        shown = f"the {name}" + (f" captioned {quoted(caption)}" if caption else "")
        notes.append(
            _skip(
                block,
                f"{shown} in {what} is left out: an explanation is text only. Put the "
                f"{name} in the section's text, before the questions, or describe it in "
                "words",
            )
        )
        return  # what is under it is listed with it
    for child in block.get("children") or []:
        _explanation(child, number, parts, notes)


def quiz_setting(questions: Any, where: Callable[[int, str], str]) -> Any:
    """Questions written the short way in the settings block, as the module writes them:
    options as plain text, the answer by its text or position (1 = the first), ids made
    from the text, `kind` from the number of answers."""
    if not isinstance(questions, list):
        return questions
    result: list[Any] = []
    for index, question in enumerate(questions):
        if not isinstance(question, dict):
            result.append(question)
            continue
        q = dict(question)
        for alias in ("question", "text", "q"):
            if "prompt" not in q and isinstance(q.get(alias), str):
                q["prompt"] = q.pop(alias)
        q.setdefault("id", f"q{index + 1}")
        prompt = str(q.get("prompt", ""))
        options = q.get("options")
        if isinstance(options, list):
            taken = {str(o["id"]) for o in options if isinstance(o, dict) and "id" in o}
            q["options"] = [
                {"id": item_id(o, taken), "text": o}
                if isinstance(o, str)
                else {"id": item_id(str(o["text"]), taken), **o}
                if isinstance(o, dict) and "id" not in o and isinstance(o.get("text"), str)
                else o
                for o in options
            ]
            if "answer" in q:
                q["answer"] = _answers(q["answer"], q["options"], where(index + 1, prompt))
        if isinstance(q.get("answer"), list) and "kind" not in q:
            q["kind"] = "single" if len(q["answer"]) == 1 else "multiple"
        result.append(q)
    return result


def _answers(answer: Any, options: list[Any], where: str) -> Any:
    given = answer if isinstance(answer, list) else [answer]
    found = []
    texts = [(str(o.get("text", "")), str(o.get("id", ""))) for o in options if isinstance(o, dict)]
    for value in given:
        if isinstance(value, bool):
            return answer
        if isinstance(value, int):
            by_text = [i for t, i in texts if t.strip() == str(value)]
            if by_text and 1 <= value <= len(texts) and texts[value - 1][1] not in by_text:
                raise FormError(
                    where,
                    f"the answer {value} can mean option number {value} "
                    f"(“{texts[value - 1][0]}”) or the option “{value}”; write the answer "
                    "as the option's text in quotes, e.g. answer: \"" + str(value) + '"',
                )
            if by_text:
                found.append(by_text[0])
            elif 1 <= value <= len(texts):
                found.append(texts[value - 1][1])
            else:
                raise FormError(
                    where,
                    f"the answer {value} is not an option's number: the question has "
                    f"{len(texts)} options (1 is the first)",
                )
            continue
        text = str(value).strip()
        match = [i for t, i in texts if t.strip().lower() == text.lower()]
        match = match or [i for t, i in texts if i == text]
        if not match:
            listed = ", ".join(f"“{t}”" for t, _ in texts)
            raise FormError(
                where,
                f"the answer “{text}” is not one of the options ({listed}); write it exactly "
                "as one of them, or give its number (1 for the first)",
            )
        found.append(match[0])
    return list(dict.fromkeys(found))


# -- hotspots from a table --------------------------------------------------------------------

_COLUMNS = {
    "id": "id",
    "label": "label",
    "name": "label",
    "x": "x",
    "y": "y",
    "radius": "radius",
    "r": "radius",
    "size": "radius",
    "description": "description",
    "notes": "description",
}
_NUMBERS = ("x", "y", "radius")


def hotspot_table(blocks: Sequence[Block]) -> Form:
    """Hotspots from the first table whose first row names at least label, x and y."""
    form = Form()
    for block in blocks:
        rows = [r for r in block.get("children") or [] if r.get("type") == "table_row"]
        columns = _hotspot_columns(rows) if block.get("type") == "table" else None
        if columns is None:
            continue
        hotspots: list[dict[str, Any]] = []
        taken: set[str] = set()
        unnamed: dict[int, list[str]] = {}  # column number -> what it holds
        for number, row in enumerate(rows[1:], 1):
            spot = _hotspot(row, f"the hotspot table, row {number}", columns, unnamed, form)
            if spot is None:
                continue
            spot = {"id": spot.get("id") or item_id(str(spot["label"]), taken), **spot}
            taken.add(str(spot["id"]))
            form.places[f"/hotspots/{len(hotspots)}"] = f"the hotspot table, row {number}"
            hotspots.append(
                {
                    k: spot[k]
                    for k in ("id", "x", "y", "radius", "label", "description")
                    if k in spot
                }
            )
        if hotspots:
            form.config["hotspots"] = hotspots
            form.used.add(str(block["id"]))
            for column, values in unnamed.items():
                held = ", ".join(quoted(v, 40) for v in values[:3])
                more = f" and {len(values) - 3} more" if len(values) > 3 else ""
                form.notes.append(
                    _skip(
                        block,
                        f"column {column} of the hotspot table has no name in its first row, "
                        f"so what it holds is left out ({held}{more}). Name it description, "
                        "radius or id to keep it, or remove the column",
                    )
                )
            return form
    return form


def _hotspot_columns(rows: Sequence[Block]) -> list[str | None] | None:
    """What each column of a table is (None: a column without a name), when its first row
    names at least label, x and y; None when the table is not a hotspot table."""
    if not rows:
        return None
    header = [plain_text(cell).strip().lower() for cell in rows[0]["table_row"]["cells"]]
    columns = [_COLUMNS.get(name) for name in header]
    if not {"label", "x", "y"} <= set(columns):
        return None
    unknown = [header[i] for i, c in enumerate(columns) if c is None and header[i]]
    if unknown:
        raise FormError(
            "the hotspot table",
            f"the column “{unknown[0]}” is not one a hotspot has; use id, label, x, y, "
            "radius and description",
        )
    return columns


def _hotspot(
    row: Block,
    place: str,
    columns: Sequence[str | None],
    unnamed: dict[int, list[str]],
    form: Form,
) -> dict[str, Any] | None:
    """One row of a hotspot table (None: an empty row); what a column without a name
    holds goes to `unnamed`, what plain text leaves out of a cell to `form.notes`."""
    raw = list(row["table_row"]["cells"])
    cells = [plain_text(cell).strip() for cell in raw]
    if not any(cells):
        return None
    spot: dict[str, Any] = {}
    for index, (column, value) in enumerate(zip(columns, cells, strict=False)):
        if column is None and value:
            unnamed.setdefault(index + 1, []).append(value)
        if column is None or not value:
            continue
        if column in _NUMBERS:
            spot[column] = _number(value, column, place)
            continue
        spot[column] = value
        _note_lost(row, raw[index], f"the {column} in {place}", "the section's text", form.notes)
    for needed in ("label", "x", "y"):
        if needed not in spot:
            raise FormError(place, f"the {needed} is empty; every hotspot needs one")
    return spot


def hotspots_setting(hotspots: Any) -> Any:
    """Hotspots without an id get one from their label."""
    if not isinstance(hotspots, list):
        return hotspots
    taken = {str(h["id"]) for h in hotspots if isinstance(h, dict) and "id" in h}
    return [
        {"id": item_id(h["label"], taken), **h}
        if isinstance(h, dict) and "id" not in h and isinstance(h.get("label"), str)
        else h
        for h in hotspots
    ]


def _number(value: str, column: str, place: str) -> int | float:
    text = value.replace(",", ".").removesuffix("px").strip()
    try:
        number = float(text)
    except ValueError:
        raise FormError(
            place,
            f"{column} “{value}” is not a number: write a number of pixels from the "
            "picture's top left corner, e.g. 120",
        ) from None
    return int(number) if number.is_integer() else number
