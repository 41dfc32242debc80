"""Writing files so that a crash never leaves half of one."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import orjson

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux's
    /proc/self/status); elsewhere set and restored at once, under a lock."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode a file created with open() would get: 0o666 less the umask. mkstemp's
    files are 0600, which would hide every exported file from the rest of a team."""
    return 0o666 & ~current_umask()


def atomic_write(path: Path, content: bytes) -> None:
    """Write via a temporary file and rename: readers see the old or the new file, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fchmod(out.fileno(), new_file_mode())
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_move(source: Path, path: Path) -> None:
    """Put a finished file (a download) at `path` by a rename, so readers see the old
    file or the new one, whole; with the mode `atomic_write` gives. Across file systems
    it is copied next to `path` first, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(source, new_file_mode())
        os.replace(source, path)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fchmod(out.fileno(), new_file_mode())
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    source.unlink(missing_ok=True)


def json_object(text: str | bytes) -> dict[str, Any] | None:
    """The JSON object in `text`; None when it is empty, not JSON or not an object."""
    try:
        data = orjson.loads(text) if text else None
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def read_json_object(path: Path) -> dict[str, Any] | None:
    """json_object of a file's content; None when the file cannot be read."""
    try:
        return json_object(path.read_bytes())
    except OSError:
        return None
