"""Reading a module file into Python data, and mapping JSON pointers back to
line and column.

Every way a file can be unreadable becomes one Problem that names the place,
never an exception: a reviewer sees "line 3, column 7: ..." on the PR diff
instead of a stack trace.
"""

from __future__ import annotations

import bisect
import errno
import json
import os
import re
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]  # not in typeshed
from pathlib import Path
from typing import Any

import json_source_map
import orjson

from pipeline.files import READ_FLAGS, NotAFile, TooBig, read_regular
from pipeline.modules.problems import Problem, pointer

MAX_FILE_BYTES = 2 * 1024 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """A module file that parsed to a JSON object."""

    path: Path
    display: str
    text: str
    data: dict[str, Any]

    @property
    def stem(self) -> str:
        return self.path.stem


def read_module_file(path: Path, display: str) -> tuple[ParsedFile | None, list[Problem]]:
    """Read and parse one file; on failure return the Problems that explain why."""
    raw, problem = read_bytes(path, display)
    if problem is not None:
        return None, [problem]
    return parse_module_bytes(raw, path, display)


# Never follow a symbolic link unasked (read_bytes decides), never block on a FIFO.
_READ_FLAGS = READ_FLAGS | getattr(os, "O_NOFOLLOW", 0)


def read_bytes(
    path: str | Path, display: str, root: str | None = None
) -> tuple[bytes, Problem | None]:
    """The file's bytes, read safely: only a regular file (never a FIFO or a device,
    which would hang or never end), not through a symlink that leads out of `root`,
    and never more than the size limit and one byte.

    `path` may be a plain string: the per-file checks pass one, a Path costs 2 µs."""
    try:
        try:
            handle = os.open(path, _READ_FLAGS)
        except OSError as exc:
            if exc.errno != errno.ELOOP or root is None:
                raise
            # A symbolic link (O_NOFOLLOW refused it): followed only within the repository.
            target = os.path.realpath(path)
            if os.path.commonpath([target, os.path.realpath(root)]) != os.path.realpath(root):
                return b"", Problem(
                    display,
                    "the file is a symbolic link to a place outside the repository; "
                    "put the module file itself here",
                    "read",
                )
            handle = os.open(target, _READ_FLAGS)
        try:
            return read_regular(handle, MAX_FILE_BYTES), None
        except NotAFile:
            return b"", Problem(
                display,
                "not a regular file (a pipe, device or folder); a module file is a "
                "plain .json file",
                "read",
            )
        except TooBig as exc:
            return b"", Problem(display, _too_big(exc.size), "size")
        finally:
            os.close(handle)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        message = f"cannot read the file ({reason}); check that it exists and is readable"
        return b"", Problem(display, message, "read")


def parse_module_bytes(
    raw: bytes, path: Path, display: str
) -> tuple[ParsedFile | None, list[Problem]]:
    """Parse a module file's bytes into a JSON object, or say why they are not one."""
    parsed, problems = parse_object(raw, display)
    if parsed is None:
        return None, problems
    text, data = parsed
    return ParsedFile(path, display, text, data), problems


def parse_object(
    raw: bytes, display: str
) -> tuple[tuple[str, dict[str, Any]] | None, list[Problem]]:
    """parse_module_bytes without a Path: (text, data), or None and why not."""
    text, problem = _decode(raw, display)
    if problem is not None:
        return None, [problem]
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, [_json_error(exc, text, display)]
    if not isinstance(data, dict):
        found = "an array" if isinstance(data, list) else f"a {type(data).__name__}"
        return None, [
            Problem(display, f"the top level must be a JSON object {{...}}, found {found}", "json")
        ]
    if _in_exported_form(raw, data):  # what orjson read is exactly what was written
        return (text, data), []
    return (text, data), _read_differently(raw, text, data, display)


def _in_exported_form(raw: bytes, data: Any) -> bool:
    """Whether `raw` is what the export writes of `data`, byte for byte: then the parse
    dropped nothing, neither a repeated key nor a digit. Most files are (every exported
    one), and for them this one comparison replaces the tests below."""
    try:
        return raw == orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
    except TypeError:  # nested deeper than orjson writes
        return False


def _read_differently(raw: bytes, text: str, data: Any, display: str) -> list[Problem]:
    """What the text says that the parsed data does not hold: a key written twice (the
    last one counts), an integer too wide to keep (read as a float)."""
    problems = duplicate_key_problems(text, display) if _colons_may_differ(raw, data) else []
    if _may_hold_wide_integers(text):
        problems += wide_integer_problems(text, display)
    return problems


