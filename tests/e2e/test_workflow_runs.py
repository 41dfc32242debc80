"""Each workflow's run: steps, executed in order as Actions would, against the local
Notion and GitHub servers and a real Postgres.

`uses:` steps are not run (test_workflows checks they are pinned); their outputs
are given. The Install step is not run: the test environment has the package and
the locked versions already (tests/unit/test_lock.py checks that step). A job's `if:`
is honoured. The checkout is left as actions/checkout leaves it with
`persist-credentials: false` (review-feedback's: the default branch): origin is the
GitHub double's git URL, which wants the token, and no credentials are stored. validate
runs on the embedded Postgres as in Actions, in a directory of the test's own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.builders import body, git, module, prop, properties, remote_checkout, rt, schema
from tests.conftest import ROOT, Database
from tests.doubles.github_server import (
    GITHUB_TOKEN,
    GitHubGitServer,
    GitHubState,
    close_pull,
    serve_with_git,
    submit_review,
)
from tests.doubles.notion_server import TOKEN, NotionServer, NotionState
from tests.doubles.notion_server import serve as serve_notion

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class Context:
    """What `${{ }}` may refer to in our workflows, and the part of GitHub's expression
    language they use: literals, contexts (github.event.* from `event`), ==, !=, !, &&,
    ||, parentheses, startsWith() and the status functions."""

    secrets: dict[str, str] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    github: dict[str, str] = field(default_factory=dict)
    event: dict[str, Any] = field(default_factory=dict)

    def value(self, expression: str) -> Any:
        tokens = _TOKEN.findall(expression)
        result, rest = self._or(tokens)
        assert not rest, f"cannot read {expression!r}"
        return result

    def _or(self, tokens: list[str]) -> tuple[Any, list[str]]:
        left, tokens = self._and(tokens)
        while tokens[:1] == ["||"]:
            right, tokens = self._and(tokens[1:])
            left = left or right
        return left, tokens

    def _and(self, tokens: list[str]) -> tuple[Any, list[str]]:
        left, tokens = self._compare(tokens)
        while tokens[:1] == ["&&"]:
            right, tokens = self._compare(tokens[1:])
            left = left and right
        return left, tokens

    def _compare(self, tokens: list[str]) -> tuple[Any, list[str]]:
        left, tokens = self._unary(tokens)
        if tokens[:1] in (["=="], ["!="]):
            right, rest = self._unary(tokens[1:])
            same = _loose(left) == _loose(right)
            return (same if tokens[0] == "==" else not same), rest
        return left, tokens

    def _unary(self, tokens: list[str]) -> tuple[Any, list[str]]:
        if tokens[0] == "!":
            found, rest = self._unary(tokens[1:])
            return not found, rest
        if tokens[0] == "(":
            found, rest = self._or(tokens[1:])
            assert rest[:1] == [")"]
            return found, rest[1:]
        if len(tokens) > 1 and tokens[1] == "(":  # a function call
            args: list[Any] = []
            rest = tokens[2:]
            while rest[0] != ")":
                arg, rest = self._or(rest)
                args.append(arg)
                rest = rest[1:] if rest[0] == "," else rest
            return self._call(tokens[0], args), rest[1:]
        return self._operand(tokens[0]), tokens[1:]

    def _call(self, name: str, args: list[Any]) -> Any:
        if name == "startsWith":
            return str(args[0]).lower().startswith(str(args[1]).lower())
        return {"cancelled": False, "success": True, "always": True, "failure": False}[name]

    def _operand(self, word: str) -> Any:
        if word in ("true", "false"):
            return word == "true"
        if word.startswith("'"):
            return word[1:-1]
        head, _, rest = word.partition(".")
        if head == "steps":
            step, _, output = rest.partition(".outputs.")
            return self.steps.get(step, {}).get(output, "")
        if head == "github" and rest.startswith("event."):
            found: Any = self.event
            for key in rest.split(".")[1:]:
                found = found.get(key) if isinstance(found, dict) else None
            return found
        source = {
            "secrets": self.secrets,
            "vars": self.vars,
            "inputs": self.inputs,
            "github": self.github,
        }[head]
        return source.get(rest, "")

    def render(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            value = self.value(match.group(1))
            return str(value).lower() if isinstance(value, bool) else str(value)

        return _EXPRESSION.sub(one, text)


_TOKEN = re.compile(r"'[^']*'|==|!=|&&|\|\||[!(),]|[A-Za-z_][\w.-]*")


def _loose(value: Any) -> Any:
    """GitHub compares loosely: null, false and '' and the like are equal to each other."""
    return "" if value in (None, False, "") else value


@dataclass
class StepRun:
    name: str
    code: int
    out: str
    err: str


def run_job(
    workflow_file: str,
    job: str,
    context: Context,
    workdir: Path,
    runner_env: dict[str, str],
    services: dict[str, str] | None = None,
) -> list[StepRun]:
    """Run a job's steps like the runner: `bash -e`, stop at the first failure."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / workflow_file).read_text())
    spec = workflow["jobs"][job]
    if "if" in spec and not context.value(_EXPRESSION.sub(r"\1", str(spec["if"])).strip()):
        return []  # the job is skipped
    env = {**runner_env}
    for scope in (workflow.get("env", {}), spec.get("env", {})):
        env.update({k: context.render(str(v)) for k, v in scope.items()})
    env.update(services or {})  # where the job's service containers would be
    ran: list[StepRun] = []
    for step in spec["steps"]:
        name = step.get("name") or step.get("uses") or step.get("run", "")[:30]
        condition = step.get("if")
        if condition and not context.value(_EXPRESSION.sub(r"\1", str(condition)).strip()):
            continue
        if "uses" in step or step.get("name") == "Install":
            continue
        step_env = {**env, **{k: context.render(str(v)) for k, v in step.get("env", {}).items()}}
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
            cwd=workdir,
            env=step_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        ran.append(StepRun(name, done.returncode, done.stdout, done.stderr))
        if done.returncode != 0 and not step.get("continue-on-error"):
            break
    return ran


