"""Everything a command prints (validation reports apart: report.py): deploy plans, live
modules, export and propose summaries, for people (rich), GitHub (job summaries) and
tools (JSON).

Library functions return data; only this module and report.py turn it into text. rich
costs about 0.1 s to import, so it is imported inside the functions that need it. The
outputs that can run to thousands of rows (the deploy plan, `pipeline status`) are plain
aligned lines (`_grid`), never rich: its Table measures every cell (0.35 s for a plan of
1,000 modules).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

from pipeline.report import painter as _painter
from pipeline.report import printable

# pipeline/db/deploy.py prints the validation failures that stop a deploy with this.
from pipeline.report import render_text as render_text  # noqa: PLC0414 (explicit re-export)

if TYPE_CHECKING:  # annotations only: keeps every command's start-up light
    from rich.console import Console
    from rich.table import Table

    from pipeline.db.backup import BackupResult, RestorePoint, RestoreResult
    from pipeline.db.deploy import DeployResult
    from pipeline.db.migrate import Migration, MigrationStatus
    from pipeline.db.plan import DeployAction, Plan
    from pipeline.db.status import ModuleStatus
    from pipeline.db.unpublish import VisibilityChange
    from pipeline.notion.backup import BackupPull, NotionBackupReport
    from pipeline.notion.export import ExportReport
    from pipeline.notion.mark_live import MarkLiveReport
    from pipeline.notion.review_feedback import FeedbackReport
    from pipeline.notion.template import TemplateResult
    from pipeline.propose.rollback import RollbackResult
    from pipeline.propose.run import ProposeReport
    from pipeline.sync.run import Database, SyncResult


# -- deploy, status, export, propose -----------------------------------------------------

# ANSI SGR codes: colour on a terminal only (`_painter`).
_BOLD, _DIM, _RED, _GREEN, _YELLOW, _MAGENTA = "1", "2", "31", "32", "33", "35"
_STYLE = {
    "insert": _GREEN,
    "update": _YELLOW,
    "repair": _MAGENTA,
    "archive": _RED,
    "unchanged": _DIM,
}


def _counts(plan: Plan) -> str:
    """'1 insert, 2 update, 7 unchanged, 0 archived' (and repaired ones, if any)."""
    actions: tuple[DeployAction, ...] = ("insert", "update", "unchanged", "archive")
    if plan.count("repair"):
        actions = ("insert", "update", "repair", "unchanged", "archive")
    names = {"archive": "archived", "repair": "repaired"}
    return ", ".join(f"{plan.count(a)} {names.get(a, a)}" for a in actions)


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


Cell = str | tuple[str, str]  # text, or (text, ANSI code to paint it with on a terminal)


def _one_line(text: str) -> str:
    """`printable` text on one line, for a table cell: newlines and tabs as spaces."""
    if text.isprintable():  # the usual case, and fast
        return text
    return " ".join(printable(text).split())


def _width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (East Asian) characters two, combining
    marks none. Module ids are ASCII (the schema's pattern), so that is checked first."""
    if text.isascii():
        return len(text)
    from unicodedata import combining, east_asian_width

    return sum(0 if combining(c) else 2 if east_asian_width(c) in "WF" else 1 for c in text)


def _grid(
    paint: Callable[[str, str], str], title: str, header: tuple[str, ...], rows: list[list[Cell]]
) -> list[str]:
    """A table as aligned lines: title, header, rule, one line per row, columns two spaces
    apart, nothing wrapped or cut. rich's Table measured every cell of every row: 0.35 s
    for a plan of 1,000 modules, ten times that for 10,000; this costs milliseconds. Cells
    are printable text already (see `printable`)."""
    texts = [[c if isinstance(c, str) else c[0] for c in row] for row in rows]
    sizes = [[_width(text) for text in row] for row in texts]
    widths = [max(column) for column in zip(*[[_width(h) for h in header], *sizes], strict=True)]

    def line(cells: list[str], codes: list[str], own: list[int]) -> str:
        parts = [
            (paint(text, code) if code else text) + " " * (widths[i] - own[i])
            for i, (text, code) in enumerate(zip(cells, codes, strict=True))
        ]
        return "  ".join(parts).rstrip()

    lines = [
        paint(title, _BOLD),
        line(list(header), [_BOLD] * len(header), [_width(h) for h in header]),
        paint("  ".join("─" * w for w in widths), _DIM),
    ]
    for row, text, own in zip(rows, texts, sizes, strict=True):
        lines.append(line(text, ["" if isinstance(c, str) else c[1] for c in row], own))
    return lines


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


