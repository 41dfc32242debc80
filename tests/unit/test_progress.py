"""The export's progress bar, drawn only on a terminal."""

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


def test_no_progress_bar_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()  # CI: stderr is a file or a pipe
    monkeypatch.setattr("sys.stderr", log)
    with export_progress() as advance:
        for done in range(1, 4):
            advance(f"Module {done}", done, 3)
    assert log.getvalue() == ""
