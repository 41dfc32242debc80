"""When a section is complete, however a team lead writes it -> the module's
`completion_criteria` (`{"type": ..., ...}`).

Accepted, with or without `type`, in the settings block (`completion_criteria: ...`) or as
a line among the section's first paragraphs (`Complete when: 5 hotspots clicked`):

    view        viewed | opened | seen | true
    time        2 minutes | after 90 seconds | 1:30 | {time: 2 minutes} | {value: 120}
    hotspots    5 hotspots clicked | all hotspots | {hotspots_clicked: 5}
    tasks       tasks: glasses, shoes | all items checked | [glasses, shoes] | {tasks: [...]}
    score       score 80% | 80% correct | {min_score: 0.8} | {min_score: 80%}

A bare number is read as the one thing it can mean in the section (seconds in a text
section); where it could mean two (5 hotspots or 5 seconds in a hotspot section, 80%
or 80 seconds in a quiz), it is an error that shows both readings. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_DURATION = re.compile(
    r"^(?:(?P<clock>\d+):(?P<secs>[0-5]\d)|(?P<n>\d+(?:\.\d+)?)\s*"
    r"(?P<unit>s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?)?)$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_VIEW = {"view", "viewed", "opened", "open", "seen", "read", "when opened", "on view", "visited"}
_HOTSPOTS = re.compile(
    r"^(?:(?:after\s+)?(?:clicking|finding|visiting)\s+)?(?P<n>\d+)\s+hotspots?"
    r"(?:\s+(?:are\s+|have\s+been\s+)?(?:clicked|found|visited|opened))?$"
)
_ALL_HOTSPOTS = re.compile(
    r"^(?:(?:after\s+)?(?:clicking|finding|visiting)\s+)?(?:all|every)\s+(?:the\s+)?hotspots?"
    r"(?:\s+(?:are\s+|have\s+been\s+)?(?:clicked|found|visited|opened))?$"
)
_SCORE = re.compile(
    r"^(?:an?\s+)?(?:(?:min(?:imum)?|pass(?:ing)?)\s+)?(?:score|mark|grade)(?:\s+of)?"
    r"(?:\s+at\s+least)?\s*[:=]?\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<pct>%|percent)?"
    r"(?:\s+or\s+(?:more|better|higher))?$"
    r"|^(?:at\s+least\s+)?(?P<n2>\d+(?:\.\d+)?)\s*(?P<pct2>%|percent)\s*"
    r"(?:correct|right|score|or\s+(?:more|better|higher))?$"
)
_ALL_ITEMS = re.compile(
    r"^(?:all|every)\s+(?P<required>required\s+)?(?:the\s+)?(?:items?|tasks?|steps?|boxes)"
    r"(?:\s+(?:are\s+|have\s+been\s+)?(?:checked|ticked|done|completed|finished))?$"
)
_TASKS = re.compile(r"^(?:tasks?|items?|steps?)\s*(?::|=)?\s*(?P<ids>.+?)(?:\s+done)?$")
_TIME_WORDS = re.compile(
    r"^(?:(?:after|spent|spending|time|reading(?:\s+for)?|viewed\s+for|at\s+least)\s+)+"
)

_KEYS = {
    "hotspots_clicked": "hotspots",
    "hotspots": "hotspots",
    "min_score": "score",
    "score": "score",
    "pass_score": "score",
    "tasks": "tasks",
    "items": "tasks",
    "value": "time",
    "seconds": "time",
    "minutes": "time",
    "time": "time",
    "duration": "time",
    "view": "view",
    "viewed": "view",
}
_TYPES = {
    "view": "view",
    "viewed": "view",
    "time": "time",
    "duration": "time",
    "seconds": "time",
    "hotspots": "hotspots",
    "hotspot": "hotspots",
    "tasks": "tasks",
    "task": "tasks",
    "items": "tasks",
    "checklist": "tasks",
    "score": "score",
    "quiz": "score",
    "min_score": "score",
}
EXAMPLES = (
    "Complete when: 5 hotspots clicked",
    "Complete when: score 80%",
    "Complete when: 2 minutes",
    "Complete when: all items checked",
    "Complete when: viewed",
)


class CriteriaError(ValueError):
    """Completion criteria that cannot be read, or can be read two ways; the message says
    what to write instead."""


@dataclass(frozen=True)
class Context:
    """What a section holds that completion criteria can refer to."""

    section_type: str
    hotspots: int = 0
    item_ids: tuple[str, ...] = ()  # checklist items, tasks and hotspots: "all items"
    required_ids: tuple[str, ...] = ()


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


def from_line(text: str, context: Context) -> dict[str, Any]:
    """The criteria a "Complete when: ..." line (or a text setting) describes."""
    said = " ".join(text.strip().rstrip(".").split())
    words = said.lower()
    for reader in _LINE_READERS:
        found = reader(said, words, context)
        if found is not None:
            return found
    raise CriteriaError(
        f"cannot tell when the section is complete from “{said}”; write it like one of: "
        + "; ".join(f"“{e}”" for e in EXAMPLES)
    )


def _view(_said: str, words: str, _context: Context) -> dict[str, Any] | None:
    return {"type": "view"} if words in _VIEW else None


def _hotspot_line(said: str, words: str, context: Context) -> dict[str, Any] | None:
    if match := _HOTSPOTS.match(words):
        return _hotspots(int(match["n"]))
    if not _ALL_HOTSPOTS.match(words):
        return None
    if not context.hotspots:
        raise CriteriaError(
            f"“{said}”: the section has no hotspots yet; add them (a table or the settings "
            "block), or say how many, e.g. “Complete when: 5 hotspots clicked”"
        )
    return _hotspots(context.hotspots)


def _score_line(_said: str, words: str, _context: Context) -> dict[str, Any] | None:
    match = _SCORE.match(words)
    if match is None:
        return None
    number = match["n"] or match["n2"]
    return _score(number, percent=bool(match["pct"] or match["pct2"]) or float(number) > 1)


def _all_items_line(said: str, words: str, context: Context) -> dict[str, Any] | None:
    match = _ALL_ITEMS.match(words)
    if match is None:
        return None
    ids: Sequence[str] = context.required_ids if match["required"] else context.item_ids
    if not ids:
        raise CriteriaError(
            f"“{said}”: the section has no items or tasks yet; add them first, or name them, "
            "e.g. “Complete when: tasks glasses, shoes”"
        )
    return {"type": "tasks", "tasks": list(ids)}


def _number_line(said: str, words: str, context: Context) -> dict[str, Any] | None:
    if not _NUMBER.match(words):
        return None
    return _number(float(words) if "." in words else int(words), said, context)


def _time_line(said: str, words: str, _context: Context) -> dict[str, Any] | None:
    seconds = parse_duration(_TIME_WORDS.sub("", words))
    return None if seconds is None else _time(seconds, said)


def _tasks_line(said: str, words: str, _context: Context) -> dict[str, Any] | None:
    match = _TASKS.match(words)
    if match is None:
        return None
    ids = [part.strip() for part in re.split(r"[,;]|\s+and\s+", said[match.start("ids") :])]
    return _tasks([part for part in ids if part], said)


_LINE_READERS = (
    _view,
    _hotspot_line,
    _score_line,
    _all_items_line,
    _number_line,
    _time_line,
    _tasks_line,
)


def from_setting(value: Any, context: Context) -> dict[str, Any]:
    """The criteria a settings block's `completion_criteria` value describes."""
    if value is True:
        return {"type": "view"}
    if isinstance(value, bool) or value is None:
        raise CriteriaError(
            f"completion_criteria is {str(value).lower()}; remove it, or say when the section "
            "is complete, e.g. `completion_criteria: 2 minutes`"
        )
    if isinstance(value, int | float):
        return _number(value, str(value), context)
    if isinstance(value, str):
        return from_line(value, context)
    if isinstance(value, list):
        return _tasks([str(v) for v in value], "the list")
    if not isinstance(value, dict):
        raise CriteriaError("completion_criteria must be a value or name: value lines")
    return _mapping(dict(value), context)


