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
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from pipeline.errors import PipelineError
from pipeline.report import RENDERERS
from pipeline.urlcheck import check_urls
from pipeline.validate import DEFAULT_MODULES_DIR, validate_paths

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
    report = validate_paths(paths or [DEFAULT_MODULES_DIR], url_checker=checker)
    RENDERERS[output.value](report, sys.stdout)
    if not report.valid:
        raise typer.Exit(1)


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