def file_stem(path: str) -> str:
    """Path(path).stem, without building a Path for a module file (2 µs a file): when
    the last part of the path ends in ".json" after something, every Python takes
    that something as the stem."""
    name = os.path.basename(path)
    if name.endswith(".json") and len(name) > len(".json"):
        return name[: -len(".json")]
    return Path(path).stem


def _decode(raw: bytes, display: str) -> tuple[str, Problem | None]:
    """The file's text, or the one Problem that says why it has none."""
    reason = None
    if len(raw) > MAX_FILE_BYTES:
        reason = _too_big(len(raw))
    elif raw.startswith(_UTF8_BOM):
        reason = "the file starts with a UTF-8 byte order mark (BOM); save it as UTF-8 without BOM"
    elif raw.startswith(_UTF16_BOMS):
        reason = "the file is UTF-16; save it as UTF-8"
    elif not raw.strip():
        reason = "the file is empty; a module file holds one JSON object"
    if reason:
        check = "json" if "empty" in reason else "size" if "MB" in reason else "encoding"
        return "", Problem(display, reason, check)
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line, column = _byte_position(raw, exc.start)
        message = f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; save the file as UTF-8"
        return "", Problem(display, message, "encoding", line=line, column=column)


def _too_big(size: int) -> str:
    return (
        f"the file is {size / 1_048_576:.1f} MB or more; a module file may be at most "
        f"{MAX_FILE_BYTES // 1_048_576} MB. Move large media into data/assets/ and refer "
        "to it by path"
    )


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, offset) + 1
    column = len(raw[raw.rfind(b"\n", 0, offset) + 1 : offset].decode("utf-8", "replace")) + 1
    return line, column


def _json_error(exc: orjson.JSONDecodeError, text: str, display: str) -> Problem:
    message = exc.msg.split(": line ")[0]
    if "recursion limit" in message or "depth limit" in message:
        message = "values are nested too deeply"
    line, column = _char_position(text, exc.pos)
    return Problem(display, f"not valid JSON: {message}", "json", line=line, column=column)


def _char_position(text: str, pos: int) -> tuple[int, int]:
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


# A regular expression finds these three times faster than `b"\\u" in raw`: the
# backslash it looks for first is rarer than the "u" bytes.find checks at each step.
_UNICODE_ESCAPE = re.compile(rb"\\u")


# The integers orjson keeps exactly: it reads any other as a float, dropping digits.
# Only an integer of 19 digits or more can be one.
_EXACT_INTEGERS = range(-(2**63), 2**64)
_LONG_NUMBER = re.compile("[0-9]" * 19)  # written out: twice as fast as [0-9]{19}
_BEFORE_A_NUMBER = frozenset(" \t\r\n-")


def _may_hold_wide_integers(text: str) -> bool:
    """False when no number in the JSON text has 19 digits or more. A run of 19 digits is
    a number when what comes before it (past a minus sign and spaces) starts a value, as
    ":", "[" or "," do; in a string (a Notion page id of digits) something else does."""
    for match in _LONG_NUMBER.finditer(text):
        before = match.start() - 1
        while before >= 0 and text[before] in _BEFORE_A_NUMBER:
            before -= 1
        if before < 0 or text[before] in ":[,":
            return True
    return False


def wide_integer_problems(text: str, display: str) -> list[Problem]:
    """Integers too wide to be kept as written: they would reach students as a float
    (123456789012345678901234567890 as 1.2345678901234568e+29), digits silently lost.
    Each is placed at its line and column; digits in a string are text, and kept."""
    problems = []
    strings: list[int] | None = None  # where each string starts and ends, in turn
    for match in _INTEGER.finditer(text):
        literal = match[1]
        if not _too_wide(literal):
            continue
        if strings is None:  # one pass over the text, only for a file that has such digits
            strings = [edge for found in _STRING.finditer(text) for edge in found.span()]
        if bisect.bisect_right(strings, match.start(1)) % 2:  # after a start, not its end
            continue
        line, column = _char_position(text, match.start(1))
        problems.append(
            Problem(
                display,
                f"the number {literal[:40]}{'…' if len(literal) > 40 else ''} has more digits "
                f"than the pipeline keeps exactly (it would be stored as {float(literal)!r}); "
                "write it in quotes, as text, or with fewer digits",
                "json",
                line=line,
                column=column,
            )
        )
    return problems


# An integer literal of 19 digits or more, not followed by a fraction or an exponent.
_INTEGER = re.compile(r"(?<![0-9.eE+-])(-?[0-9]{19,})(?![0-9.eE])")
# A JSON string, escapes and all (the text is valid JSON: orjson read it).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def _too_wide(literal: str) -> bool:
    """Whether an integer literal lies outside _EXACT_INTEGERS; without converting one of
    thousands of digits, which Python refuses."""
    digits = len(literal) - literal.startswith("-")
    return digits > len(str(_EXACT_INTEGERS.stop)) or int(literal) not in _EXACT_INTEGERS


