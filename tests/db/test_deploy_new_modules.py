"""A new module's sections go straight into module_sections while validation runs, under a
modules row placed for it ahead and filled at the end (pipeline/db/stage.py). Its rows
must be exactly what its file says, as a first deploy writes them, and a deploy that
fails or only plans must leave no placed row behind."""

from __future__ import annotations

import json
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pipeline.db import trust as trust_module
from pipeline.db.connect import Target, connect
from pipeline.db.deploy import DeployResult, Settings, deploy_tree
from pipeline.db.plan import DeployItem
from pipeline.db.stage import STAGED_SECTIONS, Stage
from pipeline.db.trust import validator_fingerprint
from pipeline.errors import ContentError, ServiceError
from pipeline.git import blob_id
from pipeline.modules import validate as validate_module
from pipeline.modules.records import MODULE_COLUMNS, SECTION_COLUMNS, to_record
from tests.builders import module, wait_for, waiting_on_locks
from tests.builders import text_section as text
from tests.conftest import CLI, Database, Repo

DRIFTED = (
    "SELECT count(*) FROM modules m JOIN pipeline_live_hashes h ON h.module_pk = m.id "
    "WHERE m.rows_hash IS DISTINCT FROM h.live_hash"
)


def run_deploy(repo: Repo, db: Database, **settings: Any) -> DeployResult:
    target = Target(db.url, embedded=False)
    return deploy_tree(lambda: connect(target), repo.modules, Settings(**settings))


def as_text(value: Any) -> str | None:
    return None if value is None else str(value)


def test_new_and_changed_modules_in_one_deploy(repo: Repo, db: Database) -> None:
    repo.write(module(module_id="a"))
    repo.write(module(module_id="b", status="draft"))
    run_deploy(repo, db)
    repo.write(module(module_id="a", sections=[text(1, "New title"), text(2)]))
    new = module(module_id="c", description="About c", tags=["x"], sections=[text(1), text(2)])
    path = repo.write(new)
    repo.write(module(module_id="d", status="draft", sections=[text(1)]))

    outcome = run_deploy(repo, db)

    steps = {s.module_id: s.action for s in outcome.plan.steps}
    assert steps == {"a": "update", "b": "unchanged", "c": "insert", "d": "insert"}
    assert outcome.sections_written == 2 + 2 + 1  # a's two rows differ, c's and d's are new
    last = db.value("SELECT max(id) FROM pipeline_deploys")
    assert db.rows(
        "SELECT module_id, revision, created_at IS NOT NULL, updated_at IS NOT NULL, "
        "published_at IS NOT NULL, last_deploy_id, "
        "(SELECT count(*) FROM module_sections s WHERE s.module_id = m.id) "
        "FROM modules m ORDER BY module_id"
    ) == [
        ("a", 2, True, True, True, last, 2),
        ("b", 1, True, True, False, last - 1, 2),
        ("c", 1, True, True, True, last, 2),
        ("d", 1, True, True, False, last, 1),
    ]
    # Every column of the new module's rows is what its file says.
    expected = to_record(
        new, file_hash=blob_id(path.read_bytes()), validated_with=validator_fingerprint()
    )
    columns = sql.SQL(", ").join(
        sql.SQL("{}::text").format(sql.Identifier(c)) for c in MODULE_COLUMNS
    )
    stored = db.rows(
        sql.SQL("SELECT {} FROM modules WHERE module_id = 'c'").format(columns).as_string(db.conn)
    )
    assert stored == [tuple(map(as_text, expected.row))]
    sections = sql.SQL(", ").join(
        sql.SQL("s.{}::text").format(sql.Identifier(c)) for c in SECTION_COLUMNS
    )
    assert db.rows(
        sql.SQL(
            "SELECT {} FROM module_sections s JOIN modules m ON m.id = s.module_id "
            "WHERE m.module_id = 'c' ORDER BY s.section_number"
        )
        .format(sections)
        .as_string(db.conn)
    ) == [tuple(map(as_text, row)) for row in expected.sections]
    assert db.value(DRIFTED) == 0
    assert {s.action for s in run_deploy(repo, db).plan.steps} == {"unchanged"}


@pytest.mark.parametrize(
    "bad",
    [
        {"module_id": "other"},  # a valid id, but not the file's name: "c.json"
        {"status": "bogus"},
    ],
)
def test_a_failed_first_deploy_leaves_no_placed_row(
    repo: Repo, db: Database, monkeypatch: pytest.MonkeyPatch, bad: dict[str, Any]
) -> None:
    monkeypatch.setattr(validate_module, "PARALLEL_MIN_FILES", 8)  # worker processes
    for i in range(20):
        repo.write(module(module_id=f"m{i:02d}"))
    repo.write(module(**{"module_id": "c", **bad}), name="c.json")
    repo.write("{}", name="Not An Id.json")  # no row can be placed for such a name

    with pytest.raises(ContentError) as raised:
        run_deploy(repo, db)

    message = str(raised.value)
    assert "c.json" in message and "Not An Id.json" in message, message
    assert db.value("SELECT count(*) FROM modules") == 0
    assert db.value("SELECT count(*) FROM module_sections") == 0


