"""Everything a command prints: validation reports, deploy plans, live modules, export and
propose summaries, for people (rich), GitHub (annotations, job summaries) and tools (JSON).

Library functions return data; only this module turns it into text. rich costs about
0.1 s to import, so it is imported inside the functions that need it: `pipeline validate`
with the default output never pays for it twice.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # annotations only: keeps every command's start-up light
    from rich.console import Console
    from rich.table import Table

    from pipeline.db.deploy import DeployResult
    from pipeline.db.migrate import Migration, MigrationStatus
    from pipeline.db.plan import DeployAction, Plan
    from pipeline.db.status import ModuleStatus
    from pipeline.modules.validate import Report
    from pipeline.notion.export import ExportReport
    from pipeline.notion.mark_live import MarkLiveReport
    from pipeline.notion.template import TemplateResult
    from pipeline.propose.run import ProposeReport
    from pipeline.sync.run import Database, SyncResult


# -- validation reports ------------------------------------------------------------------
def render_text(report: Report, out: TextIO) -> None:
    console = _console(out, wide=False)
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


# -- deploy, status, export, propose -----------------------------------------------------

_STYLE = {
    "insert": "green",
    "update": "yellow",
    "repair": "magenta",
    "archive": "red",
    "unchanged": "dim",
}


def _counts(plan: Plan) -> str:
    """'1 insert, 2 update, 7 unchanged, 0 archived' (and repaired ones, if any)."""
    actions: tuple[DeployAction, ...] = ("insert", "update", "unchanged", "archive")
    if plan.count("repair"):
        actions = ("insert", "update", "repair", "unchanged", "archive")
    names = {"archive": "archived", "repair": "repaired"}
    return ", ".join(f"{plan.count(a)} {names.get(a, a)}" for a in actions)


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


def escape(text: str) -> str:
    """Text shown through rich: control characters dropped (`printable`), its markup
    characters made literal."""
    from rich.markup import escape as rich_escape

    return rich_escape(printable(text))


def _console(out: TextIO, *, wide: bool = True) -> Console:
    from rich.console import Console

    # Logs and pipes are not 80 columns wide: don't truncate module ids there.
    width = None if out.isatty() or not wide else 160
    return Console(file=out, highlight=False, soft_wrap=True, width=width)


def _table(title: str, columns: tuple[str, ...], *, no_wrap: tuple[str, ...] = ()) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, no_wrap=column in no_wrap)
    return table


def _revision(before: int | None, after: int | None) -> str:
    if before is None:
        return str(after)
    return str(before) if before == after else f"{before} → {after}"


def _sections(step: Any) -> str:
    if step.action in ("update", "repair"):
        return (
            f"{step.sections} (+{step.sections_added} ~{step.sections_changed} "
            f"-{step.sections_removed})"
        )
    return str(step.sections) if step.action != "archive" else "kept"


def render_outcome(outcome: DeployResult, out: TextIO, *, dry_run: bool) -> None:
    plan = outcome.plan
    table = _table(
        "Deploy plan" + (" (dry run)" if dry_run else ""),
        ("module", "action", "revision", "status", "sections"),
    )
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
    for note in plan.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    counts = _counts(plan)
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


def outcome_json(outcome: DeployResult, *, dry_run: bool) -> dict[str, Any]:
    plan = outcome.plan
    return {
        "dry_run": dry_run,
        "applied": outcome.applied,
        "deploy_id": outcome.deploy_id,
        "counts": {
            a: plan.count(a) for a in ("insert", "update", "repair", "unchanged", "archive")
        },
        "notes": plan.notes,
        "sections_written": outcome.sections_written,
        "sections_removed": outcome.sections_removed,
        "duration_ms": outcome.duration_ms,
        "modules": [asdict(step) for step in plan.steps],
    }


def render_status(modules: list[ModuleStatus], out: TextIO) -> None:
    columns = ("module", "revision", "status", "sections", "deployed (UTC)", "git sha", "drift")
    table = _table("Live modules", columns, no_wrap=columns[1:])
    for m in modules:
        deployed = m.updated_at.strftime("%Y-%m-%d %H:%M") if m.updated_at else ""
        table.add_row(
            escape(m.module_id),
            str(m.revision),
            m.status,
            str(m.sections),
            deployed,
            (m.git_sha or "")[:10],
            "[red]changed outside the pipeline[/red]" if m.drifted else "",
        )
    console = _console(out)
    console.print(table if modules else "no modules in the database yet; run `pipeline deploy`")
    drifted = sum(m.drifted for m in modules)
    if drifted:
        console.print(
            f"[red]{drifted} modules' rows were changed outside the pipeline[/red]; "
            "`pipeline deploy --verify` writes them again from the files"
        )


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
    """JSON for tools: dataclasses as objects, times in ISO 8601."""

    def default(obj: Any) -> Any:
        if isinstance(obj, datetime | date):
            return obj.isoformat()
        if is_dataclass(obj) and not isinstance(obj, type):
            return asdict(obj)
        raise TypeError(type(obj).__name__)

    return json.dumps(value, indent=2, ensure_ascii=False, default=default)


@contextmanager
def export_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar of pages exported, on a terminal only."""
    if not sys.stderr.isatty():
        yield lambda _title, _done, _total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

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
    for r in sorted(
        report.results, key=lambda r: (r.outcome != "failed", r.check, r.module_id or "")
    ):
        notes = r.message
        if r.skipped:
            notes = (notes + "; " if notes else "") + "; ".join(
                f"block {s.block_id}" + (f" ({s.where})" if s.where else "") + f": {s.reason}"
                for s in r.skipped
            )
        outcome = {"failed": "check failed"}.get(r.outcome, r.outcome) if r.check else r.outcome
        rows.append((printable(r.module_id or "?"), printable(r.title), outcome, printable(notes)))
    return rows


def _checked_before_ready(report: ExportReport) -> str:
    """ "; checked before Ready: 1 without problems, 2 with problems" when pages were."""
    if not any(r.check for r in report.results):
        return ""
    return (
        f"; checked before Ready: {report.checks('checked')} without problems, "
        f"{report.checks('failed')} with problems"
    )


def render_export(report: ExportReport, out: TextIO, *, dry_run: bool) -> None:
    table = _table(
        "Export" + (" (dry run: nothing written)" if dry_run else ""),
        ("module", "page", "result", "notes"),
    )
    for module_id, title, outcome, notes in _export_rows(report):
        style = {"failed": "red", "check failed": "yellow", "exported": "green"}.get(outcome, "dim")
        table.add_row(
            escape(module_id), escape(title), f"[{style}]{outcome}[/{style}]", escape(notes)
        )
    console = _console(out)
    if report.results:
        console.print(table)
    console.print(
        f"{report.count('exported')} exported, {report.count('unchanged')} "
        f"unchanged, {report.count('failed')} failed{_checked_before_ready(report)}; "
        f"{report.requests} Notion requests ({report.rate_limited} rate-limited)"
    )


def write_step_summary(report: ExportReport, *, dry_run: bool) -> None:
    """Markdown for the Actions job page, when running in Actions. Page titles and
    messages come from Notion: shown as written, never as HTML or @mentions."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    from pipeline.propose.pr_body import text  # the one rule for text on GitHub pages

    lines = [
        "## Notion export" + (" (dry run)" if dry_run else ""),
        "",
        f"{report.count('exported')} exported, {report.count('unchanged')} unchanged, "
        f"{report.count('failed')} failed{_checked_before_ready(report)}",
        "",
    ]
    if report.results:
        lines += ["| module | page | result | notes |", "| --- | --- | --- | --- |"]
        lines += [
            "| " + " | ".join(text(cell) for cell in row) + " |" for row in _export_rows(report)
        ]
    with open(target, "a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def render_template(result: TemplateResult, out: TextIO, *, dry_run: bool) -> None:
    """`pipeline notion template`: what was (or would be) done, where."""
    console = _console(out)
    would = {"created": "would be created", "updated": "would be updated"}
    action = would.get(result.action, result.action) if dry_run else result.action
    where = f" {result.url}" if result.url else ""
    console.print(f"Module template ({result.kind}): {action}{where}")
    kinds = ", ".join(dict.fromkeys(result.section_types))
    console.print(f"{len(result.section_types)} example sections: {kinds}")
    if dry_run:
        console.print("dry run: nothing written to Notion")


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


def write_deploy_summary(outcome: DeployResult, *, dry_run: bool) -> None:
    """The plan as Markdown on the Actions job page, when running in Actions."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    plan = outcome.plan
    counts = _counts(plan)
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


def render_mark_live(report: MarkLiveReport, out: TextIO) -> None:
    console = _console(out)
    console.print(f"deploy {report.deploy_id}: {len(report.results)} modules")
    for r in report.results:
        line = {
            "live": f"Live (revision {r.revision})",
            "not-from-notion": "not from Notion, nothing to mark",
            "not-published": "not published (draft), so not marked Live",
            "failed": f"NOT marked live: {r.error}",
        }[r.state]
        console.print(f"{escape(r.module_id)}: {escape(line)}")


def render_migrated(ran: list[Migration], out: TextIO) -> None:
    for migration in ran:
        out.write(f"applied {migration.version:04d}_{migration.name}\n")
    out.write(f"{len(ran)} migrations applied\n" if ran else "database schema is up to date\n")


def render_migration_status(state: MigrationStatus, out: TextIO) -> None:
    for row in state.applied:
        out.write(f"applied  {row.version:04d}_{row.name}  {row.applied_at:%Y-%m-%d %H:%M:%S %Z}\n")
    for migration in state.pending:
        out.write(f"pending  {migration.version:04d}_{migration.name}\n")


def render_sync_setup(databases: list[Database], out: TextIO) -> None:
    from pipeline.layout import SYNC_CONFIG

    for database in databases:
        state = "created" if database.created else "found"
        out.write(f"{database.entity}: {state} ({database.database_id})\n")
    out.write(f"database ids saved in {SYNC_CONFIG}\n")


def render_sync(results: list[SyncResult], out: TextIO) -> None:
    for r in results:
        out.write(
            f"{r.entity}: {r.added} added, {r.updated} updated, {len(r.conflicts)} "
            f"conflicts, {len(r.failed)} failed\n"
        )
    for r in results:
        for line in r.conflicts + r.failed:
            out.write(f"  needs a person: {line}\n")