@dataclass
class Org:
    clone: Path
    bare: Path
    notion: NotionServer
    github: GitHubGitServer
    summary: Path
    env: dict[str, str]


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Org]:
    """A repository on 'GitHub' (a bare repo), its Actions checkout, Notion and GitHub."""
    files = {
        "data/reference.yaml": (ROOT / "data" / "reference.yaml").read_text(),
        "data/modules/.keep": "",
    }
    clone, bare = remote_checkout(tmp_path, files, name="checkout", message="start")
    summary = tmp_path / "step-summary.md"
    event = tmp_path / "event.json"
    event.write_text("{}")
    for notion in serve_notion(NotionState(schema=schema())):
        for github in serve_with_git(GitHubState(bare=bare)):
            git(clone, "remote", "set-url", "origin", github.clone_url())
            (clone / "pipeline.yaml").write_text(
                f"notion:\n  database_id: {notion.state.database_id}\n  requests_per_second: 200\n"
            )
            env = {
                k: v
                for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "NOTION_TOKEN", "GITHUB_TOKEN")
            }
            env.update(
                {
                    "GITHUB_ACTIONS": "true",
                    "CI": "true",
                    "GITHUB_REPOSITORY": "frames/modules",
                    "GITHUB_API_URL": github.url,
                    "GITHUB_SERVER_URL": github.url,
                    "GITHUB_SHA": "0" * 40,
                    "GITHUB_ACTOR": "octocat",
                    "GITHUB_EVENT_PATH": str(event),
                    "GITHUB_STEP_SUMMARY": str(summary),
                    "NOTION_API_BASE_URL": notion.url,
                    "PIPELINE_EMBEDDED_DIR": str(tmp_path / "embedded-postgres"),
                }
            )
            try:
                yield Org(clone, bare, notion, github, summary, env)
            finally:  # the embedded server a workflow started, if one did
                subprocess.run(
                    ["pipeline", "db", "stop"], cwd=clone, env=env, capture_output=True, check=False
                )


