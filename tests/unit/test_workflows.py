"""Workflow files: pinned actions, least privilege, no untrusted expressions in scripts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")


def load(path: Path) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML reads the key `on` as True
    return data


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_the_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == [
        "ci.yml",
        "deploy.yml",
        "export.yml",
        "notion-backup.yml",  # issue #16
        "review-feedback.yml",
        "sync.yml",
        "validate.yml",
    ]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_by_commit(path: Path) -> None:
    for step in steps(load(path)):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


# A job may read more than contents only where it must: review-feedback reads reviews.
EXTRA_READ = {("review-feedback.yml", "feedback"): {"pull-requests": "read"}}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        allowed = {"contents": "read", **EXTRA_READ.get((path.name, name), {})}
        assert job.get("permissions", {"contents": "read"}) == allowed


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_expressions_inside_scripts(path: Path) -> None:
    """Values reach scripts through env:, never pasted into the shell text."""
    for step in steps(load(path)):
        assert not _EXPRESSION.search(step.get("run", "")), step.get("name")


def test_validate_is_safe_for_forks() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "validate.yml")
    assert "pull_request" in workflow["on"] and "pull_request_target" not in workflow["on"]
    assert "secrets." not in (ROOT / ".github" / "workflows" / "validate.yml").read_text()


def test_deploy_is_never_cancelled_and_needs_the_environment() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "deploy.yml")
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["jobs"]["deploy"]["environment"] == "production"
    commands = [s["run"] for s in steps(workflow) if "run" in s]
    assert commands[-3:] == ["pipeline db migrate", "pipeline deploy", "pipeline notion mark-live"]


# -- secrets where they are needed, and nowhere else (issue #12, item 19) ------------------

_SECRET = re.compile(r"\$\{\{\s*secrets\.")


def jobs(path: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = load(path)["jobs"]
    return found


def uses_secrets(value: Any) -> bool:
    return bool(_SECRET.search(yaml.safe_dump(value))) if value else False


def condition(job_or_step: dict[str, Any]) -> str:
    return re.sub(r"^\$\{\{\s*(.*?)\s*\}\}$", r"\1", str(job_or_step.get("if", "")).strip())


def test_deploy_runs_on_main_only() -> None:
    """workflow_dispatch can pick any branch; the production job runs only for main."""
    [deploy] = jobs(ROOT / ".github" / "workflows" / "deploy.yml").values()
    assert condition(deploy) == "github.ref == 'refs/heads/main'"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_only_in_the_steps_that_use_them(path: Path) -> None:
    """Not in a workflow's or job's env (every step, `pip install` included, would get
    them), only in the env or inputs of the steps that need them."""
    assert not uses_secrets(load(path).get("env"))
    for job in jobs(path).values():
        assert not uses_secrets(job.get("env")), job.get("env")
        for step in job.get("steps", []):
            if "pip install" in step.get("run", ""):
                assert not uses_secrets(step), step


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_live_in_environments(path: Path) -> None:
    """A job that reads secrets names its environment: the secrets are the environment's
    (deployment branches: main), not the repository's."""
    for name, job in jobs(path).items():
        if uses_secrets(job.get("steps")):
            environments = {
                "export": "notion",
                "deploy": "production",
                "sync": "production",
                "feedback": "review-feedback",
                "backup": "notion",
            }
            assert job.get("environment") == environments[name]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_container_images_are_pinned_by_digest(path: Path) -> None:
    for job in jobs(path).values():
        images = [job["container"]] if "container" in job else []
        images += list(job.get("services", {}).values())
        for image in images:
            name = image if isinstance(image, str) else image["image"]
            assert re.search(r"@sha256:[0-9a-f]{64}$", name), name


