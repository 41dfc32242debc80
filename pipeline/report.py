"""Render a validation Report as text for people, GitHub annotations, or JSON."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TextIO

from pipeline.validate import Report


def render_text(report: Report, out: TextIO) -> None:
    from rich.console import Console  # noqa: PLC0415 - rich costs 0.1 s to import
    from rich.markup import escape  # noqa: PLC0415

    console = Console(file=out, highlight=False, soft_wrap=True)
    by_file = defaultdict(list)
    for problem in report.problems:
        by_file[problem.file].append(problem)
    for file, problems in by_file.items():
        console.print(f"[bold]{escape(file)}[/bold]")
        for p in problems:
            colour = "red" if p.is_error else "yellow"
            where = f"  [dim]at {escape(p.pointer)}[/dim]" if p.pointer else ""
            console.print(
                f"  {p.line}:{p.column}  [{colour}]{p.severity}[/{colour}]  "
                f"{escape(p.message)}  [dim]\\[{p.check}][/dim]{where}"
            )
    files = len(report.files)
    noun = "file" if files == 1 else "files"
    if report.valid:
        warned = f" ({report.warning_count} warnings)" if report.warning_count else ""
        console.print(f"[green]✓[/green] {files} module {noun} valid{warned}")
    else:
        bad = len({p.file for p in report.problems if p.is_error})
        console.print(f"[red]✗[/red] {report.error_count} errors in {bad} of {files} {noun}")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report, out: TextIO) -> None:
    """Workflow commands GitHub turns into annotations on the PR diff."""
    for p in report.problems:
        title = f"{p.check}: {p.pointer}" if p.pointer else p.check
        props = (
            f"file={_escape_property(p.file)},line={p.line},col={p.column},"
            f"title={_escape_property(title)}"
        )
        out.write(f"::{p.severity} {props}::{_escape_data(p.message)}\n")
    status = "valid" if report.valid else f"invalid ({report.error_count} errors)"
    out.write(f"{len(report.files)} module files checked: {status}\n")


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
