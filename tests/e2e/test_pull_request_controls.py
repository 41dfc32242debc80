"""`pipeline propose` as people expect of a bot's pull requests (issue #14, items 2 and 3):
reviewers, team reviewers, assignees, draft and labels from pipeline.yaml; a dry run that
says truly what it would do and what it would send; a job summary and step outputs in
Actions. Real git to a bare repository, PyGithub to the local GitHub server."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.builders import git, github_view, module, remote_checkout
from tests.conftest import CLI
from tests.doubles.github_server import GITHUB_TOKEN, GitHubServer, GitHubState
from tests.doubles.github_server import serve as serve_github


@dataclass
class World:
    work: Path
    bare: Path
    github: GitHubServer

    def write(self, data: dict[str, Any]) -> None:
        path = self.work / "data" / "modules" / f"{data['module_id']}.json"
        path.write_text(json.dumps(data, indent=2) + "\n")

    def configure(self, text: str) -> None:
        (self.work / "pipeline.yaml").write_text(text)

    @property
    def pulls(self) -> list[dict[str, Any]]:
        return self.github.state.pulls


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    work, bare = remote_checkout(
        tmp_path, {"data/modules/base.json": json.dumps(module(module_id="base"))}
    )
    monkeypatch.chdir(work)
    for server in serve_github(GitHubState(bare=bare)):
        monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", "frames/modules")
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        for name in ("NOTION_TOKEN", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
            monkeypatch.delenv(name, raising=False)
        yield World(work, bare, server)


def lab(revision: int = 1, **extra: Any) -> dict[str, Any]:
    return module(
        module_id="lab", title="Lab", category="Safety", metadata={"revision": revision}, **extra
    )


CONTROLS = """\
propose:
  reviewers: [alice, bob]
  team_reviewers: [content-reviewers]
  assignees: [carol]
  draft: true
  labels: [needs-content-review]
  category_labels:
    Safety: [safety-team]
