"""`pipeline notion review-feedback`: what reviewers said on GitHub, told to the team lead
on the module's Notion page.

A review of a module's pull request (branch notion/<module_id>) becomes one comment on the
module's Notion page: its verdict (changes requested, approved, commented), its text, and
its line comments, each with the section (and question, hotspot or item) of the module
the line is in, as the team lead knows them. When changes are requested on an open PR,
the row's Status moves back to `notion.review_status` (default "In Review"), so the
row says what the team lead has to do. A PR closed without being merged is told once
too; a merged one is `mark-live`'s.

Idempotent without a database: every comment links to what it tells (the review's
address; the PR's with the time it was closed), and a comment is not posted when the
page already has one with that link. Notion's API lists only unresolved comments, so
after a team lead resolves one, a catch-up run (`--pr` alone, which tells every review
of the PR) could tell it again; the workflow tells only the review of its event.

Safe on any pull request: one that is not a module's (another branch, a fork's) is left
alone; a page is written only when its Module ID is the module's.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import json_source_map

from pipeline.config import NotionSettings
from pipeline.errors import UsageError
from pipeline.layout import module_file
from pipeline.notion.api import NotionAPI
from pipeline.notion.page import property_value
from pipeline.propose.branches import BRANCH_PREFIX
from pipeline.propose.github_api import GitHubRepo, PullState, Review, ReviewComment

TEXT_LIMIT = 2000  # characters in one rich-text item of a Notion comment
ITEMS_LIMIT = 100  # rich-text items in one comment
_VERDICTS = {
    "CHANGES_REQUESTED": "🔁 Changes requested",
    "APPROVED": "✅ Approved",
    "COMMENTED": "💬 Comments",
}
_TOLD_STATES = tuple(_VERDICTS)

Outcome = Literal["posted", "already posted", "would post"]


@dataclass
class Told:
    """One thing told (or to tell) on the page: a review or the PR's closing."""

    what: str  # "review 80 by alice (changes requested)", "closed without merging"
    link: str  # what the comment links to, and is known by
    outcome: Outcome
    text: str


@dataclass
class FeedbackReport:
    pull_request: int
    url: str = ""
    module_id: str | None = None
    page_id: str | None = None
    told: list[Told] = field(default_factory=list)
    status: str | None = None  # the Status set (or, in a dry run, that would be)
    skipped: str = ""  # why nothing was done, when nothing was


@dataclass(frozen=True)
class Event:
    """What to tell: one review of a pull request, its closing, or (`everything`) all its
    reviews and its closing."""

    pull_request: int
    review: int | None = None
    everything: bool = False

    @classmethod
    def from_environment(cls, pull_request: int | None, review: int | None) -> Event:
        """The options given, or else the Actions event (GITHUB_EVENT_PATH):
        pull_request_review tells its review, pull_request (closed) the closing."""
        if pull_request is not None:
            return cls(pull_request, review, everything=review is None)
        path = os.environ.get("GITHUB_EVENT_PATH", "")
        if not path:
            raise UsageError(
                "which pull request? Give --pr N, or run in Actions on a pull_request_review "
                "or pull_request event (GITHUB_EVENT_PATH)"
            )
        try:
            event = json.loads(Path(path).read_text(encoding="utf-8"))
            number = int(event["pull_request"]["number"])
        except (OSError, ValueError, KeyError, TypeError):
            raise UsageError(
                f"GITHUB_EVENT_PATH ({path}) holds no pull request event; give --pr N"
            ) from None
        found = (event.get("review") or {}).get("id")
        return cls(number, review if review is not None else int(found) if found else None)


def review_feedback(
    settings: NotionSettings,
    *,
    pull_request: int | None = None,
    review: int | None = None,
    dry_run: bool = False,
) -> FeedbackReport:
    """Tell the module's Notion page what the PR's reviewers said (GITHUB_TOKEN,
    GITHUB_REPOSITORY, NOTION_TOKEN from the environment, as in Actions)."""
    event = Event.from_environment(pull_request, review)
    repo = GitHubRepo.from_environment()
    pull = repo.pull_state(event.pull_request)
    report = FeedbackReport(pull.number, pull.url)
    if not pull.head_ref.startswith(BRANCH_PREFIX) or pull.head_repo != repo.full_name:
        report.skipped = (
            f"#{pull.number} is not a module pull request (its branch is "
            f"{pull.head_repo or 'a deleted fork'}:{pull.head_ref}); nothing to tell"
        )
        return report
    report.module_id = pull.head_ref[len(BRANCH_PREFIX) :]
    files = _Files(repo, module_file(report.module_id))
    module = files.module(pull.head_sha) or files.module(pull.base_sha) or {}
    page_id = module.get("notion_page_id")
    if not isinstance(page_id, str) or not page_id:
        report.skipped = f"the module {report.module_id} names no Notion page; nothing to tell"
        return report
    report.page_id = page_id
    api = NotionAPI.from_environment(per_second=settings.requests_per_second)
    page = api.page(page_id)
    _check_page(api, page, report.module_id, settings)
    told = _links_on(api.comments(page_id))
    module_title = str(module.get("title") or report.module_id)
    for item in _to_tell(repo, pull, event, files, module_title):
        text = "".join(part["text"]["content"] for part in item.rich_text)
        if item.link in told:
            report.told.append(Told(item.what, item.link, "already posted", text))
            continue
        if item.moves_status and pull.state == "open":
            report.status = settings.review_status
            if not dry_run:  # first the Status: a failure leaves the comment to a rerun
                _set_status(api, page, page_id, settings)
        if not dry_run:
            api.post_comment(page_id, item.rich_text)
        outcome: Outcome = "would post" if dry_run else "posted"
        report.told.append(Told(item.what, item.link, outcome, text))
        told.add(item.link)
    return report


