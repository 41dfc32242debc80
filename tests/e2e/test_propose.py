"""`pipeline propose`: real git to a bare repository, PyGithub to the local GitHub server."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.builders import git, module, remote_checkout
from tests.conftest import CLI
from tests.doubles.github_server import GITHUB_TOKEN, GitHubServer, GitHubState
from tests.doubles.github_server import serve as serve_github
from tests.doubles.notion_server import TOKEN, NotionServer, NotionState, point_cli_at
from tests.doubles.notion_server import serve as serve_notion


@dataclass
class World:
    work: Path
    bare: Path
    github: GitHubServer

    def write(self, data: dict[str, Any]) -> None:
        path = self.work / "data" / "modules" / f"{data['module_id']}.json"
        path.write_text(json.dumps(data, indent=2) + "\n")

    def branch_file(self, module_id: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            git(self.bare, "show", f"notion/{module_id}:data/modules/{module_id}.json")
        )
        return data

    def branch(self, module_id: str) -> str | None:
        return self.github.state.branch_sha(f"notion/{module_id}")


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    work, bare = remote_checkout(
        tmp_path, {"data/modules/base.json": json.dumps(module(module_id="base"), indent=2) + "\n"}
    )
    monkeypatch.chdir(work)
    for server in serve_github(GitHubState(bare=bare)):
        monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", "frames/modules")
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        monkeypatch.delenv("NOTION_TOKEN", raising=False)
        yield World(work, bare, server)


def revised(n: int, **extra: Any) -> dict[str, Any]:
    return module(**{"module_id": "lab", "title": "Lab", "metadata": {"revision": n}, **extra})


def test_new_same_changed_gone(world: World, cli: CLI) -> None:
    state = world.github.state
    world.write(revised(1))
    result = cli("propose")
    assert result.code == 0, result.err
    assert "lab: opened  https://github.com/frames/modules/pull/1" in result.out
    [pull] = state.pulls
    assert pull["title"] == "Module: Lab (rev 1)"
    assert pull["head"]["ref"] == "notion/lab" and pull["base"]["ref"] == "main"
    assert "| Revision | new module → 1 |" in pull["body"]
    assert {label["name"] for label in pull["labels"]} == {"module", "auto-export"}
    assert world.branch_file("lab")["title"] == "Lab"
    assert git(world.work, "status", "--porcelain") == "?? data/modules/lab.json"

    first_sha = world.branch("lab")
    result = cli("propose")
    assert "lab: unchanged" in result.out
    assert len(state.pulls) == 1
    assert world.branch("lab") == first_sha

    world.write(revised(2, title="Lab, revised"))
    result = cli("propose")
    assert "lab: updated" in result.out
    [pull] = state.pulls
    assert pull["title"] == "Module: Lab, revised (rev 2)"
    assert "| Revision | new module → 2 |" in pull["body"]  # compared with main
    assert world.branch_file("lab")["title"] == "Lab, revised"

    (world.work / "data" / "modules" / "lab.json").unlink()
    result = cli("propose")  # no export looked at the page: the PR stays
    assert "lab" not in result.out
    assert state.pulls[0]["state"] == "open"

    (world.work / ".pipeline").mkdir()
    (world.work / ".pipeline" / "last-export.json").write_text('{"checked": ["lab"]}')
    result = cli("propose")
    assert "lab: closed" in result.out
    assert state.pulls[0]["state"] == "closed"
    assert "no longer differs" in state.comments[0]["body"]
    assert world.branch("lab") is None


def test_two_modules_two_pull_requests(world: World, cli: CLI) -> None:
    world.write(revised(1))
    world.write(module(module_id="other", title="Other"))
    assert cli("propose").code == 0
    assert sorted(p["head"]["ref"] for p in world.github.state.pulls) == [
        "notion/lab",
        "notion/other",
    ]
    assert "other" not in json.dumps(world.branch_file("lab"))


def test_crash_after_push_is_finished_by_the_next_run(world: World, cli: CLI) -> None:
    state = world.github.state
    state.fail_create_once = 403
    world.write(revised(1))
    result = cli("propose")
    assert result.code == 4  # GitHub refused: a service failure
    assert "GitHub refused the pull request for notion/lab: HTTP 403" in result.err
    assert world.branch("lab") is not None and state.pulls == []
    pushed = world.branch("lab")

    result = cli("propose")
    assert result.code == 0
    assert "lab: opened" in result.out
    assert len(state.pulls) == 1
    assert world.branch("lab") == pushed, "the same files were pushed again"


def test_a_pull_request_that_already_exists_is_reused(world: World, cli: CLI) -> None:
    world.write(revised(1))
    cli("propose")
    state = world.github.state
    # The head=owner:branch lookup misses it (as after a rename), so creation answers
    # 422 "A pull request already exists"; the run must reuse that PR, not fail.
    state.pulls[0]["head"]["label"] = "renamed:notion/lab"
    world.write(revised(2))
    result = cli("propose")
    assert result.code == 0, result.err
    assert "lab: opened" in result.out
    assert len(state.pulls) == 1
    assert state.pulls[0]["title"] == "Module: Lab (rev 2)"
    assert state.hits["POST /repos/frames/modules/pulls"] == 2


@pytest.fixture
def notion(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotionServer]:
    """The Notion server, with NOTION_TOKEN set so propose writes the PR link back."""
    for server in serve_notion(NotionState()):
        point_cli_at(server, monkeypatch, world.work)
        yield server


def test_notion_row_gets_the_pull_request_link(
    world: World, notion: NotionServer, cli: CLI
) -> None:
    page = notion.state.add_page(
        {
            "GitHub Branch/PR": {"id": "g", "type": "url", "url": None},
            "Last Updated": {"id": "l", "type": "date", "date": None},
        },
        [],
    )
    world.write(revised(1, notion_page_id=page["id"]))
    before = datetime.now(UTC).replace(microsecond=0)
    result = cli("propose")
    assert result.code == 0, result.err
    props = notion.state.pages[page["id"]]["properties"]
    assert props["GitHub Branch/PR"]["url"] == "https://github.com/frames/modules/pull/1"
    stamp = datetime.fromisoformat(props["Last Updated"]["date"]["start"])
    assert before <= stamp <= datetime.now(UTC), stamp  # when the PR was opened, in UTC
    assert TOKEN not in result.out + result.err
    assert GITHUB_TOKEN not in result.out + result.err


def test_dry_run_pushes_and_opens_nothing(world: World, cli: CLI) -> None:
    world.write(revised(1))
    result = cli("propose", "--dry-run")
    assert "lab: would open" in result.out and "dry run" in result.out
    assert world.github.state.pulls == []
    assert world.branch("lab") is None


def test_missing_settings(world: World, cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    result = cli("propose")
    assert result.code == 2
    assert "GITHUB_TOKEN is not set" in result.err


def test_failed_notion_write_back_keeps_the_pull_request(
    world: World, notion: NotionServer, cli: CLI
) -> None:
    page = notion.state.add_page({}, [])  # a row without the PR link property
    world.write(revised(1, notion_page_id=page["id"]))
    result = cli("propose")
    assert result.code == 0, result.err
    assert "lab: opened" in result.out
    assert "the PR is open but Notion was not told" in result.out
    assert len(world.github.state.pulls) == 1


# -- one bad file is that module's problem, never the run's (issue #12, item 15) -----------


def on_main(world: World, *data: dict[str, Any]) -> None:
    """These modules committed and pushed to main, as merged before."""
    for one in data:
        world.write(one)
    git(world.work, "add", ".")
    git(world.work, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "m")
    git(world.work, "push", "-q", "origin", "main")


def test_files_whose_names_cannot_be_branches_are_skipped(world: World, cli: CLI) -> None:
    world.write(module(module_id="aaa", title="A"))
    world.write(module(module_id="zzz", title="Z"))
    modules = world.work / "data" / "modules"
    for stray in ("bad name?", "-x", "a~b^c:d", "x.lock", ".hidden"):
        (modules / f"{stray}.json").write_text("{}\n")
    assets = world.work / "data" / "assets" / "a..b"
    assets.mkdir(parents=True)
    (assets / "x.png").write_bytes(b"x")

    result = cli("propose")
    assert result.code == 0, result.err
    assert sorted(p["head"]["ref"] for p in world.github.state.pulls) == [
        "notion/aaa",
        "notion/zzz",
    ]
    for name in ("bad name?", "-x", "a~b^c:d", "x.lock", ".hidden", "a..b"):
        assert f"{name}: skipped" in result.out, result.out
    assert "data/modules/bad name?.json" in result.out
    assert "data/assets/a..b/x.png" in result.out
    heads = git(world.bare, "for-each-ref", "--format=%(refname)", "refs/heads/").split()
    assert heads == ["refs/heads/main", "refs/heads/notion/aaa", "refs/heads/notion/zzz"]


def test_symbolic_links_are_neither_followed_nor_committed(
    world: World, cli: CLI, tmp_path: Path
) -> None:
    on_main(world, revised(1))
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the repository\n")
    assets = world.work / "data" / "assets" / "lab"
    assets.mkdir(parents=True)
    (assets / "logo.png").symlink_to(secret)
    (assets / "same.json").symlink_to(world.work / "data" / "modules" / "lab.json")
    (assets / "folder").symlink_to(tmp_path, target_is_directory=True)
    (world.work / "data" / "modules" / "alias.json").symlink_to("lab.json")

    for _ in range(2):  # nothing but links changed: no PR, run after run
        result = cli("propose")
        assert result.code == 0, result.err
        assert world.github.state.pulls == []
        assert world.branch("lab") is None and world.branch("alias") is None
        for link in ("logo.png", "same.json", "folder"):
            assert f"data/assets/lab/{link} is a symbolic link" in result.out, result.out
        assert "data/modules/alias.json is a symbolic link" in result.out

    (assets / "real.png").write_bytes(b"png")  # a real change beside the links
    result = cli("propose")
    assert result.code == 0, result.err
    [pull] = world.github.state.pulls
    assert "data/assets/lab/logo.png is a symbolic link" in pull["body"]
    files = git(world.bare, "ls-tree", "-r", "--name-only", "notion/lab").splitlines()
    assert "data/assets/lab/real.png" in files
    assert not [f for f in files if "logo" in f or "same" in f or "folder" in f or "alias" in f]
    assert "not for the repository" not in git(world.bare, "log", "-p", "notion/lab")


# -- a module file propose cannot read, or whose values are odd: still proposed, as it is -----


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[1, 2, 3]",
        b"",
        "\ufeff{}".encode(),  # a byte order mark
        b'{"module_id": "lab", "title": "\\ud800"}',  # a lone surrogate
        b'{"module_id": "lab", "title": "caf\xe9"}',  # Latin-1, not UTF-8
        b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}",  # deeper than any JSON reader goes
    ],
    ids=["not-json", "array", "empty", "bom", "surrogate", "latin-1", "deep"],
)
def test_a_file_propose_cannot_read_is_proposed_as_unreadable(
    world: World, cli: CLI, content: bytes
) -> None:
    on_main(world, revised(1))
    (world.work / "data" / "modules" / "lab.json").write_bytes(content)
    result = cli("propose")
    assert result.code == 0, result.err
    [pull] = world.github.state.pulls
    assert pull["title"] == "Module: Lab (file cannot be read)"
    assert "`data/modules/lab.json` is on this branch, but propose cannot read it" in pull["body"]
    assert "removes" not in pull["body"]
    assert "❌ `pipeline validate` reports:" in pull["body"]
    on_branch = ["git", "show", "notion/lab:data/modules/lab.json"]
    shown = subprocess.run(on_branch, cwd=world.bare, capture_output=True, check=True)
    assert shown.stdout == content


def test_odd_values_and_control_characters_are_proposed(world: World, cli: CLI) -> None:
    world.write(revised(1, title="Lab\u0000 one\u0007", metadata="x"))
    result = cli("propose")
    assert result.code == 0, result.err
    [pull] = world.github.state.pulls
    assert pull["title"] == "Module: Lab one (rev 1)"
    assert git(world.bare, "log", "-1", "--format=%s", "notion/lab") == pull["title"]
    assert "❌ `pipeline validate` reports:" in pull["body"]


def test_a_file_on_the_default_branch_that_is_not_utf8(world: World, cli: CLI) -> None:
    """git's output is bytes: a Latin-1 file on main is a file propose cannot read, and the
    module proposed over it is compared with nothing."""
    (world.work / "data" / "modules" / "lab.json").write_bytes(b'{"title": "caf\xe9"}')
    on_main(world)
    world.write(revised(2))
    result = cli("propose")
    assert result.code == 0, result.err
    [pull] = world.github.state.pulls
    assert pull["title"] == "Module: Lab (rev 2)"
    assert "| Revision | new module → 2 |" in pull["body"]
