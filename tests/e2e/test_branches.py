"""One branch per module with real git: a bare repository as the remote."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pipeline.errors import ServiceError
from pipeline.git import Git
from pipeline.propose.branches import (
    branch_problem,
    build_commit,
    fetch,
    module_links,
    module_paths,
    push_branch,
    remote_branches,
    tree_of,
)
from tests.builders import git


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    (work / "data" / "modules").mkdir(parents=True)
    (work / "data" / "modules" / "a.json").write_text('{"v": 1}\n')
    (work / "data" / "modules" / "b.json").write_text('{"v": 1}\n')
    (work / "data" / "assets" / "a").mkdir(parents=True)
    (work / "data" / "assets" / "a" / "old.png").write_bytes(b"old")
    git(work, "add", ".")
    git(work, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "base")
    git(work, "push", "-q", "origin", "main")
    return work


def test_commit_has_only_the_module_and_leaves_the_work_tree_alone(clone: Path) -> None:
    (clone / "data" / "modules" / "a.json").write_text('{"v": 2}\n')
    (clone / "data" / "modules" / "b.json").write_text('{"v": 2}\n')  # another module's edit
    (clone / "data" / "assets" / "a" / "old.png").unlink()
    (clone / "data" / "assets" / "a" / "new.png").write_bytes(b"new")
    status_before = git(clone, "status", "--porcelain")

    repo = Git(clone)
    fetch(repo, "main")
    _tree, commit = build_commit(repo, "origin/main", "a", "Module a")
    push_branch(repo, "a", commit, None)

    assert git(clone, "status", "--porcelain") == status_before
    files = git(clone, "ls-tree", "-r", "--name-only", commit).splitlines()
    assert files == ["data/assets/a/new.png", "data/modules/a.json", "data/modules/b.json"]
    assert git(clone, "show", f"{commit}:data/modules/a.json") == '{"v": 2}'
    assert git(clone, "show", f"{commit}:data/modules/b.json") == '{"v": 1}'
    assert git(clone, "log", "-1", "--format=%an <%ae>", commit) == (
        "module-pipeline <module-pipeline@users.noreply.github.com>"
    )
    fetch(repo, "main")
    assert remote_branches(repo) == {"a": commit}


def _changed_a(clone: Path) -> Git:
    """The clone with module a edited and main fetched."""
    (clone / "data" / "modules" / "a.json").write_text('{"v": 2}\n')
    repo = Git(clone)
    fetch(repo, "main")
    return repo


def test_same_files_give_the_same_tree(clone: Path) -> None:
    repo = _changed_a(clone)
    first_tree, first = build_commit(repo, "origin/main", "a", "Module a")
    push_branch(repo, "a", first, None)
    fetch(repo, "main")
    second_tree, _ = build_commit(repo, "origin/main", "a", "Module a")
    assert second_tree == first_tree == tree_of(repo, "origin/notion/a")


def test_a_branch_moved_by_someone_else_is_not_overwritten(clone: Path) -> None:
    repo = _changed_a(clone)
    _, first = build_commit(repo, "origin/main", "a", "Module a")
    push_branch(repo, "a", first, None)
    _, second = build_commit(repo, "origin/main", "a", "Module a again")
    with pytest.raises(ServiceError, match="git push was refused"):
        push_branch(repo, "a", second, "0" * 40)  # we think it is somewhere else
    fetch(repo, "main")
    assert remote_branches(repo)["a"] == first
    push_branch(repo, "a", second, first)  # with the right lease it updates in place
    fetch(repo, "main")
    assert remote_branches(repo)["a"] == second


def test_module_paths(clone: Path) -> None:
    assert module_paths(clone, "a") == ["data/modules/a.json", "data/assets/a/old.png"]
    assert module_paths(clone, "missing") == []


def test_removed_module_file_is_removed_on_the_branch(clone: Path) -> None:
    (clone / "data" / "modules" / "b.json").unlink()
    repo = Git(clone)
    fetch(repo, "main")
    _, commit = build_commit(repo, "origin/main", "b", "Remove b")
    files = git(clone, "ls-tree", "-r", "--name-only", commit).splitlines()
    assert "data/modules/b.json" not in files
    assert json.loads(git(clone, "show", f"{commit}:data/modules/a.json")) == {"v": 1}


# -- names and links: what a branch can carry (issue #12, item 15) --------------------------

NAMES = [
    "lab",
    "Lab_2",
    "läb",
    "a.b",
    "bad name?",
    "a..b",
    "a~b",
    "a^b",
    "a:b",
    "a*b",
    "a[b",
    "a\\b",
    "tab\tx",
    "a@{b",
    ".x",
    "x.",
    "x.lock",
    "a/b",
    "-x",
    "",
]


@pytest.mark.parametrize("name", NAMES)
def test_branch_names_follow_git(clone: Path, name: str) -> None:
    """Our rule agrees with git check-ref-format for one component of a branch name, and
    refuses a leading '-' besides (git would read it as an option)."""
    refused = subprocess.run(
        ["git", "check-ref-format", f"refs/heads/notion/{name}"], check=False
    ).returncode
    problem = branch_problem(name)
    fine = refused == 0 and not name.startswith("-") and "/" not in name
    assert (problem is None) == fine, problem
    assert problem is None or problem


def test_links_are_not_committed_and_what_they_replace_stays(clone: Path) -> None:
    assets = clone / "data" / "assets" / "a"
    (assets / "new.png").write_bytes(b"new")
    (assets / "link.png").symlink_to("/etc/hostname")
    (assets / "old.png").unlink()
    (assets / "old.png").symlink_to("new.png")  # a link where main has a file
    (assets / "folder").symlink_to(clone, target_is_directory=True)
    assert module_paths(clone, "a") == ["data/modules/a.json", "data/assets/a/new.png"]
    assert module_links(clone, "a") == [
        "data/assets/a/folder",
        "data/assets/a/link.png",
        "data/assets/a/old.png",
    ]
    repo = Git(clone)
    fetch(repo, "main")
    _, commit = build_commit(repo, "origin/main", "a", "Module a")
    files = git(clone, "ls-tree", "-r", "--name-only", commit).splitlines()
    assert files == [
        "data/assets/a/new.png",
        "data/assets/a/old.png",
        "data/modules/a.json",
        "data/modules/b.json",
    ]
    assert git(clone, "show", f"{commit}:data/assets/a/old.png") == "old"
