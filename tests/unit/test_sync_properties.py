"""The reference sync's Notion database schema and bookkeeping properties."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.sync.entities import ENTITIES
from pipeline.sync.properties import (
    KEY,
    LAST_SYNCED,
    SYNC_STATUS,
    TooLarge,
    database_properties,
    page_properties,
    status_properties,
)


def test_database_schema_has_options_and_bookkeeping() -> None:
    schema = database_properties(ENTITIES["teams"])
    assert schema["Name"] == {"title": {}}
    assert [o["name"] for o in schema["team_type"]["select"]["options"]] == [
        "design",
        "analysis",
        "testing",
        "integration",
    ]
    assert [o["name"] for o in schema["sync_status"]["select"]["options"]] == [
        "synced",
        "pending",
        "conflict",
    ]
    assert schema["postgres_id"] == {"rich_text": {}}


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_status_only_update_leaves_values_alone(entity: str) -> None:
    assert status_properties("conflict") == {"sync_status": {"select": {"name": "conflict"}}}
    fields = ENTITIES[entity].fields
    values = {f.column: f"value of {f.column}" for f in fields}
    at = "2026-01-01T00:00:00Z"
    for status in ("synced", "pending", "conflict"):
        full = page_properties(ENTITIES[entity], values, "key-1", status, at)
        # With a time: the bookkeeping a full write would set, and nothing else.
        assert status_properties(status, at) == {k: full[k] for k in (SYNC_STATUS, LAST_SYNCED)}
        # Without: only the mark; last_synced keeps the time of the last real sync.
        written = status_properties(status)
        assert set(written) == {SYNC_STATUS}
        assert not set(written) & ({f.notion for f in fields} | {KEY})


# -- issue #12 item 16: long text goes to Notion whole, in Notion's pieces, or not at all ------

PROJECTS = ENTITIES["projects"]


def description(text: str) -> list[dict[str, Any]]:
    props = page_properties(PROJECTS, {"description": text}, "p1", "synced", "2026-01-01")
    items: list[dict[str, Any]] = props["description"]["rich_text"]
    return items


def test_long_text_is_split_into_notions_pieces_and_nothing_is_cut() -> None:
    text = " ".join(f"{i:05d}" for i in range(1000))  # 5,999 characters
    items = description(text)
    assert [len(i["text"]["content"]) for i in items] == [2000, 2000, 1999]
    assert "".join(i["text"]["content"] for i in items) == text


def test_pieces_count_characters_as_notion_does() -> None:
    # Notion counts UTF-16 code units: a character beyond the BMP is two of them, and a
    # piece never ends inside one.
    text = "a" + "\U0001d11e" * 1500  # 1 + 3,000 units
    items = description(text)
    assert [len(i["text"]["content"].encode("utf-16-le")) // 2 for i in items] == [1999, 1002]
    assert "".join(i["text"]["content"] for i in items) == text


def test_up_to_100_pieces_and_beyond_that_nothing() -> None:
    assert len(description("x" * 200_000)) == 100
    with pytest.raises(TooLarge, match=r"description is 200,001 characters long.*200,000"):
        description("x" * 200_001)


def test_an_email_beyond_notions_limit_is_refused_not_cut() -> None:
    faculty = ENTITIES["faculty"]
    email = "a" * 190 + "@cpp.edu"
    assert page_properties(faculty, {"email": email}, "f1", "synced", "2026-01-01")["email"] == {
        "email": email
    }
    with pytest.raises(TooLarge, match="email is 201 characters long"):
        page_properties(faculty, {"email": email + "abc"}, "f1", "synced", "2026-01-01")


def test_a_row_beyond_notions_request_size_is_refused() -> None:
    # 200,000 characters of three UTF-8 bytes each: 600 KB, and Notion takes 500 KB a request.
    with pytest.raises(TooLarge, match="request"):
        description("\u4e2d" * 200_000)
