"""Rendering deploy plans and live modules for people (rich) and tools (JSON)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:  # annotations only: keeps every command's start-up light
    from pipeline.deploy import Outcome
    from pipeline.export import ExportReport
    from pipeline.live import LiveModule
    from pipeline.propose import ProposeReport


_STYLE = {"insert": "green", "update": "yellow", "archive": "red", "unchanged": "dim"}


def _console(out: TextIO) -> Console:
    # Logs and pipes are not 80 columns wide: don't truncate module ids there.
    width = None if out.isatty() else 160
    return Console(file=out, highlight=False, soft_wrap=True, width=width)


def _revision(before: int | None, after: int | None) -> str:
    if before is None:
        return str(after)
    return str(before) if before == after else f"{before} → {after}"


def _sections(step: Any) -> str:
    if step.action == "update":
        return (
            f"{step.sections} (+{step.sections_added} ~{step.sections_changed} "
            f"-{step.sections_removed})"
        )
    return str(step.sections) if step.action != "archive" else "kept"


def render_outcome(outcome: Outcome, out: TextIO, *, dry_run: bool) -> None:
    plan = outcome.plan
    table = Table(title="Deploy plan" + (" (dry run)" if dry_run else ""), title_justify="left")
    for column in ("module", "action", "revision", "status", "sections"):
        table.add_column(column)
    for step in plan.steps:
        style = _STYLE[step.action]
        table.add_row(
            escape(step.module_id),
            f"[{style}]{step.action}[/{style}]",
            _revision(step.revision_before, step.revision_after),
            step.status_after,
            _sections(step),
        )
    console = _console(out)
    console.print(table)
    counts = ", ".join(
        f"{plan.count(a)} {a if a != 'archive' else 'archived'}"
        for a in ("insert", "update", "unchanged", "archive")
    )
    if dry_run:
        console.print(f"dry run: {counts}; nothing written")
    elif outcome.applied:
        console.print(
            f"deployed ({counts}) as deploy {outcome.deploy_id}: "
            f"{outcome.sections_written} sections written, "
            f"{outcome.sections_removed} removed, in {outcome.duration_ms} ms"
        )
    else:
        console.print(f"nothing to deploy: {counts}; nothing written")


def outcome_json(outcome: Outcome, *, dry_run: bool) -> dict[str, Any]:
    plan = outcome.plan
    return {
        "dry_run": dry_run,
        "applied": outcome.applied,
        "deploy_id": outcome.deploy_id,
        "counts": {a: plan.count(a) for a in ("insert", "update", "unchanged", "archive")},
        "sections_written": outcome.sections_written,
        "sections_removed": outcome.sections_removed,
        "duration_ms": outcome.duration_ms,
        "modules": [asdict(step) for step in plan.steps],
    }


def render_status(modules: list[LiveModule], out: TextIO) -> None:
    table = Table(title="Live modules", title_justify="left")
    for column in ("module", "revision", "status", "sections", "deployed (UTC)", "git sha"):
        table.add_column(column, no_wrap=column != "module")
    for m in modules:
        deployed = m.updated_at.strftime("%Y-%m-%d %H:%M") if m.updated_at else ""
        table.add_row(
            escape(m.module_id),
            str(m.revision),
            m.status,
            str(m.sections),
            deployed,
            (m.git_sha or "")[:10],
        )
    console = _console(out)
    console.print(table if modules else "no modules in the database yet; run `pipeline deploy`")


def render_module(module: dict[str, Any], out: TextIO) -> None:
    console = _console(out)
    console.print(
        f"[bold]{escape(module['title'])}[/bold]  ({escape(module['module_id'])}, "
        f"revision {module['revision']}, {module['status']})"
    )
    if module.get("description"):
        console.print(escape(module["description"]))
    for section in module["sections"]:
        console.print(
            f"\n[bold]{section['section_number']}. {escape(section['title'] or '')}"
            f"[/bold]  [dim]{section['section_type']}[/dim]"
        )
        if section["content"]:
            console.print(escape(section["content"]))
        if section.get("media_url"):
            console.print(f"[dim]media: {escape(section['media_url'])}[/dim]")
        if section.get("section_config"):
            console.print(f"[dim]config: {escape(json.dumps(section['section_config']))}[/dim]")


def to_json(value: Any) -> str:
    def default(obj: Any) -> str:
        if isinstance(obj, datetime | date):
            return obj.isoformat()
        raise TypeError(type(obj).__name__)

    return json.dumps(value, indent=2, ensure_ascii=False, default=default)


@contextmanager
def export_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar of pages exported, on a terminal only."""
    if not sys.stderr.isatty():
        yield lambda _title, _done, _total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # noqa: PLC0415

    with Progress(
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        transient=True,
        console=Console(file=sys.stderr),
    ) as progress:
        task = progress.add_task("asking Notion for Ready pages", total=None)

        def advance(title: str, done: int, total: int) -> None:
            progress.update(task, completed=done - 1, total=total, description=escape(title))

        yield advance