def render_outcome(
    outcome: DeployResult, out: TextIO, *, dry_run: bool, every: bool = False
) -> None:
    """The plan's rows that change something (every row with `every`), then the counts:
    one change among 10,000 modules prints one row, not 10,000. Plain aligned lines
    (`_grid`), colour only on a terminal."""
    plan = outcome.plan
    paint = _painter(out)
    shown = plan.steps if every else [s for s in plan.steps if s.action != "unchanged"]
    lines = []
    if shown:
        rows: list[list[Cell]] = [
            [
                _one_line(step.module_id),
                (step.action, _STYLE[step.action]),
                _revision(step.revision_before, step.revision_after),
                _one_line(step.status_after),
                _sections(step),
            ]
            for step in shown
        ]
        title = "Deploy plan" + (" (dry run)" if dry_run else "")
        lines += _grid(paint, title, ("module", "action", "revision", "status", "sections"), rows)
    lines += [f"{paint('note:', _YELLOW)} {printable(note)}" for note in plan.notes]
    counts = _counts(plan)
    if dry_run:
        lines.append(f"dry run: {counts}; nothing written")
    elif outcome.applied:
        uploaded = len(outcome.assets_uploaded)
        lines.append(
            f"deployed ({counts}) as deploy {outcome.deploy_id}: "
            f"{outcome.sections_written} sections written, "
            f"{outcome.sections_removed} removed, in {outcome.duration_ms} ms"
            + (f"; {uploaded} asset files uploaded" if uploaded else "")
        )
        if outcome.restore_lsn:
            restore = (
                f"restore point: WAL {outcome.restore_lsn} at "
                f"{outcome.restore_time:%Y-%m-%d %H:%M:%S %Z} (the database just before "
                "this deploy)"
            )
            lines.append(paint(restore, _DIM))
    else:
        lines.append(f"nothing to deploy: {counts}; nothing written")
    out.write("\n".join(lines) + "\n")


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
        "assets_uploaded": outcome.assets_uploaded,
        "restore_lsn": outcome.restore_lsn,
        "restore_time": outcome.restore_time,
        "modules": plan.steps,
    }


def render_status(modules: list[ModuleStatus], out: TextIO, *, every: bool = False) -> None:
    """Counts by status, then the modules worth a look: those the latest deploy wrote,
    those not published, those changed outside the pipeline (every module with
    `every`). 10,000 modules print a few lines, not 10,000; with `every`, aligned plain
    lines (`_grid`), not a rich table."""
    paint = _painter(out)
    if not modules:
        out.write("no modules in the database yet; run `pipeline deploy`\n")
        return
    latest = max((m.deploy_id or 0 for m in modules), default=0)
    shown = (
        modules
        if every
        else [
            m
            for m in modules
            if m.drifted or m.status != "published" or (latest and m.deploy_id == latest)
        ]
    )
    lines = []
    if shown:
        drift: Cell = ("changed outside the pipeline", _RED)
        rows: list[list[Cell]] = [
            [
                _one_line(m.module_id),
                str(m.revision),
                _one_line(m.status),
                str(m.sections),
                m.updated_at.strftime("%Y-%m-%d %H:%M") if m.updated_at else "",
                _one_line(m.git_sha or "")[:10],
                drift if m.drifted else "",
            ]
            for m in shown
        ]
        columns = ("module", "revision", "status", "sections", "deployed (UTC)", "git sha", "drift")
        lines += _grid(paint, "Live modules" if every else "Worth a look", columns, rows)
        lines.append("")  # the counts apart from the table, however short they are
    counts = Counter(m.status for m in modules)
    summary = ", ".join(f"{n} {printable(status)}" for status, n in sorted(counts.items()))
    left = len(modules) - len(shown)
    hidden = f"; {left} more unchanged (--all lists them)" if left else ""
    lines.append(f"{len(modules)} modules: {summary}{hidden}")
    drifted = sum(m.drifted for m in modules)
    if drifted:
        lines.append(
            paint(f"{drifted} modules' rows were changed outside the pipeline", _RED)
            + "; `pipeline deploy --verify` writes them again from the files"
        )
    out.write("\n".join(lines) + "\n")


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
    """JSON for tools: dataclasses as objects, times in ISO 8601. orjson writes
    dataclasses and times itself, without a dict per row (10,000 rows in milliseconds)."""
    import orjson

    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return float(obj)
        if isinstance(obj, tuple) and hasattr(obj, "_asdict"):  # a NamedTuple
            return obj._asdict()
        raise TypeError(type(obj).__name__)

    return orjson.dumps(value, option=orjson.OPT_INDENT_2, default=default).decode()


