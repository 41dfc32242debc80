"""Every kind of failure maps to the exit code the README documents, through real parts.

0 ok, 1 content, 2 usage or configuration, 3 a bug, 4 an outside system failed.
Each case arranges one foreign failure (a database that does not answer, Notion
answering 5xx, GitHub out of reach, a git push refused, a lock held) and runs the
command as a user would.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from pipeline.db.deploy import DEPLOY_LOCK
from pipeline.errors import redact
from tests.builders import module, remote_checkout
from tests.conftest import CLI, Database, Repo
from tests.doubles.github_server import GITHUB_TOKEN, GitHubState
from tests.doubles.github_server import serve as serve_github
from tests.doubles.notion_server import NotionState, point_cli_at
from tests.doubles.notion_server import serve as serve_notion


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone of a bare repository, cwd inside, with one module committed and one new."""
    work, _bare = remote_checkout(
        tmp_path, {"data/modules/base.json": json.dumps(module(module_id="base")) + "\n"}
    )
    modules = work / "data" / "modules"
    (modules / "lab.json").write_text(json.dumps(module(module_id="lab")) + "\n")
    monkeypatch.chdir(work)
    monkeypatch.delenv("NOTION_TOKEN", raising=False)
    return work


Arrange = Callable[[pytest.MonkeyPatch, Path], Iterator[list[str]]]


def database_not_answering(monkeypatch: pytest.MonkeyPatch, _root: Path) -> Iterator[list[str]]:
    url = f"postgresql://app:pw@127.0.0.1:{closed_port()}/neondb?connect_timeout=2"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PIPELINE_CONNECT_RETRIES", "1")
    yield ["status"]


def notion_5xx(monkeypatch: pytest.MonkeyPatch, root: Path) -> Iterator[list[str]]:
    for notion in serve_notion(NotionState()):
        point_cli_at(notion, monkeypatch, root, database=True)
        monkeypatch.setenv("PIPELINE_NOTION_ATTEMPTS", "2")
        notion.state.faults.extend([(r"GET /v1/databases", 503), (r"GET /v1/databases", 502)])
        yield ["export", "--full"]


def github_out_of_reach(monkeypatch: pytest.MonkeyPatch, _root: Path) -> Iterator[list[str]]:
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "frames/modules")
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{closed_port()}")
    yield ["propose"]


def git_push_refused(monkeypatch: pytest.MonkeyPatch, root: Path) -> Iterator[list[str]]:
    bare = root.parent / "remote.git"
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    for server in serve_github(GitHubState(bare=bare)):
        monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", "frames/modules")
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        yield ["propose"]


def github_token_refused(monkeypatch: pytest.MonkeyPatch, root: Path) -> Iterator[list[str]]:
    for server in serve_github(GitHubState(bare=root.parent / "remote.git")):
        monkeypatch.setenv("GITHUB_TOKEN", "ghs_wrong")
        monkeypatch.setenv("GITHUB_REPOSITORY", "frames/modules")
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        yield ["propose"]


CASES: list[tuple[str, Arrange, int, str]] = [
    ("database not answering", database_not_answering, 4, "try again later"),
    ("Notion 5xx after retries", notion_5xx, 4, "Notion refused the database"),
    ("GitHub out of reach", github_out_of_reach, 4, "GitHub did not answer"),
    ("git push refused", git_push_refused, 4, "git push was refused"),
    ("GitHub token refused", github_token_refused, 2, "GitHub refused the token"),
]


@pytest.mark.parametrize(
    ("arrange", "code", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_foreign_failures_map_to_documented_codes(
    checkout: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: CLI,
    arrange: Arrange,
    code: int,
    words: str,
) -> None:
    for args in arrange(monkeypatch, checkout):
        result = cli(*args)
        assert result.code == code, result.err
        assert words in result.err
        assert "Traceback" not in result.err
        assert result.err.count("error: ") == 1


def test_lock_held_by_another_deploy_is_a_service_failure(
    repo: Repo, db: Database, cli: CLI
) -> None:
    repo.write(module(module_id="a"))
    with psycopg.connect(db.url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (DEPLOY_LOCK,))
        result = cli("deploy", "--lock-timeout", "100ms")
    assert result.code == 4
    assert "lock timeout" in result.err


def test_database_that_refuses_the_settings_is_a_usage_error(
    repo: Repo, db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db.url.replace("/t_", "/missing_t_"))
    result = cli("status")
    assert result.code == 2
    assert "does not exist" in result.err


def test_content_and_usage_problems(repo: Repo, cli: CLI) -> None:
    repo.write(module(title=""))
    assert cli("validate").code == 1
    assert cli("validate", "--format", "yaml").code == 2
    assert cli("validate", "no/such/file.json").code == 2


# Settings that are not URLs a client can use: each a usage error naming the setting and
# what a valid value looks like, before any request (urllib, httpx, requests and PyGithub
# each failed their own way: a ValueError, an assert, an error taken for an outage).
NOT_URLS = [
    ("GITHUB_API_URL", "notaurl", ["propose"]),
    ("GITHUB_API_URL", "http://[::1", ["propose"]),
    ("GITHUB_API_URL", "ftp://x", ["propose"]),
    ("GITHUB_API_URL", "http://127.0.0.1:99999", ["propose"]),
    ("GITHUB_SERVER_URL", "http://[::1", ["propose"]),
    ("GITHUB_SERVER_URL", "https://user:pw@host:0", ["rollback", "base", "--to", "1"]),
    ("NOTION_API_BASE_URL", "http://[::1", ["export"]),
    ("NOTION_API_BASE_URL", "notaurl", ["export"]),
    ("PIPELINE_ASSETS_PUBLIC_BASE_URL", "http://127.0.0.1:99999/", ["assets", "serve"]),
    ("PIPELINE_ASSETS_PUBLIC_BASE_URL", "http://127.0.0.1:abc/", ["assets", "serve"]),
    ("PIPELINE_ASSETS_PUBLIC_BASE_URL", "http://[::1/", ["assets", "serve"]),
]


@pytest.mark.parametrize(("variable", "value", "args"), NOT_URLS)
def test_a_setting_that_is_no_url_is_a_usage_error(
    checkout: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: CLI,
    variable: str,
    value: str,
    args: list[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "frames/modules")
    monkeypatch.setenv("NOTION_TOKEN", "secret_x")
    (checkout / "pipeline.yaml").write_text("notion:\n  database_id: " + "a" * 32 + "\n")
    monkeypatch.setenv(variable, value)
    result = cli(*args)
    assert result.code == 2, result.err
    [error] = [line for line in result.err.splitlines() if line.startswith("error: ")]
    assert variable in error and repr(redact(value)) in error
    assert "is not a usable URL" in result.err and "set it to" in result.err
    assert ":pw@" not in result.err


def test_pipeline_yaml_asset_url_that_is_no_url(checkout: Path, cli: CLI) -> None:
    (checkout / "pipeline.yaml").write_text("assets:\n  public_base_url: http://[::1/\n")
    result = cli("assets", "serve")
    assert result.code == 2, result.err
    assert "assets.public_base_url (PIPELINE_ASSETS_PUBLIC_BASE_URL) 'http://[::1/'" in result.err
