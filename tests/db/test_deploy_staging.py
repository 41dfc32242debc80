"""Deploy streams each module's rows into staging tables as validation makes them
(pipeline/db/stage.py): what arrives must be exactly what the file says, and an invalid
file found after others were staged must still leave nothing behind."""

from __future__ import annotations

import pytest

from pipeline.db import deploy as deploy_module
from pipeline.db.connect import Target, connect
from pipeline.db.deploy import DeployResult, Settings, deploy_tree
from pipeline.db.stage import copy_line
from pipeline.errors import ContentError
from pipeline.modules import validate as validate_module
from tests.builders import module, versions
from tests.builders import text_section as text
from tests.conftest import Database, Repo

AWKWARD = "tab\there, line\nbreak, return\r, back\\slash \\N, \\t literal, naïve ✓ 🚀"


def run_deploy(repo: Repo, db: Database) -> DeployResult:
    return deploy_tree(lambda: connect(Target(db.url, embedded=False)), repo.modules, Settings())


def test_copy_line_escapes_what_copy_text_format_would_misread() -> None:
    assert copy_line(["a\tb", None, 3, "x\\y\nz\r"]) == "a\\tb\t\\N\t3\tx\\\\y\\nz\\r\n"
    assert copy_line(["plain", None, 7, "naïve ✓"]) == "plain\t\\N\t7\tnaïve ✓\n"
    # Each awkward character alone, beside a NULL: none may pass unescaped.
    for raw, escaped in [("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"), ("\\", "\\\\")]:
        assert copy_line([f"a{raw}b", None]) == f"a{escaped}b\t\\N\n"
    # Text that reads "\N" is text, not NULL.
    assert copy_line(["\\N", None]) == "\\\\N\t\\N\n"
    assert copy_line(("\\N",)) == "\\\\N\n"


def test_awkward_text_arrives_exactly_as_written(repo: Repo, db: Database) -> None:
    repo.write(
        module(
            module_id="a",
            title=AWKWARD,
            description=AWKWARD,
            learning_objectives=[AWKWARD],
            sections=[text(1, AWKWARD, AWKWARD)],
        )
    )
    assert run_deploy(repo, db).applied
    assert db.rows("SELECT title, description, learning_objectives->>0 FROM modules") == [
        (AWKWARD, AWKWARD, AWKWARD)
    ]
    assert db.rows("SELECT title, content FROM module_sections") == [(AWKWARD, AWKWARD)]
    # What the deploy wrote hashes as the pipeline computed it: no drift, no rewrite.
    assert (
        db.value(
            "SELECT count(*) FROM modules m JOIN pipeline_live_hashes h ON h.module_pk = m.id "
            "WHERE m.rows_hash IS DISTINCT FROM h.live_hash"
        )
        == 0
    )
    assert [s.action for s in run_deploy(repo, db).plan.steps] == ["unchanged"]


def test_awkward_text_from_worker_processes_arrives_exactly_as_written(
    repo: Repo, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers send each module's rows to the deploy marshalled; what they hold is
    what the database gets, and hashes as the deploy computed it."""
    monkeypatch.setattr(validate_module, "PARALLEL_MIN_FILES", 8)  # worker processes
    monkeypatch.setattr(validate_module, "_CHUNK", 3)
    for i in range(12):
        repo.write(
            module(
                module_id=f"m{i:02d}",
                title=AWKWARD,
                description=AWKWARD if i % 2 else "",
                sections=[text(1, AWKWARD, AWKWARD), text(2, "Plain", "")],
            )
        )
    assert run_deploy(repo, db).applied
    assert db.rows("SELECT DISTINCT title, description FROM modules ORDER BY 2") == [
        (AWKWARD, ""),
        (AWKWARD, AWKWARD),
    ]
    assert db.value("SELECT count(*) FROM module_sections WHERE title = %s", AWKWARD) == 12
    assert db.value("SELECT count(*) FROM module_sections WHERE content = %s", AWKWARD) == 12
    assert {s.action for s in run_deploy(repo, db).plan.steps} == {"unchanged"}


def test_an_invalid_file_after_many_staged_ones_writes_nothing(
    repo: Repo, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validate_module, "PARALLEL_MIN_FILES", 8)  # worker processes
    for i in range(40):
        repo.write(module(module_id=f"m{i:02d}"))
    repo.write(module(module_id="m39", status="bogus"))  # the last one
    repo.write(module(module_id="m05", estimated_minutes="ten"))  # and an early one
    before = versions(db)
    with pytest.raises(ContentError) as raised:
        run_deploy(repo, db)
    message = str(raised.value)
    assert "m05.json" in message and "m39.json" in message, message
    assert "nothing was deployed" in message
    assert versions(db) == before
    assert db.value("SELECT count(*) FROM modules") == 0
    # The staging tables went with the transaction.
    assert db.value("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'pipeline_stage%'") == 0

    repo.write(module(module_id="m39"))
    repo.write(module(module_id="m05"))
    outcome = run_deploy(repo, db)
    assert outcome.plan.count("insert") == 40
    assert db.value("SELECT count(*) FROM module_sections") == 40 * len(module()["sections"])


def test_a_large_write_leaves_the_planner_statistics(
    repo: Repo, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a bulk load the next deploy's queries are planned from real figures: the
    deploy ANALYZEs the columns they join on (here past a threshold lowered to 3 rows)."""
    monkeypatch.setattr(deploy_module, "_ANALYZE_AFTER", 3)
    repo.write(module(module_id="small", sections=[text(1, "One", "x")]))
    run_deploy(repo, db)
    assert db.value("SELECT reltuples FROM pg_class WHERE relname = 'module_sections'") < 0
    for i in range(3):
        repo.write(module(module_id=f"m{i}", sections=[text(n, f"S{n}", "x") for n in (1, 2)]))
    run_deploy(repo, db)
    assert db.value("SELECT reltuples FROM pg_class WHERE relname = 'module_sections'") == 7
    analyzed = db.rows(
        "SELECT attname FROM pg_stats WHERE tablename = 'module_sections' ORDER BY 1"
    )
    assert analyzed == [("module_id",), ("section_number",)]