# -- what there is to tell ----------------------------------------------------------------------


@dataclass
class _Item:
    what: str
    link: str
    rich_text: list[dict[str, Any]]
    moves_status: bool = False


def _to_tell(
    repo: GitHubRepo, pull: PullState, event: Event, files: _Files, title: str
) -> list[_Item]:
    items: list[_Item] = []
    if event.review is not None:
        reviews = [repo.review(pull.number, event.review)]
    else:
        reviews = repo.reviews(pull.number) if event.everything else []
    comments = repo.review_comments(pull.number) if reviews else []
    for found in reviews:
        if found.state not in _TOLD_STATES:
            continue  # pending (not submitted) or dismissed: nothing to tell
        own = [c for c in comments if c.review_id == found.id]
        if found.state == "COMMENTED" and not found.body.strip() and not own:
            continue
        items.append(
            _Item(
                f"review {found.id} by {found.user} ({found.state.lower().replace('_', ' ')})",
                found.url,
                _review_text(found, own, files, title, pull),
                moves_status=found.state == "CHANGES_REQUESTED",
            )
        )
    if pull.state == "closed" and not pull.merged and event.review is None:
        # Known by the time it was closed: closed again after a reopening, it is told again.
        link = f"{pull.url}#closed-{re.sub(r'[^0-9TZ]', '', pull.closed_at or '')}"
        items.append(_Item("closed without merging", link, _closed_text(pull, title, repo, link)))
    return items


def _review_text(
    review: Review, comments: list[ReviewComment], files: _Files, title: str, pull: PullState
) -> list[dict[str, Any]]:
    verdict = _VERDICTS[review.state]
    parts = [
        _rt(f"{verdict} on “{title}” by {review.user or 'a reviewer'}", bold=True, link=review.url),
        _rt(f" (GitHub pull request #{pull.number})\n"),
    ]
    if review.body.strip():
        parts.append(_rt(review.body.strip() + "\n"))
    if comments:
        parts.append(_rt("\nOn the module:\n", bold=True))
        for comment in comments:
            where = files.place(comment)
            parts.append(_rt(f"• {where}", bold=True, link=comment.url))
            parts.append(_rt(f": {comment.body.strip()}\n"))
    if review.state == "CHANGES_REQUESTED":
        parts.append(
            _rt(
                "\nWhat to do: change the page in Notion, then set its Status to Ready again. "
                "The pull request is updated by the next export."
            )
        )
    elif review.state == "APPROVED":
        parts.append(_rt("\nThe module goes live when the pull request is merged."))
    return _fitted(parts, review.url)


def _closed_text(pull: PullState, title: str, repo: GitHubRepo, link: str) -> list[dict[str, Any]]:
    parts = [
        _rt(f"⛔ The pull request for “{title}” was closed without being merged", bold=True),
        _rt(" ("),
        _rt(f"GitHub pull request #{pull.number}", link=link),
        _rt("), so this version of the module does not go live.\n"),
    ]
    last = repo.last_comment(pull.number)
    if last is not None and last[1].strip():
        parts.append(_rt(f"The last comment on it, by {last[0]}: {last[1].strip()}\n"))
    parts.append(
        _rt(
            "If the module should still go live, change the page if needed and set its Status "
            "to Ready again: the next export opens a new pull request."
        )
    )
    return _fitted(parts, pull.url)


# -- the module file: which section a line is in --------------------------------------------


class _Files:
    """The module file at the commits review comments refer to, read once each."""

    def __init__(self, repo: GitHubRepo, path: str) -> None:
        self.repo, self.path = repo, path
        self._texts: dict[str, str | None] = {}

    def text(self, commit: str) -> str | None:
        if commit not in self._texts:
            self._texts[commit] = self.repo.file_text(self.path, commit)
        return self._texts[commit]

    def module(self, commit: str) -> dict[str, Any] | None:
        source = self.text(commit)
        try:
            data = json.loads(source) if source else None
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def place(self, comment: ReviewComment) -> str:
        """Where a comment points, in the team lead's words: 'Section 2 “Locate Safety
        Equipment”, hotspot eye-wash (line 48)'; a file's path otherwise."""
        if comment.path != self.path:
            return f"the file {comment.path}" + (f", line {comment.line}" if comment.line else "")
        if comment.line is None:
            return "the module file"
        source = self.text(comment.commit)
        module = self.module(comment.commit)
        words = _section_words(source, module, comment.line) if source and module else None
        side = ", in the old version" if comment.side == "LEFT" else ""
        return f"{words or 'The module file'} (line {comment.line}{side})"


