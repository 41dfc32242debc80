"""`pipeline propose`: each changed module becomes (or updates) one pull request.

Safe to rerun at any point: a branch that already holds the module's files
is not pushed again, a PR is looked up before one is created (PyGithub's
retry can repeat a POST), and a crash between push and PR creation is
finished by the next run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pipeline.config import NotionSettings
from pipeline.errors import PipelineError
from pipeline.files import json_object, read_json_object
from pipeline.git import Git, blob_id
from pipeline.layout import ASSETS_DIR, LAST_EXPORT, MODULES_DIR, module_file, module_of
from pipeline.modules.validate import validate_paths
from pipeline.notion.api import TOKEN_VARIABLE, NotionAPI
from pipeline.propose import pr_body
from pipeline.propose.branches import (
    BRANCH_PREFIX,
    Author,
    build_commit,
    delete_branch,
    fetch,
    push_branch,
    remote_branches,
    tree_of,
)
from pipeline.propose.github_api import GitHubRepo

LABELS = ("module", "auto-export")
ProposalAction = Literal["opened", "updated", "unchanged", "closed"]
Notify = Callable[[dict[str, Any], str], None]


@dataclass
class Proposal:
    module_id: str
    action: ProposalAction
    url: str = ""


@dataclass
class ProposeReport:
    proposals: list[Proposal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def propose(root: Path, settings: NotionSettings, *, dry_run: bool = False) -> ProposeReport:
    """`pipeline propose` in the checkout at `root`, configured from the environment as in
    Actions (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL; NOTION_TOKEN for the link
    on the Notion row; PIPELINE_GIT_AUTHOR_NAME / _EMAIL)."""
    notify = None
    if os.environ.get(TOKEN_VARIABLE):
        api = NotionAPI.from_environment(per_second=settings.requests_per_second)
        notify = notion_writer(api, settings)
    return Proposer(
        Git(root),
        GitHubRepo.from_environment(),
        dry_run=dry_run,
        author=Author.from_environment(),
        notify=notify,
        checked=checked_by_export(root),
    ).run()


def changed_modules(git: Git, base: str) -> list[str]:
    """Module ids whose files in the working tree differ from `base`."""
    folders = (MODULES_DIR.as_posix(), ASSETS_DIR.as_posix())
    listed = git.run("ls-tree", "-r", "-z", base, "--", *folders)
    in_base: dict[str, str] = {}
    for entry in listed.split("\0"):
        if entry:
            meta, _, name = entry.partition("\t")
            in_base[name] = meta.split()[2]
    in_tree: dict[str, str] = {}
    for folder in folders:
        for path in sorted((git.root / folder).rglob("*")) if (git.root / folder).is_dir() else []:
            if path.is_file():
                in_tree[path.relative_to(git.root).as_posix()] = blob_id(path.read_bytes())
    changed = set()
    for name in in_base.keys() | in_tree.keys():
        if in_base.get(name) != in_tree.get(name):
            changed.add(module_of(name))
    return sorted(m for m in changed if m)


class Proposer:
    def __init__(
        self,
        git: Git,
        repo: GitHubRepo,
        *,
        dry_run: bool = False,
        author: Author | None = None,
        notify: Notify | None = None,
        checked: set[str] | None = None,
    ) -> None:
        self.git, self.repo, self.dry_run = git, repo, dry_run
        self.author = author or Author()
        self.notify = notify
        # A PR is closed only when this run's export looked at its module's page and
        # found it equal to the default branch; a page not asked for says nothing.
        self.checked = checked or set()

    def run(self) -> ProposeReport:
        default = self.repo.default_branch
        fetch(self.git, default)
        base = f"{self.git.remote}/{default}"
        report = ProposeReport()
        branches = remote_branches(self.git)
        changed = changed_modules(self.git, base)
        problems = self._validation(changed)
        for module_id in changed:
            report.proposals.append(
                self._propose(
                    module_id, base, branches.get(module_id), problems.get(module_id, []), report
                )
            )
        for module_id in sorted((set(branches) - set(changed)) & self.checked):
            closed = self._close(module_id, branches[module_id])
            if closed:
                report.proposals.append(closed)
        return report

    def _validation(self, changed: list[str]) -> dict[str, list[str]]:
        paths = [self.git.root / module_file(m) for m in changed]
        existing = [p for p in paths if p.is_file()]
        if not existing:
            return {}
        found: dict[str, list[str]] = {}
        for p in validate_paths(existing).problems:
            found.setdefault(Path(p.file).stem, []).append(
                f"{p.file} {p.line}:{p.column}: {p.message}"
            )
        return found

    def _propose(
        self,
        module_id: str,
        base: str,
        remote_sha: str | None,
        problems: list[str],
        report: ProposeReport,
    ) -> Proposal:
        branch = f"{BRANCH_PREFIX}{module_id}"
        new = read_json_object(self.git.root / module_file(module_id))
        old = json_object(self.git.run("show", f"{base}:{module_file(module_id)}", check=False))
        shown = new or old or {"module_id": module_id, "title": module_id}
        title = pr_body.title(shown, removed=not new)
        text = pr_body.body(old, shown, validation=problems)
        tree, commit = build_commit(self.git, base, module_id, title, self.author)
        pushed = remote_sha is None or tree_of(self.git, remote_sha) != tree
        if self.dry_run:
            return Proposal(module_id, "updated" if pushed else "unchanged")
        if pushed:
            push_branch(self.git, module_id, commit, remote_sha)
        pull = self.repo.find_open(branch)
        action: ProposalAction
        if pull is None:
            pull = self.repo.create(branch, title, text)
            action = "opened"
        elif pushed or pull.title != title or pull.body != text:
            self.repo.update(pull.number, title, text)
            action = "updated"
        else:
            return Proposal(module_id, "unchanged", pull.url)
        self.repo.label(pull.number, LABELS)
        if self.notify is not None and new and new.get("notion_page_id"):
            try:
                self.notify(new, pull.url)
            except PipelineError as exc:  # the PR stands; say Notion was not told
                report.notes.append(f"{module_id}: the PR is open but Notion was not told: {exc}")
        return Proposal(module_id, action, pull.url)

    def _close(self, module_id: str, remote_sha: str) -> Proposal | None:
        """The module no longer differs from the default branch: close its PR."""
        pull = self.repo.find_open(f"{BRANCH_PREFIX}{module_id}")
        if self.dry_run:
            return Proposal(module_id, "closed") if pull else None
        if pull is not None:
            self.repo.close(
                pull.number,
                "Closing: the module in Notion no longer differs from "
                f"`{self.repo.default_branch}`, so there is nothing to review.",
            )
        delete_branch(self.git, module_id, remote_sha)
        return Proposal(module_id, "closed", pull.url if pull else "")


def checked_by_export(root: Path) -> set[str]:
    """Module ids the last export looked at (empty when there is no record)."""
    path = root / LAST_EXPORT
    data = read_json_object(path) or {}
    return {str(m) for m in data.get("checked", []) if isinstance(m, str)}


def notion_writer(api: NotionAPI, settings: NotionSettings) -> Notify:
    """Puts the PR link and the time on the module's Notion row."""

    def notify(module: dict[str, Any], url: str) -> None:
        props = settings.properties
        api.update_page(
            module["notion_page_id"],
            {
                props["pr_link"]: {"url": url},
                props["last_updated"]: {
                    "date": {"start": datetime.now(UTC).isoformat(timespec="seconds")}
                },
            },
        )

    return notify
