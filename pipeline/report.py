"""Validation reports as `pipeline validate` prints them: text for people, workflow
commands for GitHub (annotations, the job summary), JSON for tools; and `printable` and
`painter`, which every text output shares (render.py uses them).

Apart from render.py, which has everything else a command prints: `pipeline validate` is
the command run most often, on every pull request and by authors as they write, and it
loads only this, not render.py too (10 ms more where bytecode is not cached).
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from pipeline.modules.problems import Problem
    from pipeline.modules.validate import Report


def render_text(report: Report, out: TextIO) -> None:
    """Problems grouped by file, `line:column`, for people. Plain writes, no rich: the
    command most often run should start fast; colour only on a terminal."""
    paint = painter(out)
    by_file = defaultdict(list)
    for problem in report.problems:
        by_file[problem.file].append(problem)
    lines = []
    for file, problems in by_file.items():
        lines.append(paint(printable(file), "1"))
        for p in problems:
            where = "  " + paint(f"at {printable(p.pointer)}", "2") if p.pointer else ""
            severity = paint(p.severity, "31" if p.is_error else "33")
            lines.append(
                f"  {p.line}:{p.column}  {severity}  {printable(p.message)}  "
                f"{paint(f'[{p.check}]', '2')}{where}"
            )
    files = len(report.files)
    noun = "file" if files == 1 else "files"
    if report.valid:
        warned = f" ({report.warning_count} warnings)" if report.warning_count else ""
        lines.append(f"{paint('✓', '32')} {files} module {noun} valid{warned}")
    else:
        bad = len({p.file for p in report.problems if p.is_error})
        lines.append(f"{paint('✗', '31')} {report.error_count} errors in {bad} of {files} {noun}")
    out.write("\n".join(lines) + "\n")


def painter(out: TextIO) -> Callable[[str, str], str]:
    """ANSI colour for a terminal (unless NO_COLOR), nothing for a file or pipe."""
    if out.isatty() and not os.environ.get("NO_COLOR"):
        return lambda text, code: f"\x1b[{code}m{text}\x1b[0m"
    return lambda text, _code: text


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


# GitHub shows at most 10 annotations of each kind (error, warning, notice) per step and
# drops the rest silently; every problem also goes to the job summary (at most 1 MiB).
ANNOTATIONS_PER_KIND = 10
SUMMARY_LIMIT = 1_000_000


def _annotated_first(problems: list[Problem]) -> list[Problem]:
    """Problems in the order they should take the annotation slots: each file's first
    problem before any file's second, so every bad file is marked on its diff."""
    rank: dict[str, int] = defaultdict(int)
    ordered = []
    for index, p in enumerate(problems):
        ordered.append((rank[p.file], index, p))
        rank[p.file] += 1
    return [p for _, _, p in sorted(ordered, key=lambda item: item[:2])]


def render_github(report: Report, out: TextIO) -> None:
    """Workflow commands GitHub turns into annotations on the PR diff: at most GitHub's
    limit per kind, most important first (errors; each bad file once before any twice);
    the rest as plain lines in the log; all of them in the job summary."""
    shown: dict[str, int] = defaultdict(int)
    rest: list[Problem] = []
    for p in _annotated_first(report.problems):
        if shown[p.severity] >= ANNOTATIONS_PER_KIND:
            rest.append(p)
            continue
        shown[p.severity] += 1
        title = f"{p.check}: {p.pointer}" if p.pointer else p.check
        props = (
            f"file={_escape_property(p.file)},line={p.line},col={p.column},"
            f"title={_escape_property(title)}"
        )
        out.write(f"::{p.severity} {props}::{_escape_data(p.message)}\n")
    for p in rest:
        # Plain lines, one each: never a workflow command (those start a line with "::").
        message = " ".join(printable(p.message).split())
        out.write(f"  {printable(p.file)}:{p.line}:{p.column}: {p.severity}: {message}\n")
    if rest:
        out.write(
            f"::notice title=More problems::{len(rest)} more problems than GitHub shows as "
            "annotations; every problem is listed in the job summary\n"
        )
    status = "valid" if report.valid else f"invalid ({report.error_count} errors)"
    out.write(f"{len(report.files)} module files checked: {status}\n")
    write_validation_summary(report)


def write_validation_summary(report: Report) -> None:
    """Every problem as a table on the Actions job page, when running in Actions."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    from pipeline.propose.pr_body import code, text

    files = len(report.files)
    status = "✅ valid" if report.valid else f"❌ {report.error_count} errors"
    lines = [
        "## Module validation",
        "",
        f"{files} module files checked: {status}, {report.warning_count} warnings",
        "",
    ]
    if report.problems:
        lines += ["| file | line | severity | check | problem |", "| --- | --- | --- | --- | --- |"]
    size = len("\n".join(lines))
    for index, p in enumerate(report.problems):
        row = (
            f"| {code(p.file, table=True)} | {p.line}:{p.column} | {p.severity} | "
            f"{text(p.check)} | {text(p.message)} |"
        )
        if size + len(row) > SUMMARY_LIMIT - 500:
            left = len(report.problems) - index
            lines += ["", f"… and {left} more: run `pipeline validate` to see them all."]
            break
        lines.append(row)
        size += len(row) + 1
    with open(target, "a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def render_json(report: Report, out: TextIO) -> None:
    payload = {
        "valid": report.valid,
        "files_checked": len(report.files),
        "error_count": report.error_count,
        "warning_count": report.warning_count,
        "problems": [
            {
                "file": p.file,
                "line": p.line,
                "column": p.column,
                "pointer": p.pointer,
                "severity": p.severity,
                "check": p.check,
                "message": p.message,
            }
            for p in report.problems
        ],
    }
    out.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


RENDERERS = {"text": render_text, "github": render_github, "json": render_json}


# Terminal control sequences: CSI (ESC [ or its 8-bit form), OSC (ESC ] or 8-bit, ended by
# BEL or ST; e.g. hyperlinks and window titles), DCS/SOS/PM/APC strings, other ESC pairs.
_TERMINAL_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c\x9d\x90\x98\x9e\x9f]*"
    r"(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]"
)
# What is left of C0 (but newline and tab), DEL and C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` without terminal control sequences or control characters (newline and tab
    stay): Notion text (titles, messages, reasons) can hold them, and a terminal or log
    viewer would obey them (clear the screen, hide text, fake a link)."""
    if text.isprintable():  # the usual case, and fast
        return text
    return _CONTROL.sub("", _TERMINAL_SEQUENCE.sub("", text))
