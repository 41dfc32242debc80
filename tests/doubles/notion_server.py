"""A local Notion API for tests: the real notion-client talks to it over HTTP.

It speaks the parts of API version 2025-09-03 the pipeline uses, with
Notion's shapes: database -> data sources; data source query with filters,
sorts and cursors; pages retrieve and update; block children with
pagination; comments (created within Notion's limits, listed without resolved
discussions); error bodies {"object": "error", "status", "code",
"message"}; 429 rate_limited with Retry-After from a token bucket; injected
5xx; Notion-hosted file URLs that expire, served with a content type (big
ones made up lazily, `LazyFile`); created_time and last_edited_time rounded
down to the minute, as Notion gives them.
"""

from __future__ import annotations

import json
import mimetypes
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.doubles.local_http import LocalServer, run_server

TOKEN = "secret_test_token_do_not_print"


def edit_time(at: float | None = None) -> str:
    """A created_time or last_edited_time as Notion gives it: rounded down to the minute."""
    return time.strftime("%Y-%m-%dT%H:%M:00.000Z", time.gmtime(time.time() if at is None else at))


def _iso(at: float) -> str:
    """Any other time (a file URL's expiry_time): to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(at))


# Annotations of unformatted rich text, and each property type's value when empty.
PLAIN: dict[str, Any] = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}
EMPTY_VALUES: dict[str, Any] = {
    "title": [],
    "rich_text": [],
    "select": None,
    "number": None,
    "date": None,
    "email": None,
    "checkbox": False,
    "url": None,
}

# The error code Notion sends with each status (developers.notion.com/reference/status-codes).
ERROR_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "restricted_resource",
    404: "object_not_found",
    409: "conflict_error",
    429: "rate_limited",
    500: "internal_server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


@dataclass
class Bucket:
    """Notion-like limit: `rate` requests/s on average, bursts up to `burst`."""

    rate: float
    burst: float
    tokens: float = 0.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self) -> float:
        """0 when allowed, else the seconds to wait."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class NotionState:
    database_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    data_source_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes | LazyFile] = field(default_factory=dict)
    file_types: dict[str, str] = field(default_factory=dict)  # key -> Content-Type sent
    bucket: Bucket | None = None
    faults: deque[tuple[str, int]] = field(default_factory=deque)  # (path regex, status)
    hits: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    file_lifetime: float = 3600.0
    retry_after: float | None = None  # Notion sends whole seconds; tests may shorten it
    # The data source's property schema: {name: {"id", "name", "type", <type>: {...}}}
    schema: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    databases: dict[str, dict[str, Any]] = field(default_factory=dict)  # created via the API
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)

    def database(self, database_id: str) -> dict[str, Any] | None:
        if database_id == self.database_id:
            return {"title": "Module Library", "data_source_id": self.data_source_id}
        return self.databases.get(database_id)

    def source(self, data_source_id: str) -> dict[str, Any] | None:
        if data_source_id == self.data_source_id:
            return {"database_id": self.database_id, "properties": self.schema}
        return self.sources.get(data_source_id)

    # -- arranging content ------------------------------------------------------------------

    def add_page(
        self, properties: dict[str, Any], blocks: list[dict[str, Any]], edited: float | None = None
    ) -> dict[str, Any]:
        page_id = str(uuid.uuid4())
        page = {
            "object": "page",
            "id": page_id,
            "created_time": edit_time(edited),
            "last_edited_time": edit_time(edited),
            "in_trash": False,
            "archived": False,
            "parent": {
                "type": "data_source_id",
                "data_source_id": self.data_source_id,
                "database_id": self.database_id,
            },
            "properties": properties,
            "url": f"https://www.notion.so/{page_id.replace('-', '')}",
        }
        self.pages[page_id] = page
        self.set_blocks(page_id, blocks)
        return page

    def set_blocks(self, parent: str, blocks: list[dict[str, Any]]) -> None:
        """Store a tree given with "children" keys as Notion stores blocks."""
        stored = []
        for block in blocks:
            children = block.get("children", [])
            clean = {k: v for k, v in block.items() if k != "children"}
            clean.setdefault("id", str(uuid.uuid4()))
            clean["object"] = "block"
            clean["has_children"] = bool(children)
            clean["parent"] = {"type": "block_id", "block_id": parent}
            stored.append(clean)
            if children:
                self.set_blocks(clean["id"], children)
        self.children[parent] = stored

    def hosted_file(
        self,
        name: str,
        content: bytes | LazyFile,
        base_url: str,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """A Notion-hosted file object: a signed URL that expires. The file is served with
        `content_type`, or the type its name suggests, as S3 serves Notion's uploads."""
        key = f"{uuid.uuid4().hex}/{name}"
        self.files[key] = content
        if content_type is not None:
            self.file_types[key] = content_type
        expires = time.time() + self.file_lifetime
        return {
            "url": f"{base_url}/files/{key}?X-Amz-Expires=3600&X-Amz-Signature=abc"
            f"&expires={expires:.0f}",
            "expiry_time": _iso(expires),
        }


class Handler(BaseHTTPRequestHandler):
    server: NotionServer

    def log_message(self, *_: object) -> None:
        pass

    # -- plumbing ---------------------------------------------------------------------------

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header(
            "Content-Type",
            "application/json" if not isinstance(body, bytes) else "application/octet-stream",
        )
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.server.state.statuses[status] += 1

    def _error(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self._send(
            status,
            {
                "object": "error",
                "status": status,
                "code": code,
                "message": message,
                "request_id": str(uuid.uuid4()),
            },
            headers,
        )

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}") if length else {}

    def _gate(self, path: str) -> bool:
        """Auth, rate limit and injected faults; False when an error was sent."""
        state = self.server.state
        with state.lock:
            state.hits[f"{self.command} {re.sub(r'[0-9a-f-]{36}', '{id}', path)}"] += 1
            if path.startswith("/files/"):
                return True
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._error(401, "unauthorized", "API token is invalid.")
                return False
            if self.headers.get("Notion-Version") != "2025-09-03":
                self._error(400, "missing_version", "Notion-Version header is wrong.")
                return False
            wait = state.bucket.take() if state.bucket else 0.0
            if wait:
                after = state.retry_after if state.retry_after is not None else max(1, round(wait))
                self._error(
                    429, "rate_limited", "You have been rate limited.", {"Retry-After": f"{after}"}
                )
                return False
            for index, (pattern, status) in enumerate(state.faults):
                if re.search(pattern, f"{self.command} {path}"):
                    del state.faults[index]
                    self._error(
                        status, ERROR_CODES.get(status, "internal_server_error"), "Injected fault."
                    )
                    return False
        return True

    # -- routes -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if not self._gate(parts.path):
            return None
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        state = self.server.state
        if parts.path.startswith("/files/"):
            return self._file(parts.path[len("/files/") :], query)
        if m := re.fullmatch(r"/v1/databases/([0-9a-f-]+)", parts.path):
            database = state.database(m[1])
            if database is None:
                return self._error(404, "object_not_found", f"Could not find database {m[1]}.")
            return self._send(
                200,
                {
                    "object": "database",
                    "id": m[1],
                    "data_sources": [{"id": database["data_source_id"], "name": database["title"]}],
                },
            )
        if m := re.fullmatch(r"/v1/data_sources/([0-9a-f-]+)", parts.path):
            source = state.source(m[1])
            if source is None:
                return self._error(404, "object_not_found", f"Could not find data source {m[1]}.")
            return self._send(
                200, {"object": "data_source", "id": m[1], "properties": source["properties"]}
            )
        if m := re.fullmatch(r"/v1/pages/([0-9a-f-]+)", parts.path):
            page = state.pages.get(m[1])
            return (
                self._send(200, page)
                if page
                else self._error(404, "object_not_found", f"Could not find page with ID: {m[1]}.")
            )
        if m := re.fullmatch(r"/v1/blocks/([0-9a-f-]+)/children", parts.path):
            if m[1] not in state.children:
                return self._error(404, "object_not_found", f"Could not find block {m[1]}.")
            return self._send(200, _paginate(state.children[m[1]], query, "block"))
        if parts.path == "/v1/comments":
            return self._list_comments(query)
        return self._error(400, "invalid_request_url", "Invalid request URL.")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if not self._gate(path):
            return None
        body = self._body()
        state = self.server.state
        if m := re.fullmatch(r"/v1/data_sources/([0-9a-f-]+)/query", path):
            if state.source(m[1]) is None:
                return self._error(404, "object_not_found", f"Could not find data source {m[1]}.")
            pages = [
                p
                for p in state.pages.values()
                if not p["in_trash"]
                and p["parent"].get("data_source_id") == m[1]
                and _matches(p, body.get("filter"))
            ]
            for sort in reversed(body.get("sorts", [])):
                pages.sort(
                    key=_by(sort.get("timestamp", "")),
                    reverse=sort.get("direction") == "descending",
                )
            return self._send(200, _paginate(pages, body, "page_or_data_source"))
        if path == "/v1/databases":
            return self._create_database(body)
        if path == "/v1/pages":
            return self._create_page(body)
        if path == "/v1/comments":
            return self._create_comment(body)
        return self._error(400, "invalid_request_url", "Invalid request URL.")

    def do_PATCH(self) -> None:
        path = urlsplit(self.path).path
        if not self._gate(path):
            return None
        body = self._body()
        state = self.server.state
        if m := re.fullmatch(r"/v1/pages/([0-9a-f-]+)", path):
            page = state.pages.get(m[1])
            if page is None:
                return self._error(404, "object_not_found", f"Could not find page {m[1]}.")
            if refused := refusal(body, page):  # Notion's limits and its trash: see below
                return self._error(400, "validation_error", refused)
            for name, value in body.get("properties", {}).items():
                if name not in page["properties"]:
                    return self._error(
                        400, "validation_error", f"{name} is not a property that exists."
                    )
                kind = page["properties"][name]["type"]
                stored = value[kind]
                if kind in ("rich_text", "title"):
                    stored = [_full_rich_text(item) for item in stored]
                page["properties"][name] = {
                    "id": page["properties"][name].get("id", "x"),
                    "type": kind,
                    kind: stored,
                }
            page["last_edited_time"] = edit_time()
            return self._send(200, page)
        if m := re.fullmatch(r"/v1/data_sources/([0-9a-f-]+)", path):
            return self._update_data_source(m[1], body)
        return self._error(400, "invalid_request_url", "Invalid request URL.")

    def _update_data_source(self, source_id: str, body: dict[str, Any]) -> None:
        """Add properties to a data source, as Notion does: every page of it gets them,
        empty. (Renaming and removing properties are not needed by the pipeline.)"""
        state = self.server.state
        source = state.sources.get(source_id)
        if source is None:
            return self._error(404, "object_not_found", f"Could not find data source {source_id}.")
        for name, spec in (body.get("properties") or {}).items():
            for kind, config in spec.items():
                source["properties"].setdefault(
                    name, {"id": name[:4], "name": name, "type": kind, kind: config}
                )
                for page in state.pages.values():
                    if (page.get("parent") or {}).get("data_source_id") == source_id:
                        page["properties"].setdefault(
                            name, {"id": name[:4], "type": kind, kind: EMPTY_VALUES.get(kind)}
                        )
        return self._send(200, {"object": "data_source", "id": source_id, **source})

    # -- comments: created with Notion's limits, listed unresolved (issue #14) ---------------

    def _create_comment(self, body: dict[str, Any]) -> None:
        """POST /v1/comments on a page: a new discussion. Rich text as Notion stores it
        (plain_text, annotations, href), within its limits (400 validation_error)."""
        state = self.server.state
        items = body.get("rich_text") or []
        if len(items) > ARRAY_LIMIT:
            return self._error(
                400, "validation_error", _too_long("body.rich_text.length", ARRAY_LIMIT, len(items))
            )
        for index, item in enumerate(items):
            size = js_length(str((item.get("text") or {}).get("content", "")))
            if size > TEXT_LIMIT:
                where = f"body.rich_text[{index}].text.content.length"
                return self._error(400, "validation_error", _too_long(where, TEXT_LIMIT, size))
        now = edit_time()
        comment = {
            "object": "comment",
            "id": str(uuid.uuid4()),
            "parent": body.get("parent"),
            "discussion_id": str(uuid.uuid4()),
            "created_time": now,
            "last_edited_time": now,
            "created_by": {"object": "user", "id": "integration"},
            "rich_text": [_full_rich_text(item) for item in items],
        }
        state.comments.append(comment)
        return self._send(200, comment)

    def _list_comments(self, query: dict[str, str]) -> None:
        """GET /v1/comments?block_id=: the block's or page's comments, oldest first,
        paginated; resolved discussions are left out, as Notion does."""
        state = self.server.state
        block = query.get("block_id", "")
        if block not in state.pages and block not in state.children:
            return self._error(404, "object_not_found", f"Could not find block {block}.")
        found = [
            {k: v for k, v in c.items() if k != "resolved"}
            for c in state.comments
            if (c.get("parent") or {}).get("page_id") == block and not c.get("resolved")
        ]
        return self._send(200, _paginate(found, query, "comment"))

    def _create_database(self, body: dict[str, Any]) -> None:
        state = self.server.state
        parent = (body.get("parent") or {}).get("page_id", "")
        if parent not in state.children and parent not in state.pages:
            return self._error(404, "object_not_found", f"Could not find page {parent}.")
        title = "".join(t.get("text", {}).get("content", "") for t in body.get("title", []))
        database_id, source_id = str(uuid.uuid4()), str(uuid.uuid4())
        schema = {
            name: {"id": name[:4], "name": name, "type": kind, kind: config}
            for name, spec in (body.get("initial_data_source") or {}).get("properties", {}).items()
            for kind, config in spec.items()
        }
        if sum(p["type"] == "title" for p in schema.values()) != 1:
            return self._error(400, "validation_error", "A database needs one title property.")
        state.databases[database_id] = {"title": title, "data_source_id": source_id}
        state.sources[source_id] = {"database_id": database_id, "properties": schema}
        state.children.setdefault(parent, []).append(
            {
                "object": "block",
                "id": database_id,
                "type": "child_database",
                "has_children": False,
                "child_database": {"title": title},
                "parent": {"type": "page_id", "page_id": parent},
            }
        )
        return self._send(
            200,
            {
                "object": "database",
                "id": database_id,
                "title": body.get("title", []),
                "data_sources": [{"id": source_id, "name": title}],
            },
        )

    def _create_page(self, body: dict[str, Any]) -> None:
        state = self.server.state
        source_id = (body.get("parent") or {}).get("data_source_id", "")
        source = state.source(source_id)
        if source is None:
            return self._error(404, "object_not_found", f"Could not find data source {source_id}.")
        if refused := refusal(body, None):  # Notion's limits: see below
            return self._error(400, "validation_error", refused)
        empty = EMPTY_VALUES
        properties = {}
        for name, spec in source["properties"].items():
            kind = spec["type"]
            value = (body.get("properties", {}).get(name) or {}).get(kind, empty.get(kind))
            if kind in ("rich_text", "title"):
                value = [_full_rich_text(item) for item in value or []]
            properties[name] = {"id": spec["id"], "type": kind, kind: value}
        unknown = set(body.get("properties", {})) - set(source["properties"])
        if unknown:
            return self._error(
                400, "validation_error", f"{sorted(unknown)[0]} is not a property that exists."
            )
        page = self.server.state.add_page(properties, [])
        page["parent"] = {
            "type": "data_source_id",
            "data_source_id": source_id,
            "database_id": source["database_id"],
        }
        return self._send(200, page)

    def _file(self, key: str, query: dict[str, str]) -> None:
        if float(query.get("expires", "0")) < time.time():
            self._send(
                403,
                b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
            )
            return
        content = self.server.state.files.get(key)
        if content is None:
            self._send(404, b"<Error><Code>NoSuchKey</Code></Error>")
            return
        self._send_file(key, content)

    # -- hosted files: their content types, big files sent lazily (issue #12) ---------------

    def _send_file(self, key: str, content: bytes | LazyFile) -> None:
        state = self.server.state
        self.send_response(200)
        self.send_header("Content-Type", _file_type(key, state.file_types.get(key)))
        if isinstance(content, bytes):
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        else:
            if content.declare_length:
                self.send_header("Content-Length", str(content.size))
            self.end_headers()
            try:
                for chunk in content.chunks():
                    self.wfile.write(chunk)
                    content.sent += len(chunk)
            except OSError:  # the client stopped reading: what a size limit should do
                pass
            self.close_connection = True
        state.statuses[200] += 1


def _full_rich_text(item: dict[str, Any]) -> dict[str, Any]:
    """Rich text as Notion returns it: with plain_text, annotations and href."""
    text = item.get("text", {})
    link = text.get("link") or None
    return {
        "type": "text",
        "text": {"content": text.get("content", ""), "link": link},
        "annotations": {**PLAIN, **item.get("annotations", {})},
        "plain_text": text.get("content", ""),
        "href": link["url"] if link else None,
    }


def _by(timestamp: str) -> Callable[[dict[str, Any]], str]:
    """Sort key: a page's `timestamp` field (its ISO text sorts in time order)."""
    return lambda page: str(page.get(timestamp) or "")


def _paginate(items: list[dict[str, Any]], params: dict[str, Any], kind: str) -> dict[str, Any]:
    size = min(int(params.get("page_size", 100)), 100)
    start = int(params.get("start_cursor") or 0)
    chunk = items[start : start + size]
    more = start + size < len(items)
    return {
        "object": "list",
        "results": chunk,
        "next_cursor": str(start + size) if more else None,
        "has_more": more,
        "type": kind,
        kind: {},
    }


def _matches(page: dict[str, Any], rule: dict[str, Any] | None) -> bool:
    if not rule:
        return True
    if "and" in rule:
        return all(_matches(page, r) for r in rule["and"])
    if "or" in rule:
        return any(_matches(page, r) for r in rule["or"])
    if rule.get("timestamp") == "last_edited_time":
        condition = rule["last_edited_time"]
        value = page["last_edited_time"]
        if "on_or_after" in condition:
            return bool(value >= condition["on_or_after"])
        if "after" in condition:
            return bool(value > condition["after"])
        raise ValueError(f"unsupported timestamp filter {condition}")
    prop = page["properties"].get(rule.get("property", ""))
    if prop is None:
        raise ValueError(f"unknown property in filter: {rule}")
    kind = prop["type"]
    condition = rule.get(kind) or {}
    if kind in ("status", "select"):
        value = (prop.get(kind) or {}).get("name")
    elif kind in ("rich_text", "title"):
        value = "".join(t.get("plain_text", "") for t in prop.get(kind) or [])
    else:
        raise ValueError(f"unsupported filter on a {kind} property")
    if "equals" in condition:
        return bool(value == condition["equals"])
    if "does_not_equal" in condition:
        return bool(value != condition["does_not_equal"])
    raise ValueError(f"unsupported filter {rule}")


# -- hosted files: their content types, and big files made up lazily (issue #12) ------------


@dataclass
class LazyFile:
    """A hosted file of `size` bytes made up chunk by chunk as it is sent, so a test can
    serve 300 MB without holding it. `declare_length=False` sends no Content-Length (the
    body ends when the connection closes), as a server that does not know or tell the
    size. `sent` counts the bytes actually written before the client stopped reading."""

    size: int
    declare_length: bool = True
    sent: int = 0

    def chunks(self, chunk: int = 64 * 1024) -> Iterator[bytes]:
        block = bytes(range(256)) * (chunk // 256)
        left = self.size
        while left > 0:
            yield block[: min(chunk, left)]
            left -= min(chunk, left)


def _file_type(key: str, explicit: str | None) -> str:
    return explicit or mimetypes.guess_type(key)[0] or "application/octet-stream"


class NotionServer(LocalServer[NotionState]):
    def __init__(self, state: NotionState) -> None:
        super().__init__(state, Handler)


def serve(state: NotionState) -> Iterator[NotionServer]:
    server = NotionServer(state)
    yield from run_server(server)


def point_cli_at(
    server: NotionServer, monkeypatch: Any, root: Path, *, database: bool = False
) -> None:
    """Make `pipeline` talk to this server from `root`: token, base URL, pipeline.yaml.

    Tests pace faster than Notion's 3/s; test_notion_api checks the real pace.
    """
    monkeypatch.setenv("NOTION_TOKEN", TOKEN)
    monkeypatch.setenv("NOTION_API_BASE_URL", server.url)
    source = f"  database_id: {server.state.database_id}\n" if database else ""
    (root / "pipeline.yaml").write_text(f"notion:\n{source}  requests_per_second: 200\n")


# -- Notion's limits on a page write, and its trash ------------------------------------------
# developers.notion.com/reference/request-limits: a rich-text item's text.content holds at
# most 2,000 characters (JavaScript's length: UTF-16 code units), a rich-text array at most
# 100 items, an e-mail at most 200 characters; a request beyond them is refused with 400
# validation_error. A page in the trash (in_trash, formerly archived) refuses every update
# but the one that restores it. Trashed pages are left out of data source queries (above).

TEXT_LIMIT = 2000
ARRAY_LIMIT = 100
EMAIL_LIMIT = 200
TRASHED = "Can't edit block that is archived. You must unarchive the block before editing."


def js_length(text: str) -> int:
    """A string's length as Notion counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def refusal(body: dict[str, Any], page: dict[str, Any] | None) -> str | None:
    """Notion's message refusing this create (page None) or update, or None to accept it.

    An accepted update that restores a page (in_trash or archived false) takes it out of
    the trash; one that trashes it puts it there.
    """
    for name, value in (body.get("properties") or {}).items():
        for kind in ("title", "rich_text"):
            items = value.get(kind) if isinstance(value, dict) else None
            if not isinstance(items, list):
                continue
            where = f"body.properties.{name}.{kind}"
            if len(items) > ARRAY_LIMIT:
                return _too_long(f"{where}.length", ARRAY_LIMIT, len(items))
            for index, item in enumerate(items):
                size = js_length(str((item.get("text") or {}).get("content", "")))
                if size > TEXT_LIMIT:
                    return _too_long(f"{where}[{index}].text.content.length", TEXT_LIMIT, size)
        email = value.get("email") if isinstance(value, dict) else None
        if isinstance(email, str) and js_length(email) > EMAIL_LIMIT:
            return _too_long(f"body.properties.{name}.email.length", EMAIL_LIMIT, js_length(email))
    if page is None:
        return None
    flags = [body[key] for key in ("in_trash", "archived") if key in body]
    if flags:
        page["in_trash"] = page["archived"] = bool(flags[0])
        return None
    return TRASHED if page.get("in_trash") or page.get("archived") else None


def _too_long(where: str, limit: int, was: int) -> str:
    return f"body failed validation: {where} should be \u2264 `{limit}`, instead was `{was}`."


def trash(page: dict[str, Any]) -> None:
    """A person moves the page to Notion's trash."""
    page["in_trash"] = page["archived"] = True
    page["last_edited_time"] = edit_time()


def duplicate(state: NotionState, page_id: str) -> dict[str, Any]:
    """A person's "Duplicate" of a database page: a new page with a copy of every property
    (postgres_id included), in the same data source, created and edited now."""
    original = state.pages[page_id]
    copy = state.add_page(json.loads(json.dumps(original["properties"])), [])
    copy["parent"] = dict(original["parent"])
    return copy
