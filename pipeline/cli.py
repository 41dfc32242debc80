"""The `pipeline` command line: a thin layer over the library.

Exit codes (also in the README):
  0  success
  1  content problem (invalid module files, pages that cannot be exported, ...)
  2  usage or configuration problem (bad option, missing path, missing setting)
  3  internal error: a bug in the pipeline; set PIPELINE_DEBUG=1 for the traceback
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

if TYPE_CHECKING:
    import psycopg

from pipeline.errors import ContentError, PipelineError, UsageError
from pipeline.layout import MODULES_DIR, REFERENCE_FILE, SYNC_CONFIG
from pipeline.modules.urlcheck import check_urls
from pipeline.modules.validate import validate_paths
from pipeline.render import RENDERERS

EXIT_INTERNAL = 3

app = typer.Typer(
    name="pipeline",
    help="Carry training modules from Notion, through reviewed pull requests, into Postgres.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


class OutputFormat(StrEnum):
    text = "text"
    github = "github"
    json = "json"


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Module files or directories (default: data/modules/).", show_default=False
        ),
    ] = None,
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            help="text for people, github for PR annotations, json for tools.",
        ),
    ] = OutputFormat.text,
    urls: Annotated[
        bool, typer.Option("--check-urls", help="Also fetch every external media URL.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=0.1, help="Seconds to wait for each URL with --check-urls."),
    ] = 10.0,
) -> None:
    """Check module files against the schema and the content rules.

    Exit 0 when valid, 1 when any file has an error, 2 on a usage problem.

    Example: [bold]pipeline validate data/modules/lab-safety-101.json --format github[/bold]
    """
    checker = partial(check_urls, timeout=timeout) if urls else None
    report = validate_paths(paths or [MODULES_DIR], url_checker=checker)
    RENDERERS[output.value](report, sys.stdout)
    if not report.valid:
        raise typer.Exit(1)


db_app = typer.Typer(help="Manage the database schema and reference rows.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _connect() -> psycopg.Connection:
    from pipeline.db.connect import connect, resolve_target

    def say(message: str) -> None:
        print(message, file=sys.stderr)

    return connect(resolve_target(), on_retry=say)


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations, each in its own transaction, under a lock.

    Uses DATABASE_URL, or the embedded Postgres when it is not set.

    Example: [bold]pipeline db migrate[/bold]
    """
    from pipeline.db.migrate import migrate

    with _connect() as conn:
        ran = migrate(conn)
    for migration in ran:
        print(f"applied {migration.version:04d}_{migration.name}")
    print(f"{len(ran)} migrations applied" if ran else "database schema is up to date")


@db_app.command("status")
def db_status() -> None:
    """Show applied and pending migrations.

    Example: [bold]pipeline db status[/bold]
    """
    from pipeline.db.migrate import applied, available, drift

    with _connect() as conn:
        done = applied(conn)
    versions = {row.version for row in done}
    for row in done:
        print(f"applied  {row.version:04d}_{row.name}  {row.applied_at:%Y-%m-%d %H:%M:%S %Z}")
    for migration in available():
        if migration.version not in versions:
            print(f"pending  {migration.version:04d}_{migration.name}")
    problems = drift(available(), done)
    if problems:
        raise UsageError("; ".join(problems))


