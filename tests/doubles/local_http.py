"""What the local API doubles (Notion, GitHub) share: a threaded server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar

State = TypeVar("State")
Server = TypeVar("Server", bound="LocalServer[Any]")


class LocalServer(ThreadingHTTPServer, Generic[State]):
    daemon_threads = True

    def __init__(self, state: State, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.state = state

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def run_server(server: Server) -> Iterator[Server]:
    """Serve in a thread for the duration of a test, then shut down."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
