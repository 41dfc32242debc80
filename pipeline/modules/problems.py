"""A Problem is one thing wrong with one module file, at one place in it.

Checks produce Problems with a JSON pointer; the position (line, column) is
filled in afterwards from the file's text, so checks stay pure functions of
parsed data.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, replace
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    message: str
    check: str
    pointer: str = ""
    severity: Severity = "error"
    line: int = 1
    column: int = 1
    # Point at the key of the member instead of its value (e.g. an unknown field).
    at_key: bool = False

    def at(self, line: int, column: int) -> Problem:
        return replace(self, line=line, column=column)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def pointer(*parts: str | int) -> str:
    """Build an RFC 6901 JSON pointer from path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def did_you_mean(value: object, options: list[str]) -> str:
    """' (did you mean "x"?)' for the option closest to a mistyped `value`, or nothing."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return f" (did you mean {json.dumps(close[0])}?)" if close else ""
