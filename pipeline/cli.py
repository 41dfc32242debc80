"""The `pipeline` command line: a thin layer over the library.

Each command reads its options, makes one library call and renders the result
(`render.py`); settings from the environment, Notion lookups and checks of
what the user named live in the library. `main` is the one place where our
errors become messages and exit codes (see `errors.py` and the README):
0 success, 1 content problem, 2 usage or configuration problem, 3 a bug,
4 an outside system failed (try again later).
"""

# No `from __future__ import annotations` here: typer reads every command's annotations at
# start-up, and strings would be compiled one by one (8 ms on every command, --help too).
import io
import json
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
from typer.core import TyperGroup

from pipeline import __version__
from pipeline.errors import EXIT_INTERNAL, ContentError, PipelineError, UsageError, scrub
from pipeline.layout import MODULES_DIR, REFERENCE_FILE

if TYPE_CHECKING:
    import psycopg

_AUTHOR = "1. From Notion to a pull request"
_REVIEW = "2. Review"
_RELEASE = "3. Release"
_INSPECT = "4. What students see"
_EMERGENCY = "5. When something goes wrong"
_SETUP = "Set-up and reference data"
_LEARN = "Study: flashcards from Notion to Anki (seed 003)"
_INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C (128 + SIGINT)
_MOST = 1_000_000  # a --limit: more than any list holds, less than the database's integers


class _Sections(TyperGroup):
    """Help lists commands in sections, in the order of the work, as plain text: rich
    would cost 70 ms of start-up on every `--help`."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:  # typer's own click types
        sections: dict[str, list[tuple[str, str]]] = {}
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            panel = getattr(command, "rich_help_panel", None) or "Commands"
            summary = command.get_short_help_str(limit=200)
            sections.setdefault(panel, []).append((name, summary))
        for panel, rows in sections.items():
            with formatter.section(panel):
                formatter.write_dl(rows)


app = typer.Typer(
    name="pipeline",
    cls=_Sections,
    help="Carry training modules from Notion, through reviewed pull requests, into Postgres.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

T = TypeVar("T")
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON, for tools.")]
Every = Annotated[bool, typer.Option("--all", help="List every module, not only changed ones.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Say what would happen; change nothing.")]


def _say(message: str) -> None:
    print(message, file=sys.stderr)


@contextmanager
def _database(what: str) -> Iterator["psycopg.Connection"]:
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

    Example: pipeline export --module lab-safety-101 --dry-run
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
    Actions sets them; with NOTION_TOKEN the Notion row gets the PR link. Reviewers,
    assignees, draft and labels come from pipeline.yaml (propose:). --dry-run says which
    PRs it would open, update or close, and prints the title and body it would send. In
    Actions it writes a job summary and the step outputs opened, updated, closed.

    Example: pipeline export && pipeline propose
    """
    from pipeline.config import load_config
    from pipeline.propose.run import propose as propose_modules
    from pipeline.render import render_proposals, write_propose_outputs

    config = load_config()
    report = propose_modules(Path.cwd(), config.notion, dry_run=dry_run, options=config.propose)
    _output(report, as_json, partial(render_proposals, dry_run=dry_run))
    write_propose_outputs(report, dry_run=dry_run)


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

    Example: pipeline validate data/modules/lab-safety-101.json --format github
    """
    from pipeline.modules.validate import validate_paths
    from pipeline.report import RENDERERS

    checker = None
    if urls:  # its HTTP client and threads only when asked for
        from pipeline.modules.urlcheck import check_urls

        checker = partial(check_urls, timeout=timeout)
    report = validate_paths(paths or [MODULES_DIR], url_checker=checker)
    RENDERERS["json" if as_json else output.value](report, sys.stdout)
    if not report.valid:
        raise typer.Exit(1)


# -- 3. Release -----------------------------------------------------------------------------


def _interval(value: str) -> str:
    """A Postgres interval as the timeouts take it ("60s", "500ms", "2min"), checked now:
    the server would refuse it only mid-deploy, in its own words."""
    found = _INTERVAL.match(value.strip())
    if not found:
        raise typer.BadParameter(f"{value!r} is not a duration; write e.g. 60s, 500ms or 2min")
    milliseconds = float(found[1]) * _MILLISECONDS[found[2] or "ms"]
    if milliseconds > _LONGEST_MS:
        raise typer.BadParameter(
            f"{value!r} is longer than Postgres allows (about 24 days); write e.g. 10min"
        )
    return value.strip()


# ASCII digits only: \d would take other scripts' digits, which Postgres does not.
_INTERVAL = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(us|ms|s|min|h|d)?$")
_MILLISECONDS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_LONGEST_MS = 2_147_483_647  # the timeouts are whole milliseconds in a 32-bit integer


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
    every: Every = False,
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
    those. The asset files of the modules it writes are published to the asset store
    (pipeline.yaml's assets) first, and the rows hold their URLs. Exit 1 when files are
    invalid or refer to missing rows: then nothing is written.

    Example: pipeline deploy --dry-run
    """
    from pipeline.assets.store import open_store
    from pipeline.config import load_config
    from pipeline.db.connect import URL_VARIABLE
    from pipeline.db.deploy import Settings, deploy_tree
    from pipeline.db.plan import ArchiveLimit
    from pipeline.render import outcome_json, render_outcome, to_json, write_deploy_summary

    config = load_config()
    limits = config.deploy
    settings = Settings.from_environment(
        lock_timeout,
        statement_timeout,
        allow_archive=allow_archive,
        archive_limit=ArchiveLimit(limits.archive_limit, limits.archive_limit_percent),
        verify=verify,
        assets=open_store(config.assets, embedded=URL_VARIABLE not in os.environ),
    )
    session = partial(_database, "the deploy")
    outcome = deploy_tree(session, paths or [MODULES_DIR], settings, dry_run=dry_run)
    write_deploy_summary(outcome, dry_run=dry_run)
    if as_json:
        print(to_json(outcome_json(outcome, dry_run=dry_run)))
    else:
        render_outcome(outcome, sys.stdout, dry_run=dry_run, every=every)