def test_a_dry_run_places_nothing_and_waits_for_no_lock(repo: Repo, db: Database, cli: CLI) -> None:
    """A dry run writes nothing, so it neither places rows nor takes the lock that holds
    other writers of sections off; a deploy of new modules does, and waits its turn."""
    repo.write(module(module_id="a"))
    assert cli("deploy").code == 0
    repo.write(module(module_id="b"))
    with psycopg.connect(db.url) as editor:
        editor.execute("UPDATE module_sections SET title = 'by hand'")
        planned = cli("deploy", "--dry-run", "--json", "--lock-timeout", "200ms")
        assert planned.code == 0, planned.err
        assert [(s["module_id"], s["action"]) for s in json.loads(planned.out)["modules"]] == [
            ("a", "unchanged"),
            ("b", "insert"),
        ]
        result = cli("deploy", "--lock-timeout", "200ms")
    assert result.code == 4
    assert db.rows("SELECT module_id FROM modules") == [("a",)]


def test_sections_reach_their_table_in_any_order(repo: Repo, db: Database) -> None:
    """Stage.take switches between the live table and the staging one as items come; the
    deploy hands them over grouped (one switch), but correctness does not depend on it."""
    repo.write(module(module_id="a"))
    run_deploy(repo, db)
    rows = {
        m: to_record(module(module_id=m, sections=[text(1, f"{m} 1"), text(2, f"{m} 2")]))
        for m in ("a", "b", "c")
    }
    with connect(Target(db.url, embedded=False)) as conn, conn.transaction(force_rollback=True):
        stage = Stage(conn)
        stage.place(["a", "b", "c"])
        assert set(stage.placed) == {"b", "c"}  # a has its row: none is made for it
        order = [rows["b"], rows["a"], rows["c"]]
        items = [DeployItem(r.module_id, f"{r.module_id}.json", None, r) for r in order]
        taken = stage.take(items, lambda _item, record: record)

        assert [t.module_id for t in taken] == ["b", "a", "c"]
        assert all(t.record is None for t in taken)
        assert stage.written == {"b": 2, "c": 2}
        live = conn.execute(
            "SELECT m.module_id, s.title FROM module_sections s JOIN modules m "
            "ON m.id = s.module_id WHERE m.module_id <> 'a' ORDER BY 1, 2"
        ).fetchall()
        assert live == [("b", "b 1"), ("b", "b 2"), ("c", "c 1"), ("c", "c 2")]
        staged = conn.execute(
            sql.SQL("SELECT module_id, title FROM {} ORDER BY 1, 2").format(
                sql.Identifier(STAGED_SECTIONS)
            )
        ).fetchall()
        assert staged == [("a", "a 1"), ("a", "a 2")]
    assert db.rows("SELECT module_id FROM modules") == [("a",)]  # rolled back: nothing placed


def test_two_files_of_one_new_module_get_the_validation_message(
    repo: Repo, db: Database, cli: CLI
) -> None:
    """Named files in two folders may carry one module id: the deploy must say so, as
    validation words it, not fail on the unique index of the sections both wrote."""
    repo.write(module(module_id="a"))
    (repo.root / "other").mkdir()
    (repo.root / "other" / "a.json").write_bytes((repo.modules / "a.json").read_bytes())

    result = cli("deploy", "data/modules/a.json", "other/a.json")

    assert result.code == 1
    assert 'module_id "a" is also used by other/a.json' in result.err
    assert "nothing was deployed" in result.err
    assert db.value("SELECT count(*) FROM modules") == 0


# A deploy writes nothing to the live tables before its checks are done but what it must:
# the rows of new modules, which nobody else can see. So the locks another session holds
# (an open edit of sections, an index being built on modules) do not hide what is wrong
# with the files behind a lock timeout, and a deploy with nothing new waits for nothing.


def test_a_deploy_with_nothing_new_writes_nothing_to_modules_before_its_plan(
    repo: Repo, db: Database, cli: CLI
) -> None:
    repo.write(module(module_id="a"))
    assert cli("deploy").code == 0
    with psycopg.connect(db.url) as dba:
        dba.execute("CREATE INDEX idx_modules_title ON modules (title)")  # SHARE, held open
        result = cli("deploy", "--json", "--lock-timeout", "300ms")
    assert result.code == 0, result.err
    assert json.loads(result.out)["counts"]["unchanged"] == 1


def edited_sections(db: Database) -> psycopg.Connection:
    """Another session's uncommitted edit of the live sections."""
    editor = psycopg.connect(db.url)
    editor.execute("UPDATE module_sections SET title = 'by hand'")
    return editor