def _export_rows(report: ExportReport) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for r in sorted(report.results, key=lambda r: (r.outcome != "failed", r.module_id or "")):
        notes = r.message
        if r.skipped:
            notes = (notes + "; " if notes else "") + "; ".join(
                f"block {s.block_id}: {s.reason}" for s in r.skipped
            )
        rows.append((r.module_id or "?", r.title, r.outcome, notes))
    return rows


def render_export(report: ExportReport, out: TextIO, *, dry_run: bool) -> None:
    table = Table(
        title="Export" + (" (dry run: nothing written)" if dry_run else ""), title_justify="left"
    )
    for column in ("module", "page", "result", "notes"):
        table.add_column(column)
    for module_id, title, outcome, notes in _export_rows(report):
        style = {"failed": "red", "exported": "green"}.get(outcome, "dim")
        table.add_row(
            escape(module_id), escape(title), f"[{style}]{outcome}[/{style}]", escape(notes)
        )
    console = _console(out)
    if report.results:
        console.print(table)
    console.print(
        f"{report.count('exported')} exported, {report.count('unchanged')} "
        f"unchanged, {report.count('failed')} failed; {report.requests} Notion "
        f"requests ({report.rate_limited} rate-limited)"
    )


def write_step_summary(report: ExportReport, *, dry_run: bool) -> None:
    """Markdown for the Actions job page, when running in Actions."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    lines = [
        "## Notion export" + (" (dry run)" if dry_run else ""),
        "",
        f"{report.count('exported')} exported, {report.count('unchanged')} unchanged, "
        f"{report.count('failed')} failed",
        "",
    ]
    if report.results:
        lines += ["| module | page | result | notes |", "| --- | --- | --- | --- |"]
        lines += [
            "| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in row) + " |"
            for row in _export_rows(report)
        ]
    with open(target, "a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def render_proposals(report: ProposeReport, out: TextIO, *, dry_run: bool) -> None:
    console = _console(out)
    if not report.proposals:
        console.print("no module differs from the default branch; nothing to propose")
    for p in report.proposals:
        console.print(f"{escape(p.module_id)}: {p.action}" + (f"  {p.url}" if p.url else ""))
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    if dry_run:
        console.print("dry run: nothing pushed, opened or closed")


def write_deploy_summary(outcome: Outcome, *, dry_run: bool) -> None:
    """The plan as Markdown on the Actions job page, when running in Actions."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    plan = outcome.plan
    counts = ", ".join(f"{plan.count(a)} {a}" for a in ("insert", "update", "unchanged", "archive"))
    state = (
        "dry run, nothing written"
        if dry_run
        else f"deploy {outcome.deploy_id}"
        if outcome.applied
        else "nothing to write"
    )
    lines = [
        f"## Deploy plan ({state})",
        "",
        counts,
        "",
        "| module | action | revision | status | sections |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {s.module_id} | {s.action} | "
        f"{_revision(s.revision_before, s.revision_after)} | {s.status_after} | "
        f"{_sections(s)} |"
        for s in plan.steps
        if s.action != "unchanged"
    ]
    with open(target, "a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
