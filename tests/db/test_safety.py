"""Operator safety (issue #12, items 1-5 and 8): a deploy touches only what it was asked
to, the database is always named and never a throwaway one by accident, no password is
printed, rows changed behind the pipeline's back are seen and repaired, TRUNCATE cannot
wipe students' data, and wrong settings are refused before any work."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import psutil
import psycopg
import pytest

from pipeline.db.connect import Target, session
from pipeline.errors import DatabaseError, scrub
from tests.builders import module
from tests.conftest import CLI, ROOT, Database, Repo

MIGRATIONS = ROOT / "pipeline" / "db" / "migrations"


def live(db: Database) -> dict[str, str]:
    return dict(db.rows("SELECT module_id, status FROM modules ORDER BY 1"))


def modules(repo: Repo, *ids: str) -> None:
    for module_id in ids:
        repo.write(module(module_id=module_id))


# -- 1. deploy scope ----------------------------------------------------------------------


def test_deploying_files_deploys_just_those_and_archives_nothing(
    repo: Repo, db: Database, cli: CLI
) -> None:
    modules(repo, "a", "b", "c")
    assert cli("deploy").code == 0
    changed = module(module_id="a", title="A, changed")
    repo.write(changed)
    repo.write(module(module_id="d"))
    result = cli("deploy", "data/modules/a.json", "data/modules/d.json")  # seed 000's form
    assert result.code == 0, result.err
    assert live(db) == dict.fromkeys("abcd", "published")
    assert db.value("SELECT title FROM modules WHERE module_id = 'a'") == "A, changed"
    assert "0 archived" in result.out


def test_an_empty_tree_archives_nothing(repo: Repo, db: Database, cli: CLI) -> None:
    modules(repo, "a", "b")
    assert cli("deploy").code == 0
    empty = repo.root / "elsewhere"
    empty.mkdir()
    result = cli("deploy", str(empty))
    assert result.code == 0, result.err
    assert "nothing deployed, nothing archived" in result.out
    assert live(db) == {"a": "published", "b": "published"}


def test_a_mass_archive_is_refused_without_allow_archive(
    repo: Repo, db: Database, cli: CLI
) -> None:
    modules(repo, *"abcdefgh")
    assert cli("deploy").code == 0
    for gone in "bcdefgh":
        (repo.modules / f"{gone}.json").unlink()
    refused = cli("deploy")
    assert refused.code == 2
    assert "would archive 7 of the 8 live modules" in refused.err
    assert "--allow-archive" in refused.err
    assert set(live(db).values()) == {"published"}  # nothing written
    allowed = cli("deploy", "--allow-archive")
    assert allowed.code == 0, allowed.err
    assert list(live(db).values()).count("archived") == 7


def test_retiring_a_few_modules_needs_no_flag_and_the_limit_is_configurable(
    repo: Repo, db: Database, cli: CLI
) -> None:
    modules(repo, "a", "b", "c", "d")
    assert cli("deploy").code == 0
    (repo.modules / "d.json").unlink()
    (repo.root / "pipeline.yaml").write_text("deploy:\n  archive_limit: 0\n")
    assert cli("deploy").code == 2  # limit 0 and 1 of 4 is more than 10%
    (repo.root / "pipeline.yaml").write_text("deploy:\n  archive_limit: 1\n")
    result = cli("deploy")
    assert result.code == 0, result.err
    assert live(db)["d"] == "archived"


# -- 2. which database --------------------------------------------------------------------


def test_in_ci_there_is_no_silent_embedded_fallback(
    repo: Repo, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules(repo, "a")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PIPELINE_DATABASE", raising=False)
    monkeypatch.setenv("PIPELINE_EMBEDDED_DIR", str(repo.root / "must-not-start"))
    for variable in ("CI", "GITHUB_ACTIONS"):
        monkeypatch.setenv(variable, "true")
        result = cli("deploy")
        assert result.code == 2
        assert "does not fall back to a throwaway embedded Postgres" in result.err
        assert "PIPELINE_DATABASE=embedded" in result.err
        monkeypatch.delenv(variable)
    assert not (repo.root / "must-not-start").exists()


def test_an_empty_database_url_is_an_error_everywhere(
    repo: Repo, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "  ")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    result = cli("status")
    assert result.code == 2
    assert "DATABASE_URL is set but empty" in result.err


@pytest.mark.parametrize("folder", ["pg", "p%41g"])
def test_embedded_in_ci_when_asked_for(repo: Repo, tmp_path: Path, folder: str) -> None:
    """Also in a folder whose name holds %41: the server's URI names its socket folder,
    which must not be read as another's (p%41g as pAg)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    directory = tmp_path / folder
    env.update(CI="true", PIPELINE_DATABASE="embedded", PIPELINE_EMBEDDED_DIR=str(directory))
    try:
        done = subprocess.run(
            ["pipeline", "db", "migrate"],
            cwd=repo.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr.startswith(f"database: embedded Postgres at {directory}\n")
        assert (directory / "postmaster.pid").exists()
    finally:
        subprocess.run(["pipeline", "db", "stop"], cwd=repo.root, env=env, check=False)


def test_the_embedded_choice_and_a_database_url_together_are_refused(
    repo: Repo, db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asking for the embedded database by name, with DATABASE_URL still exported in the
    shell, must not write to DATABASE_URL's; nor start the embedded one unasked."""
    modules(repo, "a")
    monkeypatch.setenv("PIPELINE_DATABASE", "embedded")
    monkeypatch.setenv("PIPELINE_EMBEDDED_DIR", str(repo.root / "must-not-start"))
    result = cli("deploy")
    assert result.code == 2
    assert "DATABASE_URL and PIPELINE_DATABASE=embedded are both set" in result.err
    assert "database:" not in result.err
    assert live(db) == {}
    assert not (repo.root / "must-not-start").exists()
    monkeypatch.setenv("PIPELINE_DATABASE", "neon")
    result = cli("deploy")
    assert result.code == 2
    assert "PIPELINE_DATABASE='neon' is not known" in result.err
    assert live(db) == {}


def test_the_database_named_is_the_one_libpq_reaches_through_pg_variables(
    repo: Repo, db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL without a host takes PGHOST's (and PGDATABASE's without a name): the line
    that names the database must say so, not localhost."""
    modules(repo, "a")
    host = db.url.split("host=", 1)[1]
    name = db.url.split("/")[3].split("?", 1)[0]
    monkeypatch.setenv("PGHOST", host)
    monkeypatch.setenv("PGDATABASE", name)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@")
    result = cli("deploy")
    assert result.code == 0, result.err
    assert result.err.startswith(f"database: {host}/{name}\n")
    assert live(db) == {"a": "published"}


def test_every_database_command_names_its_database_first(
    repo: Repo, db: Database, cli: CLI
) -> None:
    modules(repo, "a")
    host = db.url.split("host=", 1)[1]
    name = db.url.split("/")[3].split("?", 1)[0]
    for args in (("db", "migrate"), ("db", "status"), ("deploy",), ("status",), ("show", "a")):
        result = cli(*args)
        assert result.err.startswith(f"database: {host}/{name}\n"), (args, result.err)


# -- 3. no password, however the URL is written -------------------------------------------

SECRET = "pa#ss?wo/rd@1"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://app:{SECRET}@127.0.0.1:1/db",
        f"'postgresql://app:{SECRET}@127.0.0.1:1/db'",
        f"psql 'postgresql://neondb_owner:{SECRET}@ep-x.eu-central-1.aws.neon.tech/neondb'",
        f"postgresql://app:{SECRET}@not a host:5432/db",
        f"postgresql://app:{SECRET}@127.0.0.1:99999/db",
    ],
)
@pytest.mark.parametrize("debug", ["", "1"])
def test_passwords_are_never_printed(
    repo: Repo, cli: CLI, monkeypatch: pytest.MonkeyPatch, url: str, debug: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PIPELINE_CONNECT_RETRIES", "1")
    monkeypatch.setenv("PIPELINE_DEBUG", debug)
    result = cli("status")
    assert result.code in (2, 4)
    for part in (SECRET, "pa#ss", "wo/rd", "rd@1", "ss?wo"):
        assert part not in result.out + result.err


@pytest.mark.parametrize("password", ["e", "on", "a%40"])
def test_a_short_password_is_not_told_by_the_masking(
    repo: Repo, cli: CLI, monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    """Masking a short password inside other words ("conn***ction") would tell it; a
    user name is not a secret and is left alone."""
    monkeypatch.setenv("DATABASE_URL", f"postgresql://app:{password}@127.0.0.1:1/db")
    monkeypatch.setenv("PIPELINE_CONNECT_RETRIES", "1")
    result = cli("status")
    assert result.code in (2, 4)
    assert "connection" in result.err
    assert re.search(r"\w\*\*\*|\*\*\*\w", result.err) is None, result.err
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/postgres")
    result = cli("status")
    assert "127.0.0.1:1/postgres" in result.err
    assert "***" not in result.err


def test_a_password_alone_in_a_message_is_masked() -> None:
    url = "postgresql://app:s3cret%2Fx@db.example.org/lms"
    said = 'password "s3cret/x" rejected; retry s3cret%2Fx for app:s3cret%2Fx'
    assert scrub(said, url) == 'password "***" rejected; retry *** for ***'
    assert scrub("s3cret/xy and as3cret/x", url) == "s3cret/xy and as3cret/x"
    assert scrub("key password=hunter2 end", "host=h password=hunter2") == "key password=*** end"


def test_a_neon_snippet_is_accepted_as_the_url(
    repo: Repo, db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"psql '{db.url}'")
    result = cli("status")
    assert result.code == 0, result.err


# -- 4. drift -----------------------------------------------------------------------------


def test_rows_changed_behind_the_pipelines_back_are_seen_and_repaired(
    repo: Repo, db: Database, cli: CLI
) -> None:
    modules(repo, "a", "b")
    assert cli("deploy").code == 0
    db.conn.execute(
        "DELETE FROM module_sections WHERE section_number = 2 AND module_id = "
        "(SELECT id FROM modules WHERE module_id = 'a')"
    )
    db.conn.execute("UPDATE module_sections SET content = 'vandalised' WHERE content = 'World'")
    assert "nothing to deploy" in cli("deploy").out  # the files did not change

    status = json.loads(cli("status", "--json").out)
    assert {m["module_id"]: m["drifted"] for m in status} == {"a": True, "b": True}
    assert "changed outside the pipeline" in cli("status").out

    repaired = cli("deploy", "--verify")
    assert repaired.code == 0, repaired.err
    assert "2 repaired" in repaired.out
    rows = db.rows(
        "SELECT m.module_id, s.section_number, s.content FROM module_sections s "
        "JOIN modules m ON m.id = s.module_id ORDER BY 1, 2"
    )
    assert rows == [("a", 1, "Hello"), ("a", 2, "World"), ("b", 1, "Hello"), ("b", 2, "World")]
    assert db.rows("SELECT DISTINCT revision FROM modules") == [(1,)]  # a repair: same revision
    assert not any(m["drifted"] for m in json.loads(cli("status", "--json").out))
    assert "nothing to deploy" in cli("deploy", "--verify").out


def test_a_module_row_edited_by_sql_is_repaired(repo: Repo, db: Database, cli: CLI) -> None:
    modules(repo, "a")
    assert cli("deploy").code == 0
    db.conn.execute("UPDATE modules SET title = 'Hacked', status = 'draft'")
    assert json.loads(cli("status", "--json").out)[0]["drifted"] is True
    assert cli("deploy", "--verify").code == 0
    assert db.rows("SELECT title, status FROM modules") == [("Demo", "published")]


SECTION = "(SELECT id FROM modules WHERE module_id = 'a')"


@pytest.mark.parametrize(
    "change",
    [
        "INSERT INTO module_sections (module_id, section_number, section_type, content) "
        f"SELECT {SECTION}, 9, 'text', 'Added by hand'",
        f"UPDATE module_sections SET section_config = '{{\"x\": 1}}' WHERE module_id = {SECTION}",
        f"UPDATE module_sections SET section_number = 7 WHERE section_number = 2 "
        f"AND module_id = {SECTION}",
        f"UPDATE module_sections SET title = NULL WHERE module_id = {SECTION}",
    ],
    ids=["section added", "config edited", "renumbered", "title emptied"],
)
def test_every_kind_of_section_change_is_drift(
    repo: Repo, db: Database, cli: CLI, change: str
) -> None:
    """Status reads each section's md5 as Postgres stored it with the row (migration
    0012): any change to a section's row changes it."""
    modules(repo, "a", "b")
    assert cli("deploy").code == 0
    db.conn.execute(change)
    status = json.loads(cli("status", "--json").out)
    assert {m["module_id"]: m["drifted"] for m in status} == {"a": True, "b": False}


def test_drift_is_seen_when_triggers_are_off(repo: Repo, db: Database, cli: CLI) -> None:
    """The stored md5 is a generated column, not a trigger: a session that switches
    triggers off (session_replication_role = replica) still cannot edit around it."""
    modules(repo, "a", "b")
    assert cli("deploy").code == 0
    with db.conn.transaction():
        db.conn.execute("SET LOCAL session_replication_role = replica")
        db.conn.execute(f"UPDATE module_sections SET content = 'x' WHERE module_id = {SECTION}")
    status = json.loads(cli("status", "--json").out)
    assert {m["module_id"]: m["drifted"] for m in status} == {"a": True, "b": False}
    with pytest.raises(psycopg.errors.GeneratedAlways):
        db.conn.execute("UPDATE module_sections SET row_md5 = 'forged'")


def test_the_live_hash_is_the_one_migration_0005_defined(
    repo: Repo, db: Database, cli: CLI
) -> None:
    """Migration 0012 reads stored section md5s instead of hashing the text again; for
    the same rows it must give the hash 0005's view gave, which deploys stored (Unicode,
    NULLs, JSON, archived rows, a module without sections)."""
    repo.copy_samples()
    repo.write(module(module_id="unicode", title="Sécurité ✓", description=None))
    repo.write(module(module_id="gone"))
    db.seed_reference()
    assert cli("deploy").code == 0
    (repo.modules / "gone.json").unlink()
    assert cli("deploy", "--allow-archive").code == 0
    db.conn.execute("INSERT INTO modules (module_id, title) VALUES ('bare', 'No sections')")
    source = (MIGRATIONS / "0005_drift_and_truncate_guard.sql").read_text(encoding="utf-8")
    start = source.index("CREATE VIEW pipeline_live_hashes AS")
    view = source[start : source.index("FROM modules m;", start)] + "FROM modules m"
    db.conn.execute(view.replace("VIEW pipeline_live_hashes", "TEMP VIEW hashes_0005", 1))
    then = db.rows("SELECT module_pk, live_hash FROM hashes_0005 ORDER BY 1")
    assert len(then) == 6
    assert db.rows("SELECT module_pk, live_hash FROM pipeline_live_hashes ORDER BY 1") == then


# -- 5. TRUNCATE --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE modules CASCADE",
        "TRUNCATE module_progress",
        "TRUNCATE module_feedback, module_assignments",
        "TRUNCATE module_analytics_events",
    ],
)
def test_truncate_cannot_wipe_students_data(
    repo: Repo, db: Database, cli: CLI, statement: str
) -> None:
    modules(repo, "a")
    assert cli("deploy").code == 0
    db.conn.execute("INSERT INTO universities (id, name) VALUES ('u', 'U')")
    db.conn.execute(
        "INSERT INTO students (id, name, email, university_id) "
        "VALUES ('s', 'S', 's@example.org', 'u')"
    )
    db.conn.execute(
        "INSERT INTO module_progress (module_id, student_id, status) "
        "SELECT id, 's', 'in_progress' FROM modules"
    )
    with pytest.raises(psycopg.errors.RaiseException, match=r"TRUNCATE \w+ refused"):
        db.conn.execute(statement)
    assert db.value("SELECT count(*) FROM module_progress") == 1
    assert db.value("SELECT count(*) FROM modules") == 1


