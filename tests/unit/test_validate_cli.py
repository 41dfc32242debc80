"""The validate command as users and CI call it: formats and exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.builders import broken_tree, module
from tests.conftest import CLI, Repo


def test_valid_tree_exits_zero(repo: Repo, cli: CLI) -> None:
    repo.write(module())
    result = cli("validate")
    assert result.code == 0
    assert "1 module file valid" in result.out


def test_text_format_groups_by_file(repo: Repo, cli: CLI) -> None:
    broken_tree(repo)
    result = cli("validate")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == "data/modules/bad.json"
    assert lines[1].lstrip().startswith("4:")
    assert 'status "live" is not known' in lines[1]
    assert "1 errors in 1 of 2 files" in lines[-1]


def test_github_format(repo: Repo, cli: CLI) -> None:
    broken_tree(repo)
    result = cli("validate", "--format", "github")
    assert result.code == 1
    [annotation, summary] = result.out.splitlines()
    assert annotation.startswith(
        "::error file=data/modules/bad.json,line=4,col=13,title=schema%3A /status::"
    )
    assert annotation.endswith(
        'status "live" is not known; use one of: draft, ready, published, archived'
    )
    assert summary == "2 module files checked: invalid (1 errors)"


def test_github_format_escapes_newlines_and_commas(repo: Repo, cli: CLI) -> None:
    repo.write(module(module_id="x,y"), "x,y")
    result = cli("validate", "--format", "github")
    first = result.out.splitlines()[0]
    assert first.startswith("::error file=data/modules/x%2Cy.json,line=")
    assert "\n" not in first


def test_json_format(repo: Repo, cli: CLI) -> None:
    broken_tree(repo)
    result = cli("validate", "--format", "json")
    payload = json.loads(result.out)
    assert payload["valid"] is False
    assert payload["files_checked"] == 2
    assert payload["error_count"] == 1
    [problem] = payload["problems"]
    assert problem == {
        "file": "data/modules/bad.json",
        "line": 4,
        "column": 13,
        "pointer": "/status",
        "severity": "error",
        "check": "schema",
        "message": problem["message"],
    }


def test_after_fixing_schema_the_rules_run(repo: Repo, cli: CLI) -> None:
    broken_tree(repo)
    data = json.loads((repo.modules / "bad.json").read_text())
    data["status"] = "ready"
    repo.write(data)
    payload = json.loads(cli("validate", "-f", "json").out)
    assert [p["check"] for p in payload["problems"]] == ["section-numbers"]


def test_explicit_paths_and_directories(repo: Repo, cli: CLI) -> None:
    broken_tree(repo)
    assert cli("validate", "data/modules/demo.json").code == 0
    assert cli("validate", "data/modules/bad.json").code == 1
    assert cli("validate", "data/modules").code == 1


def test_missing_path_is_a_usage_error(repo: Repo, cli: CLI) -> None:
    result = cli("validate", "data/modules/nope.json")
    assert result.code == 2
    assert result.err.strip() == "error: data/modules/nope.json: no such file or directory"


def test_no_modules_directory_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: CLI
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("validate")
    assert result.code == 2
    assert "run from the repository root" in result.err


def test_unknown_format_is_a_usage_error(repo: Repo, cli: CLI) -> None:
    result = cli("validate", "--format", "xml")
    assert result.code == 2
    assert "Traceback" not in result.err


def test_help_has_an_example(cli: CLI) -> None:
    result = cli("validate", "--help")
    assert result.code == 0
    assert "Example:" in result.out


def _unreadable(directory: str) -> bool:
    try:
        os.listdir(directory)
    except PermissionError:
        return True
    except OSError:  # not there (not Linux): no such directory to test with
        return False
    return False


@pytest.mark.skipif(
    not _unreadable("/proc/1/root"), reason="needs a directory this user cannot read"
)
def test_unreadable_directory_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: CLI
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("validate", "/proc/1/root")
    assert result.code == 2
    assert result.err.startswith("error: /proc/1/root: cannot be read (Permission denied)")
