"""`pipeline propose`: each changed module becomes (or updates) one pull request.

Safe to rerun at any point: a branch that already holds the module's files
is not pushed again, a PR is looked up before one is created (PyGithub's
retry can repeat a POST), and a crash between push and PR creation is
finished by the next run.

One bad file is its module's problem, never the run's. Before anything is
pushed, the working tree is read once: a file whose module id cannot be part
of a branch name (`data/modules/bad name?.json`, `data/assets/a..b/x.png`) is
skipped, and a symbolic link is neither followed nor committed; both are
reported per module (in the output and, for links, in the module's PR) and the
run goes on. Neither fails the run (exit 0), as a Notion row that could not be
told does not: every module that could be proposed was, and what was left out
is named with what to do about it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pipeline.config import NotionSettings, ProposeSettings
from pipeline.errors import PipelineError, UsageError
from pipeline.files import json_object, read_json_object
from pipeline.git import Git, blob_id
from pipeline.layout import (
    ASSETS_DIR,
    DATA_DIR,
    LAST_EXPORT,
    MODULES_DIR,
    module_file,
    module_of,
)
from pipeline.modules.validate import validate_paths
from pipeline.notion.api import TOKEN_VARIABLE, NotionAPI
from pipeline.propose import pr_body
from pipeline.propose.branches import (
    BRANCH_PREFIX,
    Author,
    branch_problem,
    build_commit,
    delete_branch,
    fetch,
    push_branch,
    remote_branches,
    tree_changes,
    tree_of,
    walk,
)
from pipeline.propose.github_api import GitHubRepo

LABELS = ("module", "auto-export")
ProposalAction = Literal["opened", "updated", "unchanged", "closed", "skipped"]
Notify = Callable[[dict[str, Any], str], None]


@dataclass
class Proposal:
    module_id: str
    action: ProposalAction  # in a dry run: what a real run would do
    url: str = ""
    number: int | None = None
    # In a dry run, the title and body a real run would send.
    title: str = ""
    body: str = ""


@dataclass
class ProposeReport:
    proposals: list[Proposal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def propose(
    root: Path,
    settings: NotionSettings,
    *,
    dry_run: bool = False,
    options: ProposeSettings | None = None,
) -> ProposeReport:
    """`pipeline propose` in the checkout at `root`, configured from the environment as in
    Actions (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL; GITHUB_SERVER_URL, where
    git's fetch and push send the token; NOTION_TOKEN for the link on the Notion row;
    PIPELINE_GIT_AUTHOR_NAME / _EMAIL) and from pipeline.yaml's `propose` (`options`:
    reviewers, assignees, draft, labels)."""
    notify = None
    if os.environ.get(TOKEN_VARIABLE):
        api = NotionAPI.from_environment(per_second=settings.requests_per_second)
        notify = notion_writer(api, settings)
    return Proposer(
        Git.for_github(root),
        GitHubRepo.from_environment(),
        dry_run=dry_run,
        author=Author.from_environment(),
        notify=notify,
        checked=checked_by_export(root),
        options=options,
    ).run()


@dataclass
class Scan:
    """What the working tree holds under data/modules and data/assets, against the base."""

    changed: list[str] = field(default_factory=list)  # module ids whose files differ
    paths: dict[str, list[str]] = field(default_factory=dict)  # module id -> changed paths
    links: dict[str, list[str]] = field(default_factory=dict)  # module id -> symbolic links
    kinds: dict[str, pr_body.FileKind] = field(default_factory=dict)  # path -> what changed


def _owner(path: str) -> str | None:
    """The module a path (a file, or a link that may stand for a folder) belongs to."""
    parts = path.split("/")
    if parts[:2] == list(ASSETS_DIR.parts) and len(parts) >= 3:
        return parts[2]
    return module_of(path)


def scan(git: Git, base: str) -> Scan:
    """Which modules' files in the working tree differ from `base`, reading only regular
    files: a symbolic link is listed, never followed, and its path counts as unchanged."""
    for top in (DATA_DIR, MODULES_DIR, ASSETS_DIR):
        if (git.root / top).is_symlink():
            raise UsageError(
                f"{top.as_posix()} is a symbolic link; propose does not follow links: "
                "make it a folder of the repository"
            )
    folders = (MODULES_DIR.as_posix(), ASSETS_DIR.as_posix())
    listed = git.run("ls-tree", "-r", "-z", base, "--", *folders)
    in_base: dict[str, str] = {}
    for entry in listed.split("\0"):
        if entry:
            meta, _, name = entry.partition("\t")
            in_base[name] = meta.split()[2]
    files: list[str] = []
    links: list[str] = []
    for folder in folders:
        found, linked = walk(git.root, folder)
        files += found
        links += linked
    in_tree = {path: blob_id((git.root / path).read_bytes()) for path in files}
    result = Scan()
    for link in links:
        owner = _owner(link)
        if owner is not None:
            result.links.setdefault(owner, []).append(link)
    for name in sorted(in_base.keys() | in_tree.keys()):
        behind_link = any(name == link or name.startswith(link + "/") for link in links)
        owner = module_of(name)
        if owner and not behind_link and in_base.get(name) != in_tree.get(name):
            result.paths.setdefault(owner, []).append(name)
            result.kinds[name] = (
                "added" if name not in in_base else "removed" if name not in in_tree else "changed"
            )
    result.changed = sorted(result.paths)
    return result


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
        options: ProposeSettings | None = None,
    ) -> None:
        self.git, self.repo, self.dry_run = git, repo, dry_run
        self.author = author or Author()
        self.notify = notify
        self.options = options or ProposeSettings()
        # A PR is closed only when this run's export looked at its module's page and
        # found it equal to the default branch; a page not asked for says nothing.
        self.checked = checked or set()

    def run(self) -> ProposeReport:
        default = self.repo.default_branch
        fetch(self.git, default)
        base = f"{self.git.remote}/{default}"
        report = ProposeReport()
        branches = remote_branches(self.git)
        found = scan(self.git, base)
        # Checked before anything is pushed: a name no branch can carry is skipped.
        changed = []
        for module_id in sorted(set(found.changed) | set(found.links)):
            problem = branch_problem(module_id)
            paths = found.paths.get(module_id, []) + found.links.get(module_id, [])
            if problem is not None:
                report.proposals.append(Proposal(module_id, "skipped"))
                report.notes.append(
                    f"{module_id}: skipped {', '.join(paths)}: '{module_id}' cannot be part "
                    f"of a branch name ({problem}); rename the file or folder after a module "
                    "id like lab-safety-101, or remove it"
                )
            else:
                report.notes += _link_notes(module_id, found.links.get(module_id, []))
                if module_id in found.changed:
                    changed.append(module_id)
        problems = self._validation(changed)
        for module_id in changed:
            files = [
                pr_body.FileChange(path, found.kinds[path])
                for path in found.paths.get(module_id, [])
                if path != module_file(module_id)
            ]
            report.proposals.append(
                self._propose(
                    module_id,
                    base,
                    branches.get(module_id),
                    problems.get(module_id, []),
                    report,
                    notes=_link_notes(module_id, found.links.get(module_id, []), prefix=False),
                    files=files,
                )
            )
        for module_id in sorted((set(branches) - set(changed)) & self.checked):
            closed = self._close(module_id, branches[module_id])
            if closed:
                report.proposals.append(closed)
        return report

    def _validation(self, changed: list[str]) -> dict[str, list[str]]:
        paths = [self.git.root / module_file(m) for m in changed]
        existing = [p for p in paths if p.is_file() and not p.is_symlink()]
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
        *,
        notes: list[str],
        files: list[pr_body.FileChange],
    ) -> Proposal:
        branch = f"{BRANCH_PREFIX}{module_id}"
        path = self.git.root / module_file(module_id)
        old = json_object(self.git.run("show", f"{base}:{module_file(module_id)}", check=False))
        new, proposed = _proposed(path, old, module_id)
        shown = new or old or {"module_id": module_id, "title": module_id}  # names the PR
        title = pr_body.title(shown, proposed)
        tree, commit = build_commit(self.git, base, module_id, title, self.author)
        pushed = remote_sha is None or tree_of(self.git, remote_sha) != tree
        if pushed and not self.dry_run and self.options.verified_commits:
            commit = self._commit_through_api(module_id, base, tree, title, remote_sha)
        elif pushed and not self.dry_run:
            push_branch(self.git, module_id, commit, remote_sha)
        head = commit if pushed or remote_sha is None else remote_sha
        where = pr_body.Where(self.repo.html_url, head, self.git.run("rev-parse", base).strip())
        if proposed == "unreadable":
            why = "propose cannot read it as a module (a JSON object, in UTF-8)"
            text = pr_body.unreadable(
                module_id, shown, why, validation=problems, notes=notes, where=where, files=files
            )
        else:
            shows = new if proposed == "revision" else None
            text = pr_body.body(
                old, shows, validation=problems, notes=notes, where=where, files=files
            )
        pull = self.repo.find_open(branch)
        if self.dry_run:  # what a real run would do, with what it would send
            action: ProposalAction = (
                "opened"
                if pull is None
                else "updated"
                if pushed or pull.title != title or pull.body != text
                else "unchanged"
            )
            number, url = (pull.number, pull.url) if pull else (None, "")
            return Proposal(module_id, action, url, number, title, text)
        if pull is None:
            pull = self.repo.create(branch, title, text, draft=self.options.draft)
            action = "opened"
            report.notes += self._people(module_id, pull.number)
        elif pushed or pull.title != title or pull.body != text:
            self.repo.update(pull.number, title, text)
            action = "updated"
        else:
            return Proposal(module_id, "unchanged", pull.url, pull.number)
        self.repo.label(pull.number, self._labels(shown))
        if self.notify is not None and new and new.get("notion_page_id"):
            try:
                self.notify(new, pull.url)
            except PipelineError as exc:  # the PR stands; say Notion was not told
                report.notes.append(f"{module_id}: the PR is open but Notion was not told: {exc}")
        return Proposal(module_id, action, pull.url, pull.number)

    def _commit_through_api(
        self, module_id: str, base: str, tree: str, message: str, expected: str | None
    ) -> str:
        """The branch's commit made by GitHub (signed, verified) from the files of `tree`."""
        files: list[tuple[str, str | None, bytes | None]] = []
        for change in tree_changes(self.git, base, tree):
            content = None
            if change.blob is not None:
                content = (self.git.root / change.path).read_bytes()
                if blob_id(content) != change.blob:
                    raise UsageError(f"{change.path} changed while propose ran; run it again")
            files.append((change.path, change.mode, content))
        base_sha = self.git.run("rev-parse", base).strip()
        branch = f"{BRANCH_PREFIX}{module_id}"
        return self.repo.commit_files(
            branch, base_sha, message, files, tree=tree, expected=expected
        )

    def _labels(self, module: dict[str, Any]) -> tuple[str, ...]:
        """module, auto-export, pipeline.yaml's labels and the module's category's."""
        labels = [*LABELS, *self.options.labels]
        labels += self.options.category_labels.get(str(module.get("category")), ())
        return tuple(dict.fromkeys(labels))

    def _people(self, module_id: str, number: int) -> list[str]:
        """Ask the reviewers and assign the assignees of a new PR; a refusal is a note (the
        PR stands)."""
        notes = []
        options = self.options
        try:
            if options.reviewers or options.team_reviewers:
                self.repo.request_reviews(number, options.reviewers, options.team_reviewers)
        except PipelineError as exc:
            notes.append(f"{module_id}: the PR is open but its reviewers were not asked: {exc}")
        try:
            if options.assignees:
                self.repo.assign(number, options.assignees)
        except PipelineError as exc:
            notes.append(f"{module_id}: the PR is open but was not assigned: {exc}")
        return notes

    def _close(self, module_id: str, remote_sha: str) -> Proposal | None:
        """The module no longer differs from the default branch: close its PR."""
        pull = self.repo.find_open(f"{BRANCH_PREFIX}{module_id}")
        if self.dry_run:
            return Proposal(module_id, "closed", pull.url, pull.number) if pull else None
        if pull is not None:
            self.repo.close(
                pull.number,
                "Closing: the module in Notion no longer differs from "
                f"`{self.repo.default_branch}`, so there is nothing to review.",
            )
        delete_branch(self.git, module_id, remote_sha)
        return Proposal(
            module_id, "closed", pull.url if pull else "", pull.number if pull else None
        )


def _proposed(
    path: Path, old: dict[str, Any] | None, module_id: str
) -> tuple[dict[str, Any] | None, pr_body.Proposed]:
    """(the module in the working tree's file, what its PR proposes). A module file that
    is a link stays on the branch as the base has it (`old`); a file that is there but
    holds no JSON object is proposed as it is, said to be unreadable, never a removal."""
    if path.is_symlink():
        return old or {"module_id": module_id, "title": module_id}, "revision"
    if not path.is_file():
        return None, "removal"
    new = read_json_object(path)
    return new, "revision" if new is not None else "unreadable"


def _link_notes(module_id: str, links: list[str], *, prefix: bool = True) -> list[str]:
    lead = f"{module_id}: " if prefix else ""
    return [
        f"{lead}{link} is a symbolic link: not followed and not committed (the branch keeps "
        "what the default branch has there); put the file itself in its place"
        for link in links
    ]


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