notion_app = typer.Typer(
    cls=_Sections,
    help="The Notion Module Library: its module template, and modules marked Live.",
    no_args_is_help=True,
    rich_markup_mode=None,
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

    Example: pipeline deploy && pipeline notion mark-live
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


@notion_app.command("review-feedback")
def notion_review_feedback(
    pull_request: Annotated[
        int | None,
        typer.Option("--pr", help="The pull request (default: the one of the Actions event)."),
    ] = None,
    review: Annotated[
        int | None,
        typer.Option(
            "--review",
            help="Only this review (default: the event's; with --pr alone, every review).",
        ),
    ] = None,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    """Tell the team lead in Notion what reviewers said on a module's pull request.

    A review becomes one comment on the module's Notion page: its verdict, its text and its
    line comments with the section each points at. Changes requested move the row's
    Status back to notion.review_status (default In Review). A pull request closed
    without merging is told too. Nothing is told twice. Needs GITHUB_TOKEN,
    GITHUB_REPOSITORY and NOTION_TOKEN.

    Example: [bold]pipeline notion review-feedback --pr 12 --dry-run[/bold]
    """
    from pipeline.config import load_config
    from pipeline.notion.review_feedback import review_feedback
    from pipeline.render import render_review_feedback

    report = review_feedback(
        load_config().notion, pull_request=pull_request, review=review, dry_run=dry_run
    )
    _output(report, as_json, partial(render_review_feedback, dry_run=dry_run))


# -- 4. What students see -------------------------------------------------------------------


@app.command(rich_help_panel=_INSPECT)
def status(every: Every = False, as_json: Json = False) -> None:
    """What is live: counts, and the modules worth a look (--all: every module).

    Example: pipeline status
    """
    from pipeline.db.status import status as live_status
    from pipeline.render import render_status

    with _database("pipeline status") as conn:
        modules = live_status(conn)
    _output(modules, as_json, partial(render_status, every=every))


@app.command(rich_help_panel=_INSPECT)
def show(
    module_id: Annotated[str, typer.Argument(help="The module to show.")],
    as_json: Json = False,
) -> None:
    """The module as the database serves it, sections in order.

    Example: pipeline show lab-safety-101
    """
    from pipeline.db.status import show as show_module
    from pipeline.render import render_module

    with _database("pipeline show") as conn:
        module = show_module(conn, module_id)
    _output(module, as_json, render_module)


# -- Set-up and reference data --------------------------------------------------------------

db_app = typer.Typer(
    cls=_Sections,
    help="Manage the database schema and reference rows.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(db_app, name="db", rich_help_panel=_SETUP)


@db_app.command("migrate")
def db_migrate(as_json: Json = False) -> None:
    """Apply pending migrations, each in its own transaction, under a lock.

    Uses DATABASE_URL, or the embedded Postgres when it is not set.

    Example: pipeline db migrate
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

    Example: pipeline db status
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

    Example: pipeline db seed data/reference.yaml
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

    Example: pipeline db stop
    """
    from pipeline.db.connect import stop_embedded

    stopped = stop_embedded()
    if as_json:
        _print_json({"stopped": stopped})
    else:
        print("embedded Postgres stopped" if stopped else "embedded Postgres not running")


sync_app = typer.Typer(
    cls=_Sections,
    help="Reference tables in Notion (universities, teams, ...).",
    no_args_is_help=True,
    rich_markup_mode=None,
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

    Example: pipeline sync setup --parent-page 0123456789abcdef0123456789abcdef
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


University = Annotated[
    str | None,
    typer.Option(
        "--university",
        help="Only this university's rows (its id; 'none' for rows of no university).",
    ),
]


def _sync(direction: str, names: list[str] | None, university: str | None, as_json: bool) -> None:
    from pipeline.config import load_config
    from pipeline.render import render_sync
    from pipeline.sync.run import require_no_conflicts, sync

    with _database(f"sync {direction}") as conn:
        results = sync(
            conn, load_config(), "push" if direction == "push" else "pull", names, university
        )
    _output(results, as_json, render_sync)
    require_no_conflicts(results)


@sync_app.command("push")
def sync_push(
    names: SyncNames = None, university: University = None, as_json: Json = False
) -> None:
    """Postgres -> Notion for rows changed since the last sync.

    Example: pipeline sync push teams faculty --university cpp
    """
    _sync("push", names, university, as_json)


@sync_app.command("pull")
def sync_pull(
    names: SyncNames = None, university: University = None, as_json: Json = False
) -> None:
    """Notion -> Postgres for rows team leads edited since the last sync.

    Example: pipeline sync pull teams
    """
    _sync("pull", names, university, as_json)


# -- Study: flashcards from Notion to Anki (notion-learning-sync, seed 003) ------------------

learn_app = typer.Typer(
    help="One learner's flashcards and concepts: Notion -> Postgres, cleaned, reviewed, "
    "studied in Anki.",
    no_args_is_help=True,
)
app.add_typer(learn_app, name="learn", rich_help_panel=_LEARN)
review_app = typer.Typer(help="The review queue: AI rewrites and merges.", no_args_is_help=True)
learn_app.add_typer(review_app, name="review")
anki_app = typer.Typer(help="Anki, through AnkiConnect or a collection file.", no_args_is_help=True)
learn_app.add_typer(anki_app, name="anki")

ItemId = Annotated[str, typer.Argument(help="The queue item's id (or its first characters).")]
Note = Annotated[str | None, typer.Option("--note", help="A note kept with the item.")]
Collection = Annotated[
    Path | None,
    typer.Option(
        "--collection",
        help="A collection file (collection.anki2) instead of AnkiConnect; Anki must not "
        "have it open. Default: learn.anki.collection in pipeline.yaml.",
    ),
]


@learn_app.command("sync")
def learn_sync(
    full: Annotated[
        bool, typer.Option("--full", help="Ask Notion for every page, not only edited ones.")
    ] = False,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    """Notion's learning databases -> staging -> canonical tables; LMS quizzes -> atoms.

    Needs NOTION_TOKEN and learn.databases in pipeline.yaml. Exit 1 when some pages
    could not be synced (the others are).

    Example: [bold]pipeline learn sync --full[/bold]
    """
    from pipeline.config import load_config
    from pipeline.learn.sync import learn_sync as sync_learning
    from pipeline.learn.sync import require_success
    from pipeline.render import render_learn_sync

    settings = load_config().learn
    with _database("learn sync") as conn:
        report = sync_learning(conn, settings, full=full, dry_run=dry_run)
    _output(report, as_json, render_learn_sync)
    require_success(report)


@learn_app.command("clean")
def learn_clean(dry_run: DryRun = False, as_json: Json = False) -> None:
    """Atomicity, prefixes, quality score; duplicates proposed for merging (review queue).

    Every change is written to cleaning_log with its old and new values.

    Example: [bold]pipeline learn clean --dry-run[/bold]
    """
    from pipeline.config import load_config
    from pipeline.learn.clean import clean
    from pipeline.render import render_learn_clean

    settings = load_config().learn
    with _database("learn clean") as conn:
        report = clean(conn, settings.cleaning, dry_run=dry_run)
    _output(report, as_json, render_learn_clean)


@learn_app.command("rewrite")
def learn_rewrite(
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, max=_MOST, help="At most this many atoms.")
    ] = None,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    """Ask the AI provider to rewrite weak atoms; the proposals wait in the review queue.

    Off unless learn.rewrite.provider is set (gemini: GEMINI_API_KEY).

    Example: [bold]pipeline learn rewrite --limit 10[/bold]
    """
    from pipeline.config import load_config
    from pipeline.learn.rewrite import rewrite
    from pipeline.render import render_learn_rewrite

    settings = load_config().learn
    with _database("learn rewrite") as conn:
        report = rewrite(conn, settings, limit=limit, dry_run=dry_run)
    _output(report, as_json, render_learn_rewrite)


@review_app.command("list")
def learn_review_list(
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=_MOST, help="At most this many.")
    ] = 20,
    as_json: Json = False,
) -> None:
    """Items waiting for review, best first, each beside its original.

    Example: [bold]pipeline learn review list[/bold]
    """
    from pipeline.learn.review import pending
    from pipeline.render import render_review_list

    with _database("learn review") as conn:
        items = pending(conn, limit)
    _output(items, as_json, render_review_list)


@review_app.command("show")
def learn_review_show(item: ItemId, as_json: Json = False) -> None:
    """One item: proposed and original text, source, scores, reason.

    Example: [bold]pipeline learn review show 3f2a9c1e[/bold]
    """
    from pipeline.learn.review import show
    from pipeline.render import render_review_item

    with _database("learn review") as conn:
        found = show(conn, item)
    _output(found, as_json, render_review_item)


@review_app.command("approve")
def learn_review_approve(item: ItemId, note: Note = None, as_json: Json = False) -> None:
    """Accept an item: its atom is created or updated (a merge folds the duplicates in).

    Example: [bold]pipeline learn review approve 3f2a9c1e[/bold]
    """
    from pipeline.config import load_config
    from pipeline.learn.review import approve
    from pipeline.render import render_review_item

    cleaning = load_config().learn.cleaning
    with _database("learn review approve") as conn:
        done = approve(conn, item, cleaning, note=note)
    _output(done, as_json, render_review_item)


@review_app.command("reject")
def learn_review_reject(item: ItemId, note: Note = None, as_json: Json = False) -> None:
    """Refuse an item: the original atom stays as it is.

    Example: [bold]pipeline learn review reject 3f2a9c1e --note "loses the example"[/bold]
    """
    from pipeline.learn.review import reject
    from pipeline.render import render_review_item

    with _database("learn review reject") as conn:
        done = reject(conn, item, note=note)
    _output(done, as_json, render_review_item)


@review_app.command("edit")
def learn_review_edit(
    item: ItemId,
    front: Annotated[str | None, typer.Option("--front", help="The new question.")] = None,
    back: Annotated[str | None, typer.Option("--back", help="The new answer.")] = None,
    approve_too: Annotated[
        bool, typer.Option("--approve", help="Approve the item as edited.")
    ] = False,
    note: Note = None,
    as_json: Json = False,
) -> None:
    """Change an item's proposed text before approving it.

    Example: [bold]pipeline learn review edit 3f2a9c1e --back "TCP/IP layer 4" --approve[/bold]
    """
    from pipeline.config import load_config
    from pipeline.learn.review import edit
    from pipeline.render import render_review_item

    cleaning = load_config().learn.cleaning
    with _database("learn review edit") as conn:
        done = edit(conn, item, cleaning, front=front, back=back, note=note, approve=approve_too)
    _output(done, as_json, render_review_item)


@anki_app.command("push")
def learn_anki_push(
    collection: Collection = None, dry_run: DryRun = False, as_json: Json = False
) -> None:
    """Flashcard and cloze atoms of good quality -> notes in Anki (updated in place).

    Example: [bold]pipeline learn anki push --collection ~/Anki/User/collection.anki2[/bold]
    """
    from pipeline.config import load_config
    from pipeline.learn.anki_sync import push
    from pipeline.render import render_learn_anki

    settings = load_config().learn.anki
    with _database("learn anki push") as conn:
        report = push(conn, settings, collection, dry_run=dry_run)
    _output(report, as_json, render_learn_anki)


@anki_app.command("pull")
def learn_anki_pull(
    collection: Collection = None, dry_run: DryRun = False, as_json: Json = False
) -> None:
    """Anki's review statistics (ease, interval, reviews, lapses, FSRS) -> the atoms.

    Example: [bold]pipeline learn anki pull[/bold]
    """
    from pipeline.config import load_config
    from pipeline.learn.anki_sync import pull
    from pipeline.render import render_learn_anki

    settings = load_config().learn.anki
    with _database("learn anki pull") as conn:
        report = pull(conn, settings, collection, dry_run=dry_run)
    _output(report, as_json, render_learn_anki)


@learn_app.command("due")
def learn_due(
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=_MOST, help="At most this many.")
    ] = 50,
    as_json: Json = False,
) -> None:
    """Cards due for study today (v_due_atoms, as of the last anki pull).

    Example: [bold]pipeline learn anki pull && pipeline learn due[/bold]
    """
    from pipeline.learn.study import due
    from pipeline.render import render_learn_due

    with _database("learn due") as conn:
        cards = due(conn, limit)
    _output(cards, as_json, render_learn_due)


