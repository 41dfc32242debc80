"""The `pipeline` command line: a thin layer over the library.

Each command reads its options, makes one library call and renders the result
(`render.py`); settings from the environment, Notion lookups and checks of
what the user named live in the library. `main` is the one place where our
errors become messages and exit codes (see `errors.py` and the README):
0 success, 1 content problem, 2 usage or configuration problem, 3 a bug,
4 an outside system failed (try again later).
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO, TypeVar

import typer

from pipeline import __version__
from pipeline.errors import EXIT_INTERNAL, ContentError, PipelineError, redact
from pipeline.layout import MODULES_DIR, REFERENCE_FILE

if TYPE_CHECKING:
    import psycopg

_AUTHOR = "1. From Notion to a pull request"
_REVIEW = "2. Review"
_RELEASE = "3. Release"
_INSPECT = "4. What students see"
_SETUP = "Set-up and reference data"

app = typer.Typer(
    name="pipeline",
    help="Carry training modules from Notion, through reviewed pull requests, into Postgres.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

T = TypeVar("T")
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON, for tools.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Say what would happen; change nothing.")]


def _say(message: str) -> None:
    print(message, file=sys.stderr)


@contextmanager
def _database(what: str) -> Iterator[psycopg.Connection]:
    """A connection for one command (DATABASE_URL or the embedded server)."""
    from pipeline.db.connect import session

    with session(what, on_retry=_say, on_connect=_say) as conn:
        yield conn


def _print_json(value: Any) -> None:
    from pipeline.render import to_json

    print(to_json(value))


def _output(result: T, as_json: bool, render: Callable[[T, TextIO], None]) -> None:
    """The result as JSON for tools, or rendered for people."""
    if as_json:
        _print_json(result)
    else:
        render(result, sys.stdout)


def _version(show: bool) -> None:
    if show:
        print(f"pipeline {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    _version_option: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Carry training modules from Notion, through reviewed pull requests, into Postgres.

    Exit codes: 0 success, 1 content problem, 2 usage or configuration problem,
    3 a bug in the pipeline, 4 an outside system failed (try again later).
    """


# -- 1. From Notion to a pull request -------------------------------------------------------