def test_schedule_export_opens_a_pull_request(org: Org) -> None:
    page = org.notion.state.add_page(properties("lab-safety-101", "Lab Safety 101"), body())
    context = Context(
        secrets={"NOTION_TOKEN": TOKEN, "PIPELINE_APP_PRIVATE_KEY": "k"},
        vars={"PIPELINE_APP_ID": "1"},
        steps={"app-token": {"token": GITHUB_TOKEN}},
        github={"run_id": "1"},
    )
    steps = run_job(
        "export.yml", "export", context, org.clone, org.env | {"GITHUB_EVENT_NAME": "schedule"}
    )
    assert [s.code for s in steps] == [0, 0], steps
    [pull] = org.github.state.pulls
    assert pull["head"]["ref"] == "notion/lab-safety-101"
    assert pull["title"] == "Module: Lab Safety 101 (rev 1)"
    row = org.notion.state.pages[page["id"]]["properties"]["GitHub Branch/PR"]
    assert row["url"] == pull["html_url"]
    assert "## Notion export" in org.summary.read_text()
    said = "".join(s.out + s.err for s in steps)
    assert TOKEN not in said and GITHUB_TOKEN not in said
    # Authenticated with the App token the propose step alone was given; nothing stored.
    assert any(org.github.git_auth)
    stored = (org.clone / ".git" / "config").read_text()
    assert GITHUB_TOKEN not in stored and "extraheader" not in stored


