"""git, the one place the pipeline runs it: for blob ids (validate, deploy), the commit
being deployed, and the branches `propose` builds and pushes.

A failed command raises ours: git missing or a local command refused is a usage
problem (exit 2; run from the repository); a fetch or push the remote refused or
could not take (a moved branch, no network) is a service failure (exit 4; rerun).
Remotes are never shown in messages, and any credentials in git's own words are
redacted.

Authentication (`Git.for_github`): the workflow checks out with
`persist-credentials: false`, so no token sits in .git/config while Notion content
is processed. For its fetch and push, `propose` hands git the token from the
environment (GITHUB_TOKEN) as the HTTP header actions/checkout would have stored,
`AUTHORIZATION: basic base64(x-access-token:<token>)`, through git's environment
(GIT_CONFIG_COUNT / GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n, git >= 2.31): never in
argv (which any user on the machine can read), never written to a file, never
printed. It is given only to remote commands, and only when the remote is
GITHUB_SERVER_URL's host over https (or over http on this machine's loopback, as
the tests' server), so no other host ever sees it.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.config import http_url
from pipeline.errors import ServiceError, UsageError, redact

_REMOTE_COMMANDS = frozenset({"fetch", "push", "pull", "ls-remote", "clone"})
DEFAULT_SERVER_URL = "https://github.com"
_DEFAULT_PORTS = {"https": 443, "http": 80}
# git's words when the remote asked for credentials it did not get or did not accept.
_NO_CREDENTIALS = ("could not read Username", "Authentication failed")


def blob_id(raw: bytes) -> str:
    """What `git hash-object` prints for these bytes."""
    return hashlib.sha1(b"blob %d\0" % len(raw) + raw, usedforsecurity=False).hexdigest()


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of an http(s) URL; None for anything else (ssh, a path)."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return None
    return parts.scheme, parts.hostname.lower(), port


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def auth_config(
    remote_url: str, server_url: str, token: str, environ: Mapping[str, str]
) -> dict[str, str]:
    """The environment that gives git the token as an HTTP header for `server_url`, when
    `remote_url` is on that server over https (http only on loopback); else nothing.
    Entries already in `environ`'s GIT_CONFIG_COUNT are kept."""
    remote, server = _origin(remote_url), _origin(server_url)
    if not token or remote is None or remote != server:
        return {}
    scheme, host, _port = remote
    if scheme != "https" and not _loopback(host):
        return {}
    try:
        count = int(environ.get("GIT_CONFIG_COUNT") or 0)
    except ValueError:
        count = 0
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": str(count + 1),
        f"GIT_CONFIG_KEY_{count}": f"http.{server_url.rstrip('/')}/.extraheader",
        f"GIT_CONFIG_VALUE_{count}": f"AUTHORIZATION: basic {basic}",
    }


class Git:
    """git commands in one checkout; remote commands authenticated with `token` on the
    GitHub server `server_url` (see the module's docstring)."""

    def __init__(
        self,
        root: Path,
        remote: str = "origin",
        *,
        token: str | None = None,
        server_url: str | None = None,
    ) -> None:
        executable = shutil.which("git")
        if executable is None:
            raise UsageError("git is not installed or not on PATH")
        self.git, self.root, self.remote = executable, root, remote
        self._token = (token or "").strip()
        self._server_url = (server_url or DEFAULT_SERVER_URL).strip().rstrip("/")

    @classmethod
    def for_github(cls, root: Path, remote: str = "origin") -> Git:
        """A checkout whose fetch and push use GITHUB_TOKEN on GITHUB_SERVER_URL, as in
        Actions."""
        server_url = http_url(
            os.environ.get("GITHUB_SERVER_URL", "").strip() or DEFAULT_SERVER_URL,
            "GITHUB_SERVER_URL",
            f"set it to the GitHub server's address, {DEFAULT_SERVER_URL} or your GitHub "
            "Enterprise Server's (Actions sets it), or unset it",
        )
        return cls(root, remote, token=os.environ.get("GITHUB_TOKEN"), server_url=server_url)

    def _remote_env(self, command: str) -> dict[str, str]:
        """For a remote command: no prompt for a password, and the token if it may go."""
        env = {"GIT_TERMINAL_PROMPT": "0"}
        if self._token:
            url = self.remote
            if "://" not in url:
                push = ("--push",) if command == "push" else ()
                url = self.run("remote", "get-url", *push, self.remote, check=False).strip()
            env |= auth_config(url, self._server_url, self._token, os.environ)
        return env

    def _scrub(self, text: str) -> str:
        """git's words with the token (and its header form) taken out, and any URL
        credentials redacted."""
        if self._token:
            basic = base64.b64encode(f"x-access-token:{self._token}".encode()).decode()
            text = text.replace(basic, "***").replace(self._token, "***")
        return redact(text)

    def run(self, *args: str, env: Mapping[str, str] | None = None, check: bool = True) -> str:
        extra = self._remote_env(args[0]) if args and args[0] in _REMOTE_COMMANDS else {}
        try:
            done = subprocess.run(
                [self.git, *args],
                cwd=self.root,
                capture_output=True,
                # Bytes that are not UTF-8 (a file's content, a path) come back as the
                # file system's names do: surrogate escapes, unchanged as arguments.
                encoding="utf-8",
                errors="surrogateescape",
                env={**os.environ, **extra, **(env or {})},
                check=False,
                timeout=300,
            )
        except subprocess.TimeoutExpired:
            raise ServiceError("git", f"git {args[0]} took longer than 5 minutes") from None
        if check and done.returncode != 0:
            words = self._scrub(_words(done.stderr or done.stdout))
            if args[0] in _REMOTE_COMMANDS and any(w in words for w in _NO_CREDENTIALS):
                raise UsageError(
                    f"git {args[0]} was refused: the remote wants credentials ({words}); set "
                    "GITHUB_TOKEN to a token that can push, and GITHUB_SERVER_URL when the "
                    "remote is not on https://github.com (git 2.31 or later passes it on)"
                )
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
