"""The export's progress bar, drawn only on a terminal."""

from __future__ import annotations

import io

import pytest

from pipeline.render import export_progress


def test_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with export_progress() as advance:
        for done in range(1, 4):
            advance(f"Module {done}", done, 3)
    assert "Module" in terminal.getvalue()
