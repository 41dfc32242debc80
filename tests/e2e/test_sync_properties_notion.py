"""Rows <-> Notion pages for the reference sync, round-tripped through the Notion server."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pipeline.notion.api import NotionAPI
from pipeline.sync.entities import ENTITIES, canonical
from pipeline.sync.properties import (
    database_properties,
    page_properties,
    row_from_page,
)
from tests.doubles.notion_server import EMPTY_VALUES, TOKEN, NotionState, serve

ROWS: dict[str, dict[str, Any]] = {
    "interfaces": {
        "name": "Structures to Power",
        "from_university": "cpp",
        "to_university": "uci",
        "from_team_id": 1,
        "to_team_id": 2,
        "bond_type": "codified-strong",
        "energy_loss": 40,
        "is_cross_university": True,
    },
    "projects": {
        "name": "PROVES",
        "description": "Shared nucleus",
        "status": "active",
        "start_date": dt.date(2025, 9, 1),
        "end_date": None,
    },
    "faculty": {
        "name": "John Doe",
        "email": "jdoe@cpp.example.edu",
        "university_id": "cpp",
        "department": "Aerospace",
        "role": None,
    },
}


def blank_page(schema: dict[str, Any]) -> dict[str, Any]:
    empty = EMPTY_VALUES
    return {
        name: {"id": name[:4], "type": kind, kind: empty[kind]}
        for name, spec in schema.items()
        for kind in spec
    }


@pytest.mark.parametrize("name", sorted(ROWS))
def test_round_trip_through_notion(name: str) -> None:
    entity = ENTITIES[name]
    values = canonical(entity, ROWS[name])
    schema = database_properties(entity)
    for server in serve(NotionState()):
        page = server.state.add_page(blank_page(schema), [])
        api = NotionAPI(TOKEN, base_url=server.url, per_second=200)
        api.update_page(
            page["id"], page_properties(entity, values, "key-1", "synced", "2026-01-01T00:00:00Z")
        )
        row = row_from_page(entity, api.page(page["id"]))
        assert row.postgres_id == "key-1"
        assert row.values == values
        stored = server.state.pages[page["id"]]["properties"]
        assert stored["sync_status"]["select"]["name"] == "synced"
        assert stored["last_synced"]["date"]["start"] == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize("length", [2001, 6000, 200_000])
def test_long_text_round_trips_whole_through_notion(length: int) -> None:
    """Issue #12 item 16: the server refuses items over 2,000 characters, as Notion does."""
    entity = ENTITIES["projects"]
    text = ("Lorem ipsum dolor sit amet. " * (length // 28 + 1))[:length].strip()
    values = canonical(entity, {**ROWS["projects"], "description": text})
    for server in serve(NotionState()):
        page = server.state.add_page(blank_page(database_properties(entity)), [])
        api = NotionAPI(TOKEN, base_url=server.url, per_second=200)
        api.update_page(
            page["id"], page_properties(entity, values, "key-1", "synced", "2026-01-01T00:00:00Z")
        )
        assert row_from_page(entity, api.page(page["id"])).values == values