def test_truncate_with_the_explicit_switch(db: Database) -> None:
    with db.conn.transaction():
        db.conn.execute("SET LOCAL pipeline.allow_module_delete = on")
        db.conn.execute("TRUNCATE modules CASCADE")
    assert db.value("SELECT count(*) FROM modules") == 0


# -- 8. wrong settings are refused before any work -----------------------------------------


def test_wrong_timeouts_and_retries_are_usage_errors_at_once(
    repo: Repo, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pw@127.0.0.1:1/db")
    result = cli("deploy", "--lock-timeout", "abc")
    assert result.code == 2
    assert "'abc' is not a duration" in result.err
    assert "database:" not in result.err  # refused before connecting
    assert cli("deploy", "--statement-timeout", "5 parsecs").code == 2
    for too_long in ("2147483648ms", "99999999999999999999s", "25d"):
        result = cli("deploy", "--lock-timeout", too_long)
        assert result.code == 2
        assert "longer than Postgres allows" in result.err
    result = cli("deploy", "--lock-timeout", "\u0663s")  # an Arabic-Indic 3
    assert result.code == 2
    assert "is not a duration" in result.err
    assert "database:" not in result.err
    result = cli("db", "deploys", "--limit", "99999999999999999999")
    assert result.code == 2
    assert "database:" not in result.err
    monkeypatch.setenv("PIPELINE_CONNECT_RETRIES", "abc")
    result = cli("status")
    assert result.code == 2
    assert "PIPELINE_CONNECT_RETRIES='abc' is not a whole number" in result.err


def test_db_status_exits_1_when_migrations_are_pending(empty_db: Database, cli: CLI) -> None:
    pending = cli("db", "status", "--json")
    assert pending.code == 1
    state = json.loads(pending.out)
    assert state["applied"] == [] and len(state["pending"]) >= 5
    assert "migrations pending" in pending.err
    assert cli("db", "migrate").code == 0
    current = cli("db", "status", "--json")
    assert current.code == 0
    assert json.loads(current.out)["pending"] == []


# -- 6. kill -9 during validation -----------------------------------------------------------


def test_kill_9_during_validation_leaves_no_worker_nor_connection(repo: Repo, db: Database) -> None:
    sections = [
        {"section_number": n, "section_type": "text", "title": f"S{n}", "content": "x " * 400}
        for n in range(1, 21)
    ]
    for n in range(1200):
        repo.write(module(module_id=f"m{n:04d}", sections=sections))
    env = {**os.environ, "DATABASE_URL": db.url}
    process = psutil.Popen(
        ["pipeline", "deploy", "--dry-run"],
        cwd=repo.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    workers: list[psutil.Process] = []
    while time.monotonic() < deadline and len(workers) < 2 and process.poll() is None:
        workers = process.children(recursive=True)
        time.sleep(0.005)
    assert len(workers) >= 2, "the deploy finished before its workers could be seen"
    time.sleep(0.1)  # well into validation, connected
    process.kill()
    process.wait()
    _gone, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == [], "workers outlived their parent"
    name = db.url.split("/")[3].split("?", 1)[0]
    for _ in range(50):
        held = db.value(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND application_name = 'module-pipeline'",
            name,
        )
        if held == 0:
            break
        time.sleep(0.1)
    assert held == 0, "a connection outlived the killed deploy"


def test_ctrl_c_during_a_large_deploy_says_interrupted_and_writes_nothing(
    repo: Repo, db: Database
) -> None:
    """A terminal's Ctrl-C goes to every process of the command, the workers too: only
    the parent answers (exit 130, "interrupted"); no worker prints a traceback."""
    for n in range(450):
        repo.write(module(module_id=f"m{n:04d}"))
    env = {**os.environ, "DATABASE_URL": db.url}
    with psycopg.connect(db.url) as holder:
        holder.execute("LOCK TABLE modules IN ACCESS EXCLUSIVE MODE")  # the deploy waits
        process = psutil.Popen(
            ["pipeline", "deploy"],
            cwd=repo.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, as a terminal's job
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(process.children()) < 2:
            time.sleep(0.01)
        assert len(process.children()) >= 2, "no workers seen"
        time.sleep(0.3)  # waiting for the lock, workers checking
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "error: interrupted" in err
    assert "Traceback" not in err + out
    assert "KeyboardInterrupt" not in err
    assert live(db) == {}


def test_the_hash_a_deploy_stores_is_the_hash_of_the_rows_it_wrote(
    repo: Repo, db: Database, cli: CLI
) -> None:
    """The drift hash a deploy stores and the one `status` checks agree on real modules
    (JSON configs, NULLs, numbers, Unicode, asset URLs)."""
    repo.copy_samples()
    repo.write(module(module_id="unicode", title="Sécurité ✓", description=None))
    db.seed_reference()
    assert cli("deploy").code == 0
    status = json.loads(cli("status", "--json").out)
    assert len(status) == 4
    assert [m["module_id"] for m in status if m["drifted"]] == []


# -- what the database refuses, and where it is -------------------------------------------


def test_a_value_too_large_for_an_index_is_refused_content_not_an_outage(db: Database) -> None:
    """Postgres reports it as a program limit (an OperationalError to psycopg): running
    again will never help, so it is exit 1, not "the connection broke, try again"."""
    with (
        pytest.raises(DatabaseError) as caught,
        session("the test", target=Target(db.url, False)) as conn,
    ):
        conn.execute("CREATE TEMP TABLE t (v text PRIMARY KEY)")
        conn.execute(
            "INSERT INTO t SELECT string_agg(md5(i::text), '') FROM generate_series(1, 9000) i"
        )
    assert caught.value.exit_code == 1
    assert "index row" in str(caught.value)
