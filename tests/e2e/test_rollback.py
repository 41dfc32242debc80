"""`pipeline rollback` (issue #16, item 2): a pull request on the local GitHub server that
restores a module's files from a commit, through real git and PyGithub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.builders import git, module
from tests.conftest import CLI
from tests.doubles.github_server import GITHUB_TOKEN, GitHubServer, GitHubState
from tests.doubles.github_server import serve as serve_github


@dataclass
class History:
    work: Path
    bare: Path
    github: GitHubServer
    commits: dict[int, str]  # revision -> the commit that merged it

    def on_branch(self, path: str, branch: str = "rollback/lab") -> str:
        return git(self.bare, "show", f"{branch}:{path}")


def lab(revision: int, text: str) -> dict[str, Any]:
    data = module(module_id="lab", title=f"Lab ({text})", metadata={"revision": revision})
    data["sections"][0]["content"] = f"![plan](data/assets/lab/plan-{revision}.png)"
    return data


def commit(work: Path, message: str) -> str:
    git(work, "add", "-A")
    git(work, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", message)
    return git(work, "rev-parse", "HEAD")


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[History]:
    """main: lab at revisions 1, 2 (each with its own image) then a broken 3; another
    module beside it."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(bare), str(work))
    modules, assets = work / "data" / "modules", work / "data" / "assets" / "lab"
    modules.mkdir(parents=True)
    assets.mkdir(parents=True)
    (modules / "other.json").write_text(json.dumps(module(module_id="other"), indent=2))
    commits = {}
    for revision, text in ((1, "first"), (2, "good"), (3, "broken")):
        for old in assets.iterdir():
            old.unlink()
        (assets / f"plan-{revision}.png").write_bytes(b"png %d" % revision)
        (modules / "lab.json").write_text(json.dumps(lab(revision, text), indent=2) + "\n")
        commits[revision] = commit(work, f"lab rev {revision}")
    git(work, "push", "-q", "origin", "main")
    monkeypatch.chdir(work)
    for server in serve_github(GitHubState(bare=bare)):
        monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", "frames/modules")
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        yield History(work, bare, server, commits)


def test_rollback_opens_the_right_pull_request(history: History, cli: CLI) -> None:
    (history.work / "data" / "modules" / "other.json").write_text("local edits stay local")
    result = cli("rollback", "lab", "--to", "2", "--json")
    assert result.code == 0, result.err
    payload = json.loads(result.out)
    assert payload["action"] == "opened" and payload["commit"] == history.commits[2]
    [pull] = history.github.state.pulls
    assert pull["head"]["ref"] == "rollback/lab" and pull["base"]["ref"] == "main"
    assert pull["title"] == f"Rollback: Lab (good) to rev 2 ({history.commits[2][:7]})"
    assert [label["name"] for label in pull["labels"]] == ["module", "rollback"]
    assert "| Revision | 3 → 2 |" in pull["body"] and history.commits[2] in pull["body"]
    # The branch is main plus exactly the module's files from that commit.
    restored = json.loads(history.on_branch("data/modules/lab.json"))
    assert restored == lab(2, "good")
    files = git(history.bare, "ls-tree", "-r", "--name-only", "rollback/lab").split()
    assert files == [
        "data/assets/lab/plan-2.png",
        "data/modules/lab.json",
        "data/modules/other.json",
    ]
    assert history.on_branch("data/modules/other.json") == git(
        history.bare, "show", "main:data/modules/other.json"
    )
    assert git(history.bare, "rev-parse", "rollback/lab^") == history.commits[3]
    assert (history.work / "data" / "assets" / "lab" / "plan-3.png").exists()  # untouched

    again = cli("rollback", "lab", "--to", history.commits[2][:10], "--json")
    assert json.loads(again.out)["action"] == "unchanged"
    assert len(history.github.state.pulls) == 1

    other = cli("rollback", "lab", "--to", "1")
    assert other.code == 0 and "updated on rollback/lab" in other.out
    assert len(history.github.state.pulls) == 1
    assert json.loads(history.on_branch("data/modules/lab.json")) == lab(1, "first")


def test_rollback_to_what_main_has_opens_nothing(history: History, cli: CLI) -> None:
    result = cli("rollback", "lab", "--to", "3")
    assert result.code == 0 and "already has its files" in result.out
    assert history.github.state.pulls == []


def test_rollback_says_what_it_cannot_find(history: History, cli: CLI) -> None:
    missing = cli("rollback", "lab", "--to", "7")
    assert missing.code == 2
    assert "no commit of origin/main has revision 7 of data/modules/lab.json" in missing.err
    assert "its revisions there: 1, 2, 3" in missing.err
    unknown = cli("rollback", "lab", "--to", "deadbeefdeadbeef")
    assert unknown.code == 2 and "neither a revision number nor a commit" in unknown.err
    before = cli("rollback", "other", "--to", history.commits[1])
    assert before.code == 0  # other existed at revision 1's commit: nothing differs
    absent = cli("rollback", "nope", "--to", history.commits[1])
    assert absent.code == 2 and "data/modules/nope.json does not exist at commit" in absent.err
    dry = cli("rollback", "lab", "--to", "1", "--dry-run")
    assert dry.code == 0 and "dry run: nothing pushed or opened" in dry.out
    assert history.github.state.pulls == []
    assert history.github.state.branch_sha("rollback/lab") is None


def test_a_title_with_control_characters_makes_a_commit_and_a_title(
    history: History, cli: CLI
) -> None:
    """No command line carries a NUL: the commit message (git's argv) and the title leave
    control characters out, whatever the restored file's title holds."""
    modules = history.work / "data" / "modules"
    odd = lab(4, "odd")
    odd["title"] = "Lab\u0000 odd\u0007\u001b[31m"
    (modules / "lab.json").write_text(json.dumps(odd) + "\n")
    sha = commit(history.work, "an odd title")
    (modules / "lab.json").write_text(json.dumps(lab(5, "fixed")) + "\n")
    commit(history.work, "fixed")
    git(history.work, "push", "-q", "origin", "main")

    result = cli("rollback", "lab", "--to", "4")
    assert result.code == 0, result.err
    [pull] = history.github.state.pulls
    assert pull["title"] == f"Rollback: Lab odd [31m to rev 4 ({sha[:7]})"
    assert git(history.bare, "log", "-1", "--format=%s", "rollback/lab") == pull["title"]


def test_a_commit_whose_file_cannot_be_read_is_refused(history: History, cli: CLI) -> None:
    (history.work / "data" / "modules" / "lab.json").write_bytes(b'{"title": "caf\xe9"}')
    sha = commit(history.work, "Latin-1")
    result = cli("rollback", "lab", "--to", sha)
    assert result.code == 2, result.err
    assert (
        f"data/modules/lab.json cannot be read as a module (a JSON object) at commit {sha[:12]}"
        in result.err
    )