@db_app.command("seed")
def db_seed(
    path: Annotated[Path, typer.Argument(help="YAML with universities, faculty, teams.")] = (
        REFERENCE_FILE
    ),
) -> None:
    """Insert or update reference rows that modules refer to; never deletes.

    Example: [bold]pipeline db seed data/reference.yaml[/bold]
    """
    from pipeline.db.migrate import require_current
    from pipeline.db.seed import load, seed

    rows = load(path)
    with _connect() as conn:
        require_current(conn)
        counts = seed(conn, rows)
    print(", ".join(f"{n} {table}" for table, n in counts.items()) + " upserted")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded Postgres (it keeps running between commands).

    Example: [bold]pipeline db stop[/bold]
    """
    from pipeline.db.connect import stop_embedded

    print("embedded Postgres stopped" if stop_embedded() else "embedded Postgres not running")


@app.command()
def deploy(
    path: Annotated[Path, typer.Argument(help="Directory of module files.")] = (MODULES_DIR),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    lock_timeout: Annotated[
        str, typer.Option(help="How long to wait for another deploy (Postgres interval).")
    ] = "60s",
    statement_timeout: Annotated[
        str, typer.Option(help="Longest any one statement may run (Postgres interval).")
    ] = "300s",
) -> None:
    """Validate module files, then deploy them to Postgres in one transaction.

    Unchanged modules are not written; changed ones get revision + 1; modules whose
    file is gone are archived, never deleted. Exit 1 when files are invalid or refer
    to missing rows: then nothing is written.

    Example: [bold]pipeline deploy --dry-run[/bold]
    """
    from pipeline.db import deploy as deploying
    from pipeline.render import (
        outcome_json,
        render_outcome,
        to_json,
        write_deploy_summary,
    )

    settings = deploying.Settings(
        lock_timeout, statement_timeout, deploying.git_sha(), deploying.actor()
    )
    outcome = deploying.deploy_tree(path, _connect, settings, dry_run=dry_run)
    write_deploy_summary(outcome, dry_run=dry_run)
    if as_json:
        print(to_json(outcome_json(outcome, dry_run=dry_run)))
    else:
        render_outcome(outcome, sys.stdout, dry_run=dry_run)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """What is live: module, revision, status, deployed at, git SHA.

    Example: [bold]pipeline status[/bold]
    """
    from pipeline.db import status as live
    from pipeline.db.migrate import require_current
    from pipeline.render import render_status, to_json

    with _connect() as conn:
        require_current(conn)
        modules = live.status(conn)
    if as_json:
        print(to_json([asdict(m) for m in modules]))
    else:
        render_status(modules, sys.stdout)


@app.command()
def show(
    module_id: Annotated[str, typer.Argument(help="The module to show.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """The module as the database serves it, sections in order.

    Example: [bold]pipeline show lab-safety-101[/bold]
    """
    from pipeline.db import status as live
    from pipeline.db.migrate import require_current
    from pipeline.render import render_module, to_json

    with _connect() as conn:
        require_current(conn)
        module = live.show(conn, module_id)
    if as_json:
        print(to_json(module))
    else:
        render_module(module, sys.stdout)


@app.command()
def export(
    module: Annotated[
        str | None, typer.Option("--module", help="Export only the Ready page with this Module ID.")
    ] = None,
    page: Annotated[
        str | None, typer.Option("--page", help="Export only this Notion page (id).")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Convert and check; write nothing, in the repo or in Notion."
        ),
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Ask Notion for every Ready page, not only those edited since the last run.",
        ),
    ] = False,
) -> None:
    """Export Ready pages of the Notion Module Library to data/modules/*.json.

    Needs NOTION_TOKEN; the database and property names come from pipeline.yaml.
    Exit 1 when some pages could not be exported (the others still are).

    Example: [bold]pipeline export --module lab-safety-101 --dry-run[/bold]
    """
    from pipeline.config import load_config
    from pipeline.notion.api import NotionAPI
    from pipeline.notion.export import Exporter, require_success
    from pipeline.render import export_progress, render_export, write_step_summary

    if module and page:
        raise UsageError("give --module or --page, not both")
    settings = load_config().notion
    with export_progress() as progress:
        exporter = Exporter(
            NotionAPI.from_environment(per_second=settings.requests_per_second),
            settings,
            Path.cwd(),
            dry_run=dry_run,
            progress=progress,
        )
        report = exporter.run(full=full, module_id=module, page_id=page)
    render_export(report, sys.stdout, dry_run=dry_run)
    write_step_summary(report, dry_run=dry_run)
    require_success(report)


@app.command()
def propose(
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Say what would be pushed and opened; push and open nothing."
        ),
    ] = False,
) -> None:
    """Open or update one pull request per changed module (branch notion/<module_id>).

    Needs GITHUB_TOKEN and GITHUB_REPOSITORY (GITHUB_API_URL for GitHub Enterprise), as
    Actions sets them; with NOTION_TOKEN the Notion row gets the PR link.

    Example: [bold]pipeline export && pipeline propose[/bold]
    """
    from pipeline.config import load_config
    from pipeline.notion.api import NotionAPI
    from pipeline.propose.branches import Author, Git
    from pipeline.propose.run import (
        Proposer,
        checked_by_export,
        github_repository,
        notion_writer,
    )
    from pipeline.render import render_proposals

    settings = load_config().notion
    notify = None
    if os.environ.get("NOTION_TOKEN"):
        api = NotionAPI.from_environment(per_second=settings.requests_per_second)
        notify = notion_writer(api, settings)
    default = Author()
    author = Author(
        os.environ.get("PIPELINE_GIT_AUTHOR_NAME") or default.name,
        os.environ.get("PIPELINE_GIT_AUTHOR_EMAIL") or default.email,
    )
    report = Proposer(
        Git(Path.cwd()),
        github_repository(),
        dry_run=dry_run,
        author=author,
        notify=notify,
        checked=checked_by_export(Path.cwd()),
    ).run()
    render_proposals(report, sys.stdout, dry_run=dry_run)


notion_app = typer.Typer(help="Write back to the Notion Module Library.", no_args_is_help=True)
app.add_typer(notion_app, name="notion")


@notion_app.command("mark-live")
def notion_mark_live(
    deploy_id: Annotated[
        int | None, typer.Option("--deploy", help="The deploy to report (default: the latest).")
    ] = None,
) -> None:
    """Mark the modules of a deploy Live in Notion.

    Sets Status, Last Updated and the deployed revision on the rows of the modules the
    deploy inserted or updated. Safe to rerun.

    Example: [bold]pipeline deploy && pipeline notion mark-live[/bold]
    """
    from pipeline.config import load_config
    from pipeline.db.migrate import require_current
    from pipeline.notion.api import NotionAPI
    from pipeline.notion.mark_live import deployed_modules, mark_live

    settings = load_config().notion
    with _connect() as conn:
        require_current(conn)
        deploy, modules = deployed_modules(conn, deploy_id)
    api = NotionAPI.from_environment(per_second=settings.requests_per_second)
    source = settings.data_source_id or (
        api.data_source_id(settings.database_id) if settings.database_id else None
    )
    schema = api.data_source(source).get("properties", {}) if source else {}
    lines = mark_live(api, settings, modules, schema)
    print(f"deploy {deploy}: {len(modules)} modules")
    for line in lines:
        print(line)
    if any("NOT marked live" in line for line in lines):
        raise ContentError("some Notion rows could not be marked live; see above")


sync_app = typer.Typer(
    help="Reference tables in Notion (universities, teams, ...).", no_args_is_help=True
)
app.add_typer(sync_app, name="sync")


@sync_app.command("setup")
def sync_setup(
    parent_page: Annotated[
        str, typer.Option("--parent-page", help="The Notion page to create the databases under.")
    ],
) -> None:
    """Create (or find) the Notion databases of the reference tables.

    Their ids are saved in notion-sync.json. Safe to rerun.

    Example: [bold]pipeline sync setup --parent-page 0123456789abcdef0123456789abcdef[/bold]
    """
    from pipeline.config import load_config
    from pipeline.notion.api import NotionAPI
    from pipeline.sync.plan import entities
    from pipeline.sync.run import setup

    config = load_config()
    api = NotionAPI.from_environment(per_second=config.notion.requests_per_second)
    for database in setup(api, parent_page, entities(config.sync.students)):
        state = "created" if database.created else "found"
        print(f"{database.entity}: {state} ({database.database_id})")
    print(f"database ids saved in {SYNC_CONFIG}")


def _sync(direction: Literal["push", "pull"], names: list[str] | None) -> None:
    from pipeline.config import load_config
    from pipeline.db.migrate import require_current
    from pipeline.notion.api import NotionAPI
    from pipeline.sync.plan import entities
    from pipeline.sync.run import read_sync_config, run_sync

    config = load_config()
    available = entities(config.sync.students)
    unknown = sorted(set(names or []) - set(available))
    if unknown:
        raise UsageError(f"unknown entity {unknown[0]!r}; choose from {', '.join(available)}")
    chosen = {k: v for k, v in available.items() if not names or k in names}
    databases = read_sync_config(SYNC_CONFIG)
    if not databases:
        raise UsageError(f"no {SYNC_CONFIG}; run `pipeline sync setup --parent-page ID` first")
    api = NotionAPI.from_environment(per_second=config.notion.requests_per_second)
    with _connect() as conn:
        require_current(conn)
        results = run_sync(conn, api, direction, chosen, databases)
    problems = []
    for r in results:
        print(
            f"{r.entity}: {r.added} added, {r.updated} updated, {len(r.conflicts)} "
            f"conflicts, {len(r.failed)} failed"
        )
        problems += r.conflicts + r.failed
    for line in problems:
        print(f"  needs a person: {line}")
    if problems:
        raise ContentError(
            f"{len(problems)} rows need a person (listed above); nothing of theirs was overwritten"
        )


SyncNames = Annotated[
    list[str] | None,
    typer.Argument(help="Entities (default: all synced ones).", show_default=False),
]


@sync_app.command("push")
def sync_push(
    names: SyncNames = None,
) -> None:
    """Postgres -> Notion for rows changed since the last sync.

    Example: [bold]pipeline sync push teams faculty[/bold]
    """
    _sync("push", names)


@sync_app.command("pull")
def sync_pull(
    names: SyncNames = None,
) -> None:
    """Notion -> Postgres for rows team leads edited since the last sync.

    Example: [bold]pipeline sync pull teams[/bold]
    """
    _sync("pull", names)


@app.callback()
def _root() -> None:
    """Carry training modules from Notion, through reviewed pull requests, into Postgres."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: the one place where our failures become messages and exit codes.

    Typer reports usage errors itself (exit 2); everything else that escapes a
    command lands here, so no traceback ever reaches a user.
    """
    try:
        app(args=argv, prog_name="pipeline")
    except PipelineError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:
        if os.environ.get("PIPELINE_DEBUG"):
            raise
        _fail(
            f"internal error ({type(exc).__name__}); this is a bug in the pipeline. Run again "
            "with PIPELINE_DEBUG=1 to see the traceback and report it",
            EXIT_INTERNAL,
        )


def _fail(message: str, code: int) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)
