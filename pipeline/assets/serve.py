"""`pipeline assets serve`: the local asset store over HTTP, for a laptop trial.

Serves the store's folder at its public base URL's host, port and path (default
http://127.0.0.1:8765/), so the URLs a deploy wrote into the embedded Postgres load in
a browser. Read-only: GET and HEAD of a stored object; no folder listings, nothing
outside the folder. Objects never change under their key (it is their hash), so they
may be cached for good; any origin may fetch them (a local LMS on another port).
"""

from __future__ import annotations

import contextlib
import mimetypes
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pipeline.assets.store import CACHE_CONTROL, LocalStore
from pipeline.errors import UsageError

_KEY = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


def address(store: LocalStore) -> tuple[str, int, str]:
    """(host, port, path) the store's URLs name."""
    parts = urlsplit(store.base)
    if parts.scheme != "http":
        raise UsageError(
            f"the local asset store's URLs ({store.base}) are not plain http on this "
            "machine; `pipeline assets serve` serves http only (put a web server with TLS "
            "in front of the folder for https)"
        )
    return parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"


def serve(store: LocalStore, ready: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted; `ready` hears the base URL once requests are taken."""
    host, port, prefix = address(store)
    directory = store.directory.resolve()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def _file(self) -> Path | None:
            path = unquote(urlsplit(self.path).path)
            if not path.startswith(prefix):
                return None
            key = path[len(prefix) :]
            if not _KEY.match(key) or ".." in key.split("/"):
                return None
            file = (directory / key).resolve()
            return file if file.is_relative_to(directory) and file.is_file() else None

        def _answer(self, body: bool) -> None:
            file = self._file()
            if file is None:
                self.send_error(404, "no such asset")
                return
            data = file.read_bytes()
            self.send_response(200)
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", CACHE_CONTROL)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if body:
                self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except OSError as exc:
        raise UsageError(
            f"cannot serve the asset store at {host}:{port} ({exc.strerror or exc}); is "
            "another `pipeline assets serve` running? Set assets.public_base_url to another "
            "port (and deploy again: the URLs in the database name it)"
        ) from None
    server.daemon_threads = True
    with server:
        if ready is not None:
            ready(store.base)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it stops
            server.serve_forever(poll_interval=0.2)