def test_validate_uses_the_embedded_postgres() -> None:
    """No container to pin, no password: the embedded Postgres, asked for by name (in CI
    the pipeline refuses the embedded fallback unless PIPELINE_DATABASE=embedded)."""
    path = ROOT / ".github" / "workflows" / "validate.yml"
    [validate] = jobs(path).values()
    assert "services" not in validate and "container" not in validate
    assert validate["env"] == {"PIPELINE_DATABASE": "embedded"}
    assert "DATABASE_URL" not in path.read_text()


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkouts_keep_no_credentials(path: Path) -> None:
    for step in steps(load(path)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False
            assert "token" not in step["with"]
    assert "zizmor: ignore" not in path.read_text()


def test_the_app_token_is_minted_after_the_export_for_propose_only() -> None:
    [export] = jobs(ROOT / ".github" / "workflows" / "export.yml").values()
    names = [s.get("id") or s.get("name") for s in export["steps"]]
    runs = [s.get("run", "") for s in export["steps"]]
    exporting = next(i for i, r in enumerate(runs) if "pipeline export" in r)
    proposing = next(i for i, r in enumerate(runs) if "pipeline propose" in r)
    assert exporting < names.index("app-token") < proposing
    token = re.compile(r"steps\.app-token\.outputs\.token")
    readers = [i for i, s in enumerate(export["steps"]) if token.search(yaml.safe_dump(s))]
    assert readers == [proposing]
    assert list(export["steps"][proposing]["env"]) == ["GITHUB_TOKEN", "NOTION_TOKEN"]


def test_export_and_sync_run_every_15_minutes_one_at_a_time() -> None:
    for name in ("export.yml", "sync.yml"):
        workflow: dict[Any, Any] = load(ROOT / ".github" / "workflows" / name)
        triggers = workflow.get("on") or workflow[True]  # YAML 1.1 reads a bare `on` as True
        assert triggers["schedule"] == [{"cron": "*/15 * * * *"}]
        assert workflow["concurrency"]["cancel-in-progress"] is False


def test_review_feedback_is_safe_for_forks() -> None:
    """It runs on pull_request_review and pull_request (never pull_request_target or
    workflow_run), only for this repository's notion/* branches, on the default branch's
    code, with a read-only token; the Notion token reaches only the last step."""
    path = ROOT / ".github" / "workflows" / "review-feedback.yml"
    workflow = load(path)
    assert set(workflow["on"]) == {"pull_request_review", "pull_request"}
    assert workflow["on"]["pull_request"]["types"] == ["closed"]
    [feedback] = jobs(path).values()
    test = condition(feedback)
    assert "github.event.pull_request.head.repo.full_name == github.repository" in test
    assert "startsWith(github.event.pull_request.head.ref, 'notion/')" in test
    checkout = feedback["steps"][0]
    assert checkout["with"]["ref"] == "${{ github.event.repository.default_branch }}"
    readers = [i for i, step in enumerate(feedback["steps"]) if uses_secrets(step)]
    assert readers == [len(feedback["steps"]) - 1]
    assert feedback["steps"][-1]["run"] == "pipeline notion review-feedback"


def test_the_backup_token_is_minted_after_notion_is_read_for_the_pr_only() -> None:
    """notion-backup.yml, as export.yml: the App token after the Notion step, for one step."""
    [backup] = jobs(ROOT / ".github" / "workflows" / "notion-backup.yml").values()
    runs = [s.get("run", "") for s in backup["steps"]]
    names = [s.get("id") or s.get("name") for s in backup["steps"]]
    reading = runs.index("pipeline notion backup")
    proposing = runs.index("pipeline notion backup-pr")
    assert reading < names.index("app-token") < proposing
    token = re.compile(r"steps\.app-token\.outputs\.token")
    readers = [i for i, s in enumerate(backup["steps"]) if token.search(yaml.safe_dump(s))]
    assert readers == [proposing]
    assert list(backup["steps"][proposing]["env"]) == ["GITHUB_TOKEN"]
    assert list(backup["steps"][reading]["env"]) == ["NOTION_TOKEN"]