def may_have_duplicate_keys(source: str | bytes, data: Any) -> bool:
    """Fast test: False means the text certainly repeats no key.

    Files the export writes are exactly its form: equal bytes, so nothing was dropped
    (orjson never writes a key twice). Asked first: most files are such, and for them
    the test of colons below is not needed."""
    raw = source.encode() if isinstance(source, str) else source
    return not _in_exported_form(raw, data) and _colons_may_differ(raw, data)


def _colons_may_differ(raw: bytes, data: Any) -> bool:
    """may_have_duplicate_keys of a text not in the exported form.

    Every colon in JSON text is a key separator or part of a string, and
    re-serialising the parsed data keeps both exactly, except the pairs a
    repeated key dropped. So fewer colons after the round trip means a
    duplicate. A \\u escape could spell a colon differently: then "maybe".
    """
    if _UNICODE_ESCAPE.search(raw):
        return True
    try:
        return raw.count(b":") != orjson.dumps(data).count(b":")
    except TypeError:  # nested deeper than orjson writes
        return True


def duplicate_key_problems(text: str, display: str) -> list[Problem]:
    """JSON allows repeated keys and keeps the last; a reviewer would read the first.

    orjson drops duplicates silently, so a second parse with the stdlib looks
    for them (callers first ask may_have_duplicate_keys). Only when it finds
    one is the text scanned again, for where each second occurrence stands.
    """
    objects: list[list[tuple[str, Any]]] = []
    try:
        # The hook is a C method: collecting each object's pairs costs little.
        json.loads(text, object_pairs_hook=objects.append)
    except RecursionError:
        pass  # too deep for the stdlib: the scanner below never recurses
    except ValueError:
        return []
    else:
        if all(len(dict(pairs)) == len(pairs) for pairs in objects):
            return []
    problems = []
    for key, offset in repeated_keys(text):
        line, column = _char_position(text, offset)
        problems.append(
            Problem(
                display,
                f"the key {json.dumps(key)} appears twice in one object; "
                "only the last one counts. Keep one",
                "json",
                line=line,
                column=column,
            )
        )
    return problems


_STRUCTURE = re.compile(r'[{}\[\]"]')
_THEN_COLON = re.compile(r"[ \t\n\r]*:")


def repeated_keys(text: str) -> list[tuple[str, int]]:
    """Each key an object of valid JSON `text` repeats, with the offset of the opening
    quote of its second occurrence in that object, in text order.

    Keys compare as decoded ("a\\u0062" is "ab"). Strings are read whole by the
    stdlib's scanner, so what is inside them never counts; numbers, literals, commas
    and colons are skipped over in one search each.
    """
    found: list[tuple[str, int]] = []
    seen: list[dict[str, int]] = []  # per open object or array: how often each key came
    position = 0
    while match := _STRUCTURE.search(text, position):
        start = match.start()
        char = text[start]
        if char == '"':
            value, position = scanstring(text, start + 1)
            if _THEN_COLON.match(text, position):  # a key, not a value
                counts = seen[-1]
                count = counts.get(value, 0)
                if count == 1:
                    found.append((value, start))
                counts[value] = count + 1
        elif char in "{[":
            seen.append({})
            position = start + 1
        else:
            seen.pop()
            position = start + 1
    return found


def locate(problems: list[Problem], text: str) -> list[Problem]:
    """Give each pointer-addressed Problem the line and column of its value."""
    targets = [p for p in problems if p.pointer or p.at_key]
    if not targets:
        return problems
    try:
        source_map = json_source_map.calculate(text)
    except (ValueError, RecursionError, json_source_map.errors.InvalidInputError):
        return problems
    return [_place(p, source_map) if (p.pointer or p.at_key) else p for p in problems]


def _place(problem: Problem, source_map: dict[str, Any]) -> Problem:
    path = problem.pointer
    while path not in source_map and path:
        path = path.rsplit("/", 1)[0]
    entry = source_map.get(path)
    if entry is None:
        return problem
    location = entry.key_start if (problem.at_key and entry.key_start) else entry.value_start
    return problem.at(location.line + 1, location.column + 1)


__all__ = [
    "MAX_FILE_BYTES",
    "ParsedFile",
    "file_stem",
    "locate",
    "parse_module_bytes",
    "parse_object",
    "pointer",
    "read_bytes",
    "read_module_file",
]