"""


def test_a_new_pull_request_gets_its_reviewers_assignees_draft_and_labels(
    world: World, cli: CLI
) -> None:
    world.configure(CONTROLS)
    world.write(lab())
    result = cli("propose")
    assert result.code == 0, result.err
    [pull] = world.pulls
    assert pull["draft"] is True
    assert [u["login"] for u in pull["requested_reviewers"]] == ["alice", "bob"]
    assert [t["slug"] for t in pull["requested_teams"]] == ["content-reviewers"]
    assert [u["login"] for u in pull["assignees"]] == ["carol"]
    assert [label["name"] for label in pull["labels"]] == [
        "module",
        "auto-export",
        "needs-content-review",
        "safety-team",
    ]

    # An update keeps what people did since: nobody is asked again or re-assigned.
    pull["requested_reviewers"] = []  # alice and bob reviewed
    pull["assignees"] = []  # carol unassigned herself
    requests = world.github.state.hits["POST /repos/frames/modules/pulls/N/requested_reviewers"]
    world.write(lab(2))
    result = cli("propose")
    assert "lab: updated" in result.out
    assert pull["requested_reviewers"] == [] and pull["assignees"] == []
    assert world.github.state.hits["POST /repos/frames/modules/pulls/N/requested_reviewers"] == (
        requests
    )


def test_a_reviewer_github_refuses_is_a_note_and_the_pull_request_stands(
    world: World, cli: CLI
) -> None:
    world.configure("propose:\n  reviewers: [mallory]\n")
    world.write(lab())
    result = cli("propose")
    assert result.code == 0, result.err
    assert len(world.pulls) == 1
    assert "lab: the PR is open but its reviewers were not asked" in result.out
    assert "Reviews may only be requested from collaborators" in result.out


def test_drafts_github_does_not_offer_are_refused_in_words(world: World, cli: CLI) -> None:
    world.github.state.drafts_supported = False
    world.configure("propose:\n  draft: true\n")
    world.write(lab())
    result = cli("propose")
    assert result.code == 4
    assert "Draft pull requests are not supported in this repository" in result.err
    assert world.pulls == []


def test_unknown_settings_are_named(world: World, cli: CLI) -> None:
    world.configure("propose:\n  reviewer: [alice]\n")
    world.write(lab())
    result = cli("propose")
    assert result.code == 2
    assert "unknown key 'reviewer' (did you mean 'reviewers'?)" in result.err


# -- a dry run says truly what it would do --------------------------------------------------


def test_a_dry_run_says_open_or_update_and_shows_what_it_would_send(world: World, cli: CLI) -> None:
    world.write(lab())
    result = cli("propose", "--dry-run")
    assert result.code == 0, result.err
    assert "lab: would open" in result.out
    assert "--- lab: title\nModule: Lab (rev 1)\n" in result.out
    assert "--- lab: body\n<!-- module-pipeline:lab -->\n## Lab (`lab`)" in result.out
    assert world.pulls == [] and world.github.state.branch_sha("notion/lab") is None

    as_json = json.loads(cli("propose", "--dry-run", "--json").out)
    [proposal] = as_json["proposals"]
    assert proposal["action"] == "opened" and proposal["title"] == "Module: Lab (rev 1)"
    assert proposal["body"].startswith("<!-- module-pipeline:lab -->")

    assert cli("propose").code == 0  # now the PR is open
    sent = world.pulls[0]["body"]
    result = cli("propose", "--dry-run")
    assert "lab: unchanged  https://github.com/frames/modules/pull/1" in result.out

    world.write(lab(2))
    result = cli("propose", "--dry-run")
    assert "lab: would update  https://github.com/frames/modules/pull/1" in result.out
    assert world.pulls[0]["body"] == sent  # nothing sent
    assert cli("propose").code == 0
    # What the dry run said it would send is what a real run sent.
    assert world.pulls[0]["title"] == "Module: Lab (rev 2)"

    (world.work / "data" / "modules" / "lab.json").unlink()
    (world.work / ".pipeline").mkdir()
    (world.work / ".pipeline" / "last-export.json").write_text('{"checked": ["lab"]}')
    result = cli("propose", "--dry-run")
    assert "lab: would close  https://github.com/frames/modules/pull/1" in result.out
    assert world.pulls[0]["state"] == "open"


def test_what_a_dry_run_shows_is_what_a_real_run_sends(world: World, cli: CLI) -> None:
    world.write(lab())
    cli("propose")
    world.write(lab(2, description="Now with a description."))
    [proposal] = json.loads(cli("propose", "--dry-run", "--json").out)["proposals"]
    assert cli("propose").code == 0
    assert world.pulls[0]["body"] == proposal["body"]
    assert world.pulls[0]["title"] == proposal["title"]


# -- in Actions: a job summary and step outputs ---------------------------------------------


def test_propose_writes_a_job_summary_and_step_outputs(
    world: World, cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    world.write(lab())
    world.write(module(module_id="other", title="Other"))
    assert cli("propose").code == 0
    assert outputs.read_text() == "opened=1 2\nupdated=\nclosed=\n"
    rows = github_view(summary.read_text()).rows
    assert rows == [
        ["module", "action", "pull request"],
        ["`lab`", "opened", "[#1](https://github.com/frames/modules/pull/1)"],
        ["`other`", "opened", "[#2](https://github.com/frames/modules/pull/2)"],
    ]

    world.write(lab(2))
    (world.work / "data" / "modules" / "other.json").unlink()
    (world.work / ".pipeline").mkdir()
    (world.work / ".pipeline" / "last-export.json").write_text('{"checked": ["other"]}')
    outputs.write_text("")
    assert cli("propose").code == 0
    assert outputs.read_text() == "opened=\nupdated=1\nclosed=2\n"

    outputs.write_text("")
    world.write(lab(3))
    assert cli("propose", "--dry-run").code == 0
    assert outputs.read_text() == "opened=\nupdated=\nclosed=\n"  # a dry run opens nothing
    assert "## Pull requests (dry run: nothing pushed)" in summary.read_text()


# -- commits GitHub signs: made through its API (issue #14, item 3) ------------------------


def test_verified_commits_are_made_through_githubs_api(world: World, cli: CLI) -> None:
    world.configure("propose:\n  verified_commits: true\n")
    assets = world.work / "data" / "assets" / "lab"
    assets.mkdir(parents=True)
    (assets / "plan.png").write_bytes(bytes(range(256)) * 4)  # binary, byte for byte
    world.write(lab())
    result = cli("propose")
    assert result.code == 0, result.err
    state = world.github.state
    head = state.branch_sha("notion/lab")
    assert head in state.verified  # GitHub signed it: the PR shows it as verified
    assert git(world.bare, "log", "-1", "--format=%an|%cn", head) == "module-pipeline[bot]|GitHub"
    assert git(world.bare, "rev-parse", f"{head}^") == git(world.bare, "rev-parse", "main")
    files = git(world.bare, "ls-tree", "-r", "--name-only", head).splitlines()
    assert files == ["data/assets/lab/plan.png", "data/modules/base.json", "data/modules/lab.json"]
    shown = subprocess.run(
        ["git", "cat-file", "blob", f"{head}:data/assets/lab/plan.png"],
        cwd=world.bare,
        capture_output=True,
        check=True,
    )
    assert shown.stdout == bytes(range(256)) * 4
    [pull] = world.pulls
    assert f"/blob/{head}/" in pull["body"] or f"/raw/{head}/" in pull["body"]  # images at it
    hits = state.hits
    assert hits["POST /repos/frames/modules/git/commits"] == 1

    # Unchanged files: nothing made again. Changed (a file gone): the branch moves, signed.
    assert "lab: unchanged" in cli("propose").out
    (assets / "plan.png").unlink()
    world.write(lab(2))
    result = cli("propose")
    assert "lab: updated" in result.out, result.err
    moved = state.branch_sha("notion/lab")
    assert moved != head and moved in state.verified
    assert "data/assets/lab/plan.png" not in git(world.bare, "ls-tree", "-r", "--name-only", moved)


def test_a_branch_moved_meanwhile_is_not_overwritten_through_the_api(
    world: World, cli: CLI
) -> None:
    world.configure("propose:\n  verified_commits: true\n")
    world.write(lab())
    assert cli("propose").code == 0
    someone = git(world.bare, "commit-tree", "-p", "main", "-m", "theirs", "main^{tree}")
    # Someone pushes to the branch after propose fetched it, before it moves the branch.
    world.github.state.push_before_ref_read = ("notion/lab", someone)
    world.write(lab(2))
    result = cli("propose")
    assert result.code == 4
    assert "notion/lab moved on GitHub while propose ran; run it again" in result.err
    assert world.github.state.branch_sha("notion/lab") == someone  # theirs stands
