"""Emergency and restore points (issue #16, items 2 and 3): unpublish hides a module at once
and through later deploys until republished, with who and why; each deploy that writes
records the WAL position and time just before it."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys

import pytest

from tests.builders import module
from tests.conftest import CLI, Database, Repo


@pytest.fixture(autouse=True)
def _actor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")


def status_of(db: Database, module_id: str = "lab") -> tuple[str, int]:
    row = db.rows("SELECT status, revision FROM modules WHERE module_id = %s", module_id)[0]
    return str(row[0]), int(row[1])


def drifted(cli: CLI) -> list[str]:
    return [m["module_id"] for m in json.loads(cli("status", "--json").out) if m["drifted"]]


def test_unpublish_survives_two_deploys_and_republish_restores(
    repo: Repo, db: Database, cli: CLI
) -> None:
    repo.write(module(module_id="lab"))
    assert cli("deploy").code == 0
    hidden = cli("unpublish", "lab", "--reason", "wrong exit in section 2", "--json")
    assert hidden.code == 0, hidden.err
    assert json.loads(hidden.out)["action"] == "unpublished"
    assert status_of(db) == ("draft", 1)
    assert db.rows("SELECT reason, unpublished_by, status_before FROM pipeline_unpublished") == [
        ("wrong exit in section 2", "octocat", "published")
    ]

    for n in (2, 3):  # two deploys of a changed file: new content, still hidden
        repo.write(module(module_id="lab", title=f"Lab, take {n}"))
        result = cli("deploy")
        assert result.code == 0, result.err
        assert "lab: kept hidden from students (unpublished by octocat" in result.out
        assert status_of(db) == ("draft", n)
        assert db.value("SELECT title FROM modules") == f"Lab, take {n}"
    assert cli("deploy").code == 0  # and a no-op one
    assert status_of(db) == ("draft", 3)
    assert drifted(cli) == []

    shown = cli("republish", "lab", "--reason", "fixed in #42")
    assert shown.code == 0, shown.err
    assert "lab republished: status published" in shown.out
    assert status_of(db) == ("published", 3)
    assert db.rows(
        "SELECT republished_by, republish_reason, republished_at IS NOT NULL "
        "FROM pipeline_unpublished"
    ) == [("octocat", "fixed in #42", True)]
    nothing = cli("deploy")
    assert "nothing to deploy" in nothing.out and status_of(db) == ("published", 3)
    assert drifted(cli) == []


def test_republish_restores_what_the_file_now_says(repo: Repo, db: Database, cli: CLI) -> None:
    repo.write(module(module_id="lab"))
    cli("deploy")
    cli("unpublish", "lab", "--reason", "broken")
    repo.write(module(module_id="lab", status="draft", title="Back to drafting"))
    cli("deploy")
    assert cli("republish", "lab", "--reason", "ok").code == 0
    assert status_of(db) == ("draft", 2)


def test_unpublish_names_what_is_wrong(repo: Repo, db: Database, cli: CLI) -> None:
    repo.write(module(module_id="lab"))
    cli("deploy")
    unknown = cli("unpublish", "nope", "--reason", "x")
    assert unknown.code == 2 and "no module 'nope' in the database" in unknown.err
    assert cli("unpublish", "lab", "--reason", "  ").code == 2
    assert cli("unpublish", "lab").code == 2  # --reason is required
    assert cli("republish", "lab", "--reason", "x").code == 2  # not unpublished
    assert cli("unpublish", "lab", "--reason", "first").code == 0
    again = cli("unpublish", "lab", "--reason", "second")
    assert again.code == 0 and "already unpublished (by octocat" in again.out
    assert db.value("SELECT count(*) FROM pipeline_unpublished") == 1


def test_a_held_module_whose_file_goes_is_archived_and_stays_so(
    repo: Repo, db: Database, cli: CLI
) -> None:
    repo.write(module(module_id="lab"))
    repo.write(module(module_id="other"))
    cli("deploy")
    cli("unpublish", "lab", "--reason", "retire it")
    (repo.modules / "lab.json").unlink()
    assert cli("deploy", "--allow-archive").code == 0
    shown = cli("republish", "lab", "--reason", "done")
    assert shown.code == 0 and "stays archived" in shown.out
    assert status_of(db) == ("archived", 1)


def test_a_deploy_records_its_restore_point(repo: Repo, db: Database, cli: CLI) -> None:
    repo.write(module(module_id="lab"))
    first = json.loads(cli("deploy", "--json").out)
    after_first = db.value("SELECT pg_current_wal_lsn()")
    repo.write(module(module_id="lab", title="Changed"))
    second = json.loads(cli("deploy", "--json").out)
    after_second = db.value("SELECT pg_current_wal_lsn()")
    rows = db.rows(
        "SELECT id, restore_lsn, restore_time, finished_at FROM pipeline_deploys ORDER BY id"
    )
    assert [r[0] for r in rows] == [first["deploy_id"], second["deploy_id"]]
    _, lsn, at, _ = rows[1]
    assert second["restore_lsn"] == str(lsn)
    # Just before deploy 2: after deploy 1 committed, before deploy 2's writes landed.
    assert db.value("SELECT %s::pg_lsn >= %s::pg_lsn", lsn, after_first)
    assert db.value("SELECT %s::pg_lsn < %s::pg_lsn", lsn, after_second)
    assert rows[0][3] <= at
    assert json.loads(cli("deploy", "--json").out)["restore_lsn"] is None  # a no-op: no row
    assert db.value("SELECT count(*) FROM pipeline_deploys") == 2


def test_a_reason_or_id_that_is_not_text_is_a_usage_error(
    repo: Repo, db: Database, cli: CLI
) -> None:
    """A byte that is not UTF-8 on the command line (`--reason $'caf\\xe9'`) reaches us as a
    surrogate escape, which no database text can hold; a NUL neither."""
    repo.write(module(module_id="lab"))
    assert cli("deploy").code == 0
    for command in ("unpublish", "republish"):
        for reason in ("caf\udce9 closed", "bad\x00reason"):
            result = cli(command, "lab", "--reason", reason)
            assert result.code == 2, result.err
            assert "--reason is not valid text" in result.err
    odd_id = cli("unpublish", "caf\udce9", "--reason", "x")
    assert odd_id.code == 2 and "no module 'caf\\udce9' in the database" in odd_id.err
    assert db.value("SELECT count(*) FROM pipeline_unpublished") == 0
    assert status_of(db) == ("published", 1)


def test_a_reason_in_latin1_from_a_real_command_line(repo: Repo, db: Database) -> None:
    """The bytes as a shell passes them, through a real process."""
    repo.write(module(module_id="lab"))
    command = [sys.executable, "-m", "pipeline"]
    subprocess.run([*command, "deploy"], cwd=repo.root, check=True, capture_output=True)
    done = subprocess.run(
        [*map(os.fsencode, command), b"unpublish", b"lab", b"--reason", b"caf\xe9"],
        cwd=repo.root,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert b"--reason is not valid text" in done.stderr


def test_who_acts_without_a_name_is_their_uid(
    repo: Repo, db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a container the UID often has no passwd entry, nor USER or LOGNAME: getpass
    cannot name it (KeyError, OSError from Python 3.13)."""
    for variable in ("GITHUB_ACTOR", "LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(variable, raising=False)

    def no_entry(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    repo.write(module(module_id="lab"))
    assert cli("deploy").code == 0, "deploy records who too"
    assert cli("unpublish", "lab", "--reason", "x").code == 0
    me = f"uid {os.getuid()}"
    assert db.value("SELECT actor FROM pipeline_deploys") == me
    assert db.value("SELECT unpublished_by FROM pipeline_unpublished") == me
