"""The drift hash a deploy stores is computed by Postgres from the rows as written (db/
deploy.py, migration 0012): after every way the pipeline writes a module's rows, and
with someone writing sections by hand at the same moment, `pipeline status` must report
drift exactly when the rows differ from what the pipeline meant to write."""

from __future__ import annotations

import json
import threading
from typing import Any

import psycopg
import pytest

from pipeline.db.connect import Target, connect
from pipeline.db.deploy import DeployResult, Settings, deploy_tree
from tests.builders import module, text_section, wait_for, waiting_on_locks
from tests.conftest import CLI, Database, Postgres, Repo

PNG = b"\x89PNG\r\n\x1a\n" + b"plan"
A = "(SELECT id FROM modules WHERE module_id = 'a')"


@pytest.fixture(autouse=True)
def _actor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")


def drift(cli: CLI) -> dict[str, bool]:
    result = cli("status", "--json")
    assert result.code == 0, result.err
    return {m["module_id"]: m["drifted"] for m in json.loads(result.out)}


def ok(cli: CLI, *args: str) -> str:
    result = cli(*args)
    assert result.code == 0, result.err
    return result.out


def no_null_hash(db: Database) -> None:
    assert db.value("SELECT count(*) FROM modules WHERE rows_hash IS NULL") == 0


def clean_hashes(postgres: Postgres, repo: Repo, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """rows_hash of each module after a first deploy of the same files into a fresh
    database: what the rows should hash to."""
    name = postgres.create()
    try:
        url = postgres.url(name)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO universities (id, name) VALUES ('cpp', 'C') ON CONFLICT DO NOTHING"
            )
        deploy_tree(lambda: connect(Target(url, embedded=False)), repo.modules, Settings())
        with psycopg.connect(url) as conn:
            return dict(conn.execute("SELECT module_id, rows_hash FROM modules").fetchall())
    finally:
        postgres.drop(name)


def hashes(db: Database) -> dict[str, Any]:
    return dict(db.rows("SELECT module_id, rows_hash FROM modules WHERE status <> 'archived'"))


# -- plain writes -------------------------------------------------------------------------


def test_module_row_only_and_sections_only_changes(repo: Repo, db: Database, cli: CLI) -> None:
    repo.write(module(module_id="a"))
    repo.write(module(module_id="b"))
    ok(cli, "deploy")
    before = db.value("SELECT rows_hash FROM modules WHERE module_id = 'a'")
    repo.write(module(module_id="a", title="Row only"))  # module row, no section
    out = ok(cli, "deploy")
    assert db.value("SELECT rows_hash FROM modules WHERE module_id = 'a'") != before
    repo.write(
        module(module_id="a", title="Row only", sections=[text_section(1, "Intro", "Changed")])
    )  # sections only
    ok(cli, "deploy")
    assert drift(cli) == {"a": False, "b": False}
    no_null_hash(db)
    assert "nothing to deploy" in ok(cli, "deploy", "--verify") and out


