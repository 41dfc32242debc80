"""`pipeline notion backup` and `backup-pr` (issue #16, item 3): every Module Library page,
every status, properties and blocks as returned, in data/backups/notion/, proposed as
one pull request on the local GitHub server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import block, body, git, para, properties, remote_checkout, rt, schema
from tests.conftest import CLI
from tests.doubles.github_server import GITHUB_TOKEN, GitHubServer, GitHubState
from tests.doubles.github_server import serve as serve_github
from tests.doubles.notion_server import TOKEN, NotionServer, NotionState, point_cli_at, trash
from tests.doubles.notion_server import serve as serve_notion

FOLDER = Path("data") / "backups" / "notion"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work, _bare = remote_checkout(tmp_path, {"README.md": "modules\n"}, message="start")
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def notion(work: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotionServer]:
    for server in serve_notion(NotionState(schema=schema())):
        point_cli_at(server, monkeypatch, work, database=True)
        yield server


@pytest.fixture
def github(work: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubServer]:
    for server in serve_github(GitHubState(bare=work.parent / "remote.git")):
        monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", "frames/modules")
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        yield server


def test_every_page_of_every_status_is_backed_up(
    work: Path, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state
    ready = state.add_page(properties("lab", "Lab"), body())
    draft = state.add_page(properties("idea", "An idea", status="Drafting"), body("Draft text"))
    hosted = state.hosted_file("plan.png", b"\x89PNG", notion.url)
    state.add_page(
        properties(None, "No id yet", status="Intake"),
        [para(rt("Picture:")), block("image", type="file", caption=[], file=hosted)],
    )
    result = cli("notion", "backup", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["pages"] == 3 and len(report["written"]) == 4
    names = sorted(p.name for p in (work / FOLDER).iterdir())
    assert "_data_source.json" in names and f"{ready['id']}.json" in names
    saved = json.loads((work / FOLDER / f"{draft['id']}.json").read_text())
    assert saved["page"]["properties"] == json.loads(json.dumps(draft["properties"]))
    assert saved["page"]["properties"]["Status"]["status"]["name"] == "Drafting"
    texts = [
        b["paragraph"]["rich_text"][0]["plain_text"]
        for b in saved["blocks"]
        if b["type"] == "paragraph"
    ]
    assert "Draft text" in texts
    schema_file = json.loads((work / FOLDER / "_data_source.json").read_text())
    assert "Module ID" in schema_file["properties"]
    assert TOKEN not in result.out + result.err

    # Nothing changed in Notion: the same bytes, so no diff (signed file links included).
    before = {p.name: p.read_bytes() for p in (work / FOLDER).iterdir()}
    again = json.loads(cli("notion", "backup", "--json").out)
    assert again["written"] == [] and again["removed"] == []
    assert {p.name: p.read_bytes() for p in (work / FOLDER).iterdir()} == before
    image = next(
        json.loads(p.read_text()) for p in (work / FOLDER).iterdir() if "No id yet" in p.read_text()
    )["blocks"][1]["image"]
    assert "?" not in image["file"]["url"] and "expiry_time" not in image["file"]

    # A page moved to the trash leaves the backup (Git's history keeps it).
    trash(state.pages[draft["id"]])
    gone = json.loads(cli("notion", "backup", "--json").out)
    assert gone["removed"] == [f"data/backups/notion/{draft['id']}.json"]
    assert not (work / FOLDER / f"{draft['id']}.json").exists()


def test_the_backup_is_proposed_as_one_pull_request(
    work: Path, notion: NotionServer, github: GitHubServer, cli: CLI
) -> None:
    notion.state.add_page(properties("lab", "Lab"), body())
    assert cli("notion", "backup").code == 0
    (work / "data" / "modules").mkdir(parents=True)
    (work / "data" / "modules" / "local.json").write_text("{}")  # not part of the backup
    opened = cli("notion", "backup-pr", "--json")
    assert opened.code == 0, opened.err
    assert json.loads(opened.out)["action"] == "opened"
    [pull] = github.state.pulls
    assert pull["head"]["ref"] == "notion-backup" and pull["title"].startswith("Notion backup (")
    files = git(work.parent / "remote.git", "ls-tree", "-r", "--name-only", "notion-backup")
    assert sorted(files.split()) == sorted(
        ["README.md", *(f"{FOLDER.as_posix()}/{p.name}" for p in (work / FOLDER).iterdir())]
    )
    assert json.loads(cli("notion", "backup-pr", "--json").out)["action"] == "unchanged"

    notion.state.add_page(properties("more", "More"), body())
    cli("notion", "backup")
    assert json.loads(cli("notion", "backup-pr", "--json").out)["action"] == "updated"
    assert len(github.state.pulls) == 1
