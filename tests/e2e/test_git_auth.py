"""propose's fetch and push authenticate with the token from the environment, passed to git
as an HTTP header in git's own environment: never in argv, .git/config or any output.

The remote is the local GitHub double speaking git's smart HTTP protocol; the checkout
is left as actions/checkout leaves it with `persist-credentials: false` (origin is the
server's URL, no credentials stored).
"""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.errors import UsageError
from pipeline.git import Git
from pipeline.propose.branches import build_commit, fetch, push_branch
from tests.builders import git, module, remote_checkout
from tests.conftest import CLI
from tests.doubles.github_server import GITHUB_TOKEN, GitHubGitServer, GitHubState, serve_with_git

BASIC = base64.b64encode(f"x-access-token:{GITHUB_TOKEN}".encode()).decode()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[GitHubGitServer]:
    _seed, bare = remote_checkout(
        tmp_path, {"data/modules/a.json": json.dumps(module(module_id="a")) + "\n"}, name="seed"
    )
    yield from serve_with_git(GitHubState(bare=bare))


@pytest.fixture
def checkout(tmp_path: Path, hub: GitHubGitServer) -> Path:
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(hub.state.bare), str(work))
    git(work, "remote", "set-url", "origin", hub.clone_url())
    return work


@pytest.fixture
def argv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every command line git is started with, logged by a `git` first on PATH."""
    shim = tmp_path / "bin" / "git"
    shim.parent.mkdir()
    log = tmp_path / "git-argv.log"
    real = git(tmp_path, "--exec-path") + "/git"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    log.write_text("")
    return log


def nowhere_is_the_token(checkout: Path, *texts: str) -> None:
    stored = (checkout / ".git" / "config").read_text()
    for secret in (GITHUB_TOKEN, BASIC):
        assert secret not in stored
        for text in texts:
            assert secret not in text
    assert "extraheader" not in stored


def test_fetch_and_push_send_the_token_as_a_header(
    checkout: Path, hub: GitHubGitServer, argv: Path
) -> None:
    repo = Git(checkout, token=GITHUB_TOKEN, server_url=hub.url)
    (checkout / "data" / "modules" / "a.json").write_text('{"v": 2}\n')
    fetch(repo, "main")
    _, commit = build_commit(repo, "origin/main", "a", "Module a")
    push_branch(repo, "a", commit, None)
    assert hub.state.branch_sha("notion/a") == commit
    assert f"basic {BASIC}" in [a for a in hub.git_auth if a], hub.git_auth  # as checkout
    nowhere_is_the_token(checkout, argv.read_text())
    assert "fetch" in argv.read_text() and "push" in argv.read_text()


def test_without_the_token_the_server_refuses_and_git_asks_nobody(
    checkout: Path, hub: GitHubGitServer
) -> None:
    with pytest.raises(UsageError, match=r"the remote wants credentials.*set GITHUB_TOKEN"):
        fetch(Git(checkout), "main")  # and git does not wait for a password
    assert set(hub.git_auth) == {None}


def test_the_token_goes_to_the_github_server_only(checkout: Path, hub: GitHubGitServer) -> None:
    """A remote elsewhere than GITHUB_SERVER_URL never sees the token."""
    with pytest.raises(UsageError):
        fetch(Git(checkout, token=GITHUB_TOKEN, server_url="https://github.com"), "main")
    assert set(hub.git_auth) == {None}


def test_propose_authenticates_from_the_environment(
    checkout: Path,
    hub: GitHubGitServer,
    argv: Path,
    cli: CLI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(checkout)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "frames/modules")
    monkeypatch.setenv("GITHUB_API_URL", hub.url)
    monkeypatch.setenv("GITHUB_SERVER_URL", hub.url)
    monkeypatch.delenv("NOTION_TOKEN", raising=False)
    (checkout / "data" / "modules" / "b.json").write_text(json.dumps(module(module_id="b")))
    result = cli("propose")
    assert result.code == 0, result.err
    assert "b: opened" in result.out
    assert hub.state.branch_sha("notion/b") is not None
    nowhere_is_the_token(checkout, argv.read_text(), result.out, result.err)
