"""The export's progress: a bar on a terminal, lines in a log."""

from __future__ import annotations

import io

import pytest

from pipeline.render import export_progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with export_progress() as advance:
        for done in range(1, 4):
            advance(f"Module {done}", done, 3)
    drawn = terminal.getvalue()
    assert "2/3" in drawn and "Module 3" in drawn  # pages done of all, and the current one
    assert drawn.endswith("\x1b[2K")  # transient: the bar is erased at the end


def test_progress_lines_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """In an Actions log (stderr a file or a pipe): no bar, but a line for the first and
    last page, every 10 pages, and whenever 20 seconds passed without one (issue #14)."""
    log = io.StringIO()
    monkeypatch.setattr("sys.stderr", log)
    now = [0.0]
    with export_progress(clock=lambda: now[0]) as advance:
        for done in range(1, 26):
            now[0] += 30.0 if done == 14 else 1.0  # page 14 took long
            advance(f"Module {done}\x1b[2J", done, 25)
    lines = log.getvalue().splitlines()
    assert lines == [
        "export: asking Notion for Ready pages",
        "export: page 1 of 25: Module 1",
        "export: page 10 of 25: Module 10",
        "export: page 14 of 25: Module 14",
        "export: page 20 of 25: Module 20",
        "export: page 25 of 25: Module 25",
    ]
    assert "\x1b" not in log.getvalue()  # titles come from Notion: no terminal sequences