def _mapping(value: dict[str, Any], context: Context) -> dict[str, Any]:
    given = value.pop("type", None)
    if given is not None:
        kind = _TYPES.get(str(given).strip().lower().replace(" ", "_"))
        if kind is None:
            raise CriteriaError(
                f"the completion type “{given}” is not one the LMS knows; use view, time, "
                "hotspots, tasks or score (or leave the type out)"
            )
        kinds = {kind}
    else:
        unknown = sorted(k for k in value if k not in _KEYS)
        if unknown:
            raise CriteriaError(
                f"completion_criteria has {', '.join(unknown)}, which it does not take; write "
                "one of hotspots_clicked, min_score, tasks, time (or value, in seconds), view"
            )
        kinds = {_KEYS[k] for k in value}
        if len(kinds) > 1:
            readings = [_reading(k, value) for k in sorted(kinds)]
            raise CriteriaError(
                "completion_criteria can be read "
                f"{len(readings)} ways: {', or '.join(readings)}. Keep the one you mean"
            )
        if not kinds:
            raise CriteriaError(
                "completion_criteria is empty; say when the section is complete, e.g. "
                "`completion_criteria: {hotspots_clicked: 5}`"
            )
    kind = kinds.pop()
    fields = {k: v for k, v in value.items() if _KEYS.get(k) == kind}
    extra = sorted(set(value) - set(fields))
    if extra:
        raise CriteriaError(
            f"completion_criteria of type {kind} does not take {', '.join(extra)}; remove it"
        )
    return _build(kind, fields, context)


