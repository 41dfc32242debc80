"""git, the one place the pipeline runs it: for blob ids (validate, deploy), the commit
being deployed, and the branches `propose` builds and pushes.

A failed command raises ours: git missing or a local command refused is a usage
problem (exit 2; run from the repository); a fetch or push the remote refused or
could not take (a moved branch, no network) is a service failure (exit 4; rerun).
Remotes are never shown in messages, and any credentials in git's own words are
redacted.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from pipeline.errors import ServiceError, UsageError, redact

_REMOTE_COMMANDS = frozenset({"fetch", "push", "pull", "ls-remote", "clone"})


def blob_id(raw: bytes) -> str:
    """What `git hash-object` prints for these bytes."""
    return hashlib.sha1(b"blob %d\0" % len(raw) + raw, usedforsecurity=False).hexdigest()


class Git:
    """git commands in one checkout."""

    def __init__(self, root: Path, remote: str = "origin") -> None:
        executable = shutil.which("git")
        if executable is None:
            raise UsageError("git is not installed or not on PATH")
        self.git, self.root, self.remote = executable, root, remote

    def run(self, *args: str, env: Mapping[str, str] | None = None, check: bool = True) -> str:
        try:
            done = subprocess.run(
                [self.git, *args],
                cwd=self.root,
                capture_output=True,
                text=True,
                env={**os.environ, **(env or {})},
                check=False,
                timeout=300,
            )
        except subprocess.TimeoutExpired:
            raise ServiceError("git", f"git {args[0]} took longer than 5 minutes") from None
        if check and done.returncode != 0:
            words = _words(done.stderr or done.stdout)
            if args[0] in _REMOTE_COMMANDS:
                raise ServiceError("git", f"git {args[0]} was refused or failed: {words}")
            raise UsageError(f"git {args[0]} failed in {self.root}: {words}")
        return done.stdout


def _words(output: str) -> str:
    """git's own explanation on one line: without hints or the remote's address, and
    with any credentials redacted."""
    lines = [line.strip() for line in output.splitlines()]
    kept = [
        line.removeprefix("error: ").removeprefix("fatal: ")
        for line in lines
        if line and not line.startswith(("hint:", "To "))
    ]
    return redact("; ".join(kept)) or "no message"


def known_blob_ids(directory: Path) -> dict[str, str]:
    """{file name: blob id} for files in `directory` whose working copy matches the index.

    A file whose working copy differs from the index is left out (the caller reads
    and hashes it). Outside git, or without git, nothing is known.
    """
    if not directory.is_dir():
        return {}
    try:
        git = Git(directory)
        listed = git.run("ls-files", "-s", "-z", "--", ".")
        changed = set(git.run("diff", "--name-only", "--relative", "-z", "--", ".").split("\0"))
    except (UsageError, ServiceError):
        return {}
    known = {}
    for entry in listed.split("\0"):
        if not entry:
            continue
        meta, _, name = entry.partition("\t")
        _mode, blob, stage = meta.split(" ")
        if stage == "0" and "/" not in name and name not in changed:
            known[name] = blob
    return known


def head_sha(root: Path = Path()) -> str | None:
    """The commit being deployed: GITHUB_SHA in Actions, else HEAD; None outside git."""
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"]
    try:
        return Git(root).run("rev-parse", "HEAD").strip() or None
    except (UsageError, ServiceError):
        return None
