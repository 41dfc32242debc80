"""What the export leaves behind for people: files with the usual permissions, and
terminal and job-summary text without the control characters Notion text may hold."""

from __future__ import annotations

import io
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.files import atomic_move, atomic_write
from pipeline.notion.export import ExportReport, PageResult
from pipeline.notion.markdown import Skipped
from pipeline.render import escape, render_export, write_step_summary
from pipeline.report import printable


@pytest.fixture
def umask() -> Iterator[None]:
    """Restore the process's umask after a test that sets its own."""
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_write_gives_the_mode_the_umask_allows(
    tmp_path: Path, umask: None, mask: int, mode: int
) -> None:
    os.umask(mask)
    target = tmp_path / "data" / "modules" / "a.json"
    atomic_write(target, b"{}\n")
    assert stat.S_IMODE(target.stat().st_mode) == mode
    atomic_write(target, b"{ }\n")  # replacing keeps to the same rule
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert target.read_bytes() == b"{ }\n"
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]  # no temporary left


def test_atomic_write_leaves_the_umask_as_it_was(tmp_path: Path, umask: None) -> None:
    os.umask(0o027)
    atomic_write(tmp_path / "x", b"x")
    assert os.umask(0o027) == 0o027


@pytest.mark.parametrize("elsewhere", [False, True], ids=["same-file-system", "across"])
def test_atomic_move_puts_a_download_in_place_with_the_umask_mode(
    tmp_path: Path, umask: None, elsewhere: bool
) -> None:
    staging = Path("/dev/shm") if elsewhere else tmp_path
    if elsewhere and (not staging.is_dir() or staging.stat().st_dev == tmp_path.stat().st_dev):
        pytest.skip("no second file system to move across")
    os.umask(0o002)
    source = staging / f"download-{os.getpid()}-{tmp_path.name}"
    source.write_bytes(b"PNG" * 1000)
    source.chmod(0o600)
    target = tmp_path / "data" / "assets" / "m" / "abc.png"
    atomic_move(source, target)
    assert target.read_bytes() == b"PNG" * 1000
    assert stat.S_IMODE(target.stat().st_mode) == 0o664
    assert not source.exists()
    assert [p.name for p in target.parent.iterdir()] == ["abc.png"]


HOSTILE = "Lab\x1b[2J\x1b[31mSafety\x1b]8;;https://evil.example\x07here\x1b]8;;\x07\x00\x07\x08\r\x9b1m\x85!"


def report() -> ExportReport:
    return ExportReport(
        results=[
            PageResult(
                "p1",
                HOSTILE,
                "bad",
                "failed",
                "Section 1 (" + HOSTILE + "): the settings code block is not valid YAML",
            ),
            PageResult(
                "p2",
                "Fine\ttitle",
                "good",
                "exported",
                skipped=[Skipped("b1", "unsupported", "block\x1b[8m hidden " + HOSTILE)],
            ),
        ]
    )


def visible_controls(text: str) -> list[str]:
    """Control characters in `text` other than newline (and rich's own styling, if any)."""
    return sorted({c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0})


def test_export_table_shows_no_control_characters() -> None:
    out = io.StringIO()
    render_export(report(), out, dry_run=False)
    text = out.getvalue()
    assert visible_controls(text) == []
    assert "LabSafety" in text.replace("\n", "").replace(" ", "")
    assert "evil.example" not in text  # the hidden hyperlink target is gone with its escape


def test_step_summary_shows_no_control_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write_step_summary(report(), dry_run=False)
    text = summary.read_text(encoding="utf-8")
    assert visible_controls(text) == []
    assert "| bad | LabSafetyhere\\! | failed |" in text  # shown as written, Markdown escaped


def test_escape_keeps_newlines_and_tabs_and_drops_other_controls() -> None:
    assert escape("a\nb\tc") == "a\nb\tc"
    assert escape("[bold]x\x1b[0m\x7f\x9d") == "\\[bold]x"


def test_stripping_takes_linear_time() -> None:
    started = time.perf_counter()
    for text in ("\x9d" * 100_000, "\x1b]" * 50_000, "\x1b[" + "0" * 100_000):
        assert printable(text) == "" or printable(text).isprintable()
    assert time.perf_counter() - started < 2