@learn_app.command("stats")
def learn_stats(as_json: Json = False) -> None:
    """Atoms per concept: how many, atomic, in Anki, average ease and interval.

    Example: [bold]pipeline learn stats --json[/bold]
    """
    from pipeline.learn.study import stats
    from pipeline.render import render_learn_stats

    with _database("learn stats") as conn:
        found = stats(conn)
    _output(found, as_json, render_learn_stats)


# -- Issue #16: assets students load, emergency and rollback, backups ------------------------
# (one block: the assets group in "4. What students see", unpublish / republish / rollback in
# "5. When something goes wrong", and the backups in the db and notion groups)

assets_app = typer.Typer(help="The asset files students load.", no_args_is_help=True)
app.add_typer(assets_app, name="assets", rich_help_panel=_INSPECT)


@assets_app.command("serve")
def assets_serve(as_json: Json = False) -> None:
    """Serve the local asset store over HTTP, for a laptop trial (Ctrl-C stops).

    Serves the store's folder (assets.directory, default .pipeline/assets) at its public
    base URL (default http://127.0.0.1:8765/), so the URLs a deploy wrote load in a
    browser. Only for the local store: a bucket serves itself.

    Example: [bold]pipeline deploy && pipeline assets serve[/bold]
    """
    from pipeline.assets.serve import serve
    from pipeline.assets.store import LocalStore, open_store
    from pipeline.config import load_config

    store = open_store(load_config().assets, embedded=True)
    if not isinstance(store, LocalStore):
        raise UsageError(
            "the asset store is a bucket (assets.store: s3): it serves the files itself"
        )

    def ready(url: str) -> None:
        if as_json:  # one line, for a tool that reads it while the server runs
            print(json.dumps({"url": url, "directory": str(store.directory)}))
        else:
            print(f"serving {store.directory} at {url} (Ctrl-C stops)")
        sys.stdout.flush()

    serve(store, ready)


