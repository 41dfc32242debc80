"""Which bytes each asset path holds, and publishing what the store does not have yet.

A deploy needs the sha256 of every asset its modules use (the key, hence the URL, is
made of it), also on a no-op run, so finding it must not mean reading every file.
As deploy does for module files, git's index tells a file's blob id without reading
it (`git ls-files -s`, less what `git diff` says differs), and the database remembers
the sha256 of every blob it ever published: a file git vouches for and the database
knows is not opened. Anything else (a new or edited file, no git) is read once.

An asset is read only inside the repository: a path that is a symbolic link out of it
is refused, so a module cannot publish a file of the machine it is deployed from.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipeline.assets.store import AssetStore, LocalStore, object_key
from pipeline.errors import ContentError, ServiceError, UsageError
from pipeline.git import Git
from pipeline.layout import ASSETS_DIR

# blob ids -> (sha256, size) for those the database knows
KnownBlobs = Callable[[list[str]], Mapping[str, tuple[str, int]]]
_PARALLEL = 8  # uploads at once to a bucket


@dataclass(frozen=True, slots=True)
class AssetFile:
    path: str  # the repository path, data/assets/...
    blob_id: str  # git's id of the bytes
    sha256: str
    size: int


def index_blob_ids(root: Path) -> dict[str, str]:
    """{repo path: blob id} of the regular files under data/assets/ whose working copy
    matches git's index; nothing outside git."""
    if not (root / ASSETS_DIR).is_dir():
        return {}
    try:
        git = Git(root)
        listed = git.run("ls-files", "-s", "-z", "--", ASSETS_DIR.as_posix())
        changed = set(git.run("diff", "--name-only", "-z", "--", ASSETS_DIR.as_posix()).split("\0"))
    except (UsageError, ServiceError):
        return {}
    found = {}
    for entry in listed.split("\0"):
        meta, _, name = entry.partition("\t")
        parts = meta.split(" ")
        # 100644 / 100755: a regular file (120000 is a link: read, and checked, instead)
        regular = len(parts) == 3 and parts[0].startswith("100") and parts[2] == "0"
        if regular and name not in changed:
            found[name] = parts[1]
    return found


def identify(root: Path, paths: Iterable[str], known: KnownBlobs) -> dict[str, AssetFile]:
    """Each repository path's bytes, by sha256: from git's index and the database where
    they vouch for it, else read."""
    paths = sorted(set(paths))
    if not paths:
        return {}
    blobs = index_blob_ids(root)
    remembered = known(sorted({blobs[p] for p in paths if p in blobs}))
    return {path: identify_one(root, path, blobs, remembered) for path in paths}


def identify_one(
    root: Path, path: str, blobs: Mapping[str, str], remembered: Mapping[str, tuple[str, int]]
) -> AssetFile:
    """One path's bytes: from git's index (`blobs`: index_blob_ids) and what the database
    remembers of that blob, else read."""
    blob = blobs.get(path)
    if blob is not None and blob in remembered:
        sha256, size = remembered[blob]
        return AssetFile(path, blob, sha256, size)
    return read(root, path)


def read(root: Path, path: str) -> AssetFile:
    """Hash a file of the repository (sha256 and git's blob id, in one pass)."""
    real_root = root.resolve()
    full = (root / path).resolve()
    if not full.is_relative_to(real_root):
        raise ContentError(
            f"asset {path} is a link to a file outside the repository; nothing was "
            "deployed. Put the file itself in data/assets/"
        )
    try:
        with open(full, "rb") as source:
            size = os.fstat(source.fileno()).st_size
            sha = hashlib.sha256()
            blob = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
            while chunk := source.read(1 << 20):
                sha.update(chunk)
                blob.update(chunk)
    except FileNotFoundError:
        raise ContentError(
            f"asset {path} disappeared while deploying; nothing was deployed. Run it again"
        ) from None
    except OSError as exc:
        raise ContentError(
            f"asset {path} cannot be read ({exc.strerror or type(exc).__name__}); nothing "
            "was deployed"
        ) from None
    return AssetFile(path, blob.hexdigest(), sha.hexdigest(), size)


def key_of(store: AssetStore, asset: AssetFile) -> str:
    return object_key(store.prefix, asset.sha256, asset.path)


def url_of(store: AssetStore, asset: AssetFile) -> str:
    return store.url(key_of(store, asset))


def publish(
    store: AssetStore, assets: Iterable[AssetFile], root: Path, *, recorded: Iterable[str] = ()
) -> list[AssetFile]:
    """Upload each asset the store does not hold yet; the uploaded ones.

    `recorded`: keys the database says were published to this store already. A bucket
    is not asked about those again; a local folder is (a look costs nothing, and a
    laptop's folder gets deleted)."""
    by_key = {key_of(store, a): a for a in assets}
    skip = set() if isinstance(store, LocalStore) else set(recorded)
    keys = sorted(set(by_key) - skip)
    if not keys:
        return []

    def one(key: str) -> AssetFile | None:
        if not store.missing([key]):
            return None
        asset = by_key[key]
        store.put(key, root / asset.path, asset.path)
        return asset

    workers = 1 if isinstance(store, LocalStore) else min(_PARALLEL, len(keys))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(one, keys))
    return [asset for asset in done if asset is not None]