@contextmanager
def export_progress(
    *, every: int = 10, seconds: float = 20.0, clock: Callable[[], float] = time.monotonic
) -> Iterator[Callable[[str, int, int], None]]:
    """Pages exported: a progress bar on a terminal; elsewhere (an Actions log, a pipe) a
    line on stderr for the first and last page, every `every` pages, and whenever
    `seconds` have passed since the last line, so a log is never silent for long."""
    if not sys.stderr.isatty():
        print("export: asking Notion for Ready pages", file=sys.stderr, flush=True)
        last = [clock()]

        def line(title: str, done: int, total: int) -> None:
            now = clock()
            if done in (1, total) or done % every == 0 or now - last[0] >= seconds:
                last[0] = now
                print(
                    f"export: page {done} of {total}: {printable(' '.join(title.split()))}",
                    file=sys.stderr,
                    flush=True,
                )

        yield line
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


def _export_rows(report: ExportReport, *, dry_run: bool) -> list[tuple[str, str, str, str]]:
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
        if r.removed:
            verb = "unused, to remove" if dry_run else "removed, unused"
            notes = (notes + "; " if notes else "") + f"{verb}: " + ", ".join(r.removed)
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
    for module_id, title, outcome, notes in _export_rows(report, dry_run=dry_run):
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
            "| " + " | ".join(text(cell) for cell in row) + " |"
            for row in _export_rows(report, dry_run=dry_run)
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


_WOULD = {"opened": "would open", "updated": "would update", "closed": "would close"}


def render_proposals(report: ProposeReport, out: TextIO, *, dry_run: bool) -> None:
    console = _console(out)
    if not report.proposals:
        console.print("no module differs from the default branch; nothing to propose")
    for p in report.proposals:
        action = _WOULD.get(p.action, p.action) if dry_run else p.action
        console.print(f"{escape(p.module_id)}: {action}" + (f"  {p.url}" if p.url else ""))
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    if dry_run:
        for p in report.proposals:
            if p.title:  # what a real run would send, as it would send it
                out.write(f"\n--- {printable(p.module_id)}: title\n{printable(p.title)}\n")
                out.write(f"--- {printable(p.module_id)}: body\n{printable(p.body)}")
        console.print("dry run: nothing pushed, opened or closed")


def write_propose_outputs(report: ProposeReport, *, dry_run: bool) -> None:
    """In Actions: the job summary (module, action, pull request) and the step's outputs
    `opened`, `updated`, `closed` (PR numbers, space-separated; empty in a dry run)."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        from pipeline.propose.pr_body import code, text

        lines = ["## Pull requests" + (" (dry run: nothing pushed)" if dry_run else ""), ""]
        if report.proposals:
            lines += ["| module | action | pull request |", "| --- | --- | --- |"]
        for p in report.proposals:
            action = _WOULD.get(p.action, p.action) if dry_run else p.action
            link = f"[#{p.number}]({p.url})" if p.number and p.url.startswith("http") else ""
            lines.append(f"| {code(p.module_id, table=True)} | {action} | {link} |")
        if not report.proposals:
            lines.append("No module differs from the default branch; nothing to propose.")
        lines += [""] + [f"- ⚠️ {text(note)}" for note in report.notes]
        with open(summary, "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
    outputs = os.environ.get("GITHUB_OUTPUT")
    if outputs:
        with open(outputs, "a", encoding="utf-8") as out:
            for action in ("opened", "updated", "closed"):
                numbers = (
                    []
                    if dry_run
                    else [
                        str(p.number) for p in report.proposals if p.action == action and p.number
                    ]
                )
                out.write(f"{action}={' '.join(numbers)}\n")


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


def render_review_feedback(report: FeedbackReport, out: TextIO, *, dry_run: bool) -> None:
    """What was told on the module's Notion page (in a dry run: would be, and the text)."""
    console = _console(out)
    lead = f"pull request #{report.pull_request}"
    if report.module_id:
        lead += f" ({escape(report.module_id)})"
    if report.skipped:
        console.print(f"{lead}: {escape(report.skipped)}")
        return
    if not report.told:
        console.print(f"{lead}: nothing to tell (no submitted review, not closed unmerged)")
    for told in report.told:
        console.print(f"{lead}: {escape(told.what)}: {told.outcome}")
        if dry_run and told.outcome == "would post":
            out.write(printable(told.text).rstrip("\n") + "\n")
    if report.status:
        verb = "would be set" if dry_run else "set"
        console.print(f"Status {verb} to {escape(report.status)} on the Notion page")
    if dry_run:
        console.print("dry run: nothing posted in Notion")


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
        if r.held:
            out.write(f"{r.entity}: not synced, its Notion database must be corrected (below)\n")
            continue
        out.write(
            f"{r.entity}: {r.added} added, {r.updated} updated, {len(r.conflicts)} "
            f"conflicts, {len(r.failed)} failed\n"
        )
    for r in results:
        for line in r.conflicts + r.failed:
            out.write(f"  needs a person: {line}\n")
        for line in r.held:
            out.write(f"  needs a person: {r.entity}: {line}\n")