@app.command(rich_help_panel=_AUTHOR)
def export(
    module: Annotated[
        str | None, typer.Option("--module", help="Export only the Ready page with this Module ID.")
    ] = None,
    page: Annotated[
        str | None, typer.Option("--page", help="Export only this Notion page (id).")
    ] = None,
    dry_run: DryRun = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Ask Notion for every Ready page, not only those edited since the last run.",
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Export Ready pages of the Notion Module Library to data/modules/*.json.

    Needs NOTION_TOKEN; the database and property names come from pipeline.yaml.
    Exit 1 when some pages could not be exported (the others still are).

    Example: [bold]pipeline export --module lab-safety-101 --dry-run[/bold]
    """
    from pipeline.config import load_config
    from pipeline.notion.export import export_pages, require_success
    from pipeline.render import export_progress, render_export, write_step_summary

    settings = load_config().notion
    with export_progress() as progress:
        report = export_pages(
            settings,
            Path.cwd(),
            dry_run=dry_run,
            full=full,
            module_id=module,
            page_id=page,
            progress=progress,
        )
    _output(report, as_json, partial(render_export, dry_run=dry_run))
    write_step_summary(report, dry_run=dry_run)
    require_success(report)


@app.command(rich_help_panel=_AUTHOR)
def propose(dry_run: DryRun = False, as_json: Json = False) -> None:
    """Open or update one pull request per changed module (branch notion/<module_id>).

    Needs GITHUB_TOKEN and GITHUB_REPOSITORY (GITHUB_API_URL for GitHub Enterprise), as
    Actions sets them; with NOTION_TOKEN the Notion row gets the PR link.

    Example: [bold]pipeline export && pipeline propose[/bold]
    """
    from pipeline.config import load_config
    from pipeline.propose.run import propose as propose_modules
    from pipeline.render import render_proposals

    report = propose_modules(Path.cwd(), load_config().notion, dry_run=dry_run)
    _output(report, as_json, partial(render_proposals, dry_run=dry_run))


# -- 2. Review ------------------------------------------------------------------------------


class OutputFormat(StrEnum):
    text = "text"
    github = "github"
    json = "json"


@app.command(rich_help_panel=_REVIEW)
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
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
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
    from pipeline.modules.urlcheck import check_urls
    from pipeline.modules.validate import validate_paths
    from pipeline.render import RENDERERS

    checker = partial(check_urls, timeout=timeout) if urls else None
    report = validate_paths(paths or [MODULES_DIR], url_checker=checker)
    RENDERERS["json" if as_json else output.value](report, sys.stdout)
    if not report.valid:
        raise typer.Exit(1)


# -- 3. Release -----------------------------------------------------------------------------


def _interval(value: str) -> str:
    """A Postgres interval as the timeouts take it ("60s", "500ms", "2min"), checked now."""
    if not _INTERVAL.match(value.strip()):
        raise typer.BadParameter(f"{value!r} is not a duration; write e.g. 60s, 500ms or 2min")
    return value.strip()


_INTERVAL = re.compile(r"^\d+(\.\d+)?\s*(us|ms|s|min|h|d)?$")


@app.command(rich_help_panel=_RELEASE)
def deploy(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="The module tree (default: data/modules/), or module files to deploy just "
            "those (they archive nothing).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    allow_archive: Annotated[
        bool,
        typer.Option(
            "--allow-archive",
            help="Archive modules whose files are gone even beyond the archive limit.",
        ),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Also write again modules whose rows were changed outside the pipeline.",
        ),
    ] = False,
    lock_timeout: Annotated[
        str,
        typer.Option(
            callback=_interval, help="How long to wait for another deploy (Postgres interval)."
        ),
    ] = "60s",
    statement_timeout: Annotated[
        str,
        typer.Option(
            callback=_interval, help="Longest any one statement may run (Postgres interval)."
        ),
    ] = "300s",
) -> None:
    """Validate module files, then deploy them to Postgres in one transaction.

    Unchanged modules are not written; changed ones get revision + 1. Deploying the
    whole tree archives (never deletes) modules whose file is gone, and refuses to
    archive more than the limit without --allow-archive; naming files deploys just
    those. Exit 1 when files are invalid or refer to missing rows: then nothing is
    written.

    Example: [bold]pipeline deploy --dry-run[/bold]
    """
    from pipeline.config import load_config
    from pipeline.db.deploy import Settings, deploy_tree
    from pipeline.db.plan import ArchiveLimit
    from pipeline.render import outcome_json, render_outcome, to_json, write_deploy_summary

    limits = load_config().deploy
    settings = Settings.from_environment(
        lock_timeout,
        statement_timeout,
        allow_archive=allow_archive,
        archive_limit=ArchiveLimit(limits.archive_limit, limits.archive_limit_percent),
        verify=verify,
    )
    session = partial(_database, "the deploy")
    outcome = deploy_tree(session, paths or [MODULES_DIR], settings, dry_run=dry_run)
    write_deploy_summary(outcome, dry_run=dry_run)
    if as_json:
        print(to_json(outcome_json(outcome, dry_run=dry_run)))
    else:
        render_outcome(outcome, sys.stdout, dry_run=dry_run)


notion_app = typer.Typer(
    help="The Notion Module Library: its module template, and modules marked Live.",
    no_args_is_help=True,
)
app.add_typer(notion_app, name="notion", rich_help_panel=_RELEASE)


# -- notion template (authoring, #13) -------------------------------------------------------


@notion_app.command("template", rich_help_panel=_AUTHOR)
def notion_template(dry_run: DryRun = False, as_json: Json = False) -> None:
    """Create or update the "Module template" page of the Module Library.

    It holds one working example of every section type, written as team leads write
    (docs/authoring.md); exporting it gives a valid module. A database template named
    "Module template" (made in Notion: New ▾ → + New template) is filled when there is
    one; otherwise a page of that name. Safe to rerun: unchanged content is not written.

    Example: [bold]pipeline notion template --dry-run[/bold]
    """
    from pipeline.config import load_config
    from pipeline.notion.template import publish_template
    from pipeline.render import render_template

    result = publish_template(load_config().notion, dry_run=dry_run)
    _output(result, as_json, partial(render_template, dry_run=dry_run))


@notion_app.command("mark-live", rich_help_panel=_RELEASE)
def notion_mark_live(
    deploy_id: Annotated[
        int | None, typer.Option("--deploy", help="The deploy to report (default: the latest).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Mark the modules of a deploy Live in Notion.

    Sets Status, Last Updated and the deployed revision on the rows of the modules the
    deploy inserted or updated. Safe to rerun.

    Example: [bold]pipeline deploy && pipeline notion mark-live[/bold]
    """
    from pipeline.config import load_config
    from pipeline.notion.mark_live import mark_deploy_live
    from pipeline.render import render_mark_live

    settings = load_config().notion
    with _database("mark-live") as conn:
        report = mark_deploy_live(conn, settings, deploy_id)
    _output(report, as_json, render_mark_live)
    if report.failed:
        raise ContentError("some Notion rows could not be marked live; see above")


# -- 4. What students see -------------------------------------------------------------------


@app.command(rich_help_panel=_INSPECT)
def status(as_json: Json = False) -> None:
    """What is live: module, revision, status, deployed at, git SHA.

    Example: [bold]pipeline status[/bold]
    """
    from pipeline.db.status import status as live_status
    from pipeline.render import render_status

    with _database("pipeline status") as conn:
        modules = live_status(conn)
    _output(modules, as_json, render_status)


@app.command(rich_help_panel=_INSPECT)
def show(
    module_id: Annotated[str, typer.Argument(help="The module to show.")],
    as_json: Json = False,
) -> None:
    """The module as the database serves it, sections in order.

    Example: [bold]pipeline show lab-safety-101[/bold]
    """
    from pipeline.db.status import show as show_module
    from pipeline.render import render_module

    with _database("pipeline show") as conn:
        module = show_module(conn, module_id)
    _output(module, as_json, render_module)


# -- Set-up and reference data --------------------------------------------------------------

db_app = typer.Typer(help="Manage the database schema and reference rows.", no_args_is_help=True)
app.add_typer(db_app, name="db", rich_help_panel=_SETUP)


@db_app.command("migrate")
def db_migrate(as_json: Json = False) -> None:
    """Apply pending migrations, each in its own transaction, under a lock.

    Uses DATABASE_URL, or the embedded Postgres when it is not set.

    Example: [bold]pipeline db migrate[/bold]
    """
    from pipeline.db.migrate import migrate
    from pipeline.render import render_migrated

    with _database("the migration") as conn:
        ran = migrate(conn)
    if as_json:
        _print_json({"applied": [f"{m.version:04d}_{m.name}" for m in ran]})
    else:
        render_migrated(ran, sys.stdout)


@db_app.command("status")
def db_status(as_json: Json = False) -> None:
    """Show applied and pending migrations; exit 1 when some are pending.

    Example: [bold]pipeline db status[/bold]
    """
    from pipeline.db.migrate import migration_status
    from pipeline.render import render_migration_status

    with _database("pipeline db status") as conn:
        state = migration_status(conn)
    _output(state, as_json, render_migration_status)
    state.require_current()


@db_app.command("seed")
def db_seed(
    path: Annotated[
        Path, typer.Argument(help="YAML with universities, faculty, teams.")
    ] = REFERENCE_FILE,
    as_json: Json = False,
) -> None:
    """Insert or update reference rows that modules refer to; never deletes.

    Example: [bold]pipeline db seed data/reference.yaml[/bold]
    """
    from pipeline.db.migrate import require_current
    from pipeline.db.seed import load, seed

    rows = load(path)
    with _database("the seed") as conn:
        require_current(conn)
        counts = seed(conn, rows)
    if as_json:
        _print_json({"upserted": counts})
    else:
        print(", ".join(f"{n} {table}" for table, n in counts.items()) + " upserted")


@db_app.command("stop")
def db_stop(as_json: Json = False) -> None:
    """Stop the embedded Postgres (it keeps running between commands).

    Example: [bold]pipeline db stop[/bold]
    """
    from pipeline.db.connect import stop_embedded

    stopped = stop_embedded()
    if as_json:
        _print_json({"stopped": stopped})
    else:
        print("embedded Postgres stopped" if stopped else "embedded Postgres not running")


sync_app = typer.Typer(
    help="Reference tables in Notion (universities, teams, ...).", no_args_is_help=True
)
app.add_typer(sync_app, name="sync", rich_help_panel=_SETUP)


@sync_app.command("setup")
def sync_setup(
    parent_page: Annotated[
        str, typer.Option("--parent-page", help="The Notion page to create the databases under.")
    ],
    as_json: Json = False,
) -> None:
    """Create (or find) the Notion databases of the reference tables.

    Their ids are saved in notion-sync.json. Safe to rerun.

    Example: [bold]pipeline sync setup --parent-page 0123456789abcdef0123456789abcdef[/bold]
    """
    from pipeline.config import load_config
    from pipeline.render import render_sync_setup
    from pipeline.sync.run import setup_databases

    databases = setup_databases(load_config(), parent_page)
    _output(databases, as_json, render_sync_setup)


SyncNames = Annotated[
    list[str] | None,
    typer.Argument(help="Entities (default: all synced ones).", show_default=False),
]


def _sync(direction: str, names: list[str] | None, as_json: bool) -> None:
    from pipeline.config import load_config
    from pipeline.render import render_sync
    from pipeline.sync.run import require_no_conflicts, sync

    with _database(f"sync {direction}") as conn:
        results = sync(conn, load_config(), "push" if direction == "push" else "pull", names)
    _output(results, as_json, render_sync)
    require_no_conflicts(results)


@sync_app.command("push")
def sync_push(names: SyncNames = None, as_json: Json = False) -> None:
    """Postgres -> Notion for rows changed since the last sync.

    Example: [bold]pipeline sync push teams faculty[/bold]
    """
    _sync("push", names, as_json)


@sync_app.command("pull")
def sync_pull(names: SyncNames = None, as_json: Json = False) -> None:
    """Notion -> Postgres for rows team leads edited since the last sync.

    Example: [bold]pipeline sync pull teams[/bold]
    """
    _sync("pull", names, as_json)


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
            # The traceback, with anything that may hold a password redacted.
            print(_redacted("".join(traceback.format_exception(exc))), file=sys.stderr)
        _fail(
            f"internal error ({type(exc).__name__}); this is a bug in the pipeline. Run again "
            "with PIPELINE_DEBUG=1 to see the traceback and report it",
            EXIT_INTERNAL,
        )


def _redacted(text: str) -> str:
    """`text` without credentials: URLs' and also DATABASE_URL's, however it is written."""
    secret = os.environ.get("DATABASE_URL", "")
    secret = secret.split("://", 1)[1].rsplit("@", 1)[0] if "://" in secret else ""
    if secret and "@" in os.environ.get("DATABASE_URL", ""):
        text = text.replace(secret, "***")
    return redact(text)


def _fail(message: str, code: int) -> None:
    print(f"error: {_redacted(message)}", file=sys.stderr)
    sys.exit(code)
