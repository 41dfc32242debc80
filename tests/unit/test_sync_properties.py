"""The reference sync's Notion database schema and bookkeeping properties."""

from __future__ import annotations

import pytest

from pipeline.sync.entities import ENTITIES
from pipeline.sync.properties import (
    KEY,
    LAST_SYNCED,
    SYNC_STATUS,
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
