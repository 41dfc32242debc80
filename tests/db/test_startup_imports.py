"""What each command loads before it does its work (issue #15). Start-up is most of a
short command's time, so a command imports only what it uses: `pipeline --help` neither
the database driver nor the validator; `pipeline validate` no database driver, and of
the output code only its report's; `pipeline status` and the deploy plan neither rich
(their tables are plain lines) nor the validator or YAML they do not need. Read from a
real process's `-X importtime`, the whole command as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.builders import module
from tests.conftest import CLI, Database, Repo

# Libraries that cost 10-100 ms each to import, and what needs them.
DRIVER = {"psycopg", "psycopg_binary", "tenacity"}  # the database
DISPLAY = {"rich"}  # rich tables, progress bars
CONFIG = {"yaml"}  # pipeline.yaml
VALIDATOR = {"jsonschema", "jsonschema_rs", "markdown_it", "json_source_map"}
SERVICES = {"httpx", "notion_client", "github", "boto3", "botocore"}


def imported(cwd: Path, *args: str) -> set[str]:
    """Every module `python -m pipeline ARGS` imported, by its full name."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pipeline", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    names.discard("imported package")  # the header line
    assert "pipeline.cli" in names  # the check reads what it thinks it reads
    return names


def packages(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def ours(names: set[str], prefix: str) -> set[str]:
    return {name for name in names if name.startswith(prefix)}


def test_help_loads_only_the_command_line(repo: Repo) -> None:
    names = imported(repo.root, "--help")
    assert packages(names) & (DRIVER | DISPLAY | CONFIG | VALIDATOR | SERVICES) == set()
    assert ours(names, "pipeline.") <= {
        "pipeline.__main__",
        "pipeline.cli",
        "pipeline.errors",
        "pipeline.layout",
    }


def test_validate_loads_no_database_driver(repo: Repo) -> None:
    repo.copy_samples()
    files = sorted(str(p.relative_to(repo.root)) for p in repo.modules.glob("*.json"))
    assert len(files) == 3
    names = imported(repo.root, "validate", *files)
    assert packages(names) & (DRIVER | DISPLAY | CONFIG | SERVICES) == set()
    assert ours(names, "pipeline.db") == set()
    assert "pipeline.modules.validate" in names
    # Its report is printed by report.py alone; URLs are checked only with --check-urls.
    assert {"pipeline.render", "pipeline.modules.urlcheck"} & names == set()
    # Three files are checked in the process: no worker processes, so none of their code.
    assert {"multiprocessing", "concurrent.futures.process", "ctypes"} & names == set()


def test_status_loads_no_display_library_validator_or_yaml(
    repo: Repo, db: Database, cli: CLI
) -> None:
    repo.write(module(module_id="a"))
    assert cli("deploy").code == 0
    for args in (["status"], ["status", "--all"], ["status", "--json"]):
        names = imported(repo.root, *args)
        assert packages(names) & (DISPLAY | CONFIG | VALIDATOR | SERVICES) == set(), args
        assert ours(names, "pipeline.modules") == set(), args
        assert "psycopg" in names


def test_the_deploy_plan_is_printed_without_rich(repo: Repo, db: Database) -> None:
    repo.copy_samples()
    db.seed_reference()
    names = imported(repo.root, "deploy", "--dry-run", "--all")
    assert packages(names) & (DISPLAY | CONFIG | SERVICES) == set()
