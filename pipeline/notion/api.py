"""The Notion API as the pipeline needs it: paced, retried, paginated; the one place
where notion-client's and httpx's exceptions become ours.

notion-client 3.1 retries only 429 and GET/DELETE 500/503, and does not pace
requests. So its own retries are off, and this wrapper:
- paces every HTTP request through one shared Pacer (an httpx event hook), so
  the whole process stays under Notion's ~3 requests/s on average and a 429
  is the exception, not the control loop;
- retries (tenacity) 429 after its Retry-After, and 500/502/503/504/529 and
  timeouts for requests that are safe to repeat (reads, the data source query,
  page updates), with exponential back-off;
- follows `next_cursor` everywhere (notion_client.helpers);
- raises UsageError for a refused token (exit 2) and ServiceError for the rest
  (exit 4), each naming what was asked for and never the token.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from notion_client import Client
from notion_client.errors import HTTPResponseError, RequestTimeoutError
from notion_client.helpers import iterate_paginated_api
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from pipeline.config import env_int, http_url
from pipeline.errors import ServiceError, UsageError

NOTION_VERSION = "2025-09-03"
TOKEN_VARIABLE = "NOTION_TOKEN"  # noqa: S105 - the name of the variable, not a secret
BASE_URL_VARIABLE = "NOTION_API_BASE_URL"
ATTEMPTS_VARIABLE = "PIPELINE_NOTION_ATTEMPTS"
DEFAULT_BASE_URL = "https://api.notion.com"
_RETRYABLE = {500, 502, 503, 504, 529}
# notion-client logs each failed request and, left to itself, adds a handler that
# writes to stderr per Client made. We report failures ourselves, in our words.
_CLIENT_LOG = logging.getLogger("pipeline.notion.client")
_CLIENT_LOG.addHandler(logging.NullHandler())
_CLIENT_LOG.propagate = False
_MAX_RETRY_AFTER = 60.0
# Answers that waiting will not change: the operator must fix access or configuration.
_OPERATOR_MUST_ACT = {
    400: "Check the property names and options in pipeline.yaml against the database",
    403: "Give the integration the capability it needs (read, update, insert content)",
    404: "Share it with the integration (••• → Connections) or fix the id",
}


class Pacer:
    """Spaces request starts at least 1/rate seconds apart, across threads."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, *_: object) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)

    def hold(self, seconds: float) -> None:
        """Push every later request back (after a 429's Retry-After)."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)


@dataclass
class Stats:
    requests: int = 0
    rate_limited: int = 0
    retried: int = 0


class NotionAPI:
    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        per_second: float = 2.9,
        attempts: int = 6,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.pacer = Pacer(per_second, sleep=sleep)
        self.stats = Stats()
        self._attempts, self._sleep = attempts, sleep
        self._lock = threading.Lock()
        base_url = http_url(
            (base_url or "").strip() or DEFAULT_BASE_URL,
            BASE_URL_VARIABLE,
            f"set it to Notion's API, {DEFAULT_BASE_URL}, or unset it",
        )
        http = httpx.Client(event_hooks={"request": [self._before_request]})
        self.client = Client(
            auth=token,
            base_url=base_url.rstrip("/"),
            notion_version=NOTION_VERSION,
            retry=False,
            logger=_CLIENT_LOG,
            timeout_ms=int(timeout * 1000),
            client=http,
        )

    @classmethod
    def from_environment(cls, **kwargs: Any) -> NotionAPI:
        token = os.environ.get(TOKEN_VARIABLE, "").strip()
        if not token:
            raise UsageError(
                f"{TOKEN_VARIABLE} is not set; create an internal integration in "
                "Notion, share the Module Library with it and export its token"
            )
        kwargs.setdefault("attempts", env_int(ATTEMPTS_VARIABLE, 6))
        return cls(token, base_url=os.environ.get(BASE_URL_VARIABLE) or None, **kwargs)

    def _before_request(self, _request: httpx.Request) -> None:
        self.pacer.wait()
        with self._lock:
            self.stats.requests += 1

    def call(
        self, what: str, fn: Callable[..., Any], /, *, repeatable: bool = True, **kwargs: Any
    ) -> Any:
        """fn(**kwargs), retried as far as is safe; `what` names it in errors."""
        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=retry_if_exception(partial(_worth_retrying, repeatable=repeatable)),
            sleep=self._sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(fn, **kwargs)
        except HTTPResponseError as exc:
            if exc.status == 401:
                raise UsageError(
                    f"Notion refused the token ({TOKEN_VARIABLE}) for {what}: "
                    f"{_describe(exc)}; check the integration's token"
                ) from None
            if exc.status in _OPERATOR_MUST_ACT:
                raise UsageError(
                    f"Notion refused {what}: {_describe(exc)}. {_OPERATOR_MUST_ACT[exc.status]}"
                ) from None
            raise ServiceError(
                "Notion", f"Notion refused {what}: {_describe(exc)}", status=exc.status
            ) from None
        except (RequestTimeoutError, httpx.TransportError) as exc:
            raise ServiceError(
                "Notion", f"Notion did not answer {what} ({type(exc).__name__})"
            ) from None

    def _wait(self, state: RetryCallState) -> float:
        """Back-off; after a 429 the pacer holds every request for its Retry-After."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, HTTPResponseError) and exc.status == 429:
            with self._lock:
                self.stats.rate_limited += 1
            self.pacer.hold(_retry_after(exc))
            return 0.0
        return _backoff(state.attempt_number)

    def _count_retry(self, _state: RetryCallState) -> None:
        with self._lock:
            self.stats.retried += 1

    def _pages(self, what: str, fn: Callable[..., Any], **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every result of a paginated endpoint, each page of results retried on its own."""
        yield from iterate_paginated_api(partial(self.call, what, fn), page_size=100, **kwargs)

    # -- endpoints -------------------------------------------------------------------------

    def data_source_id(self, database_id: str) -> str:
        database = self.call(
            f"the database {database_id}", self.client.databases.retrieve, database_id=database_id
        )
        sources = database.get("data_sources") or []
        if not sources:
            raise UsageError(
                f"the Notion database {database_id} has no data source; check "
                "notion.database_id in pipeline.yaml"
            )
        return str(sources[0]["id"])

    def data_source(self, data_source_id: str) -> dict[str, Any]:
        """The data source with its property schema."""
        result: dict[str, Any] = self.call(
            f"the data source {data_source_id}",
            self.client.data_sources.retrieve,
            data_source_id=data_source_id,
        )
        return result

    def page(self, page_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            f"the page {page_id}", self.client.pages.retrieve, page_id=page_id
        )
        return result

    def query(
        self, data_source_id: str, *, what: str = "the Module Library", **body: Any
    ) -> Iterator[dict[str, Any]]:
        """Every page the data source query returns; `what` names the database in errors."""
        yield from self._pages(
            f"the query of {what}",
            self.client.data_sources.query,
            data_source_id=data_source_id,
            **body,
        )

    def children(self, block_id: str) -> list[dict[str, Any]]:
        return list(
            self._pages(
                f"the blocks of {block_id}", self.client.blocks.children.list, block_id=block_id
            )
        )

    def block_tree(self, block_id: str) -> list[dict[str, Any]]:
        """All blocks under `block_id`, each with "children", to any depth.

        Child pages and databases are linked, not inlined, so their blocks are
        not fetched; a synced block's children are its original's content.
        """
        top = self.children(block_id)
        stack = list(top)
        while stack:
            block = stack.pop()
            block["children"] = []
            if block.get("has_children") and block.get("type") not in (
                "child_page",
                "child_database",
            ):
                block["children"] = self.children(block["id"])
                stack.extend(block["children"])
        return top

    def create_database(
        self, parent_page_id: str, title: str, properties: dict[str, Any]
    ) -> tuple[str, str]:
        """(database id, data source id) of a new database under a page."""
        # Not repeatable: a retried create after a 5xx could make two databases.
        result = self.call(
            f"the creation of database {title!r}",
            self.client.databases.create,
            repeatable=False,
            parent={"type": "page_id", "page_id": parent_page_id},
            title=[{"type": "text", "text": {"content": title}}],
            initial_data_source={"properties": properties},
        )
        return str(result["id"]), str(result["data_sources"][0]["id"])

    def create_page(self, data_source_id: str, properties: dict[str, Any]) -> str:
        result = self.call(
            "the creation of a page",
            self.client.pages.create,
            repeatable=False,
            parent={"type": "data_source_id", "data_source_id": data_source_id},
            properties=properties,
        )
        return str(result["id"])

    def update_page(self, page_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        """The page as it is after the update (its new last_edited_time included)."""
        result: dict[str, Any] = self.call(
            f"the update of page {page_id}",
            self.client.pages.update,
            page_id=page_id,
            properties=properties,
        )
        return result

    def add_properties(self, data_source_id: str, properties: dict[str, Any]) -> None:
        """Add properties to a data source (those it has already are left as they are)."""
        self.call(
            f"the properties of data source {data_source_id}",
            self.client.data_sources.update,
            data_source_id=data_source_id,
            properties=properties,
        )

    def comment(self, page_id: str, text: str) -> None:
        # Not repeatable: a retried POST after a 5xx could post the comment twice.
        self.call(
            f"a comment on page {page_id}",
            self.client.comments.create,
            repeatable=False,
            parent={"page_id": page_id},
            rich_text=[{"type": "text", "text": {"content": text[:2000]}}],
        )

    # -- comments with links and bold, and what a page already has (issue #14) ------------

    def comments(self, block_id: str) -> list[dict[str, Any]]:
        """The page's (or block's) open comments, oldest first. Notion leaves resolved
        discussions out."""
        return list(
            self._pages(f"the comments on {block_id}", self.client.comments.list, block_id=block_id)
        )

    def post_comment(self, page_id: str, rich_text: list[dict[str, Any]]) -> None:
        """A comment of rich text (each item at most 2,000 characters, at most 100 items)."""
        # Not repeatable: a retried POST after a 5xx could post the comment twice.
        self.call(
            f"a comment on page {page_id}",
            self.client.comments.create,
            repeatable=False,
            parent={"page_id": page_id},
            rich_text=rich_text,
        )

    # -- authoring (#13): comments, search, templates, page content ------------------------

    def me(self) -> dict[str, Any]:
        """The integration's own bot user: whose comments are the pipeline's."""
        result: dict[str, Any] = self.call("the integration's user", self.client.users.me)
        return result

    def edited_since(self, timestamp: str) -> Iterator[dict[str, Any]]:
        """Pages shared with the integration edited at or after `timestamp` (ISO 8601), the
        most recently edited first; stops asking once the pages are older."""
        for page in self._pages(
            "the search for edited pages",
            self.client.search,
            filter={"property": "object", "value": "page"},
            sort={"direction": "descending", "timestamp": "last_edited_time"},
        ):
            if str(page.get("last_edited_time", "")) < timestamp:
                return
            yield page

    def templates(self, data_source_id: str) -> list[dict[str, Any]]:
        """The data source's page templates ({"id", "name", "is_default"}), all pages."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            extra: dict[str, Any] = {"page_size": 100}
            if cursor:
                extra["start_cursor"] = cursor
            result = self.call(
                f"the templates of {data_source_id}",
                self.client.data_sources.list_templates,
                data_source_id=data_source_id,
                **extra,
            )
            found += result.get("templates") or []
            cursor = result.get("next_cursor")
            if not result.get("has_more") or not cursor:
                return found

    def create_row(
        self,
        data_source_id: str,
        properties: dict[str, Any],
        children: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A new page in a data source, with content (at most 100 blocks, 2 levels)."""
        # Not repeatable: a retried create after a 5xx could make two pages.
        result: dict[str, Any] = self.call(
            "the creation of a page",
            self.client.pages.create,
            repeatable=False,
            parent={"type": "data_source_id", "data_source_id": data_source_id},
            properties=properties,
            **({"children": children} if children else {}),
        )
        return result

    def append_blocks(self, block_id: str, children: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Append blocks (at most 100, nested 2 levels) under a page or block; the new
        blocks, in order."""
        # Not repeatable: a retried append after a 5xx could add the blocks twice.
        result = self.call(
            f"adding blocks to {block_id}",
            self.client.blocks.children.append,
            repeatable=False,
            block_id=block_id,
            children=children,
        )
        return list(result.get("results") or [])

    def delete_block(self, block_id: str) -> None:
        """Move a block to the trash (repeatable: deleting twice is harmless)."""
        self.call(f"the deletion of block {block_id}", self.client.blocks.delete, block_id=block_id)


def _worth_retrying(exc: BaseException, *, repeatable: bool) -> bool:
    if isinstance(exc, HTTPResponseError):
        return exc.status == 429 or (exc.status in _RETRYABLE and repeatable)
    return repeatable and isinstance(exc, RequestTimeoutError | httpx.TransportError)


def _retry_after(exc: HTTPResponseError) -> float:
    try:
        return min(float(exc.headers.get("retry-after", "1")), _MAX_RETRY_AFTER)
    except ValueError:
        return 1.0


def _backoff(attempt: int) -> float:
    return float(min(0.5 * 2 ** (attempt - 1), 8.0))


def _describe(exc: HTTPResponseError) -> str:
    code = getattr(getattr(exc, "code", None), "value", None)
    message = str(exc).strip() or "no message"
    return f"HTTP {exc.status}" + (f" {code}" if code else "") + f": {message}"
