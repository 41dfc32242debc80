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
    # Authoring (#13): the Module Library's page templates (pages of their own, in no
    # query), and the comments people resolved (no longer listed).
    templates: list[dict[str, Any]] = field(default_factory=list)  # {"id", "name", "is_default"}
    resolved: set[str] = field(default_factory=set)  # comment ids

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
            "created_by": dict(TEAM_LEAD),
            "last_edited_by": dict(TEAM_LEAD),
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

    # -- authoring (#13): content added through the API, pages outside the library --------

    def append(self, parent: str, block: dict[str, Any]) -> dict[str, Any]:
        """Add a block sent through the API (children inside its payload) under `parent`."""
        stored, children = _stored(block, parent)
        self.children.setdefault(parent, []).append(stored)
        for child in children:
            self.append(stored["id"], child)
        _touch(self, parent)
        return stored

    def add_child_page(
        self, parent: str, title: str, blocks: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """A page inside a page: a child_page block in the parent, a page of its own (in no
        data source, so in no query), with its blocks."""
        page = self.add_page(
            {"title": {"id": "title", "type": "title", "title": [_text(title)]}}, blocks
        )
        page["parent"] = {"type": "page_id", "page_id": parent}
        self.children.setdefault(parent, []).append(
            {
                "object": "block",
                "id": page["id"],
                "type": "child_page",
                "has_children": bool(blocks),
                "child_page": {"title": title},
                "parent": {"type": "page_id", "page_id": parent},
            }
        )
        return page

    def add_standalone_page(
        self, title: str, blocks: list[dict[str, Any]], edited: float | None = None
    ) -> dict[str, Any]:
        """A page of the workspace, outside the Module Library (a content page a row links to)."""
        page = self.add_page(
            {"title": {"id": "title", "type": "title", "title": [_text(title)]}}, blocks, edited
        )
        page["parent"] = {"type": "workspace", "workspace": True}
        return page

    def add_template(
        self, name: str, blocks: list[dict[str, Any]], *, default: bool = False
    ) -> dict[str, Any]:
        """A page template of the Module Library, as made in Notion's app (the API cannot)."""
        page = self.add_page(_new_properties(self.schema, {"properties": {}}), blocks)
        page["is_template"] = True
        page["parent"] = {
            "type": "data_source_id",
            "data_source_id": "template:" + self.data_source_id,
        }
        self.templates.append({"id": page["id"], "name": name, "is_default": default})
        return page

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
        self.path = dashed_ids(self.path)
        parts = urlsplit(self.path)
        if not self._gate(parts.path):
            return None
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        state = self.server.state
        if self._authoring_get(parts.path, query):
            return None
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
        if self._authoring_post(path, body):
            return None
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
        self.path = dashed_ids(self.path)
        path = urlsplit(self.path).path
        if not self._gate(path):
            return None
        body = self._body()
        state = self.server.state
        if self._authoring_patch(path, body):
            return None
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
            page["last_edited_by"] = {"object": "user", "id": BOT_USER["id"]}  # the integration
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

    # -- authoring (#13): comments listed, users/me, search, templates, page content ------

    def do_DELETE(self) -> None:
        self.path = dashed_ids(self.path)
        path = urlsplit(self.path).path
        if not self._gate(path):
            return None
        state = self.server.state
        if m := re.fullmatch(r"/v1/blocks/([0-9a-f-]+)", path):
            for parent, blocks in state.children.items():
                for block in blocks:
                    if block["id"] == m[1]:
                        blocks.remove(block)
                        block["in_trash"] = block["archived"] = True
                        _touch(state, parent)
                        return self._send(200, block)
            return self._error(404, "object_not_found", f"Could not find block with ID: {m[1]}.")
        return self._error(400, "invalid_request_url", "Invalid request URL.")

    def _authoring_get(self, path: str, query: dict[str, str]) -> bool:
        state = self.server.state
        if path == "/v1/comments":
            block_id = dashed_ids(query.get("block_id", ""))
            if block_id not in state.pages and block_id not in state.children:
                self._error(404, "object_not_found", f"Could not find block with ID: {block_id}.")
                return True
            listed = [
                c
                for c in state.comments
                if c["id"] not in state.resolved
                and block_id in (c["parent"].get("page_id"), c["parent"].get("block_id"))
            ]
            self._send(200, _paginate(listed, query, "comment"))
            return True
        if path == "/v1/users/me":
            self._send(200, BOT_USER)
            return True
        if m := re.fullmatch(r"/v1/data_sources/([0-9a-f-]+)/templates", path):
            if state.source(m[1]) is None:
                self._error(404, "object_not_found", f"Could not find data source {m[1]}.")
                return True
            templates = state.templates if m[1] == state.data_source_id else []
            page = _paginate(templates, query, "template")
            self._send(
                200,
                {
                    "templates": page["results"],
                    "has_more": page["has_more"],
                    "next_cursor": page["next_cursor"],
                },
            )
            return True
        return False

    def _authoring_post(self, path: str, body: dict[str, Any]) -> bool:
        state = self.server.state
        if m := re.fullmatch(r"/v1/data_sources/([0-9a-f-]+)/query", path):
            source = state.source(m[1])
            unknown = _unknown_status(body.get("filter"), (source or {}).get("properties", {}))
            if unknown:  # Notion checks a status filter's option against the property's
                self._error(
                    400,
                    "validation_error",
                    f'Invalid status option. Status option "{unknown}" does not exist.',
                )
                return True
            return False
        if path == "/v1/comments":
            parent = dict(body.get("parent") or {})
            parent.setdefault("type", "page_id" if "page_id" in parent else "block_id")
            for key in ("page_id", "block_id"):
                if key in parent:
                    parent[key] = dashed_ids(str(parent[key]))
            now = _iso(time.time())
            comment = {
                "object": "comment",
                "id": str(uuid.uuid4()),
                "parent": parent,
                "discussion_id": str(uuid.uuid4()),
                "created_time": now,
                "last_edited_time": now,
                "created_by": {"object": "user", "id": BOT_USER["id"]},
                "rich_text": [_full_rich_text(t) for t in body.get("rich_text") or []],
            }
            state.comments.append(comment)
            self._send(200, comment)
            return True
        if path == "/v1/search":
            self._search(body)
            return True
        if path == "/v1/pages" and (
            body.get("children") or "page_id" in (body.get("parent") or {})
        ):
            self._create_with_content(body)
            return True
        return False

    def _authoring_patch(self, path: str, body: dict[str, Any]) -> bool:
        state = self.server.state
        if m := re.fullmatch(r"/v1/blocks/([0-9a-f-]+)/children", path):
            if m[1] not in state.children and m[1] not in state.pages:
                self._error(404, "object_not_found", f"Could not find block with ID: {m[1]}.")
                return True
            children = body.get("children") or []
            if refused := _append_refusal(children):
                self._error(400, "validation_error", refused)
                return True
            added = [state.append(m[1], block) for block in children]
            self._send(
                200,
                {
                    "object": "list",
                    "results": added,
                    "next_cursor": None,
                    "has_more": False,
                    "type": "block",
                    "block": {},
                },
            )
            return True
        return False

    def _search(self, body: dict[str, Any]) -> None:
        state = self.server.state
        wanted = (body.get("filter") or {}).get("value")
        if wanted not in (None, "page"):
            self._send(200, _paginate([], body, "page_or_data_source"))
            return
        pages = [p for p in state.pages.values() if not p["in_trash"] and not p.get("is_template")]
        sort = body.get("sort") or {"direction": "descending", "timestamp": "last_edited_time"}
        pages.sort(
            key=_by(sort.get("timestamp", "last_edited_time")),
            reverse=sort.get("direction") != "ascending",
        )
        self._send(200, _paginate(pages, body, "page_or_data_source"))

    def _create_with_content(self, body: dict[str, Any]) -> None:
        """A page created with blocks, in a data source or under a page."""
        state = self.server.state
        children = body.get("children") or []
        refused = _append_refusal(children)
        if refused:
            self._error(400, "validation_error", refused)
            return
        parent = body.get("parent") or {}
        if "page_id" in parent:
            parent_id = dashed_ids(str(parent["page_id"]))
            if parent_id not in state.pages:
                self._error(404, "object_not_found", f"Could not find page {parent_id}.")
                return
            title = "".join(
                t.get("text", {}).get("content", "")
                for t in (body.get("properties", {}).get("title", {}) or {}).get("title", [])
            )
            page = state.add_child_page(parent_id, title, [])
        else:
            source = state.source(str(parent.get("data_source_id", "")))
            if source is None:
                self._error(404, "object_not_found", "Could not find data source.")
                return
            page = state.add_page(_new_properties(source["properties"], body), [])
            page["parent"] = {
                "type": "data_source_id",
                "data_source_id": parent["data_source_id"],
                "database_id": source["database_id"],
            }
        for block in children:
            state.append(page["id"], block)
        self._send(200, page)


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


def _pages_of(state: NotionState, source_id: str) -> list[dict[str, Any]]:
    return [p for p in state.pages.values() if p["parent"].get("data_source_id") == source_id]


def rename_property(state: NotionState, source_id: str, old: str, new: str) -> None:
    """A person renames a database property: the schema and every page's property, as
    Notion does (the property keeps its id; no page counts as edited)."""
    schema = state.sources[source_id]["properties"]
    schema[new] = {**schema.pop(old), "name": new}
    for page in _pages_of(state, source_id):
        page["properties"][new] = page["properties"].pop(old)


def delete_property(state: NotionState, source_id: str, name: str) -> None:
    """A person deletes a database property: from the schema and from every page."""
    del state.sources[source_id]["properties"][name]
    for page in _pages_of(state, source_id):
        del page["properties"][name]


def retype_property(
    state: NotionState,
    source_id: str,
    name: str,
    kind: str,
    convert: Callable[[Any], Any],
) -> None:
    """A person changes a property's type in Notion; `convert` is what Notion makes of
    each page's value."""
    schema = state.sources[source_id]["properties"]
    old = schema[name]["type"]
    schema[name] = {"id": schema[name]["id"], "name": name, "type": kind, kind: {}}
    for page in _pages_of(state, source_id):
        prop = page["properties"][name]
        page["properties"][name] = {"id": prop["id"], "type": kind, kind: convert(prop[old])}


def new_row(state: NotionState, source_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A row a person adds to a database in Notion: every property of the schema, empty
    unless given ({name: value as Notion stores it})."""
    schema = state.sources[source_id]["properties"]
    page = state.add_page(
        {
            name: {"id": spec["id"], "type": spec["type"], spec["type"]: value}
            for name, spec in schema.items()
            for value in [properties.get(name, EMPTY_VALUES.get(spec["type"]))]
        },
        [],
    )
    page["parent"] = {
        "type": "data_source_id",
        "data_source_id": source_id,
        "database_id": state.sources[source_id]["database_id"],
    }
    return page


def duplicate(state: NotionState, page_id: str) -> dict[str, Any]:
    """A person's "Duplicate" of a database page: a new page with a copy of every property
    (postgres_id included), in the same data source, created and edited now."""
    original = state.pages[page_id]
    copy = state.add_page(json.loads(json.dumps(original["properties"])), [])
    copy["parent"] = dict(original["parent"])
    return copy


# -- authoring (#13): ids in either form, content added through the API, seed 001's library --

BOT_USER: dict[str, Any] = {
    "object": "user",
    "id": "b0b0b0b0-0000-4000-8000-000000000b07",
    "name": "Module pipeline",
    "type": "bot",
    "bot": {"owner": {"type": "workspace", "workspace": True}, "workspace_name": "Tests"},
}
_UNDASHED = re.compile(r"(?<![0-9a-fA-F-])([0-9a-fA-F]{32})(?![0-9a-fA-F])")


def dashed_ids(text: str) -> str:
    """Ids written without dashes (Notion accepts both) in their dashed, stored form;
    hosted files' paths are not ids."""
    if text.startswith("/files/"):
        return text
    return _UNDASHED.sub(lambda m: str(uuid.UUID(m[1])), text)


def _unknown_status(rule: Any, schema: dict[str, dict[str, Any]]) -> str | None:
    """A status option a filter names that the property (listing its options) does not have."""
    stack = [rule]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        stack += node.get("and", []) + node.get("or", [])
        spec = schema.get(str(node.get("property", ""))) or {}
        if spec.get("type") != "status" or "status" not in node:
            continue
        options = {o["name"] for o in (spec.get("status") or {}).get("options") or []}
        wanted = node["status"].get("equals")
        if options and wanted not in options:
            return str(wanted)
    return None


TEAM_LEAD: dict[str, Any] = {"object": "user", "id": "7ea1ead0-0000-4000-8000-000000000001"}


def _touch(state: NotionState, parent: str) -> None:
    """A page whose content the integration changed is edited now, by it."""
    if parent in state.pages:
        state.pages[parent]["last_edited_time"] = edit_time()
        state.pages[parent]["last_edited_by"] = {"object": "user", "id": BOT_USER["id"]}


def person_edits(page: dict[str, Any]) -> None:
    """A team lead edits the page: last edited by them, at a later minute than before (Notion
    gives minutes; tests edit faster than that)."""
    current = (
        time.mktime(time.strptime(page["last_edited_time"][:16], "%Y-%m-%dT%H:%M")) - time.timezone
    )
    page["last_edited_time"] = edit_time(max(time.time(), current + 60))
    page["last_edited_by"] = dict(TEAM_LEAD)


# What Notion fills in for a block it is sent: rich text in full, ids, flags.
_RICH_TEXT_KEYS = ("rich_text", "caption")
_MAX_DEPTH = 3  # "up to two levels of nesting in a single request" below the blocks sent


def _append_refusal(children: list[dict[str, Any]]) -> str | None:
    if len(children) > ARRAY_LIMIT:
        return f"body.children.length should be ≤ `{ARRAY_LIMIT}`, instead was `{len(children)}`."
    stack = [(block, 1) for block in children]
    while stack:
        block, depth = stack.pop()
        kind = block.get("type") or next((k for k in block if k not in ("object", "type")), "")
        nested = (block.get(kind) or {}).get("children") or []
        if nested and depth >= _MAX_DEPTH:
            return "body.children exceeds the maximum depth of nesting (2 levels) for one request."
        stack.extend((child, depth + 1) for child in nested)
    return None


def _stored(block: dict[str, Any], parent: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A block as Notion stores it, from one sent in a request; and its children, sent."""
    kind = block.get("type") or next(k for k in block if k not in ("object", "type"))
    payload = dict(block.get(kind) or {})
    children = payload.pop("children", []) or []
    for key in _RICH_TEXT_KEYS:
        if key in payload:
            payload[key] = [
                _full_rich_text(t) if t.get("type", "text") == "text" else t for t in payload[key]
            ]
    if kind == "table_row":
        payload["cells"] = [[_full_rich_text(t) for t in cell] for cell in payload.get("cells", [])]
    if kind.startswith("heading_"):
        payload.setdefault("is_toggleable", False)
    now = edit_time()
    stored = {
        "object": "block",
        "id": str(uuid.uuid4()),
        "parent": {"type": "block_id", "block_id": parent},
        "created_time": now,
        "last_edited_time": now,
        "has_children": bool(children),
        "in_trash": False,
        "archived": False,
        "type": kind,
        kind: payload,
    }
    return stored, children


def _text(content: str) -> dict[str, Any]:
    return _full_rich_text({"type": "text", "text": {"content": content}})


def _new_properties(schema: dict[str, dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    properties = {}
    for name, spec in schema.items():
        kind = spec["type"]
        value = (body.get("properties", {}).get(name) or {}).get(kind, EMPTY_VALUES.get(kind))
        if kind in ("rich_text", "title"):
            value = [_full_rich_text(item) for item in value or []]
        elif kind in ("people", "relation", "multi_select") and value is None:
            value = []
        properties[name] = {"id": spec["id"], "type": kind, kind: value}
    return properties


# Seed 001's Module Library (MODULE-DATA-ARCHITECTURE.md, "Module Library Database Schema"):
# its properties as the data source reports them, and a row of it.
SEED_001_STATUSES = ("Intake", "Drafting", "In Review", "Ready", "Live")


def seed_001_schema() -> dict[str, dict[str, Any]]:
    def options(*names: str) -> dict[str, Any]:
        return {
            "options": [{"id": f"o{i}", "name": n, "color": "default"} for i, n in enumerate(names)]
        }

    kinds: dict[str, tuple[str, dict[str, Any]]] = {
        "Module Name": ("title", {}),
        "Status": ("status", {**options(*SEED_001_STATUSES), "groups": []}),
        "Team Lead": ("people", {}),
        "Owner": ("people", {}),
        "University": ("select", options("Cal Poly Pomona")),
        "Cohort": ("select", options("Fall 2025")),
        "Content Source": ("select", options("AI-assisted", "Form", "Interview")),
        "Module ID": ("rich_text", {}),
        "GitHub Branch/PR": ("url", {}),
        "Last Updated": ("date", {}),
        "Related Task": (
            "relation",
            {"data_source_id": str(uuid.uuid4()), "type": "single_property", "single_property": {}},
        ),
        "Content Page": ("url", {}),
    }
    return {
        name: {"id": name[:4].lower(), "name": name, "type": kind, kind: config}
        for name, (kind, config) in kinds.items()
    }


def seed_001_row(
    title: str,
    status: str = "Ready",
    module_id: str | None = None,
    *,
    content_page: str | None = None,
    university: str | None = None,
    content_source: str | None = "AI-assisted",
) -> dict[str, Any]:
    """The properties of a Module Library row with seed 001's schema."""

    def select(name: str | None) -> dict[str, Any] | None:
        return {"id": "s", "name": name, "color": "default"} if name else None

    return {
        "Module Name": {"id": "modu", "type": "title", "title": [_text(title)]},
        "Status": {"id": "stat", "type": "status", "status": select(status)},
        "Team Lead": {"id": "team", "type": "people", "people": []},
        "Owner": {"id": "owne", "type": "people", "people": []},
        "University": {"id": "univ", "type": "select", "select": select(university)},
        "Cohort": {"id": "coho", "type": "select", "select": select("Fall 2025")},
        "Content Source": {"id": "cont", "type": "select", "select": select(content_source)},
        "Module ID": {
            "id": "modu",
            "type": "rich_text",
            "rich_text": [_text(module_id)] if module_id else [],
        },
        "GitHub Branch/PR": {"id": "gith", "type": "url", "url": None},
        "Last Updated": {"id": "last", "type": "date", "date": None},
        "Related Task": {"id": "rela", "type": "relation", "relation": [], "has_more": False},
        "Content Page": {"id": "cont", "type": "url", "url": content_page},
    }


def library(root: Path, monkeypatch: Any, schema: dict[str, Any]) -> Iterator[NotionServer]:
    """A Module Library with these properties, served, and `pipeline` run from `root`
    pointed at it (a fixture's body: `yield from library(...)`)."""
    for server in serve(NotionState(schema=schema)):
        point_cli_at(server, monkeypatch, root, database=True)
        yield server
