"""One branch per module, built with git plumbing so the working tree is never touched.

For module M, branch notion/M is the default branch plus exactly M's files
(data/modules/M.json and data/assets/M/). The commit is made in a temporary
index, so local changes of other modules stay where they are, and it is
pushed with --force-with-lease: a branch someone else moved is not
overwritten. A branch that already holds the same files is not pushed again.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.git import Git
from pipeline.layout import asset_dir, module_file

BRANCH_PREFIX = "notion/"
_BOT_NAME = "module-pipeline"
_BOT_EMAIL = "module-pipeline@users.noreply.github.com"


@dataclass(frozen=True, slots=True)
class Author:
    """Who the branch commits are by: PIPELINE_GIT_AUTHOR_NAME / _EMAIL, or the bot."""

    name: str = _BOT_NAME
    email: str = _BOT_EMAIL

    @classmethod
    def from_environment(cls) -> Author:
        return cls(
            os.environ.get("PIPELINE_GIT_AUTHOR_NAME") or _BOT_NAME,
            os.environ.get("PIPELINE_GIT_AUTHOR_EMAIL") or _BOT_EMAIL,
        )


def tree_of(git: Git, ref: str) -> str | None:
    out = git.run("rev-parse", "--verify", "--quiet", f"{ref}^{{tree}}", check=False)
    return out.strip() or None


def fetch(git: Git, default_branch: str) -> None:
    """The default branch and every notion/* branch, as the remote has them now."""
    git.run(
        "fetch",
        "--quiet",
        "--prune",
        git.remote,
        f"+refs/heads/{default_branch}:refs/remotes/{git.remote}/{default_branch}",
        f"+refs/heads/{BRANCH_PREFIX}*:refs/remotes/{git.remote}/{BRANCH_PREFIX}*",
    )


def remote_branches(git: Git) -> dict[str, str]:
    """module id -> commit of each notion/<module_id> branch on the remote."""
    out = git.run(
        "for-each-ref",
        "--format=%(refname:strip=3) %(objectname)",
        f"refs/remotes/{git.remote}/{BRANCH_PREFIX}",
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