def test_a_changed_file_over_drifted_rows_leaves_the_rows_and_hash_of_a_clean_deploy(
    repo: Repo, db: Database, cli: CLI, postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drift (hand-added section, edited row) then a normal deploy (no --verify) of a
    changed file: the stored hash must be the hash of the file's rows, not of whatever
    the drift left that the deploy did not overwrite."""
    repo.write(module(module_id="a"))
    ok(cli, "deploy")
    db.conn.execute(
        "INSERT INTO module_sections (module_id, section_number, section_type, "
        f"content) SELECT {A}, 9, 'text', 'by hand'"
    )
    db.conn.execute("UPDATE modules SET category = 'hand', tags = '[ 1 ]'")
    db.conn.execute(f"UPDATE module_sections SET section_config = '{{ }}' WHERE module_id = {A}")
    assert drift(cli) == {"a": True}
    repo.write(module(module_id="a", sections=[text_section(1, "Intro", "New")]))
    ok(cli, "deploy")
    assert drift(cli) == {"a": False}
    assert hashes(db) == clean_hashes(postgres, repo, monkeypatch)


# -- dry runs, refusals, failures keep drift visible ---------------------------------------


@pytest.mark.parametrize("how", ["dry-run", "refused-archive", "invalid-file", "missing-ref"])
def test_a_deploy_that_writes_nothing_does_not_hide_drift(
    repo: Repo, db: Database, cli: CLI, how: str
) -> None:
    for m in "abcdef":
        repo.write(module(module_id=m))
    ok(cli, "deploy")
    db.conn.execute(f"UPDATE module_sections SET content = 'x' WHERE module_id = {A}")
    repo.write(module(module_id="a", title="New"))
    if how == "dry-run":
        ok(cli, "deploy", "--verify", "--dry-run")
    elif how == "refused-archive":
        for m in "bcdef":
            (repo.modules / f"{m}.json").unlink()
        assert cli("deploy", "--verify").code != 0
    elif how == "invalid-file":
        repo.write(module(module_id="zz", status="live"))
        assert cli("deploy", "--verify").code != 0
    else:
        repo.write(module(module_id="zz", university_id="nowhere"))
        assert cli("deploy", "--verify").code != 0
    assert drift(cli)["a"] is True
    no_null_hash(db)


# -- archive and return --------------------------------------------------------------------


def test_archived_drifted_module_that_returns_is_clean(
    repo: Repo, db: Database, cli: CLI, postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    for m in "abcd":
        repo.write(module(module_id=m))
    ok(cli, "deploy")
    db.conn.execute(f"UPDATE module_sections SET content = 'x' WHERE module_id = {A}")
    (repo.modules / "a.json").unlink()
    ok(cli, "deploy")
    no_null_hash(db)
    repo.write(module(module_id="a"))
    ok(cli, "deploy")
    assert drift(cli) == dict.fromkeys("abcd", False)
    assert hashes(db) == clean_hashes(postgres, repo, monkeypatch)


# -- unpublish / republish -----------------------------------------------------------------


def test_unpublished_drifted_module_stays_drifted_until_a_deploy_rewrites_it(
    repo: Repo, db: Database, cli: CLI
) -> None:
    repo.write(module(module_id="a"))
    ok(cli, "deploy")
    db.conn.execute(f"UPDATE module_sections SET content = 'x' WHERE module_id = {A}")
    ok(cli, "unpublish", "a", "--reason", "r")
    assert drift(cli) == {"a": True}
    assert "nothing to deploy" in ok(cli, "deploy")
    assert drift(cli) == {"a": True}
    ok(cli, "deploy", "--verify")  # repaired, kept hidden
    assert db.value("SELECT status FROM modules") == "draft"
    assert drift(cli) == {"a": False}
    repo.write(module(module_id="a", title="Fixed"))
    ok(cli, "deploy")
    ok(cli, "republish", "a", "--reason", "r")
    assert db.value("SELECT status FROM modules") == "published"
    assert drift(cli) == {"a": False}
    no_null_hash(db)


def test_held_module_relinked_then_republished(repo: Repo, db: Database, cli: CLI) -> None:
    repo.asset("data/assets/a/plan.png", PNG)
    repo.write(
        module(
            module_id="a",
            sections=[
                {
                    "section_number": 1,
                    "section_type": "image",
                    "title": "I",
                    "content": "",
                    "media_url": "data/assets/a/plan.png",
                    "section_config": {"alt_text": "a"},
                }
            ],
        )
    )
    ok(cli, "deploy")
    ok(cli, "unpublish", "a", "--reason", "r")
    repo.asset("data/assets/a/plan.png", PNG + b" v2")
    payload = json.loads(ok(cli, "deploy", "--json"))
    assert payload["counts"]["repair"] == 1
    assert drift(cli) == {"a": False}
    ok(cli, "republish", "a", "--reason", "r")
    assert drift(cli) == {"a": False}
    no_null_hash(db)


# -- a hand edit committed while a deploy runs ---------------------------------------------


def test_a_section_added_by_hand_while_a_deploy_writes_is_still_drift(
    repo: Repo, db: Database
) -> None:
    """Someone edits module a by hand in a transaction (section 1 changed, section 9
    added) and commits it while a deploy of a changed a.json is writing. The deploy
    overwrites section 1 but not section 9, which is not in the file: that is drift."""
    repo.write(module(module_id="a"))
    deploy_tree(lambda: connect(Target(db.url, embedded=False)), repo.modules, Settings())
    repo.write(
        module(
            module_id="a",
            sections=[text_section(1, "Intro", "v2"), text_section(2, "More", "World")],
        )
    )
    hand = psycopg.connect(db.url)
    hand.execute(
        f"UPDATE module_sections SET content = 'hand' WHERE section_number = 1 AND module_id = {A}"
    )
    hand.execute(
        "INSERT INTO module_sections (module_id, section_number, section_type, "
        f"content) SELECT {A}, 9, 'text', 'by hand'"
    )
    results: list[DeployResult] = []

    def work() -> None:
        results.append(
            deploy_tree(lambda: connect(Target(db.url, embedded=False)), repo.modules, Settings())
        )

    thread = threading.Thread(target=work)
    thread.start()
    wait_for(lambda: waiting_on_locks(db) == 1)  # the deploy waits on the hand edit
    hand.commit()
    hand.close()
    thread.join(30)
    assert results and results[0].applied
    live = db.rows("SELECT s.section_number, s.content FROM module_sections s ORDER BY 1")
    drifted = db.value(
        "SELECT m.rows_hash IS DISTINCT FROM h.live_hash FROM modules m "
        "JOIN pipeline_live_hashes h ON h.module_pk = m.id"
    )
    # Either the deploy removed section 9 (the rows are the file's) or status says drift.
    assert drifted == (live != [(1, "v2"), (2, "World")]), live
