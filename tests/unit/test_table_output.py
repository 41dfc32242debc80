"""The plain tables of `pipeline status` and the deploy plan (issue #15): columns in line
as a terminal shows them, whatever the characters; colour only on a terminal."""

from __future__ import annotations

import io
import unicodedata
from datetime import datetime

import pytest

from pipeline.db.status import ModuleStatus
from pipeline.render import render_status


def shown_width(text: str) -> int:
    """Columns on a terminal, computed apart from the code under test."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


MODULES = [
    ModuleStatus("a", "A", 3, "published", datetime(2026, 1, 2, 3, 4), "0123456789abc", 20),
    ModuleStatus("安全-一", "B", 12, "draft", None, None, 2, drifted=True, deploy_id=1),
    ModuleStatus("cafe\u0301", "C", 7, "published", None, None, 1),  # a combining accent
]


def test_wide_and_combining_characters_keep_the_columns_in_line() -> None:
    out = io.StringIO()
    render_status(MODULES, out, every=True)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Live modules"
    header, rule, *rows = lines[1 : 2 + len(MODULES) + 1]
    start = shown_width(header[: header.index("revision")])
    assert start == shown_width("安全-一") + 2  # the widest module id, then the gap
    assert rule.split("  ")[0] == "─" * shown_width("安全-一")
    for row, revision in zip(rows, ("3", "12", "7"), strict=True):
        at = row.index(f"  {revision} ") + 2
        assert shown_width(row[:at]) == start, row
    assert rows[0].split() == [
        "a",
        "3",
        "published",
        "20",
        "2026-01-02",
        "03:04",
        "0123456789",  # the sha, cut to 10
    ]
    assert rows[1].endswith("changed outside the pipeline")
    assert lines[-2:] == [
        "3 modules: 1 draft, 2 published",
        "1 modules' rows were changed outside the pipeline; `pipeline deploy --verify` "
        "writes them again from the files",
    ]


def test_colour_on_a_terminal_and_nowhere_else(monkeypatch: pytest.MonkeyPatch) -> None:
    piped = io.StringIO()
    render_status(MODULES, piped)
    assert "\x1b" not in piped.getvalue()

    terminal = Terminal()
    render_status(MODULES, terminal)
    shown = terminal.getvalue()
    assert "\x1b[31mchanged outside the pipeline\x1b[0m" in shown
    assert "\x1b[1mWorth a look\x1b[0m" in shown

    monkeypatch.setenv("NO_COLOR", "1")
    quiet = Terminal()
    render_status(MODULES, quiet)
    assert quiet.getvalue() == piped.getvalue()


def test_no_hint_of_hidden_rows_when_every_row_is_shown() -> None:
    out = io.StringIO()
    render_status(MODULES[1:2], out)  # a draft is worth a look: none is left out
    assert "1 modules: 1 draft" in out.getvalue().splitlines()
    out = io.StringIO()
    render_status(MODULES, out)
    assert "3 modules: 1 draft, 2 published; 2 more unchanged (--all lists them)" in (
        out.getvalue().splitlines()
    )
