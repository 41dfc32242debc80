"""Notion side of `learn sync`: the pages of the seven databases, and flashcards' blocks.

Through the shared client (`notion/api.py`: one pacer under Notion's ~3 requests/s,
retries, errors in our words). An incremental run asks each database only for pages
edited since the cursor; a flashcard's blocks are fetched only when its page changed.
"""

from __future__ import annotations

from typing import Any

from pipeline.notion.api import NotionAPI


def data_source(api: NotionAPI, database_id: str) -> str:
    return api.data_source_id(database_id)


def pages(
    api: NotionAPI, data_source_id: str, *, what: str, since: str | None
) -> list[dict[str, Any]]:
    """Every page of the data source, or those edited on or after `since` (ISO time)."""
    body: dict[str, Any] = {"sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}]}
    if since:
        body["filter"] = {
            "timestamp": "last_edited_time",
            "last_edited_time": {"on_or_after": since},
        }
    return list(api.query(data_source_id, what=what, **body))


def blocks(api: NotionAPI, page_id: str) -> list[dict[str, Any]]:
    """A page's blocks to any depth (each with "children")."""
    return api.block_tree(page_id)