Reason = Annotated[str, typer.Option("--reason", help="Why: recorded with who and when.")]


@app.command(rich_help_panel=_EMERGENCY)
def unpublish(
    module_id: Annotated[str, typer.Argument(help="The module to hide.")],
    reason: Reason,
    as_json: Json = False,
) -> None:
    """Hide a module from students now; it stays hidden through later deploys.

    Sets its status to draft at once (one transaction, under the deploy lock) and records
    who and why. Later deploys write its new content but keep it hidden, until
    `pipeline republish`.

    Example: [bold]pipeline unpublish lab-safety-101 --reason "wrong exit in section 2"[/bold]
    """
    from pipeline.db.unpublish import unpublish as hide
    from pipeline.db.unpublish import who
    from pipeline.render import render_visibility

    with _database("the unpublish") as conn:
        change = hide(conn, module_id, reason, who())
    _output(change, as_json, render_visibility)


@app.command(rich_help_panel=_EMERGENCY)
def republish(
    module_id: Annotated[str, typer.Argument(help="The module to show again.")],
    reason: Reason,
    as_json: Json = False,
) -> None:
    """Show an unpublished module to students again, as its file says.

    Example: [bold]pipeline republish lab-safety-101 --reason "fixed in #42"[/bold]
    """
    from pipeline.db.unpublish import republish as show_again
    from pipeline.db.unpublish import who
    from pipeline.render import render_visibility

    with _database("the republish") as conn:
        change = show_again(conn, module_id, reason, who())
    _output(change, as_json, render_visibility)


