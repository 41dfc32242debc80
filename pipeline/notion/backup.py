"""`pipeline notion backup`: every page of the Module Library, whatever its status, with its
properties and blocks as Notion returns them, in data/backups/notion/ (seed 001's weekly
backup of the Notion side, kept in Git); `pipeline notion backup-pr` proposes the change.

One file per page, `<page id>.json`: {"page": the page object, "blocks": its block tree,
each block with its "children"}, and `_data_source.json`, the database's property
schema. The same content gives the same bytes (keys sorted, 2-space indent), so a week
without edits changes nothing and opens no pull request. The one thing not kept as
returned: Notion-hosted file links, which are signed and expire about an hour after the
request, are kept without their signature and expiry time (the files themselves are
not downloaded; a page's files are in data/assets/ once it is exported). A page that
left the Module Library (deleted, or in the trash) has its file removed: Git's history
keeps it.

The pull request is opened by a second command, in a later step, so that the token
which can push (a GitHub App's) is never given to the step that reads Notion content.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pipeline.config import NotionSettings
from pipeline.errors import UsageError
from pipeline.files import atomic_write
from pipeline.git import Git
from pipeline.layout import DATA_DIR
from pipeline.notion.api import NotionAPI
from pipeline.propose.branches import Author, tree_of, walk
from pipeline.propose.github_api import GitHubRepo

BACKUP_DIR = DATA_DIR / "backups" / "notion"
SCHEMA_FILE = "_data_source.json"
BRANCH = "notion-backup"
LABELS = ("notion-backup",)


@dataclass
class NotionBackupReport:
    directory: str
    pages: int = 0
    written: list[str] = field(default_factory=list)  # files new or changed
    removed: list[str] = field(default_factory=list)  # pages no longer in the library
    requests: int = 0
    dry_run: bool = False


def backup_pages(
    settings: NotionSettings, root: Path, *, dry_run: bool = False
) -> NotionBackupReport:
    """`pipeline notion backup`: NOTION_TOKEN (and NOTION_API_BASE_URL) from the environment."""
    api = NotionAPI.from_environment(per_second=settings.requests_per_second)
    return NotionBackup(api, settings, root).run(dry_run=dry_run)


class NotionBackup:
    def __init__(self, api: NotionAPI, settings: NotionSettings, root: Path) -> None:
        self.api, self.settings, self.root = api, settings, root
        self.folder = root / BACKUP_DIR

    def run(self, *, dry_run: bool = False) -> NotionBackupReport:
        report = NotionBackupReport(BACKUP_DIR.as_posix(), dry_run=dry_run)
        source_id = self.settings.data_source_id or self.api.data_source_id(self._database_id())
        files = {SCHEMA_FILE: self.api.data_source(source_id)}
        for page in self.api.query(source_id):  # no filter: every status
            files[f"{page['id']}.json"] = {"page": page, "blocks": self.api.block_tree(page["id"])}
        report.pages = len(files) - 1
        for name, content in sorted(files.items()):
            text = (
                json.dumps(_stable(content), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            ).encode()
            path = self.folder / name
            if _read(path) != text:
                report.written.append(f"{BACKUP_DIR.as_posix()}/{name}")
                if not dry_run:
                    atomic_write(path, text)
        if self.folder.is_dir():
            for stale in sorted(self.folder.glob("*.json")):
                if stale.name not in files and not stale.is_symlink():
                    report.removed.append(f"{BACKUP_DIR.as_posix()}/{stale.name}")
                    if not dry_run:
                        stale.unlink()
        report.requests = self.api.stats.requests
        return report

    def _database_id(self) -> str:
        if not self.settings.database_id:
            raise UsageError(
                "pipeline.yaml has no notion.database_id; set it to the id of the Module "
                "Library database"
            )
        return self.settings.database_id


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _stable(value: Any) -> Any:
    """`value` with Notion-hosted file links made stable: no signature, no expiry time."""
    if isinstance(value, list):
        return [_stable(item) for item in value]
    if not isinstance(value, dict):
        return value
    stable = {key: _stable(item) for key, item in value.items()}
    hosted = stable.get("file")
    if stable.get("type") == "file" and isinstance(hosted, dict) and "url" in hosted:
        parts = urlsplit(str(hosted["url"]))
        stable["file"] = {k: v for k, v in hosted.items() if k not in ("url", "expiry_time")} | {
            "url": urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        }
    return stable


# -- the pull request ------------------------------------------------------------------------

BackupPullAction = Literal["opened", "updated", "unchanged", "nothing-to-propose"]


@dataclass
class BackupPull:
    action: BackupPullAction
    branch: str = BRANCH
    url: str = ""
    files: int = 0  # files that differ from the default branch


def propose_backup(root: Path, *, dry_run: bool = False) -> BackupPull:
    """`pipeline notion backup-pr`: branch notion-backup = the default branch plus
    data/backups/notion/ as in the working tree; one pull request, updated in place.
    GITHUB_TOKEN, GITHUB_REPOSITORY (and GITHUB_API_URL, GITHUB_SERVER_URL) as propose."""
    git, repo = Git.for_github(root), GitHubRepo.from_environment()
    author = Author.from_environment()
    default = repo.default_branch
    remote = git.remote
    git.run(
        "fetch",
        "--quiet",
        remote,
        f"+refs/heads/{default}:refs/remotes/{remote}/{default}",
        f"+refs/heads/{BRANCH}*:refs/remotes/{remote}/{BRANCH}*",
    )
    base = f"{remote}/{default}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    title = f"Notion backup ({stamp})"
    tree, commit = _commit(git, base, title, author)
    changed = [
        line
        for line in git.run(
            "diff", "--name-only", base, tree, "--", BACKUP_DIR.as_posix()
        ).splitlines()
        if line
    ]
    if not changed:
        return BackupPull("nothing-to-propose")
    sha = git.run(
        "rev-parse", "--verify", "--quiet", f"refs/remotes/{remote}/{BRANCH}", check=False
    ).strip()
    remote_sha = sha or None
    pushed = remote_sha is None or tree_of(git, remote_sha) != tree
    body = _body(changed)
    if dry_run:
        return BackupPull("updated" if pushed else "unchanged", files=len(changed))
    if pushed:
        lease = f"--force-with-lease=refs/heads/{BRANCH}:{remote_sha or ''}"
        git.run("push", "--quiet", lease, remote, f"{commit}:refs/heads/{BRANCH}")
    pull = repo.find_open(BRANCH)
    if pull is None:
        pull = repo.create(BRANCH, title, body)
        action: BackupPullAction = "opened"
    elif pushed or pull.body != body:
        repo.update(pull.number, title, body)
        action = "updated"
    else:
        return BackupPull("unchanged", url=pull.url, files=len(changed))
    repo.label(pull.number, LABELS)
    return BackupPull(action, url=pull.url, files=len(changed))


def _commit(git: Git, base: str, message: str, author: Author) -> tuple[str, str]:
    folder = BACKUP_DIR.as_posix()
    files, _links = walk(git.root, folder)  # regular files only; a link is never committed
    with tempfile.TemporaryDirectory() as scratch:
        env = {"GIT_INDEX_FILE": os.path.join(scratch, "index")}
        git.run("read-tree", base, env=env)
        git.run("rm", "--cached", "--quiet", "-r", "--ignore-unmatch", "--", folder, env=env)
        for start in range(0, len(files), 500):
            git.run("update-index", "--add", "--", *files[start : start + 500], env=env)
        tree = git.run("write-tree", env=env).strip()
    return tree, author.commit(git, tree, base, message)


def _body(changed: list[str]) -> str:
    shown = changed[:50]
    lines = [
        "The weekly backup of the Notion Module Library (every page, every status: "
        "properties and blocks as Notion returns them).",
        "",
        f"{len(changed)} files differ from the default branch:",
        "",
        *(f"- `{path}`" for path in shown),
    ]
    if len(changed) > len(shown):
        lines.append(f"- … and {len(changed) - len(shown)} more")
    return "\n".join(lines) + "\n"
