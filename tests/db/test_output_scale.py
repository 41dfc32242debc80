"""Output that scales (issue #15 item 3): a deploy plan and `pipeline status` print the
rows that matter and counts; `--all` prints every row; `--json` always has them all.
The tables are plain aligned lines, coloured only on a terminal."""

from __future__ import annotations

import io
import json
import sys

import pytest

from tests.builders import module, printed_table
from tests.conftest import CLI, Database, Repo


def test_one_change_among_many_prints_one_row(repo: Repo, db: Database, cli: CLI) -> None:
    for n in range(30):
        repo.write(module(module_id=f"m{n:02d}"))
    first = cli("deploy")
    assert first.code == 0
    inserted = printed_table(first.out, "Deploy plan")
    assert [r["module"] for r in inserted] == [f"m{n:02d}" for n in range(30)]
    assert inserted[0] == {
        "module": "m00",
        "action": "insert",
        "revision": "1",
        "status": "published",
        "sections": "2",
    }
    repo.write(module(module_id="m07", title="Changed"))
    result = cli("deploy")
    assert result.code == 0
    assert printed_table(result.out, "Deploy plan") == [
        {
            "module": "m07",
            "action": "update",
            "revision": "1 → 2",
            "status": "published",
            "sections": "2 (+0 ~0 -0)",
        }
    ]
    assert "1 update, 29 unchanged" in result.out

    every = cli("deploy", "--dry-run", "--all")
    rows = printed_table(every.out, "Deploy plan (dry run)")
    assert [r["module"] for r in rows] == [f"m{n:02d}" for n in range(30)]
    assert {r["action"] for r in rows} == {"unchanged"}
    assert every.out.endswith(
        "dry run: 0 insert, 0 update, 30 unchanged, 0 archived; nothing written\n"
    )
    plan = json.loads(cli("deploy", "--dry-run", "--json").out)
    assert len(plan["modules"]) == 30
    assert plan["modules"][0]["module_id"] == "m00"


def test_status_prints_counts_and_what_is_worth_a_look(repo: Repo, db: Database, cli: CLI) -> None:
    for n in range(20):
        repo.write(module(module_id=f"m{n:02d}"))
    repo.write(module(module_id="draft", status="draft"))
    assert cli("deploy").code == 0
    repo.write(module(module_id="m03", title="Changed"))
    assert cli("deploy").code == 0
    db.conn.execute("UPDATE modules SET title = 'Edited by hand' WHERE module_id = 'm11'")

    out = cli("status").out
    rows = {r["module"]: r for r in printed_table(out, "Worth a look")}
    assert set(rows) == {"m03", "draft", "m11"}  # latest deploy, draft, drifted
    assert rows["m11"]["drift"] == "changed outside the pipeline"
    assert rows["m03"]["revision"] == "2" and rows["m03"]["drift"] == ""
    assert rows["draft"]["status"] == "draft" and rows["draft"]["sections"] == "2"
    assert "21 modules: 1 draft, 20 published; 18 more unchanged (--all lists them)" in out
    assert "1 modules' rows were changed outside the pipeline" in out
    every = printed_table(cli("status", "--all").out, "Live modules")
    assert [r["module"] for r in every] == sorted(["draft", *(f"m{n:02d}" for n in range(20))])
    rows_json = json.loads(cli("status", "--json").out)
    assert len(rows_json) == 21
    assert {r["module_id"] for r in rows_json if r["drifted"]} == {"m11"}


class Terminal(io.StringIO):
    """Standard output as a terminal shows it."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("no_color", [False, True])
def test_colour_only_on_a_terminal(
    repo: Repo, db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    repo.write(module(module_id="a"))
    piped = cli("deploy", "--dry-run")
    assert "\x1b" not in piped.out  # a pipe or a log file: no escape sequences
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert cli("deploy", "--dry-run").code == 0
    shown = terminal.getvalue()
    if no_color:
        assert shown == piped.out
    else:
        assert "\x1b[32minsert\x1b[0m" in shown  # the action, in green
        assert "\x1b[1mDeploy plan (dry run)\x1b[0m" in shown
        # Colour changes nothing else: without the escapes it is what a pipe gets.
        plain = shown.replace("\x1b[0m", "")
        for code in ("1", "2", "32"):
            plain = plain.replace(f"\x1b[{code}m", "")
        assert plain == piped.out


def test_a_hostile_module_id_in_the_database_stays_on_its_line(db: Database, cli: CLI) -> None:
    """A row written outside the pipeline is shown without its terminal sequences, on one
    line of the table: a terminal never obeys it, and the columns stay in line."""
    db.conn.execute(
        "INSERT INTO modules (module_id, title, status) VALUES (%s, 'x', 'draft')",
        ("evil\x1b[2J\nsecond line\tid",),
    )
    out = cli("status").out
    assert "\x1b" not in out
    rows = printed_table(out, "Worth a look")
    assert [r["module"] for r in rows] == ["evil second line id"]
    assert rows[0]["drift"] == "changed outside the pipeline"  # no hash: not the pipeline's