@app.command(rich_help_panel=_EMERGENCY)
def rollback(
    module_id: Annotated[str, typer.Argument(help="The module to roll back.")],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="A revision (the file's metadata.revision, as PR titles show it) or a commit.",
        ),
    ],
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    """Open a pull request that restores a module's files as they were at a commit.

    Branch rollback/<module_id>: the default branch plus the module's file and its
    data/assets/<module_id>/ folder from that commit. Reviewed, merged and deployed like
    any change. Needs GITHUB_TOKEN and GITHUB_REPOSITORY, as propose does.

    Example: [bold]pipeline rollback lab-safety-101 --to 3[/bold]
    """
    from pipeline.propose.rollback import rollback as restore
    from pipeline.render import render_rollback

    result = restore(Path.cwd(), module_id, to, dry_run=dry_run)
    _output(result, as_json, partial(render_rollback, dry_run=dry_run))


@db_app.command("backup")
def db_backup(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Where (default .pipeline/backups/<database>-<time>-backup.dump).",
            show_default=False,
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Dump the whole database with pg_dump (custom format), for servers without
    point-in-time restore.

    The file holds students' data: it is written mode 0600 and never under data/.

    Example: [bold]pipeline db backup /secure/lms-before-term.dump[/bold]
    """
    from pipeline.db.backup import backup
    from pipeline.render import render_backup

    result = backup(path, on_target=_say)
    _output(result, as_json, render_backup)


@db_app.command("restore")
def db_restore(
    path: Annotated[Path, typer.Argument(help="A file `pipeline db backup` wrote.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Replace what the database holds; it is backed up first.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Load a backup with pg_restore, in one transaction, replacing what the database holds.

    What it replaces is backed up first (.pipeline/backups/...-before-restore.dump).
    Run `pipeline db migrate` after restoring an older backup.

    Example: [bold]pipeline db restore .pipeline/backups/lms-backup.dump --yes[/bold]
    """
    from pipeline.db.backup import restore
    from pipeline.render import render_restore

    result = restore(path, confirmed=yes, on_target=_say)
    _output(result, as_json, render_restore)


@db_app.command("deploys")
def db_deploys(
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=_MOST, help="How many, newest first.")
    ] = 20,
    as_json: Json = False,
) -> None:
    """The latest deploys and their restore points: the WAL position and time just before
    each (to restore Neon, or any server with point-in-time recovery, to before deploy N).

    Example: [bold]pipeline db deploys --limit 5[/bold]
    """
    from pipeline.db.backup import restore_points
    from pipeline.render import render_restore_points

    with _database("pipeline db deploys") as conn:
        points = restore_points(conn, limit)
    _output(points, as_json, render_restore_points)


