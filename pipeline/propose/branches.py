"""One branch per module, built with git plumbing so the working tree is never touched.

For module M, branch notion/M is the default branch plus exactly M's files
(data/modules/M.json and data/assets/M/). The commit is made in a temporary
index, so local changes of other modules stay where they are, and it is
pushed with --force-with-lease: a branch someone else moved is not
overwritten. A branch that already holds the same files is not pushed again.

Only regular files are carried. A symbolic link is never followed (it may point
anywhere on the machine) nor committed: its path stays as the default branch has
it, and `module_links` lists it for the report. A module id that cannot be part
of a branch name (`branch_problem`) gets no branch at all.
"""

from __future__ import annotations

import os
import re
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

    def commit(self, git: Git, tree: str, parent: str, message: str) -> str:
        """A commit of `tree` on `parent`, authored and committed by this author (git
        plumbing: no working tree, no index, no user configuration needed)."""
        identity = {
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": self.email,
        }
        return git.run("commit-tree", tree, "-p", parent, "-m", message, env=identity).strip()


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


# git check-ref-format's rules for one component of a ref name, and no leading "-" (an
# option to git); each entry: the pattern and how a team lead would say it.
_NOT_IN_BRANCHES = (
    (re.compile(r"^$"), "it is empty"),
    (re.compile(r"^-"), "it starts with '-'"),
    (re.compile(r"^\."), "it starts with '.'"),
    (re.compile(r"\.$"), "it ends with '.'"),
    (re.compile(r"\.lock$"), "it ends with '.lock'"),
    (re.compile(r"\.\."), "it has '..'"),
    (re.compile(r"@\{"), "it has '@{'"),
    (re.compile(r"[\x00-\x1f\x7f]"), "it has a control character"),
    (re.compile(r" "), "it has a space"),
)
_NOT_IN_BRANCH_NAMES = "~^:?*[\\/"


def branch_problem(module_id: str) -> str | None:
    """Why notion/<module_id> cannot be a branch, in words; None when it can."""
    found = [words for pattern, words in _NOT_IN_BRANCHES if pattern.search(module_id)]
    chars = sorted({c for c in module_id if c in _NOT_IN_BRANCH_NAMES})
    if chars:
        found.append("it has " + " ".join(f"'{c}'" for c in chars))
    return "; ".join(found) or None


def walk(root: Path, folder: str) -> tuple[list[str], list[str]]:
    """(regular files, symbolic links) under the repo path `folder`, sorted; a link to a
    folder is listed, never entered."""
    start = root / folder
    if start.is_symlink():
        return [], [folder]
    files: list[str] = []
    links: list[str] = []
    for here, folders, names in os.walk(start):  # lists links to folders, never enters them
        for name in folders:
            if Path(here, name).is_symlink():
                links.append(Path(here, name).relative_to(root).as_posix())
        for name in names:
            path = Path(here, name)
            if path.is_symlink():
                links.append(path.relative_to(root).as_posix())
            elif path.is_file():  # not a FIFO or a socket, which a read would hang on
                files.append(path.relative_to(root).as_posix())
    return sorted(files), sorted(links)


def module_paths(root: Path, module_id: str) -> list[str]:
    """The repo paths of a module's regular files, as they are in the working tree."""
    path = root / module_file(module_id)
    own = [module_file(module_id)] if path.is_file() and not path.is_symlink() else []
    return own + walk(root, asset_dir(module_id))[0]


def module_links(root: Path, module_id: str) -> list[str]:
    """The symbolic links among a module's paths: never followed, never committed."""
    own = [module_file(module_id)] if (root / module_file(module_id)).is_symlink() else []
    return sorted(own + walk(root, asset_dir(module_id))[1])


def _under(path: str, links: list[str]) -> bool:
    return any(path == link or path.startswith(link + "/") for link in links)


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
        paths = module_paths(git.root, module_id)
        links = module_links(git.root, module_id)
        # Files of the module that are gone (a removed module, old assets); a path
        # behind a symbolic link stays as the base has it.
        kept = set(paths)
        stale = [p for p in listed if p and p not in kept and not _under(p, links)]
        if stale:
            git.run("rm", "--cached", "--quiet", "--", *stale, env=env)
        if paths:
            git.run("update-index", "--add", "--", *paths, env=env)
        tree = git.run("write-tree", env=env).strip()
    return tree, author.commit(git, tree, base, message)


@dataclass(frozen=True, slots=True)
class TreeChange:
    """A path whose blob differs between two trees: its new mode and blob id (None: the
    path is gone)."""

    path: str
    mode: str | None
    blob: str | None


def tree_changes(git: Git, base: str, tree: str) -> list[TreeChange]:
    """What `tree` changes against `base` (a commit or tree), path by path."""
    fields = git.run("diff-tree", "-r", "-z", "--no-renames", base, tree).split("\0")
    changes = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        _, new_mode, _, new_blob, status = meta.lstrip(":").split(" ")
        gone = status == "D"
        changes.append(TreeChange(path, None if gone else new_mode, None if gone else new_blob))
    return changes


def push_branch(git: Git, module_id: str, commit: str, expected: str | None) -> None:
    """Point notion/<module_id> at `commit`, unless someone else moved it meanwhile."""
    ref = f"refs/heads/{BRANCH_PREFIX}{module_id}"
    lease = f"--force-with-lease={ref}:{expected or ''}"
    git.run("push", "--quiet", lease, git.remote, f"{commit}:{ref}")


def delete_branch(git: Git, module_id: str, expected: str) -> None:
    ref = f"refs/heads/{BRANCH_PREFIX}{module_id}"
    git.run("push", "--quiet", f"--force-with-lease={ref}:{expected}", git.remote, f":{ref}")