def _build(kind: str, fields: dict[str, Any], context: Context) -> dict[str, Any]:
    value = next(iter(fields.values()), None)
    if kind == "view":
        return {"type": "view"}
    if kind == "hotspots":
        return _hotspots_value(value, context)
    if kind == "score":
        text = str(value).strip()
        number = text.rstrip("%").strip()
        if not _NUMBER.match(number):
            raise CriteriaError(f"the score must be a number like 0.8 or 80%, not “{value}”")
        return _score(number, percent=text.endswith("%") or float(number) > 1)
    if kind == "tasks":
        if isinstance(value, str):
            line = value if value.lower().startswith("all") else f"tasks {value}"
            return from_line(line, context)
        if not isinstance(value, list):
            raise CriteriaError("tasks must be a list of item or task ids, e.g. [glasses, shoes]")
        return _tasks([str(t) for t in value], "tasks")
    return _time_value(next(iter(fields)), value)


def _hotspots_value(count: Any, context: Context) -> dict[str, Any]:
    if count is None or (isinstance(count, str) and count.strip().lower() in ("all", "every")):
        return _hotspots_all(context)
    if not isinstance(count, int) or isinstance(count, bool):
        raise CriteriaError(
            f"the number of hotspots to click must be a whole number, not “{count}”"
        )
    return _hotspots(count)


def _time_value(name: str, amount: Any) -> dict[str, Any]:
    number = isinstance(amount, int | float) and not isinstance(amount, bool)
    if name == "minutes" and number:
        return _time(round(amount * 60), str(amount))
    if isinstance(amount, int) and number:
        return _time(amount, str(amount))
    seconds = parse_duration(str(amount))
    if seconds is None:
        raise CriteriaError(f"cannot read the time “{amount}”; write e.g. 2 minutes or 90 seconds")
    return _time(seconds, str(amount))


def _reading(kind: str, value: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}: {v}" for k, v in value.items() if _KEYS.get(k) == kind)
    return {
        "hotspots": f"a number of hotspots clicked ({shown})",
        "score": f"a quiz score ({shown})",
        "tasks": f"tasks done ({shown})",
        "time": f"time spent ({shown})",
        "view": f"opening the section ({shown})",
    }[kind]


def _number(value: float, said: str, context: Context) -> dict[str, Any]:
    """A bare number: what it can mean in this section."""
    readings: list[tuple[str, str]] = []
    whole = isinstance(value, int) or float(value).is_integer()
    if context.section_type == "interactive" and whole and value >= 1:
        readings.append((f"{int(value)} hotspots clicked", f"{int(value)} hotspots clicked"))
    if context.section_type in ("quiz", "game") and 0 < value <= 100:
        shown = f"{value:g}%" if value > 1 else f"{value * 100:g}%"
        readings.append((f"a score of {shown}", f"score {shown}"))
    if whole and value >= 1:
        readings.append((f"{int(value)} seconds spent on the section", f"{int(value)} seconds"))
    if len(readings) == 1:
        return from_line(readings[0][1], context)
    if not readings:
        raise CriteriaError(f"cannot tell when the section is complete from “{said}”")
    raise CriteriaError(
        f"“{said}” can mean {', or '.join(r for r, _ in readings)}. Write the one you mean: "
        + " or ".join(f"“Complete when: {line}”" for _, line in readings)
    )


def _hotspots(count: int) -> dict[str, Any]:
    if count < 1:
        raise CriteriaError("the number of hotspots to click must be at least 1")
    return {"type": "hotspots", "hotspots_clicked": count}


def _hotspots_all(context: Context) -> dict[str, Any]:
    if not context.hotspots:
        raise CriteriaError("the section has no hotspots yet; add them, or say how many to click")
    return _hotspots(context.hotspots)


def _score(number: str, *, percent: bool) -> dict[str, Any]:
    value = float(number)
    if percent:
        value /= 100
    if not 0 <= value <= 1:
        raise CriteriaError(
            f"a score of {number}{'%' if percent else ''} cannot be reached; write a score "
            "between 0% and 100%, e.g. “score 80%”"
        )
    score: float | int = int(value) if value in (0, 1) else round(value, 4)
    return {"type": "score", "min_score": score}


def _time(seconds: int, said: str) -> dict[str, Any]:
    if seconds < 1:
        raise CriteriaError(f"“{said}” is no time at all; write e.g. 2 minutes")
    return {"type": "time", "value": seconds}


def _tasks(ids: Sequence[str], said: str) -> dict[str, Any]:
    unique = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if not unique:
        raise CriteriaError(f"{said} names no task; name the item or task ids, e.g. glasses, shoes")
    return {"type": "tasks", "tasks": unique}
