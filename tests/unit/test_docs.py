"""README.md documents every command of the CLI, and every command's --help has an example."""

from __future__ import annotations

import re

import pytest

from tests.builders import cli_commands
from tests.conftest import CLI, ROOT

# Commands missing from README's Commands table today. Each is an expected failure
# (strict: the test fails once the README has it, so the entry gets removed).
README_GAPS: dict[str, str] = {}  # command -> why the README does not list it yet


def commands_table() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Commands\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def documented(command: str, table: str) -> bool:
    """In the Command column: `pipeline db migrate ...`, or the short form `sync push ...`
    in a row that names `pipeline sync ...` first."""
    words = command.split()
    for row in table.splitlines():
        cells = re.split(r"(?<!\\)\|", row)
        if len(cells) < 3:
            continue
        spans = [span.split() for span in re.findall(r"`([^`]+)`", cells[1])]
        group_row = any(span[:2] == ["pipeline", words[0]] for span in spans)
        for span in spans:
            if span[: len(words) + 1] == ["pipeline", *words]:
                return True
            if group_row and len(words) > 1 and span[: len(words)] == words:
                return True
    return False


def test_the_walk_finds_every_kind_of_command() -> None:
    commands = cli_commands()
    assert {"validate", "deploy", "db migrate", "notion mark-live", "sync push"} <= set(commands)
    assert len(commands) >= 14


def test_documented_reads_the_commands_table() -> None:
    table = (
        "| Command | What it does |\n| --- | --- |\n"
        "| `pipeline export [--module ID \\| --page P]` | x |\n"
        "| `pipeline sync setup` / `sync push [E ...]` | x |\n"
        "| `db stop` | not a row of `pipeline db` |\n"
    )
    assert documented("export", table)
    assert documented("sync setup", table) and documented("sync push", table)
    assert not documented("sync pull", table)
    assert not documented("db stop", table)
    assert not documented("status", table)


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=README_GAPS[c]))
        if c in README_GAPS
        else c
        for c in cli_commands()
    ],
)
def test_readme_commands_table_names_every_command(command: str) -> None:
    assert documented(command, commands_table()), (
        f"README.md's Commands table does not mention `pipeline {command}`"
    )


@pytest.mark.parametrize("command", cli_commands())
def test_every_command_has_help_with_an_example(cli: CLI, command: str) -> None:
    result = cli(*command.split(), "--help")
    assert result.code == 0, result.err
    assert "Example" in result.out


def test_every_test_the_readme_cites_exists() -> None:
    """The README's guarantees name the tests that prove them: those must be real."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    cited = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", text)
    cited += [
        (path, name)
        for path, names in re.findall(r"`(tests/[\w/]+\.py)` \(([^)]*)\)", text)
        for name in re.findall(r"`(\w+)`", names)
    ]
    assert len(cited) > 10
    for path, name in cited:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert not name or f"def {name}(" in source, f"{path}::{name} does not exist"
