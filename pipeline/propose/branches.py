"""One branch per module, built with git plumbing so the working tree is never touched.

For module M, branch notion/M is the default branch plus exactly M's files
(data/modules/M.json and data/assets/M/). The commit is made in a temporary
index, so local changes of other modules stay where they are, and it is
pushed with --force-with-lease: a branch someone else moved is not
overwritten. A branch that already holds the same files is not pushed again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.layout import asset_dir, module_file

BRANCH_PREFIX = "notion/"


class GitError(UsageError):
    """git failed; the message has git's own words (no credentials: remotes are not shown)."""


@dataclass(frozen=True, slots=True)
class Author:
    name: str = "module-pipeline"
    email: str = "module-pipeline@users.noreply.github.com"


class Git:
    def __init__(self, root: Path, remote: str = "origin") -> None:
        executable = shutil.which("git")
        if executable is None:
            raise UsageError("git is not installed or not on PATH")
        self.git, self.root, self.remote = executable, root, remote

    def run(self, *args: str, env: Mapping[str, str] | None = None, check: bool = True) -> str:
        done = subprocess.run(
            [self.git, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            check=False,
            timeout=300,
        )
        if check and done.returncode != 0:
            raise GitError(f"git {args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def tree_of(self, ref: str) -> str | None:
        out = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{tree}}", check=False)
        return out.strip() or None

    def fetch(self, default_branch: str) -> None:
        self.run(
            "fetch",
            "--quiet",
            "--prune",
            self.remote,
            f"+refs/heads/{default_branch}:refs/remotes/{self.remote}/{default_branch}",
            f"+refs/heads/{BRANCH_PREFIX}*:refs/remotes/{self.remote}/{BRANCH_PREFIX}*",
        )

    def remote_branches(self) -> dict[str, str]:
        """module id -> commit of each notion/<module_id> branch on the remote."""
        out = self.run(
            "for-each-ref",
            "--format=%(refname:strip=3) %(objectname)",
            f"refs/remotes/{self.remote}/{BRANCH_PREFIX}",
        )
        found = {}
        for line in out.splitlines():
            name, _, sha = line.partition(" ")
            found[name[len(BRANCH_PREFIX) :]] = sha
        return found


def module_paths(root: Path, module_id: str) -> list[str]:
    """The repo paths that belong to a module, as they are in the working tree."""
    paths = [module_file(module_id)]
    assets = root / asset_dir(module_id)
    if assets.is_dir():
        paths += sorted(p.relative_to(root).as_posix() for p in assets.rglob("*") if p.is_file())
    return [p for p in paths if (root / p).is_file()]


def build_commit(
    git: Git, base: str, module_id: str, message: str, author: Author = Author()
) -> tuple[str, str]:
    """(tree, commit): `base` plus the module's files exactly as in the working tree."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {"GIT_INDEX_FILE": os.path.join(scratch, "index")}
        git.run("read-tree", base, env=env)
        listed = git.run(
            "ls-files",
            "-z",
            "--",
            module_file(module_id),
            f"{asset_dir(module_id)}/",
            env=env,
        ).split("\0")
        stale = [p for p in listed if p and not (git.root / p).is_file()]
        if stale:  # files of the module that are gone: a removed module or old assets
            git.run("rm", "--cached", "--quiet", "--", *stale, env=env)
        paths = module_paths(git.root, module_id)
        if paths:
            git.run("update-index", "--add", "--", *paths, env=env)
        tree = git.run("write-tree", env=env).strip()
    identity = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": author.name,
        "GIT_COMMITTER_EMAIL": author.email,
    }
    commit = git.run("commit-tree", tree, "-p", base, "-m", message, env=identity).strip()
    return tree, commit


def push_branch(git: Git, module_id: str, commit: str, expected: str | None) -> None:
    """Point notion/<module_id> at `commit`, unless someone else moved it meanwhile."""
    ref = f"refs/heads/{BRANCH_PREFIX}{module_id}"
    lease = f"--force-with-lease={ref}:{expected or ''}"
    git.run("push", "--quiet", lease, git.remote, f"{commit}:{ref}")


def delete_branch(git: Git, module_id: str, expected: str) -> None:
    ref = f"refs/heads/{BRANCH_PREFIX}{module_id}"
    git.run("push", "--quiet", f"--force-with-lease={ref}:{expected}", git.remote, f":{ref}")