# -- notion-learning-sync (`pipeline learn`, seed 003) ------------------------------------

if TYPE_CHECKING:
    from pipeline.learn.anki_sync import AnkiReport
    from pipeline.learn.clean import CleanReport
    from pipeline.learn.review import ReviewItem
    from pipeline.learn.rewrite import RewriteReport
    from pipeline.learn.study import DueAtom, Stats
    from pipeline.learn.sync import SyncReport


def _short(text: str | None, width: int = 70) -> str:
    line = printable(" ".join((text or "").split()))
    return line if len(line) <= width else line[: width - 1] + "…"


def render_learn_sync(report: SyncReport, out: TextIO) -> None:
    done = "dry run, nothing written: " if report.dry_run else ""
    if report.pages_read:
        kind = "full" if report.sync_type == "notion_full" else f"since {report.since}"
        read = ", ".join(f"{n} {e.replace('_', ' ')}" for e, n in report.pages_read.items())
        out.write(f"Notion ({kind}): pages read: {read}\n")
        staged = sum(report.pages_staged.values())
        unstaged = sum(report.pages_unstaged.values())
        out.write(
            f"{done}{staged} pages staged, {unstaged} gone from Notion; canonical rows: "
            f"{report.added} added, {report.updated} updated, {report.removed} removed; "
            f"{report.notion_requests} Notion requests\n"
        )
    if report.modules is not None:
        m = report.modules
        out.write(
            f"{done}LMS modules: {m.questions} quiz questions in {m.modules} modules; atoms "
            f"{m.added} added, {m.updated} updated, {m.removed} removed\n"
        )
        for problem in m.failures:
            out.write(f"  failed: {printable(problem)}\n")
    for failure in report.failures:
        out.write(f"  failed: {printable(failure)}\n")


def render_learn_clean(report: CleanReport, out: TextIO) -> None:
    for change in report.changes:
        label = change.card_id or change.atom_id[:8]
        old = {k: v for k, v in change.old.items() if change.new.get(k) != v}
        new = {k: change.new[k] for k in old}
        out.write(
            f"{printable(label)}: {change.operation} "
            f"{printable(_short(str(old), 60))} -> {printable(_short(str(new), 60))}\n"
        )
    for merge in report.merges:
        state = "proposed" if merge.queued else "already in the review queue"
        out.write(
            f"{printable(merge.keep_card or merge.keep[:8])}: {len(merge.merge)} {merge.kind} "
            f"duplicate(s) to merge, {state}\n"
        )
    verb = "would change" if report.dry_run else "changed"
    out.write(
        f"{report.atoms} atoms checked; {verb} {report.changed_atoms} "
        f"({report.count('prefix_normalize')} prefixes, {report.count('atomicity_check')} "
        f"atomicity, {report.count('quality_score')} quality scores); "
        f"{sum(m.queued for m in report.merges)} merges "
        + ("to propose" if report.dry_run else "proposed")
        + "\n"
    )


