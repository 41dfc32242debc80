"""A section's settings code block -> JSON values, with the line of every setting.

A settings block becomes JSON in the module file, so it may hold JSON values only: text,
whole numbers within 64 bits, finite numbers, true/false, null, lists and mappings with
text keys. YAML is read as YAML 1.2 (`No` stays the word) from ruamel.yaml's parse
events, so an alias is refused before anything is built: no "billion laughs", no
self-referring value. Values are built here, without recursion, to a bounded depth.

Every value read keeps the line it was written on (`Settings.lines`, by JSON pointer),
so a problem found later, in the exported module, is reported on the block's line.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from pipeline.modules.problems import pointer

SETTINGS_MAX_DEPTH = 32
SETTINGS_MAX_BYTES = 64 * 1024
_INT64 = (-(2**63), 2**63 - 1)
_CORE = "tag:yaml.org,2002:"
_WHAT_SETTINGS_HOLD = "settings hold only text, numbers, true/false, null, lists and mappings"
_ANCHORS = "aliases and anchors (*name, &name) are not allowed in settings"


class SettingsRefused(ValueError):
    """A settings block that cannot be read: what is wrong and what to change, and the
    block's line it is on (None: the whole block)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Settings:
    value: Any
    lines: dict[str, int] = field(default_factory=dict)  # JSON pointer -> line (1-based)

    def line_of(self, at: str) -> int | None:
        """The line of the setting at `at` or of the nearest setting that holds it."""
        while True:
            if at in self.lines:
                return self.lines[at]
            if not at:
                return None
            at = at.rsplit("/", 1)[0]


def read_settings(source: str, language: str) -> Settings:
    """The value of a settings code block written in `language` ("json", or anything else:
    YAML 1.2, which JSON also is)."""
    size = len(source.encode("utf-8"))
    if size > SETTINGS_MAX_BYTES:
        raise SettingsRefused(
            f"the block is {round(size / 1024)} KiB; settings may be at most "
            f"{SETTINGS_MAX_BYTES // 1024} KiB. Move long text into the section's text"
        )
    if language == "json":
        value = _json_settings(source)
        try:  # where each value is, read again as YAML (JSON is YAML 1.2)
            lines = _yaml_settings(source).lines
        except SettingsRefused:
            lines = {}
        return Settings(value, lines)
    return _yaml_settings(source)


def _too_deep(line: int | None = None) -> SettingsRefused:
    return SettingsRefused(
        f"the settings are nested more than {SETTINGS_MAX_DEPTH} levels deep; flatten them",
        line,
    )


def _checked_int(number: int, text: str, line: int | None = None) -> int:
    if not _INT64[0] <= number <= _INT64[1]:
        raise SettingsRefused(
            f"the number {text[:30]}{'…' if len(text) > 30 else ''} is too large: whole "
            f"numbers must lie between {_INT64[0]} and {_INT64[1]}. Put it in quotes to keep "
            "it as text",
            line,
        )
    return number


def _json_settings(source: str) -> Any:
    """JSON through orjson first (it stops at a fixed depth instead of recursing without
    end), then, once the depth is known to be small, the standard parser for exact whole
    numbers and duplicate names."""
    import orjson

    try:
        shape = orjson.loads(source)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc).lower():
            raise _too_deep() from None
        raise SettingsRefused(
            f"this is not valid JSON ({exc.msg}); check the commas, quotes and brackets",
            exc.lineno,
        ) from None
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
                raise SettingsRefused(f"it names {key!r} twice; keep one")
            found[key] = value
        return found

    return json.loads(
        source, object_pairs_hook=unique, parse_int=lambda text: _checked_int(int(text), text)
    )


def _yaml_settings(source: str) -> Settings:
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
                builder.end(line)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise SettingsRefused(
            f"this is not valid YAML ({exc.problem or exc.context or 'unreadable'}); check the "
            "indentation, and that each setting is written as `name: value`",
            mark.line + 1 if mark else None,
        ) from None
    except YAMLError as exc:
        first = (str(exc).strip().splitlines() or ["unreadable"])[0]
        raise SettingsRefused(f"this is not valid YAML ({first})") from None
    return Settings(builder.root[0] if builder.root else None, builder.lines)


