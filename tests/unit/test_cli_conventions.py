"""What people expect of a command line: --version, -h, completion, --json everywhere,
help grouped in the order of the work."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import typer

from pipeline import __version__
from pipeline.cli import app
from tests.builders import cli_commands, module
from tests.conftest import CLI, Repo

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plain(text: str) -> str:
    """Help as text: rich colours it when it thinks it is in Actions (GITHUB_ACTIONS)."""
    return ANSI.sub("", text)


def command(path: str) -> Any:
    found: Any = typer.main.get_command(app)
    for word in path.split():
        found = found.commands[word]
    return found


def test_version(cli: CLI) -> None:
    result = cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"pipeline {__version__}"


@pytest.mark.parametrize("path", ["", *cli_commands()])
def test_short_help_everywhere(cli: CLI, path: str) -> None:
    result = cli(*path.split(), "-h")
    assert result.code == 0, result.err
    assert "Usage: pipeline" in plain(result.out)


@pytest.mark.parametrize("path", cli_commands())
def test_json_output_everywhere(path: str) -> None:
    options = {opt for param in command(path).params for opt in getattr(param, "opts", [])}
    assert "--json" in options, f"pipeline {path} has no --json"


def test_completion_script(cli: CLI) -> None:
    result = cli("--show-completion", "bash")
    assert result.code == 0
    assert "_pipeline_completion" in result.out
    assert "complete" in result.out


def test_help_lists_commands_in_the_order_of_the_work(cli: CLI) -> None:
    out = plain(cli("-h").out)
    order = ["export", "propose", "validate", "deploy", "notion", "status", "show", "db", "sync"]
    positions = [out.index(f"\n  {name} ") for name in order]
    assert positions == sorted(positions)
    panels = ["From Notion to a pull request:", "Review:", "Release:", "What students see:"]
    assert [out.index(p) for p in panels] == sorted(out.index(p) for p in panels)


def test_validate_json_is_the_format_json(repo: Repo, cli: CLI) -> None:
    repo.write(module(title=""))
    as_json, as_format = cli("validate", "--json"), cli("validate", "--format", "json")
    assert as_json.code == as_format.code == 1
    assert json.loads(as_json.out) == json.loads(as_format.out)
    assert json.loads(as_json.out)["error_count"] == 1


def test_db_stop_json(repo: Repo, cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_EMBEDDED_DIR", str(repo.root / "nothing-here"))
    result = cli("db", "stop", "--json")
    assert result.code == 0
    assert json.loads(result.out) == {"stopped": False}


def test_config_typos_get_did_you_mean(repo: Repo, cli: CLI) -> None:
    (repo.root / "pipeline.yaml").write_text("notion:\n  databse_id: abc\n")
    result = cli("export")
    assert result.code == 2
    assert "unknown key 'databse_id' (did you mean 'database_id'?)" in result.err
