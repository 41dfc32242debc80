"""`pipeline notion review-feedback` (issue #14, item 4): a review on GitHub becomes one
comment on the module's Notion page, with the section each line comment points at;
changes requested move the row's Status back; a PR closed without merging is told; nothing
is told twice. Real git and `pipeline propose` make the PR; PyGithub and notion-client talk
to the local GitHub and Notion servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.builders import git, module, prop, remote_checkout, rt
from tests.conftest import CLI, ROOT
from tests.doubles.github_server import (
    GITHUB_TOKEN,
    GitHubServer,
    GitHubState,
    close_pull,
    submit_review,
)
from tests.doubles.github_server import serve as serve_github
from tests.doubles.notion_server import TOKEN, NotionServer, NotionState, point_cli_at
from tests.doubles.notion_server import serve as serve_notion

FILE = "data/modules/lab-safety-101.json"


@dataclass
class World:
    work: Path
    github: GitHubServer
    notion: NotionServer
    page: dict[str, Any]
    event: Path

    def comments(self) -> list[str]:
        """The page's comments, as the team lead reads them."""
        return [
            "".join(item["plain_text"] for item in c["rich_text"])
            for c in self.notion.state.comments
            if c["parent"]["page_id"] == self.page["id"]
        ]

    def status(self) -> str:
        return str(
            self.notion.state.pages[self.page["id"]]["properties"]["Status"]["status"]["name"]
        )

    def on_event(self, payload: dict[str, Any]) -> None:
        self.event.write_text(json.dumps(payload))

    def reviewed(self, review: dict[str, Any], number: int = 1) -> None:
        """The Actions event of a submitted review."""
        self.on_event(
            {
                "action": "submitted",
                "review": {"id": review["id"]},
                "pull_request": {"number": number},
            }
        )

    def line_of(self, text: str) -> int:
        """The line of the module file on the PR's branch that holds `text`."""
        source = git(self.github.state.bare, "show", f"notion/lab-safety-101:{FILE}")
        return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: CLI) -> Iterator[World]:
    work, bare = remote_checkout(
        tmp_path, {"data/modules/base.json": json.dumps(module(module_id="base"))}
    )
    monkeypatch.chdir(work)
    event = tmp_path / "event.json"
    for notion in serve_notion(NotionState()):
        for github in serve_github(GitHubState(bare=bare)):
            point_cli_at(notion, monkeypatch, work, database=True)
            monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
            monkeypatch.setenv("GITHUB_REPOSITORY", "frames/modules")
            monkeypatch.setenv("GITHUB_API_URL", github.url)
            monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
            page = notion.state.add_page(
                {
                    "Module Name": prop("title", [rt("Lab Safety 101")]),
                    "Status": prop("status", {"id": "s", "name": "Ready"}),
                    "Module ID": prop("rich_text", [rt("lab-safety-101")]),
                    "GitHub Branch/PR": prop("url", None),
                    "Last Updated": prop("date", None),
                },
                [],
            )
            lab = json.loads((ROOT / FILE).read_text())
            lab["notion_page_id"] = page["id"]
            (work / FILE).write_text(json.dumps(lab, indent=2) + "\n")
            assert cli("propose").code == 0  # PR #1, from notion/lab-safety-101
            yield World(work, github, notion, page, event)


def test_changes_requested_become_one_comment_and_move_the_status_back(
    world: World, cli: CLI
) -> None:
    line = world.line_of('"x": 300')
    review = submit_review(
        world.github.state,
        1,
        "alice",
        "CHANGES_REQUESTED",
        "The eye wash station is by the sink, not the door.",
        [
            {"path": FILE, "line": line, "body": "Move it to x 320."},
            {"path": FILE, "line": world.line_of('"answer": ['), "body": "Is b really right?"},
        ],
    )
    world.reviewed(review)
    result = cli("notion", "review-feedback")
    assert result.code == 0, result.err
    assert "pull request #1 (lab-safety-101): review 80 by alice (changes requested): posted" in (
        result.out
    )
    [comment] = world.comments()
    assert comment.startswith("🔁 Changes requested on “Lab Safety 101” by alice")
    assert "The eye wash station is by the sink, not the door." in comment
    assert (
        f"• Section 2 “Locate Safety Equipment”, hotspot eye-wash (line {line}): Move it to x 320."
    ) in comment
    assert "• Section 4 “Check Your Understanding”, question q1" in comment
    assert "set its Status to Ready again" in comment
    # The verdict links to the review; each line comment to its thread on GitHub.
    [stored] = world.notion.state.comments
    links = [item["href"] for item in stored["rich_text"] if item["href"]]
    assert links[0] == review["html_url"]
    assert all(link.startswith("https://github.com/frames/modules/pull/1#") for link in links)
    assert world.status() == "In Review"
    assert TOKEN not in result.out + result.err and GITHUB_TOKEN not in result.out + result.err

    # The same event again (a rerun): nothing new.
    world.notion.state.pages[world.page["id"]]["properties"]["Status"]["status"]["name"] = "Ready"
    result = cli("notion", "review-feedback")
    assert result.code == 0, result.err
    assert "changes requested): already posted" in result.out
    assert len(world.comments()) == 1
    assert world.status() == "Ready"  # the team lead's Ready stands


def test_an_approval_is_told_and_the_status_stays(world: World, cli: CLI) -> None:
    review = submit_review(world.github.state, 1, "bob", "APPROVED", "Looks right to me.")
    world.reviewed(review)
    assert cli("notion", "review-feedback").code == 0
    [comment] = world.comments()
    assert comment.startswith("✅ Approved on “Lab Safety 101” by bob")
    assert "goes live when the pull request is merged" in comment
    assert world.status() == "Ready"


