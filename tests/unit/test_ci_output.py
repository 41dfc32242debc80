"""What the commands leave in an Actions run: annotations within GitHub's limits, job
summaries, step outputs (issue #14, item 2)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pipeline.modules.problems import Problem, Severity
from pipeline.modules.validate import Report
from pipeline.report import ANNOTATIONS_PER_KIND, SUMMARY_LIMIT, render_github
from tests.builders import github_view, module
from tests.conftest import CLI, Repo


@pytest.fixture
def summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))
    return path


def problems(file: str, count: int, severity: Severity = "error") -> list[Problem]:
    return [
        Problem(file, f"{severity} {i} in {file}", "schema", f"/x/{i}", severity, i + 1, 2)
        for i in range(count)
    ]


def test_annotations_are_capped_per_kind_with_the_rest_in_the_summary(summary: Path) -> None:
    found = [
        *problems("data/modules/a.json", 12),
        *problems("data/modules/a.json", 12, "warning"),
        *problems("data/modules/b.json", 1),
        *problems("data/modules/c.json", 1),
    ]
    report = Report(["data/modules/a.json", "data/modules/b.json", "data/modules/c.json"], found)
    out = io.StringIO()
    render_github(report, out)
    lines = out.getvalue().splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert len(errors) == len(warnings) == ANNOTATIONS_PER_KIND == 10
    # Most important first: every bad file gets its first problem marked.
    assert [e.split(",")[0] for e in errors[:3]] == [
        "::error file=data/modules/a.json",
        "::error file=data/modules/b.json",
        "::error file=data/modules/c.json",
    ]
    # The rest are in the log as plain lines (no workflow command), and one notice says so.
    rest = [line for line in lines if line.startswith("  data/modules/")]
    assert len(rest) == 26 - 20
    assert "  data/modules/a.json:12:2: error: error 11 in data/modules/a.json" in rest
    [notice] = [line for line in lines if line.startswith("::notice ")]
    assert "6 more problems than GitHub shows as annotations" in notice
    # Every problem is in the job summary.
    table = github_view(summary.read_text()).rows
    assert len(table) == 1 + 26
    row = ["`data/modules/a.json`", "12:2", "error", "schema", "error 11 in data/modules/a.json"]
    assert row in table


def test_a_message_cannot_forge_a_workflow_command(summary: Path) -> None:
    forged = "bad\n::error file=README.md,line=1::forged\n::add-mask::x"
    found = [
        *problems("data/modules/a.json", 11),
        Problem("data/modules/a.json", forged, "schema", "", "error", 9, 9),
    ]
    out = io.StringIO()
    render_github(Report(["data/modules/a.json"], found), out)
    lines = out.getvalue().splitlines()
    assert not [line for line in lines if "README.md" in line and line.startswith("::")]
    assert not [line for line in lines if line.startswith("::add-mask")]


def test_validate_in_actions_caps_annotations_and_writes_the_summary(
    repo: Repo, cli: CLI, summary: Path
) -> None:
    for n in range(12):
        repo.write(module(module_id=f"bad-{n:02d}", status="live"))
    result = cli("validate", "--format", "github")
    assert result.code == 1
    assert sum(line.startswith("::error ") for line in result.out.splitlines()) == 10
    assert "bad-11.json" in summary.read_text() and "bad-00.json" in summary.read_text()
    assert "12 module files checked: ❌ 12 errors" in summary.read_text()


def test_the_summary_stays_under_githubs_size_limit(summary: Path) -> None:
    found = [
        Problem(f"data/modules/m{i}.json", "x" * 400, "schema", "", "error", 1, 1)
        for i in range(5000)
    ]
    render_github(Report([p.file for p in found], found), io.StringIO())
    written = summary.read_text(encoding="utf-8")
    assert len(written.encode()) < SUMMARY_LIMIT
    assert "more: run `pipeline validate` to see them all." in written
