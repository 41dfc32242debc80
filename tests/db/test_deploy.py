"""Deploy against a real Postgres: insert, update, no-op, archive, sections, failures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.db.connect import Target, connect
from pipeline.db.deploy import DeployResult, Settings, deploy, deploy_tree
from pipeline.errors import ContentError, DatabaseError
from pipeline.git import blob_id
from tests.builders import module, versions
from tests.builders import text_section as text
from tests.conftest import Database, Repo


def run_deploy(repo: Repo, db: Database, *, dry_run: bool = False) -> DeployResult:
    """Deploy as `pipeline deploy` does (validation, trusted files and all)."""
    return deploy_tree(
        lambda: connect(Target(db.url, embedded=False)),
        repo.modules,
        Settings(git_sha="abc123", actor="tester"),
        dry_run=dry_run,
    )


def sections(db: Database, module_id: str) -> list[tuple[int, str, str]]:
    return db.rows(
        "SELECT s.section_number, s.title, s.content FROM module_sections s "
        "JOIN modules m ON m.id = s.module_id WHERE m.module_id = %s "
        "ORDER BY 1",
        module_id,
    )


def test_insert_then_noop_then_update(repo: Repo, db: Database) -> None:
    repo.write(module(module_id="a", sections=[text(1), text(2)]))
    repo.write(module(module_id="b", status="draft"))

    outcome = run_deploy(repo, db)
    assert outcome.applied
    assert [(s.module_id, s.action) for s in outcome.plan.steps] == [
        ("a", "insert"),
        ("b", "insert"),
    ]
    assert db.rows(
        "SELECT module_id, revision, status, published_at IS NOT NULL, git_sha, "
        "actor FROM modules m JOIN pipeline_deploys d ON d.id = m.last_deploy_id "
        "ORDER BY 1"
    ) == [
        ("a", 1, "published", True, "abc123", "tester"),
        ("b", 1, "draft", False, "abc123", "tester"),
    ]
    assert db.value("SELECT count(*) FROM module_sections") == 4
    log = db.rows(
        "SELECT inserted, updated, unchanged, archived, sections_written FROM pipeline_deploys"
    )
    assert log == [(2, 0, 0, 0, 4)]

    before = versions(db)
    outcome = run_deploy(repo, db)
    assert not outcome.applied
    assert {s.action for s in outcome.plan.steps} == {"unchanged"}
    assert versions(db) == before, "a no-op deploy wrote rows"
    assert db.value("SELECT count(*) FROM pipeline_deploys") == 1

    published_at = db.value("SELECT published_at FROM modules WHERE module_id = 'a'")
    repo.write(module(module_id="a", title="A, revised", sections=[text(1), text(2, "New")]))
    outcome = run_deploy(repo, db)
    [step] = [s for s in outcome.plan.steps if s.action == "update"]
    assert (step.module_id, step.revision_before, step.revision_after) == ("a", 1, 2)
    assert (step.sections_added, step.sections_changed, step.sections_removed) == (0, 1, 0)
    assert db.rows(
        "SELECT title, revision, published_at, updated_at > created_at FROM modules "
        "WHERE module_id = 'a'"
    ) == [("A, revised", 2, published_at, True)]
    after = versions(db)
    assert after["m:b"] == before["m:b"], "an unchanged module was written"
    assert after["s:a:1"] == before["s:a:1"], "an unchanged section was rewritten"
    assert after["s:a:2"] != before["s:a:2"]


def test_metadata_only_change_is_not_a_change(repo: Repo, db: Database) -> None:
    repo.write(module(module_id="a"))
    run_deploy(repo, db)
    repo.write(
        module(module_id="a", metadata={"revision": 7, "exported_at": "2030-01-01T00:00:00Z"})
    )
    assert not run_deploy(repo, db).applied


def test_renumbered_inserted_and_removed_sections(repo: Repo, db: Database) -> None:
    repo.write(module(module_id="a", sections=[text(1, "A"), text(2, "B"), text(3, "C")]))
    run_deploy(repo, db)
    # Insert X in the middle, drop C: B moves from 2 to 3.
    repo.write(module(module_id="a", sections=[text(1, "A"), text(2, "X"), text(3, "B")]))
    outcome = run_deploy(repo, db)
    [step] = outcome.plan.steps
    assert (step.sections_added, step.sections_changed, step.sections_removed) == (0, 2, 0)
    assert sections(db, "a") == [(1, "A", "x"), (2, "X", "x"), (3, "B", "x")]
    # Shrink to one section, then grow to four.
    repo.write(module(module_id="a", sections=[text(1, "B")]))
    outcome = run_deploy(repo, db)
    assert outcome.sections_removed == 2
    assert sections(db, "a") == [(1, "B", "x")]
    repo.write(module(module_id="a", sections=[text(n, f"N{n}") for n in range(1, 5)]))
    run_deploy(repo, db)
    assert [s[1] for s in sections(db, "a")] == ["N1", "N2", "N3", "N4"]
    assert db.value("SELECT revision FROM modules WHERE module_id = 'a'") == 4


def add_student_rows(db: Database, module_id: str) -> None:
    db.seed_reference()
    db.conn.execute("INSERT INTO students (id, name, university_id) VALUES ('s1', 'Ada', 'cpp')")
    internal = db.value("SELECT id FROM modules WHERE module_id = %s", module_id)
    for statement in (
        "INSERT INTO module_progress (module_id, student_id, status) "
        "VALUES (%s, 's1', 'in_progress')",
        "INSERT INTO module_assignments (module_id, student_id) VALUES (%s, 's1')",
        "INSERT INTO module_feedback (module_id, student_id, rating) VALUES (%s, 's1', 5)",
        "INSERT INTO module_analytics_events (module_id, student_id, event_type) "
        "VALUES (%s, 's1', 'section_view')",
    ):
        db.conn.execute(statement, (internal,))


STUDENT_ROWS = (
    "SELECT (SELECT count(*) FROM module_progress), "
    "(SELECT count(*) FROM module_assignments), (SELECT count(*) FROM module_feedback),"
    " (SELECT count(*) FROM module_analytics_events)"
)


def test_archive_keeps_student_rows_and_return_unarchives(repo: Repo, db: Database) -> None:
    path = repo.write(module(module_id="a"))
    repo.write(module(module_id="b"))
    run_deploy(repo, db)
    add_student_rows(db, "a")
    kept = db.rows(STUDENT_ROWS)

    data = path.read_text()
    path.unlink()
    outcome = run_deploy(repo, db)
    assert [(s.module_id, s.action) for s in outcome.plan.steps] == [
        ("b", "unchanged"),
        ("a", "archive"),
    ]
    assert db.rows("SELECT status, revision FROM modules WHERE module_id = 'a'") == [
        ("archived", 1)
    ]
    assert (
        db.value(
            "SELECT count(*) FROM module_sections s JOIN modules m ON m.id = "
            "s.module_id WHERE m.module_id = 'a'"
        )
        == 2
    )
    assert db.rows(STUDENT_ROWS) == kept == [(1, 1, 1, 1)]
    assert not run_deploy(repo, db).applied, "archiving twice wrote again"

    path.write_text(data)
    outcome = run_deploy(repo, db)
    assert [s.action for s in outcome.plan.steps] == ["update", "unchanged"]
    assert db.rows("SELECT status, revision FROM modules WHERE module_id = 'a'") == [
        ("published", 2)
    ]
    assert db.rows(STUDENT_ROWS) == kept


def test_modules_cannot_be_deleted(repo: Repo, db: Database) -> None:
    repo.write(module(module_id="a"))
    run_deploy(repo, db)
    with pytest.raises(Exception, match="archived, never deleted"):
        db.conn.execute("DELETE FROM modules")
    assert db.value("SELECT count(*) FROM modules") == 1


def test_missing_reference_rows_are_named_before_writing(repo: Repo, db: Database) -> None:
    repo.write(module(module_id="a", university_id="cpp"))
    repo.write(module(module_id="b", university_id="nowhere", created_by_id="prof-x"))
    repo.write(module(module_id="c"))
    with pytest.raises(ContentError) as caught:
        run_deploy(repo, db)
    message = str(caught.value)
    assert "a: university_id 'cpp' has no row in universities" in message
    assert "b: university_id 'nowhere' has no row in universities" in message
    assert "b: created_by_id 'prof-x' has no row in faculty" in message
    assert db.value("SELECT count(*) FROM modules") == 0

    db.seed_reference()
    db.conn.execute("INSERT INTO universities (id) VALUES ('nowhere')")
    db.conn.execute("INSERT INTO faculty (id) VALUES ('prof-x')")
    assert run_deploy(repo, db).applied


def test_a_failing_module_aborts_the_whole_deploy(repo: Repo, db: Database) -> None:
    repo.write(module(module_id="a"))
    repo.write(module(module_id="b"))
    run_deploy(repo, db)
    before = versions(db)
    # A real failure in the middle of the writes: the database rejects one section.
    db.conn.execute("""
        CREATE FUNCTION reject() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.title = 'BOOM' THEN RAISE EXCEPTION 'section rejected: %', NEW.title; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER reject BEFORE INSERT OR UPDATE ON module_sections
            FOR EACH ROW EXECUTE FUNCTION reject();
    """)
    repo.write(module(module_id="a", title="A2"))
    repo.write(module(module_id="b", sections=[text(1, "BOOM")]))
    repo.write(module(module_id="c"))
    with pytest.raises(DatabaseError, match=r"section rejected: BOOM.*nothing was written"):
        run_deploy(repo, db)
    assert versions(db) == before
    assert db.rows("SELECT module_id, title FROM modules ORDER BY 1") == [
        ("a", "Demo"),
        ("b", "Demo"),
    ]
    assert db.value("SELECT count(*) FROM pipeline_deploys") == 1


def test_dry_run_writes_nothing(repo: Repo, db: Database) -> None:
    repo.write(module(module_id="a"))
    outcome = run_deploy(repo, db, dry_run=True)
    assert [s.action for s in outcome.plan.steps] == ["insert"]
    assert not outcome.applied
    assert db.value("SELECT count(*) FROM modules") == 0
    assert db.value("SELECT count(*) FROM pipeline_deploys") == 0


def test_json_columns_round_trip(repo: Repo, db: Database) -> None:
    repo.copy_samples()
    db.seed_reference()
    run_deploy(repo, db)
    config, criteria = db.rows(
        "SELECT s.section_config, s.completion_criteria FROM module_sections s JOIN modules m "
        "ON m.id = s.module_id WHERE m.module_id = 'lab-safety-101' AND section_number = 2"
    )[0]
    source = json.loads((repo.modules / "lab-safety-101.json").read_text())["sections"][1]
    assert config == source["section_config"]
    assert criteria == source["completion_criteria"]
    assert (
        db.value("SELECT learning_objectives FROM modules WHERE module_id = 'lab-safety-101'")[0]
        == "Identify 5 key safety protocols"
    )


# -- trusted files: what the database already holds is not parsed again ----------------------


def image_module(module_id: str, asset: str) -> dict[str, Any]:
    return module(
        module_id=module_id,
        sections=[
            {
                "section_number": 1,
                "section_type": "image",
                "title": "I",
                "content": "",
                "media_url": asset,
                "section_config": {"alt_text": "a"},
            }
        ],
    )


def test_unchanged_files_still_have_their_assets_checked(repo: Repo, db: Database) -> None:
    asset = repo.asset("data/assets/a/plan.png")
    repo.write(image_module("a", "data/assets/a/plan.png"))
    run_deploy(repo, db)
    assert db.value("SELECT asset_paths FROM modules") == ["data/assets/a/plan.png"]
    asset.unlink()
    with pytest.raises(ContentError, match=r"asset data/assets/a/plan\.png does not exist"):
        run_deploy(repo, db)


def test_unchanged_files_still_take_part_in_reference_checks(repo: Repo, db: Database) -> None:
    repo.write(module(module_id="base"))
    repo.write(module(module_id="next", prerequisites=["base"]))
    run_deploy(repo, db)
    (repo.modules / "base.json").unlink()
    with pytest.raises(ContentError, match='prerequisites names "base", but no module'):
        run_deploy(repo, db)
    assert db.value("SELECT status FROM modules WHERE module_id = 'base'") == "published"


def test_trust_needs_the_same_bytes_and_the_same_validator(repo: Repo, db: Database) -> None:
    repo.write(module(module_id="a"))
    run_deploy(repo, db)
    # Make the file invalid, and pretend the database deployed exactly these bytes.
    path = repo.write(module(module_id="a", status="bogus"))
    db.conn.execute("UPDATE modules SET file_hash = %s", (blob_id(path.read_bytes()),))
    assert not run_deploy(repo, db).applied, "trusted bytes were parsed again"
    db.conn.execute("UPDATE modules SET validated_with = 'an older validator'")
    with pytest.raises(ContentError, match='status "bogus" is not known'):
        run_deploy(repo, db)


def test_a_row_changed_since_validation_is_read_in_full(repo: Repo, db: Database) -> None:
    from pipeline.db.plan import DeployItem

    path = repo.write(module(module_id="a"))
    run_deploy(repo, db)
    repo.write(module(module_id="a", title="New"))
    digest = blob_id(path.read_bytes())
    # Validation trusted the file (record None); meanwhile the row moved on.
    with connect(Target(db.url, embedded=False)) as conn:
        outcome = deploy(conn, [DeployItem("a", str(path), digest, None)], Settings())
    assert [s.action for s in outcome.plan.steps] == ["update"]
    assert db.value("SELECT title FROM modules") == "New"


def test_archived_then_restored_file_is_checked_in_full(repo: Repo, db: Database) -> None:
    path = repo.write(module(module_id="a"))
    repo.write(module(module_id="b"))  # an empty tree would archive nothing
    run_deploy(repo, db)
    data = path.read_bytes()
    path.unlink()
    run_deploy(repo, db)
    assert db.rows("SELECT status, file_hash FROM modules WHERE module_id = 'a'") == [
        ("archived", None)
    ]
    path.write_bytes(data)
    outcome = run_deploy(repo, db)
    assert [(s.module_id, s.action) for s in outcome.plan.steps] == [
        ("a", "update"),
        ("b", "unchanged"),
    ]
