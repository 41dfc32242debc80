"""Writing files so that a crash never leaves half of one, and reading files that anyone
could have put there without hanging or running out of memory."""

from __future__ import annotations

import errno
import os
import shutil
import stat
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


# Never block opening a FIFO, nor take a terminal as ours; a regular file reads the same.
READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


class NotAFile(Exception):
    """What was opened is not a regular file (a pipe, a device, a folder): reading it
    could wait forever or never end."""


class TooBig(Exception):
    """The file holds more than the reader's limit."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size  # what stat said, or what was read: at least the limit and one


def read_regular(handle: int, limit: int) -> bytes:
    """The bytes of a file opened with READ_FLAGS: NotAFile unread when it is not a
    regular file, TooBig when it holds more than `limit` bytes (it is read one byte past
    what stat said, so a file that grew meanwhile shows it). OSError as the OS raises it."""
    info = os.fstat(handle)
    if not stat.S_ISREG(info.st_mode):
        raise NotAFile
    if info.st_size > limit:
        raise TooBig(info.st_size)
    parts, left = [], min(info.st_size, limit) + 1
    while left > 0 and (part := os.read(handle, left)):
        parts.append(part)
        left -= len(part)
    data = b"".join(parts)
    if len(data) > limit:
        raise TooBig(len(data))
    return data