def render_review_list(items: list[ReviewItem], out: TextIO) -> None:
    if not items:
        out.write("the review queue is empty\n")
        return
    table = _table("Review queue", ("id", "source", "score", "original", "proposed"))
    for item in items:
        original = item.current_front if item.current_front is not None else item.original_front
        table.add_row(
            item.id[:8],
            item.source + (" (edited)" if item.status == "edited" else ""),
            f"{item.quality_score:.2f}" if item.quality_score is not None else "",
            escape(_short(original, 50)) if original else "[dim]new[/dim]",
            escape(_short(item.front, 50)),
        )
    _console(out).print(table)


def render_review_item(item: ReviewItem, out: TextIO) -> None:
    lines = [
        f"item {item.id}  {item.status}  ({item.source}"
        + (f", batch {item.batch_id}" if item.batch_id else "")
        + ")",
        f"quality {item.quality_score}"
        + (f", confidence {item.ai_confidence}" if item.ai_confidence is not None else ""),
    ]
    if item.rewrite_reason:
        lines.append(f"why: {item.rewrite_reason}")
    if item.original_atom_id:
        lines.append(f"original atom {item.original_card_id or item.original_atom_id}:")
        live = item.current_front is not None
        lines.append(f"  front: {item.current_front if live else item.original_front}")
        lines.append(f"  back:  {item.current_back if live else item.original_back}")
    lines.append("proposed:")
    lines.append(f"  front: {item.front}")
    lines.append(f"  back:  {item.back or ''}")
    if item.merge_atom_ids:
        lines.append(f"merges: {', '.join(a[:8] for a in item.merge_atom_ids)}")
    if item.reviewer_notes:
        lines.append(f"notes: {item.reviewer_notes}")
    if item.approved_at:
        lines.append(f"approved {item.approved_at:%Y-%m-%d %H:%M} -> atom {item.approved_atom_id}")
    out.write("\n".join(printable(line) for line in lines) + "\n")


def render_learn_rewrite(report: RewriteReport, out: TextIO) -> None:
    for atom in report.atoms:
        label = printable(atom.card_id or atom.atom_id[:8])
        if atom.error:
            out.write(f"{label}: not rewritten: {printable(atom.error)}\n")
        elif atom.queue_id:
            out.write(f"{label}: queued {atom.queue_id[:8]}: {_short(atom.proposal)}\n")
        else:
            out.write(f"{label}: would be sent: {_short(atom.front)}\n")
    if report.dry_run:
        out.write(f"dry run: {len(report.atoms)} atoms would be sent; nothing sent or queued\n")
    else:
        out.write(
            f"{report.queued} proposals queued from {report.provider} (batch {report.batch_id}); "
            "`pipeline learn review list` shows them\n"
        )


def render_learn_anki(report: AnkiReport, out: TextIO) -> None:
    done = "dry run, nothing written: " if report.dry_run else ""
    if report.direction == "push":
        out.write(
            f"{done}{report.atoms} atoms to {printable(report.where)}: {report.added} added, "
            f"{report.updated} updated ({report.moved} moved), {report.unchanged} unchanged\n"
        )
        if report.removed_in_anki:
            out.write(
                f"note: {report.removed_in_anki} notes in Anki belong to atoms removed from "
                "Notion or merged; delete or suspend them in Anki if you no longer want them\n"
            )
    else:
        out.write(
            f"{done}{report.atoms} atoms from {printable(report.where)}: {report.updated} "
            f"updated, {report.unchanged} unchanged, {report.missing} no longer in Anki\n"
        )
    for failure in report.failures:
        out.write(f"  failed: {printable(failure)}\n")


def render_learn_due(cards: list[DueAtom], out: TextIO) -> None:
    if not cards:
        out.write("nothing due today (as of the last `pipeline learn anki pull`)\n")
        return
    table = _table("Due today", ("card", "concept", "deck", "front"))
    for card in cards:
        table.add_row(
            escape(card.card_id or ""),
            escape(card.concept_name or ""),
            escape(card.anki_deck or ""),
            escape(_short(card.front, 60)),
        )
    _console(out).print(table)


