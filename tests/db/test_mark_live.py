"""`pipeline notion mark-live` after a deploy: real Postgres, local Notion server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.builders import module
from tests.conftest import CLI, Database, Repo
from tests.doubles.notion_server import TOKEN, NotionState, point_cli_at, serve


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
