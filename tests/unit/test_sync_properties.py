"""The reference sync's Notion database schema and bookkeeping properties."""

from __future__ import annotations

from pipeline.sync.plan import ENTITIES
from pipeline.sync.properties import database_properties, status_properties


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


def test_status_only_update_leaves_values_alone() -> None:
    assert status_properties("conflict") == {"sync_status": {"select": {"name": "conflict"}}}