@notion_app.command("backup")
def notion_backup(dry_run: DryRun = False, as_json: Json = False) -> None:
    """Write every Module Library page (every status: properties and blocks as Notion
    returns them) to data/backups/notion/, one file per page.

    Needs NOTION_TOKEN. A week without edits changes no file.

    Example: [bold]pipeline notion backup && pipeline notion backup-pr[/bold]
    """
    from pipeline.config import load_config
    from pipeline.notion.backup import backup_pages
    from pipeline.render import render_notion_backup

    report = backup_pages(load_config().notion, Path.cwd(), dry_run=dry_run)
    _output(report, as_json, render_notion_backup)


@notion_app.command("backup-pr")
def notion_backup_pr(dry_run: DryRun = False, as_json: Json = False) -> None:
    """Open or update the pull request (branch notion-backup) that commits
    data/backups/notion/ as it is in the working tree.

    Needs GITHUB_TOKEN and GITHUB_REPOSITORY, as propose does; no Notion token.

    Example: [bold]pipeline notion backup && pipeline notion backup-pr[/bold]
    """
    from pipeline.notion.backup import propose_backup
    from pipeline.render import render_backup_pull

    pull = propose_backup(Path.cwd(), dry_run=dry_run)
    _output(pull, as_json, render_backup_pull)


