"""YAML a person wrote (pipeline.yaml, data/reference.yaml), read into plain data.

These files are written by hand or pasted, and their paths are named on the command
line, so anything may be in them or behind them: a FIFO (reading would wait forever)
or a device (reading would never end), nesting deep enough to exhaust Python's
stack, an alias that refers to itself or expands a billion-fold, tags that make
bytes, sets or dates, escapes that make half a UTF-16 surrogate pair (no encoder
takes it: it crashes whatever prints or sends it) or a NUL (which Postgres refuses).
`read_yaml` turns each into the caller's error, naming the file and the place in it,
before the data reaches a schema, a dataclass or the database; what it returns holds
only None, text, numbers, booleans, lists and mappings with text keys.

It follows symbolic links, unlike the module files' reader (modules/parse.py): those
are found by walking a folder a pull request can fill, these are named by the person
running the command or are the repository's own pipeline.yaml. Its size limit and
messages are its own too, as these are YAML files and not module files.

PyYAML is imported here, and this module is imported only by what reads such a file,
so that commands that never do (status, validate) skip the import.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import Node

from pipeline.errors import PipelineError, UsageError
from pipeline.files import READ_FLAGS, NotAFile, TooBig, read_regular

MAX_BYTES = 4 * 1024 * 1024  # thousands of reference rows; PyYAML reads about 0.5 MB/s
# Deeper than any setting or row (learn.properties.flashcards.front: 4), shallow enough that
# PyYAML's composer, which recurses a few frames per level, stays far from the stack limit.
MAX_DEPTH = 32
# Values counted with each alias (*name) expanded where it is used, as the schema and the
# database see them: a billion-fold alias (a few lines) stops here, a real file never does.
MAX_VALUES = 1_000_000
MAX_PROBLEMS = 20  # listed in one message; the rest counted
_TOO_DEEP = f"values are nested more than {MAX_DEPTH} deep; no setting or row needs that"

# What no text column takes and no UTF-8 encoder writes: NUL and the surrogate halves.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_CORE_TAG = "tag:yaml.org,2002:"
# Kinds of value only a tag makes (!!binary, !!set, !!omap / !!pairs), in words.
_TAGGED_KINDS: dict[type, str] = {
    bytes: "bytes",
    set: "a set",
    tuple: "a pair (of !!omap or !!pairs)",
}


def read_yaml(path: Path, error: type[PipelineError]) -> Any:
    """The data in the YAML file at `path`, or `error` (UsageError for configuration,
    ContentError for content) saying what is wrong and where; UsageError when there is
    no such file, which is a wrong path on the command line."""
    data = _parse(_text(path, error), path, error)
    problems = _Walk().problems_of(data)
    if problems:
        raise error(f"{path}: " + "; ".join(problems))
    return data


def place(where: Sequence[str | int]) -> str:
    """faculty[2].email, as a person would name the place in the YAML; a key that is not
    plain printable text is shown quoted, with escapes, so that a message stays printable."""
    text = ""
    for part in where:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        key = part if part.isprintable() and part.strip() == part else json.dumps(part)
        text += f".{key}" if text else key
    return text or "the top level"


# -- The file ---------------------------------------------------------------------------------


def _text(path: Path, error: type[PipelineError]) -> str:
    """The file's text: a regular file's, at most MAX_BYTES of UTF-8."""
    try:
        handle = os.open(path, READ_FLAGS)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file; check the path") from None
    except OSError as exc:
        raise error(f"{path}: {_unreadable(exc)}") from None
    try:
        raw = _read_regular(handle, path, error)
    finally:
        os.close(handle)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise error(
            f"{path}: line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8"
        ) from None


def _read_regular(handle: int, path: Path, error: type[PipelineError]) -> bytes:
    """The bytes of an open file, refused unread when it is not a regular file or is
    larger than MAX_BYTES."""
    try:
        return read_regular(handle, MAX_BYTES)
    except NotAFile:
        raise error(
            f"{path}: not a regular file (a pipe, device or folder); it must be a plain YAML file"
        ) from None
    except TooBig as exc:
        raise error(f"{path}: {_too_big(exc.size)}") from None
    except OSError as exc:
        raise error(f"{path}: {_unreadable(exc)}") from None


def _unreadable(exc: OSError) -> str:
    reason = exc.strerror or type(exc).__name__
    return f"cannot read the file ({reason}); check that it exists and is readable"


def _too_big(size: int) -> str:
    return (
        f"the file is {size / 1_048_576:.1f} MB or more; a YAML file the pipeline reads "
        f"may be at most {MAX_BYTES // 1_048_576} MB. Check that it is the right file"
    )


# -- Its YAML ---------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, which also limits nesting while it composes (where it
    recurses), and makes a value that its tag cannot make (`!!bool maybe`, `2024-13-45`,
    an int of 5,000 digits) a YAML error at the value's place, where the constructor
    raises KeyError, AttributeError or ValueError."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self._depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]  # untyped stub
            raise ComposerError(None, None, _TOO_DEEP, mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError):
            kind = node.tag.removeprefix(_CORE_TAG)
            problem = f"YAML reads this value as a {kind}, and it is not one; put it in quotes"
            raise ConstructorError(None, None, problem, node.start_mark) from None


def _parse(text: str, path: Path, error: type[PipelineError]) -> Any:
    try:
        loader = _Loader(text)  # checks that every character is one YAML allows
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise error(f"{path}: {_yaml_problem(exc, text)}") from None


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """PyYAML's error as one line: where, what, and in what (`exc` has it over several)."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return f"line {line}: not readable YAML: the character U+{code:04X} is not allowed"
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem_mark is None:
        return f"not readable YAML ({exc})"
    where = _at(exc.problem_mark)
    context = ""
    if exc.context and exc.context_mark is not None:
        context = f" ({exc.context} at {_at(exc.context_mark)})"
    return f"{where}: not readable YAML: {exc.problem}{context}"