def test_invalid_files_are_named_while_sections_are_being_edited(
    repo: Repo, db: Database, cli: CLI
) -> None:
    repo.write(module(module_id="a"))
    assert cli("deploy").code == 0
    repo.write(module(module_id="b"))  # new and valid: its sections go straight in
    repo.write(module(module_id="c", status="bogus"))  # new and invalid
    with edited_sections(db):
        result = cli("deploy", "--lock-timeout", "300ms")
    assert result.code == 1, result.err
    assert "c.json" in result.err and "nothing was deployed" in result.err
    assert db.rows("SELECT module_id FROM modules") == [("a",)]


def test_missing_reference_rows_are_named_while_sections_are_being_edited(
    repo: Repo, db: Database, cli: CLI
) -> None:
    repo.write(module(module_id="a"))
    assert cli("deploy").code == 0
    repo.write(module(module_id="b", created_by_id="faculty-nobody"))
    with edited_sections(db):
        result = cli("deploy", "--lock-timeout", "300ms")
    assert result.code == 1, result.err
    assert "faculty-nobody" in result.err


def test_the_archive_limit_is_said_while_sections_are_being_edited(
    repo: Repo, db: Database, cli: CLI
) -> None:
    for name in "abcdefgh":
        repo.write(module(module_id=name))
    assert cli("deploy").code == 0
    for name in "abcde":
        (repo.modules / f"{name}.json").unlink()
    repo.write(module(module_id="new"))
    with edited_sections(db):
        result = cli("deploy", "--lock-timeout", "300ms")
    assert result.code == 2, result.err
    assert "--allow-archive" in result.err


def test_a_row_made_by_hand_while_the_deploy_runs_stops_it(repo: Repo, db: Database) -> None:
    """Someone inserts a module's row by hand, not yet committed, as a deploy brings its
    file: the deploy did not see the row, waits on it when placing its own, and once it
    is committed stops with a message instead of writing over it or failing on the
    unique index."""
    repo.write(module(module_id="b"))
    hand = psycopg.connect(db.url)
    hand.execute("INSERT INTO modules (module_id, title) VALUES ('b', 'by hand')")
    failures: list[BaseException] = []

    def work() -> None:
        try:
            run_deploy(repo, db)
        except BaseException as exc:  # handed to the test
            failures.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    wait_for(lambda: waiting_on_locks(db) == 1)  # placing b waits on the hand's row
    hand.commit()
    hand.close()
    thread.join(30)

    assert len(failures) == 1 and isinstance(failures[0], ServiceError), failures
    assert "appeared in `modules` while the deploy ran" in str(failures[0])
    assert db.rows("SELECT module_id, title FROM modules") == [("b", "by hand")]
    assert db.value("SELECT count(*) FROM module_sections") == 0


def test_new_modules_wait_for_a_lock_on_sections_as_long_as_told(
    repo: Repo, db: Database, cli: CLI
) -> None:
    """The one lock a deploy of new modules now meets while it checks files: one that
    keeps out plain writes to sections (an index being built, an ALTER TABLE). It waits
    no longer than --lock-timeout, says so, and writes nothing."""
    repo.write(module(module_id="a"))
    with psycopg.connect(db.url) as dba:
        dba.execute("CREATE INDEX idx_sections_title ON module_sections (title)")  # SHARE
        result = cli("deploy", "--lock-timeout", "300ms")
    assert result.code == 4, result.err
    assert "waited longer than the lock timeout" in result.err
    assert db.value("SELECT count(*) FROM modules") == 0


_CHECK_CHUNK = trust_module._check_chunk


def _noted_check(folder: str, items: list[Any]) -> Any:
    """The deploy's own check of a chunk of files, in a worker, noted in `folder`, and
    slowed down so that a deploy has many chunks still to check when it fails."""
    (Path(folder) / str(items[0][0]).replace("/", "_")).touch()
    time.sleep(0.05)
    return _CHECK_CHUNK(items)


@pytest.mark.skipif(validate_module._cores() < 2, reason="one core: no worker processes")
def test_a_deploy_that_cannot_place_its_rows_stops_without_checking_every_file(
    repo: Repo, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The workers get every file before the rows of new modules are placed. When the
    placing waits in vain (an index being built on modules), the deploy says so at the
    lock timeout and the files not yet begun are never checked."""
    monkeypatch.setattr(validate_module, "PARALLEL_MIN_FILES", 8)
    monkeypatch.setattr(validate_module, "_CHUNK", 1)
    monkeypatch.setattr(trust_module, "_check_chunk", partial(_noted_check, str(tmp_path)))
    for i in range(60):  # 60 chunks of 50 ms or more on two workers: 1.5 s to check them all
        repo.write(module(module_id=f"m{i:02d}"))
    with psycopg.connect(db.url) as dba:
        dba.execute("CREATE INDEX idx_modules_title ON modules (title)")  # SHARE: no INSERT
        with pytest.raises(ServiceError, match="lock timeout"):
            run_deploy(repo, db, lock_timeout="300ms")
    assert 0 < len(list(tmp_path.iterdir())) < 60
    assert db.value("SELECT count(*) FROM modules") == 0
