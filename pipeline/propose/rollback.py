"""`pipeline rollback MODULE --to REV|SHA`: a pull request that restores a module's files as
they were at a commit, the GitOps way: reviewed, merged and deployed like any change, so
Git and the database never disagree.

The files are the module's own, as `propose` carries them: data/modules/<id>.json and
everything under data/assets/<id>/. The branch, rollback/<id>, is the default branch
plus exactly those files from the chosen commit (a file the module did not have then
is removed), built with git plumbing in a temporary index: the working tree is never
touched. It is pushed with --force-with-lease and the pull request is found before one
is created, so running the same rollback twice never opens a second one.

`--to` is a commit (any form git knows: a SHA, a tag) or a revision: the module file's
`metadata.revision`, as pull request titles show it ("rev 3"); the newest commit of
the default branch whose file has that revision is taken. A symbolic link in that
commit is not restored (propose never commits one); it is named in the pull request.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pipeline.errors import UsageError
from pipeline.files import json_object
from pipeline.git import Git
from pipeline.layout import asset_dir, module_file
from pipeline.propose import pr_body
from pipeline.propose.branches import Author, branch_problem, tree_of
from pipeline.propose.github_api import GitHubRepo

BRANCH_PREFIX = "rollback/"
LABELS = ("module", "rollback")
_REVISION = re.compile(r"^\d{1,6}$")  # longer runs of digits are (abbreviated) SHAs
RollbackAction = Literal["opened", "updated", "unchanged", "nothing-to-restore"]


@dataclass
class RollbackResult:
    module_id: str
    commit: str  # the commit the files come from
    revision: int | None  # their metadata.revision there
    action: RollbackAction
    branch: str
    url: str = ""
    notes: list[str] = field(default_factory=list)


def rollback(root: Path, module_id: str, to: str, *, dry_run: bool = False) -> RollbackResult:
    """`pipeline rollback` in the checkout at `root`, configured from the environment as
    `propose` is (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_SERVER_URL)."""
    return Rollbacker(
        Git.for_github(root), GitHubRepo.from_environment(), author=Author.from_environment()
    ).run(module_id, to, dry_run=dry_run)


class Rollbacker:
    def __init__(self, git: Git, repo: GitHubRepo, *, author: Author | None = None) -> None:
        self.git, self.repo = git, repo
        self.author = author or Author()

    def run(self, module_id: str, to: str, *, dry_run: bool = False) -> RollbackResult:
        problem = branch_problem(module_id)
        if problem is not None:
            raise UsageError(f"{module_id!r} cannot be part of a branch name ({problem})")
        default = self.repo.default_branch
        branch = f"{BRANCH_PREFIX}{module_id}"
        remote = self.git.remote
        self.git.run(
            "fetch",
            "--quiet",
            *(("--unshallow",) if self._shallow() else ()),
            remote,
            f"+refs/heads/{default}:refs/remotes/{remote}/{default}",
            f"+refs/heads/{BRANCH_PREFIX}*:refs/remotes/{remote}/{BRANCH_PREFIX}*",
        )
        base = f"{remote}/{default}"
        commit = self._commit(module_id, to, base)
        restored = self._file(commit, module_id)
        assert restored is not None  # _commit found the file there
        current = self._file(base, module_id)
        result = RollbackResult(module_id, commit, pr_body.revision(restored), "unchanged", branch)
        tree, new = self._build(base, commit, module_id, restored, result)
        if tree == tree_of(self.git, base):
            result.action = "nothing-to-restore"
            return result
        remote_sha = self._remote_sha(branch)
        pushed = remote_sha is None or tree_of(self.git, remote_sha) != tree
        title = _title(module_id, restored, result)
        notes = [
            f"Restores {module_file(module_id)} and {asset_dir(module_id)}/ as they were at "
            f"commit {commit} (revision {result.revision}). Merging it deploys that content "
            "again (the database revision moves forward).",
            *result.notes,
        ]
        text = pr_body.body(current, restored, validation=[], notes=notes)
        if dry_run:
            result.action = "updated" if pushed else "unchanged"
            return result
        if pushed:
            lease = f"--force-with-lease=refs/heads/{branch}:{remote_sha or ''}"
            self.git.run("push", "--quiet", lease, remote, f"{new}:refs/heads/{branch}")
        pull = self.repo.find_open(branch)
        if pull is None:
            pull = self.repo.create(branch, title, text)
            result.action = "opened"
        elif pushed or pull.title != title or pull.body != text:
            self.repo.update(pull.number, title, text)
            result.action = "updated"
        result.url = pull.url
        if result.action != "unchanged":
            self.repo.label(pull.number, LABELS)
        return result

    def _shallow(self) -> bool:
        return self.git.run("rev-parse", "--is-shallow-repository").strip() == "true"

    def _commit(self, module_id: str, to: str, base: str) -> str:
        """The full SHA of the commit `to` names, or of the newest commit of `base` whose
        module file has revision `to`."""
        to = to.strip()
        path = module_file(module_id)
        if _REVISION.match(to):
            wanted, seen = int(to), []
            for sha in self.git.run("log", "--format=%H", base, "--", path).split():
                revision = pr_body.revision(self._file(sha, module_id))
                if revision == wanted:
                    return sha
                seen.append(revision)
            found = ", ".join(str(r) for r in sorted({r for r in seen if r is not None}))
            raise UsageError(
                f"no commit of {base} has revision {wanted} of {path}"
                + (f"; its revisions there: {found}" if found else "; it has no history there")
                + ". Give a revision from those, or a commit SHA"
            )
        if to.startswith("-"):
            raise UsageError(f"--to {to!r} is neither a revision nor a commit")
        sha = self.git.run("rev-parse", "--verify", "--quiet", f"{to}^{{commit}}", check=False)
        if not sha.strip():
            raise UsageError(
                f"--to {to!r} is neither a revision number nor a commit this clone knows; "
                "check the SHA (git log -- " + path + ") or fetch it first"
            )
        sha = sha.strip()
        shown = self._shown(sha, module_id)
        if json_object(shown) is None:
            what = "cannot be read as a module (a JSON object)" if shown else "does not exist"
            raise UsageError(
                f"{path} {what} at commit {sha[:12]}; pick a commit that has it (git log -- {path})"
            )
        return sha

    def _shown(self, ref: str, module_id: str) -> str:
        """The module file's text at `ref`; empty when it is not there."""
        return self.git.run("show", f"{ref}:{module_file(module_id)}", check=False)

    def _file(self, ref: str, module_id: str) -> dict[str, object] | None:
        return json_object(self._shown(ref, module_id))

    def _remote_sha(self, branch: str) -> str | None:
        ref = f"refs/remotes/{self.git.remote}/{branch}"
        sha = self.git.run("rev-parse", "--verify", "--quiet", ref, check=False).strip()
        return sha or None

    def _build(
        self,
        base: str,
        commit: str,
        module_id: str,
        restored: dict[str, object] | None,
        result: RollbackResult,
    ) -> tuple[str, str]:
        """(tree, commit): `base` with the module's files exactly as at `commit`."""
        paths = (module_file(module_id), f"{asset_dir(module_id)}/")
        entries = []
        for entry in self.git.run("ls-tree", "-r", "-z", commit, "--", *paths).split("\0"):
            meta, _, path = entry.partition("\t")
            if not entry:
                continue
            mode, _kind, sha = meta.split()
            if mode == "120000":
                result.notes.append(
                    f"{path} was a symbolic link at that commit: not restored (the pipeline "
                    "never commits links); put the file itself there if it is needed"
                )
                continue
            entries.append(f"{mode},{sha},{path}")
        with tempfile.TemporaryDirectory() as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            self.git.run("read-tree", base, env=env)
            self.git.run(
                "rm", "--cached", "--quiet", "-r", "--ignore-unmatch", "--", *paths, env=env
            )
            for start in range(0, len(entries), 500):  # keep each command line short
                chunk = entries[start : start + 500]
                cacheinfo = [arg for e in chunk for arg in ("--cacheinfo", e)]
                self.git.run("update-index", "--add", *cacheinfo, env=env)
            tree = self.git.run("write-tree", env=env).strip()
        message = _title(module_id, restored, result)
        return tree, self.author.commit(self.git, tree, base, message)


def _title(module_id: str, restored: dict[str, object] | None, result: RollbackResult) -> str:
    name = pr_body.plain((restored or {}).get("title") or module_id)
    revision = f"rev {result.revision}" if result.revision is not None else "that commit"
    return f"Rollback: {name} to {revision} ({result.commit[:7]})"