def _at(mark: yaml.Mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


# -- What it holds ----------------------------------------------------------------------------


class _Walk:
    """One walk over loaded data: what JSON (and the database) cannot hold, by place."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.values = 0
        self.holding: set[int] = set()  # the lists and mappings around the current value

    def problems_of(self, data: Any) -> list[str]:
        """Every problem's text, up to MAX_PROBLEMS of them and a count of the rest."""
        try:
            self._visit(data, [])
        except _TooMany:
            self.problems.append(
                f"the file holds more than {MAX_VALUES:,} values, counting each use of an "
                "alias (*name) in full; use fewer aliases, or check that it is the right file"
            )
        listed = self.problems[:MAX_PROBLEMS]
        if len(self.problems) > MAX_PROBLEMS:
            listed.append(f"and {len(self.problems) - MAX_PROBLEMS} more")
        return listed

    def _visit(self, value: Any, where: list[str | int]) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise _TooMany
        if isinstance(value, dict | list):
            self._visit_collection(value, where)
        elif isinstance(value, str):
            self._text(value, where, "the text")
        elif isinstance(value, float) and not math.isfinite(value):
            self._add(where, f"YAML reads {value} as a number that is not finite; write a number")
        elif not isinstance(value, int | float | None):
            self._add(where, _not_json(value))

    def _visit_collection(self, value: dict[Any, Any] | list[Any], where: list[str | int]) -> None:
        if id(value) in self.holding:
            self._add(
                where,
                "an alias here refers to a value that holds it, so the value would never "
                "end; refer to a value outside it, or write the values out",
            )
            return
        if len(where) >= MAX_DEPTH:
            self._add(where, f"{_TOO_DEEP} (through aliases)")
            return
        self.holding.add(id(value))
        if isinstance(value, list):
            for index, item in enumerate(value):
                self._visit(item, [*where, index])
        else:
            for key, item in value.items():
                if not isinstance(key, str):
                    self._add(where, f"the key {key!r} is not text; put it in quotes")
                    continue
                self._text(key, where, f"the key {json.dumps(key)}")
                self._visit(item, [*where, key])
        self.holding.discard(id(value))

    def _text(self, text: str, where: list[str | int], what: str) -> None:
        """A problem when `text` could be neither stored nor printed."""
        found = _UNSTORABLE.search(text)
        if found is None:
            return
        character = found.group()
        if character == "\0":
            self._add(
                where, f"{what} holds a NUL character (\\0), which no text can store; remove it"
            )
        else:
            self._add(
                where,
                f"{what} holds \\u{ord(character):04x}, half of a UTF-16 surrogate pair, which "
                "YAML does not join to the other half; write the character itself, or its "
                "\\U escape of 8 digits (\\U0001F600 for \\ud83d\\ude00)",
            )

    def _add(self, where: list[str | int], problem: str) -> None:
        self.problems.append(f"{place(where)}: {problem}")


class _TooMany(Exception):
    """The walk met more than MAX_VALUES values."""


def _not_json(value: object) -> str:
    if isinstance(value, datetime.date):
        return f"YAML reads {value} as a date; put it in quotes"
    kind = _TAGGED_KINDS.get(type(value), f"a {type(value).__name__}")
    return f"YAML reads this value as {kind}; write text, a number, a list or a mapping"
