"""Deploys under concurrency and faults; migrations; connections. All on a real Postgres."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import psycopg
import pytest

from pipeline.db.connect import Target, connect
from pipeline.db.deploy import DEPLOY_LOCK, DeployResult, Settings, deploy, load_records
from pipeline.db.migrate import Migration, available, migrate
from pipeline.db.plan import DeployItem
from pipeline.errors import UsageError
from pipeline.modules.validate import collect_files
from tests.builders import module, versions, wait_for, waiting_on_locks
from tests.conftest import CLI, ROOT, Database, Postgres, Repo


def deploy_in_thread(
    db: Database, records: list[DeployItem], results: list[DeployResult]
) -> threading.Thread:
    def work() -> None:
        with connect(Target(db.url, embedded=False)) as conn:
            results.append(deploy(conn, records, Settings()))

    thread = threading.Thread(target=work)
    thread.start()
    return thread


@pytest.mark.parametrize("same_content", [True, False])
def test_two_concurrent_deploys_are_serialised(
    repo: Repo, db: Database, same_content: bool
) -> None:
    repo.write(module(module_id="a"))
    repo.write(module(module_id="b"))
    first = load_records(collect_files([repo.modules]))
    if not same_content:
        repo.write(module(module_id="a", title="Other"))
    second = load_records(collect_files([repo.modules]))

    holder = psycopg.connect(db.url)
    holder.execute("SELECT pg_advisory_xact_lock(%s)", (DEPLOY_LOCK,))
    results: list[DeployResult] = []
    threads = [deploy_in_thread(db, first, results), deploy_in_thread(db, second, results)]
    wait_for(lambda: waiting_on_locks(db) == 2)  # both are really inside, waiting
    holder.rollback()
    for thread in threads:
        thread.join(30)
    holder.close()

    assert len(results) == 2
    actions = sorted(tuple(s.action for s in r.plan.steps) for r in results)
    if same_content:
        assert actions == [("insert", "insert"), ("unchanged", "unchanged")]
        assert db.value("SELECT count(*) FROM pipeline_deploys") == 1
    else:
        assert actions == [("insert", "insert"), ("update", "unchanged")]
        assert db.rows("SELECT revision FROM modules WHERE module_id = 'a'") == [(2,)]
        assert db.value("SELECT count(*) FROM pipeline_deploys") == 2
    assert db.value("SELECT count(*) FROM module_sections") == 4


def test_deploy_waits_no_longer_than_lock_timeout(repo: Repo, db: Database, cli: CLI) -> None:
    repo.write(module(module_id="a"))
    with psycopg.connect(db.url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (DEPLOY_LOCK,))
        result = cli("deploy", "--lock-timeout", "200ms")
    assert result.code == 4  # busy: try again later
    assert "the deploy waited longer than the lock timeout for a lock another session" in (
        result.err
    )
    assert db.value("SELECT count(*) FROM modules") == 0


def test_a_deploy_waits_for_an_open_hand_edit_of_sections(
    repo: Repo, db: Database, cli: CLI
) -> None:
    """A deploy that writes holds other writers of sections off until it commits (so the
    drift hash it reads back is of its own rows): an open edit makes it wait, within its
    lock timeout, and write nothing."""
    repo.write(module(module_id="a"))
    assert cli("deploy").code == 0
    repo.write(module(module_id="b"))
    with psycopg.connect(db.url) as editor:
        editor.execute("UPDATE module_sections SET title = 'by hand'")
        result = cli("deploy", "--lock-timeout", "200ms")
    assert result.code == 4
    assert "an open transaction writing the same rows" in result.err
    assert db.value("SELECT count(*) FROM modules") == 1


def test_sigkill_in_the_middle_leaves_the_database_as_it_was(repo: Repo, db: Database) -> None:
    repo.write(module(module_id="a"))
    repo.write(module(module_id="b"))
    run = [sys.executable, "-m", "pipeline", "deploy"]
    env = {**os.environ, "DATABASE_URL": db.url}
    subprocess.run(run, cwd=repo.root, env=env, check=True, capture_output=True)
    before = versions(db)

    repo.write(module(module_id="a", title="Half"))
    repo.write(module(module_id="c"))
    blocker = psycopg.connect(db.url)
    # The deploy writes modules and sections, then its log row: holding the log table
    # stops it after the writes and before the commit.
    blocker.execute("LOCK TABLE pipeline_deploys IN ACCESS EXCLUSIVE MODE")
    process = subprocess.Popen(
        run, cwd=repo.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: waiting_on_locks(db) == 1)
        # It is stuck on its last statement, so its module and section writes are done.
        blocked = db.value(
            "SELECT query FROM pg_stat_activity WHERE application_name = "
            "'module-pipeline' AND wait_event_type = 'Lock'"
        )
        assert blocked.lstrip().startswith("INSERT INTO pipeline_deploys")
        process.send_signal(signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL
    finally:
        blocker.rollback()
        blocker.close()
        process.kill()

    assert versions(db) == before
    assert db.rows("SELECT module_id, title FROM modules ORDER BY 1") == [
        ("a", "Demo"),
        ("b", "Demo"),
    ]
    assert db.value("SELECT count(*) FROM pipeline_deploys") == 1
    # Nothing is left locked: the next deploy goes through.
    done = subprocess.run(run, cwd=repo.root, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert db.rows("SELECT module_id, title FROM modules ORDER BY 1") == [
        ("a", "Half"),
        ("b", "Demo"),
        ("c", "Demo"),
    ]


# -- migrations -----------------------------------------------------------------------------


def test_migrate_applies_once_and_reports_status(empty_db: Database, cli: CLI) -> None:
    result = cli("db", "status")
    assert result.code == 1  # pending: a script can tell that it should migrate
    assert result.out.count("pending") == len(available())
    result = cli("db", "migrate")
    assert result.code == 0
    assert "applied 0001_lms_schema" in result.out
    result = cli("db", "migrate")
    assert "database schema is up to date" in result.out
    result = cli("db", "status")
    assert result.code == 0
    assert "pending" not in result.out
    assert result.out.count("applied") == len(available())
    assert empty_db.value("SELECT count(*) FROM pipeline_migrations") == len(available())


def test_concurrent_migrations_apply_each_once(empty_db: Database) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with connect(Target(empty_db.url, embedded=False)) as conn:
                migrate(conn)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert empty_db.rows("SELECT version FROM pipeline_migrations ORDER BY 1") == [
        (m.version,) for m in available()
    ]


def test_checksum_drift_is_refused(db: Database, repo: Repo, cli: CLI) -> None:
    db.conn.execute("UPDATE pipeline_migrations SET checksum = 'edited' WHERE version = 1")
    for args in (("db", "migrate"), ("db", "status"), ("deploy",)):
        result = cli(*args)
        assert result.code == 2, args
        assert "0001_lms_schema.sql changed after it was applied" in result.err


def test_applied_migration_missing_from_package(db: Database, cli: CLI) -> None:
    db.conn.execute(
        "INSERT INTO pipeline_migrations (version, name, checksum) "
        "VALUES (9999, 'from_the_future', 'x')"
    )
    result = cli("db", "migrate")
    assert result.code == 2
    assert "9999_from_the_future is applied but its file is missing" in result.err


def test_failing_migration_applies_nothing_of_itself(db: Database) -> None:
    broken = Migration(9000, "broken", "CREATE TABLE half_done (id int); SELECT 1/0;")
    with (
        connect(Target(db.url, embedded=False)) as conn,
        pytest.raises(UsageError, match="9000_broken failed: division by zero"),
    ):
        migrate(conn, [*available(), broken])
    assert db.value("SELECT to_regclass('half_done')") is None
    assert db.value("SELECT max(version) FROM pipeline_migrations") == available()[-1].version


def test_commands_refuse_an_unmigrated_database(empty_db: Database, repo: Repo, cli: CLI) -> None:
    repo.write(module())
    for args in (
        ("deploy",),
        ("status",),
        ("show", "demo"),
        ("db", "seed", str(ROOT / "data" / "reference.yaml")),
    ):
        result = cli(*args)
        assert result.code == 2, args
        assert "run `pipeline db migrate` first" in result.err


# -- connections ----------------------------------------------------------------------------


class FakeServer:
    """A TCP server for connection faults: answers each connection with `reply`, or
    (with forward_after) proxies the later connections to the real Postgres socket."""

    def __init__(
        self, reply: bytes = b"", forward_to: str | None = None, refuse_first: int = 0
    ) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.reply, self.forward_to, self.refuse_first = reply, forward_to, refuse_first
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            if self.forward_to and self.connections > self.refuse_first:
                threading.Thread(target=self._proxy, args=(client,), daemon=True).start()
                continue
            if self.reply:
                client.recv(8)
                client.sendall(self.reply)
            client.close()

    def _proxy(self, client: socket.socket) -> None:
        assert self.forward_to is not None
        upstream = socket.socket(socket.AF_UNIX)
        upstream.connect(self.forward_to)

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                dst.close()

        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        pump(client, upstream)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def fake_server() -> Iterator[Callable[..., FakeServer]]:
    servers: list[FakeServer] = []

    def make(**kwargs: object) -> FakeServer:
        servers.append(FakeServer(**kwargs))  # type: ignore[arg-type]
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_unreachable_database_is_retried_and_the_password_never_shown(
    repo: Repo, cli: CLI, monkeypatch: pytest.MonkeyPatch, fake_server: Callable[..., FakeServer]
) -> None:
    server = fake_server()  # accepts and hangs up at once, like a waking compute
    monkeypatch.setenv(
        "DATABASE_URL", f"postgresql://app:s3cret-pa55@127.0.0.1:{server.port}/neondb"
    )
    monkeypatch.setenv("PIPELINE_CONNECT_RETRIES", "3")
    repo.write(module())
    result = cli("deploy")
    assert result.code == 4  # not reachable after retries: try again later
    assert server.connections >= 3
    assert result.err.count("database not reachable yet; retrying") == 2
    assert f"database: 127.0.0.1:{server.port}/neondb\n" in result.err  # named first
    assert f"cannot connect to 127.0.0.1:{server.port}/neondb" in result.err
    assert "s3cret-pa55" not in result.out + result.err


def test_cold_start_then_connects(
    postgres: Postgres,
    db: Database,
    repo: Repo,
    cli: CLI,
    monkeypatch: pytest.MonkeyPatch,
    fake_server: Callable[..., FakeServer],
) -> None:
    socket_path = f"{postgres.socket_dir}/.s.PGSQL.5432"
    server = fake_server(forward_to=socket_path, refuse_first=2)
    database = db.url.split("/")[3].split("?")[0]
    monkeypatch.setenv(
        "DATABASE_URL",
        f"postgresql://postgres:pw@127.0.0.1:{server.port}/{database}?sslmode=disable",
    )
    repo.write(module())
    result = cli("deploy")
    assert result.code == 0, result.err
    assert result.err.count("retrying") == 2
    assert db.value("SELECT count(*) FROM modules") == 1


def test_sslmode_require_is_honoured(
    repo: Repo, cli: CLI, monkeypatch: pytest.MonkeyPatch, fake_server: Callable[..., FakeServer]
) -> None:
    server = fake_server(reply=b"N")  # "N": this server does not speak SSL
    monkeypatch.setenv(
        "DATABASE_URL", f"postgresql://app:pw@127.0.0.1:{server.port}/db?sslmode=require"
    )
    repo.write(module())
    result = cli("deploy")
    assert result.code == 2
    assert "SSL" in result.err
    assert server.connections == 1, "an SSL refusal is not worth retrying"