def render_learn_stats(found: Stats, out: TextIO) -> None:
    out.write(f"{found.atoms} atoms, {found.in_anki} in Anki, {found.due_today} due today\n")
    if found.concepts:
        table = _table(
            "Concepts", ("concept", "status", "atoms", "atomic", "in Anki", "avg ease", "review")
        )
        for c in found.concepts:
            table.add_row(
                escape(c.concept_name),
                c.status or "",
                str(c.total_atoms),
                str(c.atomic_count),
                str(c.in_anki_count),
                f"{c.avg_ease:.2f}" if c.avg_ease is not None else "",
                str(c.needs_review_count),
            )
        _console(out).print(table)
    for row in found.review_queue:
        out.write(f"review queue: {row['source']} {row['status']}: {row['count']}\n")


# -- issue #16: emergency, rollback, backups -----------------------------------------------


def render_visibility(change: VisibilityChange, out: TextIO) -> None:
    module = printable(change.module_id)
    since = change.since
    if change.action == "already-unpublished" and since is not None:
        out.write(
            f"{module} is already unpublished (by {printable(since.by)} at "
            f"{since.at:%Y-%m-%d %H:%M %Z}: {printable(since.reason)}); nothing changed\n"
        )
    elif change.action == "unpublished":
        out.write(
            f"{module} unpublished: students no longer see it (status draft). It stays "
            f"hidden through deploys until `pipeline republish {module}`\n"
        )
    elif change.action == "republished-archived":
        out.write(f"{module} is no longer held, but its file is gone: it stays archived\n")
    else:
        out.write(f"{module} republished: status {change.status}\n")


def render_rollback(result: RollbackResult, out: TextIO, *, dry_run: bool) -> None:
    module = printable(result.module_id)
    revision = f"revision {result.revision}" if result.revision is not None else "no revision"
    source = f"{result.commit[:12]} ({revision})"
    if result.action == "nothing-to-restore":
        out.write(f"{module}: the default branch already has its files as at {source}; no PR\n")
    else:
        out.write(f"{module}: rollback to {source} {result.action} on {result.branch}")
        out.write(f"  {result.url}\n" if result.url else "\n")
    for note in result.notes:
        out.write(f"note: {printable(note)}\n")
    if dry_run:
        out.write("dry run: nothing pushed or opened\n")


def render_backup(result: BackupResult, out: TextIO) -> None:
    out.write(
        f"{result.database} backed up to {result.path} ({result.size:,} bytes, "
        f"{result.duration_ms} ms); it holds students' data: keep it private\n"
    )


def render_restore(result: RestoreResult, out: TextIO) -> None:
    if result.saved:
        out.write(f"what {result.database} held is saved in {result.saved}\n")
    out.write(
        f"{result.database} restored from {result.path} ({result.duration_ms} ms); run "
        "`pipeline db migrate` if the backup is older than this version\n"
    )


def render_restore_points(points: list[RestorePoint], out: TextIO) -> None:
    columns = ("deploy", "finished (UTC)", "git sha", "by", "modules", "restore to (LSN, time)")
    table = _table("Deploys and their restore points", columns, no_wrap=columns)
    for p in points:
        where = (
            f"{p.restore_lsn}  {p.restore_time:%Y-%m-%d %H:%M:%S.%f %Z}"
            if p.restore_lsn and p.restore_time
            else "not recorded"
        )
        table.add_row(
            str(p.deploy_id),
            f"{p.finished_at:%Y-%m-%d %H:%M:%S}",
            (p.git_sha or "")[:10],
            escape(p.actor or ""),
            str(p.written),
            where,
        )
    console = _console(out)
    console.print(table if points else "no deploy has written anything yet")


def render_notion_backup(report: NotionBackupReport, out: TextIO) -> None:
    for path in report.written:
        out.write(f"{'would write' if report.dry_run else 'wrote'} {path}\n")
    for path in report.removed:
        out.write(f"{'would remove' if report.dry_run else 'removed'} {path} (not in Notion)\n")
    out.write(
        f"{report.pages} pages backed up in {report.directory}: {len(report.written)} files "
        f"changed, {len(report.removed)} removed; {report.requests} Notion requests\n"
    )


def render_backup_pull(pull: BackupPull, out: TextIO) -> None:
    if pull.action == "nothing-to-propose":
        out.write("the backup equals the default branch's; no pull request\n")
    else:
        out.write(f"backup pull request {pull.action} ({pull.files} files differ)")
        out.write(f": {pull.url}\n" if pull.url else "\n")
