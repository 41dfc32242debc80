"""`--check-urls` really fetches URLs: a local HTTP server answers 200, 404, 405, slowly."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.builders import module
from tests.conftest import CLI, Repo


class Handler(BaseHTTPRequestHandler):
    hits: list[tuple[str, str]] = []  # noqa: RUF012 - shared by design, reset per test

    def _answer(self, body: bool) -> None:
        Handler.hits.append((self.command, self.path))
        if self.path == "/slow.png":
            time.sleep(1.5)
        status = {"/missing.png": 404, "/broken.png": 500}.get(self.path, 200)
        if self.path == "/no-head.png" and self.command == "HEAD":
            status = 405
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        if body:
            self.wfile.write(b"ok")

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    Handler.hits = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def image(n: int, url: str) -> dict[str, object]:
    return {
        "section_number": n,
        "section_type": "image",
        "title": f"I{n}",
        "content": "",
        "media_url": url,
        "section_config": {"alt_text": "a"},
    }


def test_check_urls_reports_unreachable(repo: Repo, cli: CLI, server: str) -> None:
    repo.write(
        module(
            sections=[
                image(1, f"{server}/ok.png"),
                image(2, f"{server}/missing.png"),
                image(3, f"{server}/no-head.png"),
                image(4, f"{server}/broken.png"),
                image(5, f"{server}/slow.png"),
                image(6, f"{server}/ok.png"),
            ]
        )
    )
    result = cli("validate", "--check-urls", "--timeout", "0.5", "-f", "json")
    assert result.code == 1
    problems = {p["pointer"]: p["message"] for p in json.loads(result.out)["problems"]}
    assert problems == {
        "/sections/1/media_url": f"{server}/missing.png could not be fetched: HTTP 404",
        "/sections/3/media_url": f"{server}/broken.png could not be fetched: HTTP 500",
        "/sections/4/media_url": f"{server}/slow.png could not be fetched: timed out",
    }
    # Each distinct URL is fetched once; GET only where HEAD is refused.
    assert Handler.hits.count(("HEAD", "/ok.png")) == 1
    assert ("GET", "/no-head.png") in Handler.hits
    assert ("GET", "/ok.png") not in Handler.hits


def test_without_flag_nothing_is_fetched(repo: Repo, cli: CLI, server: str) -> None:
    repo.write(module(sections=[image(1, f"{server}/missing.png")]))
    assert cli("validate").code == 0
    assert Handler.hits == []


def test_refused_connection(repo: Repo, cli: CLI) -> None:
    repo.write(module(sections=[image(1, "http://127.0.0.1:9/a.png")]))
    result = cli("validate", "--check-urls", "--timeout", "2")
    assert result.code == 1
    assert "could not be fetched: request failed (ConnectError)" in result.out