def main(argv: list[str] | None = None) -> None:
    """Entry point: the one place where our failures become messages and exit codes.

    Typer reports usage errors itself (exit 2); everything else that escapes a
    command lands here, so no traceback ever reaches a user.
    """
    try:
        app(args=argv, prog_name="pipeline")
    except PipelineError as exc:
        _fail(str(exc), exc.exit_code)
    except SystemExit as exc:
        if exc.code == _INTERRUPTED:  # Typer turns Ctrl-C in a command into this, silently
            _fail("interrupted", _INTERRUPTED)
        raise
    except KeyboardInterrupt:
        _fail("interrupted", _INTERRUPTED)
    except Exception as exc:
        if os.environ.get("PIPELINE_DEBUG"):
            # The traceback, with anything that may hold a password redacted.
            print(_redacted("".join(traceback.format_exception(exc))), file=sys.stderr)
        _fail(
            f"internal error ({type(exc).__name__}); this is a bug in the pipeline. Run again "
            "with PIPELINE_DEBUG=1 to see the traceback and report it",
            EXIT_INTERNAL,
        )


def run() -> None:
    """The `pipeline` command (and `python -m pipeline`): main, with less of the cycle
    collector's time.

    The collector's full passes look at every object alive, most of them the modules
    imported, which live as long as the process: one such pass cost a deploy 20-25 ms.
    Frozen objects are skipped, so what is alive now (the command line) is frozen
    before main. So is everything when main is done: the interpreter's shutdown
    collects over all that main made, 30-40 ms of a one-second deploy, for memory the
    OS takes back anyway; the shutdown itself (atexit handlers, flushing output) runs
    as before. Only for the process's own main: a caller of main in the same process
    (the tests) keeps its collector as it was."""
    import gc

    _escape_what_the_output_cannot_hold()
    gc.freeze()
    try:
        main()
    finally:
        gc.freeze()


_ESCAPE = "pipeline-escape"


def _escape_what_the_output_cannot_hold() -> None:
    """Standard output in an encoding that lacks a character (a CI log or terminal in
    ASCII or Latin-1) would fail the command while it prints, after its work is done: a
    deploy committed, then "internal error". What the encoding lacks is written as a
    JSON escape instead (\\u2713), which keeps --json output valid JSON of the same data."""
    import codecs

    codecs.register_error(_ESCAPE, _json_escaped)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors=_ESCAPE)


def _json_escaped(error: UnicodeError) -> tuple[str, int]:
    """The characters an encoder could not write, as JSON's \\uXXXX (UTF-16 units)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    units = error.object[error.start : error.end].encode("utf-16-be", "surrogatepass")
    escaped = "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
    return escaped, error.end


def _redacted(text: str) -> str:
    """`text` without credentials: URLs' and also DATABASE_URL's, however it is written."""
    return scrub(text, os.environ.get("DATABASE_URL", ""))


def _fail(message: str, code: int) -> None:
    print(f"error: {_redacted(message)}", file=sys.stderr)
    sys.exit(code)
