"""The Notion wrapper through the real notion-client against the local Notion server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.errors import ServiceError, UsageError
from pipeline.notion.api import NotionAPI
from tests.builders import block, para, rt
from tests.doubles.notion_server import TOKEN, Bucket, NotionServer, NotionState, serve


@pytest.fixture
def notion() -> Iterator[NotionServer]:
    yield from serve(NotionState())


def api_for(server: NotionServer, per_second: float = 200.0) -> NotionAPI:
    return NotionAPI(TOKEN, base_url=server.url, per_second=per_second)


def status(name: str) -> dict[str, Any]:
    return {"id": "s", "type": "status", "status": {"id": "x", "name": name}}


def add_pages(state: NotionState, ready: int, other: int) -> None:
    for i in range(ready + other):
        state.add_page(
            {
                "Status": status("Ready" if i < ready else "Drafting"),
                "Module Name": {"id": "title", "type": "title", "title": [rt(f"Module {i}")]},
            },
            [para(rt("x"))],
        )


READY = {"property": "Status", "status": {"equals": "Ready"}}


def test_query_filters_and_follows_cursors(notion: NotionServer) -> None:
    add_pages(notion.state, ready=230, other=40)
    api = api_for(notion)
    source = api.data_source_id(notion.state.database_id)
    pages = list(api.query(source, filter=READY))
    assert len(pages) == 230
    assert len({p["id"] for p in pages}) == 230
    assert notion.state.hits["POST /v1/data_sources/{id}/query"] == 3


def test_block_tree_with_pagination_and_nesting(notion: NotionServer) -> None:
    deep = block(
        "bulleted_list_item",
        [
            block(
                "bulleted_list_item",
                [block("bulleted_list_item", rich_text=[rt("level 3")])],
                rich_text=[rt("level 2")],
            )
        ],
        rich_text=[rt("level 1")],
    )
    page = notion.state.add_page({}, [para(rt(f"p{i}")) for i in range(250)] + [deep])
    tree = api_for(notion).block_tree(page["id"])
    assert len(tree) == 251
    assert [b["paragraph"]["rich_text"][0]["plain_text"] for b in tree[:3]] == ["p0", "p1", "p2"]
    level3 = tree[-1]["children"][0]["children"][0]
    assert level3["bulleted_list_item"]["rich_text"][0]["plain_text"] == "level 3"
    assert level3["children"] == []
    assert notion.state.hits["GET /v1/blocks/{id}/children"] == 3 + 2


def test_rate_limit_storm_is_weathered(notion: NotionServer) -> None:
    notion.state.bucket = Bucket(rate=20, burst=3)
    notion.state.retry_after = 0.1
    page = notion.state.add_page({}, [para(rt("x"))])
    api = api_for(notion, per_second=500)
    for _ in range(40):
        assert len(api.children(page["id"])) == 1
    assert api.stats.rate_limited > 0
    assert notion.state.statuses[429] == api.stats.rate_limited


def test_pacing_keeps_under_the_limit(notion: NotionServer) -> None:
    notion.state.bucket = Bucket(rate=20, burst=1)
    page = notion.state.add_page({}, [para(rt("x"))])
    api = api_for(notion, per_second=15)
    for _ in range(15):
        api.children(page["id"])
    assert api.stats.rate_limited == 0


def test_5xx_on_the_query_is_retried(notion: NotionServer) -> None:
    add_pages(notion.state, ready=3, other=0)
    notion.state.faults.extend([(r"POST /v1/data_sources", 502), (r"POST /v1/data_sources", 500)])
    api = api_for(notion)
    api._sleep = lambda _s: None  # back-off waits are not what this test is about
    pages = list(api.query(notion.state.data_source_id, filter=READY))
    assert len(pages) == 3
    assert api.stats.retried == 2


def test_a_comment_is_not_posted_twice(notion: NotionServer) -> None:
    page = notion.state.add_page({}, [])
    notion.state.faults.append((r"POST /v1/comments", 500))
    api = api_for(notion)
    with pytest.raises(ServiceError, match="Notion refused a comment on page"):
        api.comment(page["id"], "Export failed")
    assert notion.state.comments == []
    api.comment(page["id"], "Export failed")
    assert len(notion.state.comments) == 1


def test_errors_are_clear_and_carry_no_token(notion: NotionServer) -> None:
    api = api_for(notion)
    with pytest.raises(UsageError) as missing:  # waiting will not help: the operator acts
        api.data_source_id("00000000-0000-4000-8000-000000000000")
    assert "HTTP 404 object_not_found: Could not find database" in str(missing.value)
    assert "Share it with the integration" in str(missing.value)
    wrong = NotionAPI("secret_wrong_token", base_url=notion.url)
    with pytest.raises(UsageError) as caught:
        wrong.children(notion.state.add_page({}, [])["id"])
    assert "HTTP 401 unauthorized" in str(caught.value)
    assert "NOTION_TOKEN" in str(caught.value)
    assert "secret_wrong_token" not in str(caught.value)


def test_update_page_properties(notion: NotionServer) -> None:
    page = notion.state.add_page({"Status": status("Ready")}, [])
    api_for(notion).update_page(page["id"], {"Status": {"status": {"name": "Live"}}})
    assert notion.state.pages[page["id"]]["properties"]["Status"]["status"]["name"] == "Live"


def test_token_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, notion: NotionServer
) -> None:
    monkeypatch.delenv("NOTION_TOKEN", raising=False)
    with pytest.raises(UsageError, match="NOTION_TOKEN is not set"):
        NotionAPI.from_environment()
    monkeypatch.setenv("NOTION_TOKEN", TOKEN)
    monkeypatch.setenv("NOTION_API_BASE_URL", notion.url)
    api = NotionAPI.from_environment(per_second=100)
    assert api.data_source_id(notion.state.database_id) == notion.state.data_source_id


def test_edit_times_are_whole_minutes_like_notion(notion: NotionServer) -> None:
    """Notion gives created_time and last_edited_time to the minute, never the second."""
    page = notion.state.add_page({"Status": status("Ready")}, [], edited=1_764_167_459.5)
    assert (page["created_time"], page["last_edited_time"]) == (
        "2025-11-26T14:30:00.000Z",
        "2025-11-26T14:30:00.000Z",
    )
    api = api_for(notion)
    api.update_page(page["id"], {"Status": {"status": {"name": "Live"}}})
    edited = api.page(page["id"])["last_edited_time"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z", edited), edited
    assert edited > "2025-11-26T14:30:00.000Z"
