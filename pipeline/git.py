"""Git blob ids of module files, without reading them.

In a checkout, `git ls-files -s` knows the blob id of every tracked file; a
file whose working copy differs from the index is left out (and read and
hashed by us instead). Outside git, or without git, nothing is known.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path


def blob_id(raw: bytes) -> str:
    """What `git hash-object` prints for these bytes."""
    return hashlib.sha1(b"blob %d\0" % len(raw) + raw, usedforsecurity=False).hexdigest()


def known_blob_ids(directory: Path) -> dict[str, str]:
    """{file name: blob id} for files in `directory` whose working copy matches the index."""
    git = shutil.which("git")
    if git is None or not directory.is_dir():
        return {}
    try:
        listed = _run(git, directory, "ls-files", "-s", "-z", "--", ".")
        changed = set(
            _run(git, directory, "diff", "--name-only", "--relative", "-z", "--", ".").split("\0")
        )
    except (OSError, subprocess.SubprocessError):
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


def _run(git: str, directory: Path, *args: str) -> str:
    return subprocess.run(
        [git, "-C", str(directory), *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout
