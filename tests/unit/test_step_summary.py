"""The export's job summary: Notion titles and messages shown as text, never acting."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.notion.export import ExportReport, PageResult
from pipeline.notion.markdown import Skipped
from pipeline.render import write_step_summary
from tests.builders import github_view


def test_page_titles_and_messages_cannot_act_on_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    report = ExportReport(
        [
            PageResult("p1", "<!-- hides the rest", "lab", "exported"),
            PageResult(
                "p2",
                "Safety | for @alice\nand @frames/team",
                None,
                "failed",
                "</details> `@bob` &#64;carol <img src=x>",
                [Skipped("b1", "embed", "ask @dave | later")],
            ),
            PageResult("p3", "Plain", "plain", "unchanged"),
        ]
    )
    write_step_summary(report, dry_run=False)
    view = github_view(summary.read_text())
    assert view.html == []
    assert view.mentions == []
    assert len(view.rows) == 4 and all(len(r) == 4 for r in view.rows), view.rows
    seen = "\n".join(view.text)
    assert "<!-- hides the rest" in seen and "</details>" in seen and "&#64;carol" in seen