_ITEMS = {"questions": "question", "options": "option", "hotspots": "hotspot", "items": "item"}
_ITEMS.update(tasks="task", files="file")


def _section_words(source: str, module: dict[str, Any], line: int) -> str | None:
    """The deepest thing of the module the 1-based `line` of its file is in, named."""
    try:
        found = json_source_map.calculate(source)
    except (ValueError, RecursionError, json_source_map.errors.InvalidInputError):
        return None
    at = line - 1
    best = ""
    for pointer, entry in found.items():
        start = entry.key_start or entry.value_start
        if start.line <= at <= entry.value_end.line and pointer.count("/") > best.count("/"):
            best = pointer
    parts = best.split("/")[1:]
    if not parts:
        return None
    if parts[0] != "sections" or len(parts) < 2 or not parts[1].isdigit():
        return f"The module's {parts[0].replace('_', ' ')}"
    sections = module.get("sections") or []
    index = int(parts[1])
    if index >= len(sections) or not isinstance(sections[index], dict):
        return None
    section = sections[index]
    words = f"Section {section.get('section_number')} “{section.get('title', '')}”"
    node: Any = section
    for key, step in pairwise(parts[2:]):
        node = node.get(key) if isinstance(node, dict) else None
        if key in _ITEMS and step.isdigit() and isinstance(node, list) and int(step) < len(node):
            item = node[int(step)]
            name = item.get("id") if isinstance(item, dict) else None
            words += f", {_ITEMS[key]} {name or int(step) + 1}"
    if len(parts) > 2 and parts[2] in ("title", "content", "completion_criteria", "media_url"):
        words += f", its {parts[2].replace('_', ' ')}"
    return words


# -- Notion ----------------------------------------------------------------------------------


def _rt(text: str, *, bold: bool = False, link: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "text", "text": {"content": text}}
    if link:
        item["text"]["link"] = {"url": link}
    if bold:
        item["annotations"] = {"bold": True}
    return item


def _fitted(parts: list[dict[str, Any]], more: str) -> list[dict[str, Any]]:
    """Rich text within Notion's limits: long texts split into items of 2,000 characters;
    past 100 items, the rest left on GitHub with a link to it."""
    items: list[dict[str, Any]] = []
    for part in parts:
        content = part["text"]["content"]
        for start in range(0, max(len(content), 1), TEXT_LIMIT):
            piece = {
                **part,
                "text": {**part["text"], "content": content[start : start + TEXT_LIMIT]},
            }
            items.append(piece)
    if len(items) > ITEMS_LIMIT:
        items = [*items[: ITEMS_LIMIT - 1], _rt("… the rest is on GitHub.", link=more)]
    return items


def _links_on(comments: list[dict[str, Any]]) -> set[str]:
    """Every link in the page's comments: what has been told already."""
    links = set()
    for comment in comments:
        for item in comment.get("rich_text") or []:
            link = (item.get("text") or {}).get("link") or {}
            links.add(str(item.get("href") or link.get("url") or ""))
    return links - {""}


def _check_page(
    api: NotionAPI, page: dict[str, Any], module_id: str, settings: NotionSettings
) -> None:
    """Refuse a page that is not this module's row: a module file can name any page."""
    if settings.data_source_id or settings.database_id:
        source = settings.data_source_id or api.data_source_id(str(settings.database_id))
        parent = str((page.get("parent") or {}).get("data_source_id", ""))
        if parent.replace("-", "") != source.replace("-", ""):
            raise UsageError(
                f"the Notion page {page.get('id')} is not in the Module Library; fix "
                "notion_page_id in the module file"
            )
    name = settings.properties["module_id"]
    found = property_value(page, name)
    if found != module_id:
        raise UsageError(
            f"the Notion page {page.get('id')} has {name} {found!r}, not {module_id!r}; fix "
            "notion_page_id in the module file or the page's Module ID"
        )


def _set_status(
    api: NotionAPI, page: dict[str, Any], page_id: str, settings: NotionSettings
) -> None:
    name = settings.properties["status"]
    prop = (page.get("properties") or {}).get(name)
    if not isinstance(prop, dict):
        raise UsageError(
            f"the Notion page {page_id} has no property {name!r}; add it (a Status), or set "
            "notion.properties.status in pipeline.yaml"
        )
    kind = str(prop.get("type", "status"))
    api.update_page(page_id, {name: {kind: {"name": settings.review_status}}})