def test_pull_request_gets_annotations_then_a_plan(org: Org) -> None:
    modules = org.clone / "data" / "modules"
    (modules / "bad.json").write_text(json.dumps(module(module_id="bad", status="live"), indent=2))
    context = Context()
    runner = org.env | {"GITHUB_EVENT_NAME": "pull_request"}
    steps = run_job("validate.yml", "validate", context, org.clone, runner)
    assert steps[-1].code == 1
    assert steps[-1].out.startswith("::error file=data/modules/bad.json,line=4,col=13,")

    (modules / "bad.json").write_text(json.dumps(module(module_id="bad"), indent=2))
    steps = run_job("validate.yml", "validate", context, org.clone, runner)
    assert [s.code for s in steps] == [0, 0], steps
    assert (Path(runner["PIPELINE_EMBEDDED_DIR"]) / "PG_VERSION").is_file()  # it ran there
    assert "## Deploy plan (dry run, nothing written)" in org.summary.read_text()
    assert "| bad | insert | 1 | published | 2 |" in org.summary.read_text()
    live = subprocess.run(
        ["pipeline", "status", "--json"],
        cwd=org.clone,
        env=runner | {"PIPELINE_DATABASE": "embedded"},  # in CI, only when asked for
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(live.stdout) == [], live.stderr  # the dry run wrote nothing


def test_push_to_main_deploys_and_marks_live(org: Org, db: Database) -> None:
    page = org.notion.state.add_page(
        {
            "Status": {"id": "s", "type": "status", "status": {"name": "Ready"}},
            "Last Updated": {"id": "l", "type": "date", "date": None},
            "Module ID": prop("rich_text", [rt("lab")]),
        },
        [],
    )
    (org.clone / "data" / "modules" / "lab.json").write_text(
        json.dumps(module(module_id="lab", notion_page_id=page["id"]), indent=2)
    )
    context = Context(
        secrets={"DATABASE_URL": db.url, "NOTION_TOKEN": TOKEN},
        github={"ref": "refs/heads/main"},
    )
    steps = run_job(
        "deploy.yml", "deploy", context, org.clone, org.env | {"GITHUB_EVENT_NAME": "push"}
    )
    assert [s.code for s in steps] == [0, 0, 0], steps
    assert db.rows("SELECT module_id, status, revision FROM modules") == [("lab", "published", 1)]
    status = org.notion.state.pages[page["id"]]["properties"]["Status"]
    assert status["status"]["name"] == "Live"
    assert "lab: Live (revision 1)" in steps[-1].out


def test_deploy_started_on_another_branch_runs_nothing(org: Org, db: Database) -> None:
    (org.clone / "data" / "modules" / "lab.json").write_text(
        json.dumps(module(module_id="lab"), indent=2)
    )
    context = Context(
        secrets={"DATABASE_URL": db.url, "NOTION_TOKEN": TOKEN},
        github={"ref": "refs/heads/unreviewed"},
    )
    runner = org.env | {"GITHUB_EVENT_NAME": "workflow_dispatch"}
    assert run_job("deploy.yml", "deploy", context, org.clone, runner) == []
    assert db.value("SELECT count(*) FROM modules") == 0


# -- review-feedback.yml: a review of a module's PR, told in Notion (issue #14) -------------


def _module_pull_request(org: Org) -> dict[str, Any]:
    """Notion's row, its module on branch notion/lab (PR #1, as export.yml opens it)."""
    page = org.notion.state.add_page(properties("lab", "Lab"), [])
    (org.clone / "data" / "modules" / "lab.json").write_text(
        json.dumps(module(module_id="lab", title="Lab", notion_page_id=page["id"]), indent=2)
    )
    proposed = subprocess.run(
        ["pipeline", "propose"],
        cwd=org.clone,
        env=org.env | {"GITHUB_TOKEN": GITHUB_TOKEN},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proposed.returncode == 0, proposed.stderr
    (org.clone / "data" / "modules" / "lab.json").unlink()  # the runner checks out main
    return page


def review_context() -> Context:
    """What review-feedback.yml's expressions see: the review-feedback environment's
    secret, the job's token (github.token), the event's repository."""
    return Context(
        secrets={"NOTION_TOKEN": TOKEN},
        github={
            "event_name": "pull_request_review",
            "repository": "frames/modules",
            "token": GITHUB_TOKEN,
        },
    )


def _review_event(org: Org, context: Context, payload: dict[str, Any]) -> dict[str, str]:
    Path(org.env["GITHUB_EVENT_PATH"]).write_text(json.dumps(payload))
    context.event = payload
    return org.env | {"GITHUB_EVENT_NAME": context.github["event_name"]}


def test_a_review_reaches_the_team_lead_in_notion(org: Org) -> None:
    page = _module_pull_request(org)
    [pull] = org.github.state.pulls
    review = submit_review(org.github.state, 1, "alice", "CHANGES_REQUESTED", "Fix the intro.")
    context = review_context()
    payload = {"action": "submitted", "review": {"id": review["id"]}, "pull_request": pull}
    runner = _review_event(org, context, payload)
    for _ in range(2):  # a rerun tells nothing twice
        steps = run_job("review-feedback.yml", "feedback", context, org.clone, runner)
        assert [s.code for s in steps] == [0], steps
    [comment] = org.notion.state.comments
    told = "".join(item["plain_text"] for item in comment["rich_text"])
    assert told.startswith("🔁 Changes requested on “Lab” by alice")
    assert "Fix the intro." in told
    status = org.notion.state.pages[page["id"]]["properties"]["Status"]["status"]["name"]
    assert status == "In Review"
    said = "".join(s.out + s.err for s in steps)
    assert TOKEN not in said and GITHUB_TOKEN not in said


def test_review_feedback_skips_forks_and_merged_pull_requests(org: Org) -> None:
    _module_pull_request(org)
    [pull] = org.github.state.pulls
    context = review_context()
    fork = json.loads(json.dumps(pull))
    fork["head"]["repo"]["full_name"] = "mallory/modules"
    runner = _review_event(org, context, {"action": "submitted", "pull_request": fork})
    assert run_job("review-feedback.yml", "feedback", context, org.clone, runner) == []

    other = json.loads(json.dumps(pull))
    other["head"]["ref"] = "feature/not-a-module"
    runner = _review_event(org, context, {"action": "submitted", "pull_request": other})
    assert run_job("review-feedback.yml", "feedback", context, org.clone, runner) == []

    context.github["event_name"] = "pull_request"
    merged = json.loads(json.dumps(pull)) | {"merged": True, "state": "closed"}
    runner = _review_event(org, context, {"action": "closed", "pull_request": merged})
    assert run_job("review-feedback.yml", "feedback", context, org.clone, runner) == []

    closed = json.loads(json.dumps(pull)) | {"merged": False, "state": "closed"}
    close_pull(org.github.state, 1)
    runner = _review_event(org, context, {"action": "closed", "pull_request": closed})
    steps = run_job("review-feedback.yml", "feedback", context, org.clone, runner)
    assert [s.code for s in steps] == [0], steps
    [comment] = org.notion.state.comments
    assert "closed without being merged" in comment["rich_text"][0]["plain_text"]


def test_scheduled_sync_pushes_then_pulls(org: Org, db: Database) -> None:
    db.conn.execute("INSERT INTO universities (id, name) VALUES ('cpp', 'Cal Poly Pomona')")
    db.conn.execute(
        "INSERT INTO teams (name, university_id, status) VALUES ('Optics', 'cpp', 'active')"
    )
    parent = org.notion.state.add_page({}, [])["id"]
    setup = subprocess.run(
        ["pipeline", "sync", "setup", "--parent-page", parent],
        cwd=org.clone,
        env=org.env | {"NOTION_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr  # notion-sync.json, committed in real life
    context = Context(
        secrets={"DATABASE_URL": db.url, "NOTION_TOKEN": TOKEN},
        github={"ref": "refs/heads/main"},
    )
    steps = run_job(
        "sync.yml", "sync", context, org.clone, org.env | {"GITHUB_EVENT_NAME": "schedule"}
    )
    assert [s.name for s in steps] == [
        "Push Postgres changes to Notion",
        "Pull team leads' edits into Postgres",
    ]
    assert [s.code for s in steps] == [0, 0], steps
    assert "teams: 1 added" in steps[0].out
    assert db.value("SELECT count(*) FROM sync_log WHERE status = 'completed'") == 2
    assert TOKEN not in "".join(s.out + s.err for s in steps)


def test_weekly_notion_backup_opens_a_pull_request(org: Org) -> None:
    """notion-backup.yml (issue #16): every page of every status, as a PR on the server."""
    ready = org.notion.state.add_page(properties("lab-safety-101", "Lab Safety 101"), body())
    draft = org.notion.state.add_page(properties("idea", "Idea", status="Drafting"), body())
    context = Context(
        secrets={"NOTION_TOKEN": TOKEN, "PIPELINE_APP_PRIVATE_KEY": "k"},
        vars={"PIPELINE_APP_ID": "1"},
        steps={"app-token": {"token": GITHUB_TOKEN}},
    )
    runner = org.env | {"GITHUB_EVENT_NAME": "schedule"}
    steps = run_job("notion-backup.yml", "backup", context, org.clone, runner)
    assert [s.code for s in steps] == [0, 0], steps
    [pull] = org.github.state.pulls
    assert pull["head"]["ref"] == "notion-backup"
    listed = git(org.bare, "ls-tree", "-r", "--name-only", "notion-backup", "data/backups/notion")
    assert sorted(listed.split()) == sorted(
        f"data/backups/notion/{name}.json" for name in (ready["id"], draft["id"], "_data_source")
    )
    said = "".join(s.out + s.err for s in steps)
    assert TOKEN not in said and GITHUB_TOKEN not in said
    assert any(org.github.git_auth)  # the App token, given to git in its environment only
    assert GITHUB_TOKEN not in (org.clone / ".git" / "config").read_text()
    # The next week, nothing changed in Notion: no new commit, still one PR.
    head = org.github.state.branch_sha("notion-backup")
    steps = run_job("notion-backup.yml", "backup", context, org.clone, runner)
    assert [s.code for s in steps] == [0, 0], steps
    assert org.github.state.branch_sha("notion-backup") == head
    assert len(org.github.state.pulls) == 1
