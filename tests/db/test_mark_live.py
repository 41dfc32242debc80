"""`pipeline notion mark-live` after a deploy: real Postgres, local Notion server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.builders import module, prop, rt
from tests.conftest import CLI, Database, Repo
from tests.doubles.notion_server import TOKEN, NotionServer, NotionState, point_cli_at, serve


def test_deployed_modules_are_marked_live(
    repo: Repo, db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    kinds = {"Status": "status", "Last Updated": "date", "Deployed Revision": "number"}
    for notion in serve(
        NotionState(
            schema={n: {"id": n[:3], "name": n, "type": k, k: {}} for n, k in kinds.items()}
        )
    ):
        page = notion.state.add_page(
            {
                "Status": {"id": "s", "type": "status", "status": {"name": "Ready"}},
                "Last Updated": {"id": "l", "type": "date", "date": None},
                "Deployed Revision": {"id": "d", "type": "number", "number": None},
                "Module ID": prop("rich_text", [rt("a")]),
            },
            [],
        )
        point_cli_at(notion, monkeypatch, repo.root, database=True)
        repo.write(module(module_id="a", notion_page_id=page["id"]))
        repo.write(module(module_id="b"))
        assert cli("deploy").code == 0

        before = datetime.now(UTC).replace(microsecond=0)
        result = cli("notion", "mark-live")
        assert result.code == 0, result.err
        assert "a: Live (revision 1)" in result.out
        assert "b: not from Notion" in result.out
        props = notion.state.pages[page["id"]]["properties"]
        assert props["Status"]["status"]["name"] == "Live"
        assert props["Deployed Revision"]["number"] == 1
        stamp = datetime.fromisoformat(props["Last Updated"]["date"]["start"])
        assert before <= stamp <= datetime.now(UTC), stamp  # when it was marked, in UTC

        again = cli("notion", "mark-live")  # a rerun sets the same values
        assert again.code == 0
        props = notion.state.pages[page["id"]]["properties"]
        assert (props["Status"]["status"]["name"], props["Deployed Revision"]["number"]) == (
            "Live",
            1,
        )


def test_mark_live_before_any_deploy(
    db: Database, repo: Repo, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTION_TOKEN", TOKEN)
    result = cli("notion", "mark-live")
    assert result.code == 2
    assert "no deploy has been logged yet" in result.err


def library_page(notion: NotionServer, module_id: str | None) -> str:
    properties: dict[str, Any] = {
        "Status": {"id": "s", "type": "status", "status": {"name": "Ready"}},
        "Last Updated": {"id": "l", "type": "date", "date": None},
    }
    if module_id is not None:
        properties["Module ID"] = prop("rich_text", [rt(module_id)])
    return str(notion.state.add_page(properties, [])["id"])


def test_mark_live_marks_only_published_modules_on_their_own_library_pages(
    repo: Repo, db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    for notion in serve(NotionState()):
        point_cli_at(notion, monkeypatch, repo.root, database=True)
        ok, draft = library_page(notion, "ok"), library_page(notion, "draft")
        other = library_page(notion, "someone-else")
        elsewhere = library_page(notion, "stray")
        notion.state.pages[elsewhere]["parent"] = {"type": "page_id", "page_id": ok}
        repo.write(module(module_id="ok", notion_page_id=ok))
        repo.write(module(module_id="draft", status="draft", notion_page_id=draft))
        repo.write(module(module_id="wrong-id", notion_page_id=other))
        repo.write(module(module_id="stray", notion_page_id=elsewhere))
        assert cli("deploy").code == 0

        result = cli("notion", "mark-live")
        assert result.code == 1
        assert "ok: Live (revision 1)" in result.out
        assert "draft: not published" in result.out
        assert "wrong-id: NOT marked live: the page's Module ID is 'someone-else'" in result.out
        assert "stray: NOT marked live: the page" in result.out
        assert "is not in the Module Library" in result.out
        statuses = {
            page: notion.state.pages[page]["properties"]["Status"]["status"]["name"]
            for page in (ok, draft, other, elsewhere)
        }
        assert statuses == {ok: "Live", draft: "Ready", other: "Ready", elsewhere: "Ready"}


def test_two_modules_may_not_name_one_page(repo: Repo, cli: CLI) -> None:
    page = "0123456789abcdef0123456789abcdef"
    repo.write(module(module_id="a", notion_page_id=page))
    repo.write(module(module_id="b", notion_page_id="01234567-89ab-cdef-0123-456789abcdef"))
    result = cli("validate", "--json")
    assert result.code == 1
    problems = json.loads(result.out)["problems"]
    assert {(p["file"], p["check"]) for p in problems} == {
        ("data/modules/a.json", "unique-page"),
        ("data/modules/b.json", "unique-page"),
    }
    assert "also the page of b" in problems[0]["message"]