_NO_KEY: Any = object()


class _YAMLBuilder:
    """JSON values from parse events, without recursion and to a bounded depth; the line
    of each value by its JSON pointer."""

    def __init__(self) -> None:
        # Each open collection: [the list or dict, the key waiting for its value (dicts),
        # its pointer].
        self.stack: list[list[Any]] = []
        self.root: list[Any] = []
        self.documents = 0
        self.lines: dict[str, int] = {}

    def refuse_anchors(self, event: Any, line: int) -> None:
        from ruamel.yaml.events import AliasEvent

        if isinstance(event, AliasEvent):
            raise SettingsRefused(
                f"it uses the alias *{event.anchor}: {_ANCHORS}; write the value out in full",
                line,
            )
        if getattr(event, "anchor", None):
            raise SettingsRefused(
                f"it uses the anchor &{event.anchor}: {_ANCHORS}; remove it and write every "
                "value out in full",
                line,
            )

    def document(self, line: int) -> None:
        self.documents += 1
        if self.documents > 1:
            raise SettingsRefused("it holds more than one YAML document ('---'); keep one", line)

    def awaits_key(self) -> bool:
        return (
            bool(self.stack)
            and isinstance(self.stack[-1][0], dict)
            and (self.stack[-1][1] is _NO_KEY)
        )

    def _place(self, line: int) -> str:
        """The pointer of the value about to be added, its line noted."""
        if not self.stack:
            at = ""
        else:
            container, key, where = self.stack[-1]
            at = (
                f"{where}/{len(container)}" if isinstance(container, list) else where + pointer(key)
            )
        self.lines.setdefault(at, line)
        return at

    def start(self, event: Any, line: int) -> None:
        from ruamel.yaml.events import MappingStartEvent

        is_map = isinstance(event, MappingStartEvent)
        if event.tag not in (None, "!", _CORE + ("map" if is_map else "seq")):
            raise _tag_refused(str(event.tag), line)
        if self.awaits_key():
            raise SettingsRefused(
                "it uses a list or mapping as a key; keys must be text, like `name:`", line
            )
        if len(self.stack) >= SETTINGS_MAX_DEPTH:
            raise _too_deep(line)
        at = self._place(line)
        self.stack.append([{} if is_map else [], _NO_KEY, at])

    def end(self, line: int) -> None:
        container = self.stack.pop()[0]
        self._store(container, line)

    def add(self, value: Any, line: int) -> None:
        if self.awaits_key():
            self._key(value, line)
            return
        self._place(line)
        self._store(value, line)

    def _key(self, value: Any, line: int) -> None:
        top = self.stack[-1]
        if not isinstance(value, str):
            shown = _shown(value)
            raise SettingsRefused(
                f'the key {shown} is not text; put it in quotes, like "{shown}"',
                line,
            )
        if value in top[0]:
            raise SettingsRefused(f"it names {value!r} twice; keep one", line)
        top[1] = value
        self.lines[top[2] + pointer(value)] = line

    def _store(self, value: Any, line: int) -> None:
        if not self.stack:
            self.root.append(value)
            return
        top = self.stack[-1]
        container, key = top[0], top[1]
        if isinstance(container, list):
            container.append(value)
        else:
            container[key] = value
            top[1] = _NO_KEY


def _shown(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)


def _tag_refused(tag: str, line: int) -> SettingsRefused:
    shown = "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
    return SettingsRefused(
        f"it uses the YAML tag {shown}: {_WHAT_SETTINGS_HOLD}. Remove the tag", line
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
        raise SettingsRefused(f"{value!r} is not a whole number", line) from None
    return _checked_int(-number if text.startswith("-") else number, value, line)


def _yaml_float(value: str, line: int) -> float:
    try:
        number = float(value.replace("_", ""))
    except ValueError:
        number = math.inf
    if not math.isfinite(number):
        raise SettingsRefused(
            f"{value!r} is not a finite number; write a number like 0.5 or 1e6", line
        )
    return number
