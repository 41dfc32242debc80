"""Our exception hierarchy: every failure a user can meet, and the exit code it means.

Each outside system's own exceptions (psycopg, notion-client and httpx, PyGithub
and requests, git) are translated into these in exactly one place per system:
`db/connect.py`, `notion/api.py`, `propose/github_api.py`, `git.py`. Commands
never call sys.exit; the CLI turns these into a message and an exit code in one
place (`cli.main`).

    0  success
    1  ContentError    the content is wrong: a module file or Notion page, a module that
                       refers to a missing row, a deploy the database refused (rolled back)
    2  UsageError      the command line or the configuration is wrong: a bad option, a
                       missing setting or path, a token or database URL that is refused
    3  (anything else) a bug in the pipeline
    4  ServiceError    an outside system (Notion, GitHub, a git remote, the database)
                       failed, was busy or could not be reached; nothing was half-done,
                       so running the command again later is safe
"""

from __future__ import annotations

import re
from urllib.parse import unquote

EXIT_INTERNAL = 3
# Credentials in a URL: everything between "://" and the last "@" of the URL, however
# the password is written (it may hold "#", "?", "/" or "@" unescaped).
_URL_CREDENTIALS = re.compile(r"(://)[^\s'\"]*@")
_CONNINFO_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every credential a URL or libpq conninfo in it may hold replaced by ***."""
    return _CONNINFO_PASSWORD.sub(r"\1***", _URL_CREDENTIALS.sub(r"\1***@", text))


def scrub(text: str, url: str) -> str:
    """redact(text), and the password of `url` (a database URL or conninfo) taken out
    wherever it stands on its own, as written and percent-decoded: a driver may quote it
    anywhere in its words.

    Only whole words are replaced: a short password replaced inside other words
    ("e" in "conn***ction") would tell what it is."""
    for secret in _secrets(url):
        text = re.sub(
            _word_edge(secret[0], "(?<!") + re.escape(secret) + _word_edge(secret[-1], "(?!"),
            "***",
            text,
        )
    return redact(text)


def _word_edge(char: str, look: str) -> str:
    """A look-around that keeps a match from starting or ending inside a word, when the
    secret's own first or last character would continue one."""
    return f"{look}[\\w%])" if char.isalnum() or char in "_%" else ""


def _secrets(url: str) -> list[str]:
    """`user:password` and the password (also percent-decoded) of a URL's user info, or
    a conninfo's password=, in that order."""
    whole = ""
    if "://" in url:
        userinfo = url.split("://", 1)[1].rsplit("@", 1)[0] if "@" in url else ""
        password = userinfo.partition(":")[2]
        whole = userinfo if password else ""
    else:
        found = _CONNINFO_PASSWORD.search(url)
        password = found[2].strip("'") if found else ""
    return [word for word in dict.fromkeys((whole, password, unquote(password))) if word]


class PipelineError(Exception):
    """A failure the user can act on. The message says what and what to do."""

    exit_code = 1


class ContentError(PipelineError):
    """The content (module files, Notion pages, reference rows) is wrong: exit 1."""

    exit_code = 1


class DatabaseError(ContentError):
    """The database refused a deploy's statement (a constraint, the statement timeout);
    the transaction was rolled back and nothing was written: exit 1."""


class UsageError(PipelineError):
    """The command line or configuration is wrong: exit 2."""

    exit_code = 2


class ServiceError(PipelineError):
    """An outside system failed after retries, was busy, or refused an operation that
    may succeed later: exit 4. `service` names it (Notion, GitHub, git, Postgres)."""

    exit_code = 4

    def __init__(self, service: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.service = service
        self.status = status  # the HTTP status, when the service answered