def test_a_configured_status_is_the_one_set(world: World, cli: CLI) -> None:
    yaml = (world.work / "pipeline.yaml").read_text()
    (world.work / "pipeline.yaml").write_text(yaml + "  review_status: Drafting\n")
    review = submit_review(world.github.state, 1, "alice", "CHANGES_REQUESTED", "Not yet.")
    world.reviewed(review)
    assert cli("notion", "review-feedback").code == 0
    assert world.status() == "Drafting"


def test_closed_without_merging_is_told_once(world: World, cli: CLI) -> None:
    world.github.state.comments.append(
        {
            "id": 9,
            "issue_number": 1,
            "body": "Superseded by the spring version.",
            "user": {"login": "carol", "id": 3, "type": "User"},
            "created_at": "2025-11-28T09:00:00Z",
        }
    )
    close_pull(world.github.state, 1)
    world.on_event({"action": "closed", "pull_request": {"number": 1, "merged": False}})
    for _ in range(2):
        result = cli("notion", "review-feedback")
        assert result.code == 0, result.err
    [comment] = world.comments()
    assert comment.startswith(
        "⛔ The pull request for “Lab Safety 101” was closed without being merged"
    )
    assert "The last comment on it, by carol: Superseded by the spring version." in comment
    assert "already posted" in result.out
    assert world.status() == "Ready"


def test_a_merged_pull_request_is_mark_lives_business(world: World, cli: CLI) -> None:
    close_pull(world.github.state, 1, merged=True)
    world.on_event({"action": "closed", "pull_request": {"number": 1, "merged": True}})
    result = cli("notion", "review-feedback")
    assert result.code == 0, result.err
    assert "nothing to tell" in result.out
    assert world.comments() == []


def test_a_catch_up_run_tells_every_review_not_yet_told(world: World, cli: CLI) -> None:
    state = world.github.state
    submit_review(state, 1, "alice", "COMMENTED", "One question first.")
    told = submit_review(state, 1, "bob", "APPROVED", "Fine.")
    submit_review(state, 1, "carol", "COMMENTED", "")  # nothing said: nothing to tell
    world.reviewed(told)
    assert cli("notion", "review-feedback").code == 0
    result = cli("notion", "review-feedback", "--pr", "1")
    assert result.code == 0, result.err
    assert "review 80 by alice (commented): posted" in result.out
    assert "review 81 by bob (approved): already posted" in result.out
    comments = world.comments()
    assert len(comments) == 2 and comments[1].startswith("💬 Comments on “Lab Safety 101” by alice")


def test_a_dry_run_posts_nothing_and_shows_the_comment(world: World, cli: CLI) -> None:
    review = submit_review(world.github.state, 1, "alice", "CHANGES_REQUESTED", "Fix the quiz.")
    world.reviewed(review)
    result = cli("notion", "review-feedback", "--dry-run")
    assert result.code == 0, result.err
    assert "(changes requested): would post" in result.out
    assert "🔁 Changes requested on “Lab Safety 101” by alice" in result.out
    assert "Status would be set to In Review" in result.out
    assert world.comments() == [] and world.status() == "Ready"
    as_json = json.loads(cli("notion", "review-feedback", "--dry-run", "--json").out)
    assert as_json["told"][0]["outcome"] == "would post" and as_json["status"] == "In Review"


def test_pull_requests_that_are_not_a_modules_are_left_alone(world: World, cli: CLI) -> None:
    pull = world.github.state.pulls[0]
    pull["head"]["repo"] = {**pull["head"]["repo"], "full_name": "someone/fork"}
    submit_review(world.github.state, 1, "alice", "CHANGES_REQUESTED", "x")
    result = cli("notion", "review-feedback", "--pr", "1")
    assert result.code == 0, result.err
    assert "not a module pull request" in result.out and "someone/fork" in result.out
    assert world.comments() == [] and world.status() == "Ready"


def test_a_page_that_is_not_the_modules_row_is_not_written(world: World, cli: CLI) -> None:
    props = world.notion.state.pages[world.page["id"]]["properties"]
    props["Module ID"] = prop("rich_text", [rt("another-module")])
    review = submit_review(world.github.state, 1, "alice", "CHANGES_REQUESTED", "x")
    world.reviewed(review)
    result = cli("notion", "review-feedback")
    assert result.code == 2
    assert "has Module ID 'another-module', not 'lab-safety-101'" in result.err
    assert world.comments() == [] and world.status() == "Ready"


def test_a_pull_request_or_review_that_is_not_there_is_named(world: World, cli: CLI) -> None:
    result = cli("notion", "review-feedback", "--pr", "99")
    assert result.code == 2
    assert "there is no pull request #99 in frames/modules" in result.err
    result = cli("notion", "review-feedback", "--pr", "1", "--review", "12345")
    assert result.code == 2
    assert "pull request #1 has no review 12345" in result.err


def test_without_an_event_or_pr_it_says_what_to_give(
    world: World, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_EVENT_PATH")
    result = cli("notion", "review-feedback")
    assert result.code == 2
    assert "Give --pr N" in result.err


def test_a_long_review_fits_notions_limits(world: World, cli: CLI) -> None:
    body = "Please rewrite this. " * 400  # 8,400 characters: more than one rich-text item
    comments = [{"path": FILE, "line": 5, "body": f"Comment {n}"} for n in range(120)]
    review = submit_review(world.github.state, 1, "alice", "COMMENTED", body, comments)
    world.reviewed(review)
    result = cli("notion", "review-feedback")
    assert result.code == 0, result.err
    [stored] = world.notion.state.comments
    assert len(stored["rich_text"]) <= 100
    assert all(len(item["plain_text"]) <= 2000 for item in stored["rich_text"])
    assert stored["rich_text"][-1]["href"] == review["html_url"]  # the rest, on GitHub
