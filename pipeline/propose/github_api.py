"""The GitHub pull-request API as `propose` needs it; the one place that talks to PyGithub
and turns its exceptions (and those of requests, underneath it) into ours.

Settings come from the environment as in Actions: GITHUB_TOKEN, GITHUB_REPOSITORY,
GITHUB_API_URL (GitHub Enterprise, the test server). PyGithub's own throttle is
off: the pipeline makes a handful of calls per module. Its retry (GithubRetry)
also repeats a POST on 5xx, which could open two pull requests, so creation
looks before it leaps: a 422 "already exists" finds the open one instead.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from github import (
    Auth,
    BadCredentialsException,
    Github,
    GithubException,
    InputGitTreeElement,
    UnknownObjectException,
)
from github.PullRequest import PullRequest
from github.Repository import Repository

from pipeline.config import http_url
from pipeline.errors import ServiceError, UsageError

DEFAULT_API_URL = "https://api.github.com"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Pull:
    """An open pull request, as `propose` needs to know it."""

    number: int
    url: str
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class PullState:
    """A pull request, open or closed, as review feedback needs to know it."""

    number: int
    url: str
    title: str
    state: str  # open, closed
    merged: bool
    closed_at: str | None  # ISO 8601, UTC
    head_ref: str
    head_sha: str
    head_repo: str  # owner/name; "" when the fork is gone
    base_sha: str


@dataclass(frozen=True, slots=True)
class Review:
    id: int
    user: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    body: str
    url: str
    submitted_at: str


@dataclass(frozen=True, slots=True)
class ReviewComment:
    """A comment on a line (or a file) of the PR's diff, as its author wrote it: `line` of
    `path` at commit `commit`, on the new (RIGHT) or old (LEFT) side; None for a file."""

    id: int
    review_id: int | None
    user: str
    body: str
    path: str
    line: int | None
    side: str
    commit: str
    url: str
    reply_to: int | None


def _review(review: Any) -> Review:
    submitted = review.submitted_at
    return Review(
        id=review.id,
        user=review.user.login if review.user else "",
        state=review.state or "",
        body=review.body or "",
        url=review.html_url,
        submitted_at=submitted.strftime("%Y-%m-%dT%H:%M:%SZ") if submitted else "",
    )


def _why(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    details = "; ".join(
        str(e.get("message", e.get("code", "")))
        for e in data.get("errors", [])
        if isinstance(e, dict)
    )
    return f"HTTP {exc.status} {data.get('message', '')}".strip() + (
        f" ({details})" if details else ""
    )


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """PyGithub's and requests' exceptions, as ours: the token refused is configuration
    (exit 2); anything else GitHub did or did not answer is a service failure (exit 4)."""
    try:
        yield
    except BadCredentialsException:
        raise UsageError(
            f"GitHub refused the token (GITHUB_TOKEN) for {what}; see 'Set up in your "
            "organisation' in the README for a token that can open pull requests"
        ) from None
    except GithubException as exc:
        raise ServiceError(
            "GitHub", f"GitHub refused {what}: {_why(exc)}", status=exc.status
        ) from None
    except requests.RequestException as exc:
        raise ServiceError(
            "GitHub", f"GitHub did not answer {what} ({type(exc).__name__}); try again later"
        ) from None


class GitHubRepo:
    """One repository's pull requests. Methods take and return plain data."""

    def __init__(self, repo: Repository) -> None:
        self._repo = repo
        self._known: dict[int, PullRequest] = {}  # PyGithub objects already fetched
        with _translated(f"the repository {repo.full_name}"):
            self.owner = repo.owner.login
            self.default_branch = repo.default_branch
            self.html_url = repo.html_url  # where people see it: links in PR bodies

    @classmethod
    def from_environment(cls, *, timeout: int = 30) -> GitHubRepo:
        token = os.environ.get("GITHUB_TOKEN", "").strip()
        name = os.environ.get("GITHUB_REPOSITORY", "").strip()
        if not token:
            raise UsageError(
                "GITHUB_TOKEN is not set; see 'Set up in your organisation' in the "
                "README for a token that can open pull requests"
            )
        if "/" not in name:
            raise UsageError("GITHUB_REPOSITORY is not set to owner/name")
        base_url = http_url(
            os.environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL,
            "GITHUB_API_URL",
            f"set it to GitHub's API, {DEFAULT_API_URL} (GitHub Enterprise Server: "
            "https://HOST/api/v3), or unset it",
        )
        client = Github(
            auth=Auth.Token(token),
            timeout=timeout,
            base_url=base_url,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        with _translated(f"the repository {name}"):
            return cls(client.get_repo(name))

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        with _translated(what):
            return fn()

    def _seen(self, pull: PullRequest) -> Pull:
        self._known[pull.number] = pull
        return Pull(pull.number, pull.html_url, pull.title or "", pull.body or "")

    def _get(self, number: int) -> PullRequest:
        if number not in self._known:
            self._known[number] = self._repo.get_pull(number)
        return self._known[number]

    def find_open(self, branch: str) -> Pull | None:
        """The open pull request from `branch`, if there is one."""

        def find() -> Pull | None:
            pulls = self._repo.get_pulls(state="open", head=f"{self.owner}:{branch}")
            return next((self._seen(p) for p in pulls), None)

        return self._call(f"the pull requests of {branch}", find)

    def _open_by_scanning(self, branch: str) -> PullRequest | None:
        """A slower, surer lookup: every open PR, matched on its head branch."""
        return next((p for p in self._repo.get_pulls(state="open") if p.head.ref == branch), None)

    def create(self, branch: str, title: str, body: str, *, draft: bool = False) -> Pull:
        """Open a pull request from `branch`, or update the one that already exists."""
        what = f"the pull request for {branch}"
        try:
            with _translated(what):
                created = self._repo.create_pull(
                    base=self.default_branch, head=branch, title=title, body=body, draft=draft
                )
                return self._seen(created)
        except ServiceError as exc:
            if exc.status != 422:  # 422: one exists already (a retried POST made it)
                raise
            refused = exc
        found = self._call(what, lambda: self._open_by_scanning(branch))
        if found is None:  # a 422 for another reason (e.g. drafts not supported): say it
            raise refused
        pull = self._seen(found)
        self.update(pull.number, title, body)
        return Pull(pull.number, pull.url, title, body)

    def update(self, number: int, title: str, body: str) -> None:
        self._call(
            f"the update of pull request #{number}",
            lambda: self._get(number).edit(title=title, body=body),
        )

    def label(self, number: int, labels: tuple[str, ...]) -> None:
        self._call(
            f"the labels of pull request #{number}",
            lambda: self._get(number).add_to_labels(*labels),
        )

    # -- a new PR's people and state (issue #14) ---------------------------------------------

    def request_reviews(
        self, number: int, reviewers: tuple[str, ...], team_reviewers: tuple[str, ...]
    ) -> None:
        self._call(
            f"the review request of pull request #{number}",
            lambda: self._get(number).create_review_request(
                reviewers=list(reviewers), team_reviewers=list(team_reviewers)
            ),
        )

    def assign(self, number: int, assignees: tuple[str, ...]) -> None:
        self._call(
            f"the assignees of pull request #{number}",
            lambda: self._get(number).add_to_assignees(*assignees),
        )

    # -- what reviewers said, for `pipeline notion review-feedback` (issue #14) -------------

    @property
    def full_name(self) -> str:
        return str(self._repo.full_name)

    def pull_state(self, number: int) -> PullState:
        """A pull request (open or closed) as review feedback needs it."""

        def read() -> PullState:
            try:
                pull = self._get(number)
            except UnknownObjectException:
                raise UsageError(
                    f"there is no pull request #{number} in {self.full_name}"
                ) from None
            head_repo = pull.head.repo.full_name if pull.head.repo is not None else ""
            closed = pull.closed_at.strftime("%Y-%m-%dT%H:%M:%SZ") if pull.closed_at else None
            return PullState(
                number=pull.number,
                url=pull.html_url,
                title=pull.title or "",
                state=pull.state,
                merged=bool(pull.merged),
                closed_at=closed,
                head_ref=pull.head.ref,
                head_sha=pull.head.sha,
                head_repo=head_repo,
                base_sha=pull.base.sha,
            )

        return self._call(f"pull request #{number}", read)

    def reviews(self, number: int) -> list[Review]:
        """The PR's reviews, oldest first."""
        return self._call(
            f"the reviews of pull request #{number}",
            lambda: [_review(r) for r in self._get(number).get_reviews()],
        )

    def review(self, number: int, review_id: int) -> Review:
        def read() -> Review:
            try:
                return _review(self._get(number).get_review(review_id))
            except UnknownObjectException:
                raise UsageError(f"pull request #{number} has no review {review_id}") from None

        return self._call(f"review {review_id} of pull request #{number}", read)

    def review_comments(self, number: int) -> list[ReviewComment]:
        """Every comment on the PR's diff (from all reviews), oldest first."""

        def read() -> list[ReviewComment]:
            return [
                ReviewComment(
                    id=c.id,
                    review_id=c.pull_request_review_id,
                    user=c.user.login if c.user else "",
                    body=c.body or "",
                    path=c.path,
                    line=c.original_line,
                    side=c.side or "RIGHT",
                    commit=c.original_commit_id,
                    url=c.html_url,
                    reply_to=c.in_reply_to_id,
                )
                for c in self._get(number).get_review_comments()
            ]

        return self._call(f"the review comments of pull request #{number}", read)

    def last_comment(self, number: int) -> tuple[str, str] | None:
        """(who, what) of the PR's last conversation comment, if any."""

        def read() -> tuple[str, str] | None:
            found = None
            for comment in self._get(number).get_issue_comments():
                found = (comment.user.login if comment.user else "", comment.body or "")
            return found

        return self._call(f"the comments of pull request #{number}", read)

    def file_text(self, path: str, ref: str) -> str | None:
        """A file's text at a commit; None when it is not there."""

        def read() -> str | None:
            try:
                found = self._repo.get_contents(path, ref=ref)
            except UnknownObjectException:
                return None
            if isinstance(found, list):  # a folder
                return None
            if found.encoding != "base64":  # over 1 MB: the contents API leaves it out
                blob = self._repo.get_git_blob(found.sha)
                return base64.b64decode(blob.content).decode("utf-8", "replace")
            return found.decoded_content.decode("utf-8", "replace")

        return self._call(f"{path} at {ref[:12]}", read)

    # -- commits GitHub signs: made through its API (issue #14) -------------------------------

    def commit_files(
        self,
        branch: str,
        base: str,
        message: str,
        files: list[tuple[str, str | None, bytes | None]],
        *,
        tree: str,
        expected: str | None,
    ) -> str:
        """Point `branch` at a new commit on `base` with `files` ((path, mode, content);
        content None: removed), made through the git data API: a commit an App makes this
        way, without an author of its own, GitHub signs and shows as verified. The tree
        GitHub builds must be `tree` (the one git built here), and the branch must still be
        at `expected` (None: not there), or nothing is pointed anywhere."""
        what = f"the commit for {branch}"

        def commit() -> str:
            elements = []
            for path, mode, content in files:
                if content is None or mode is None:
                    elements.append(InputGitTreeElement(path, "100644", "blob", sha=None))
                    continue
                encoded = base64.b64encode(content).decode()
                blob = self._repo.create_git_blob(encoded, "base64")
                elements.append(InputGitTreeElement(path, mode, "blob", sha=blob.sha))
            parent = self._repo.get_git_commit(base)
            made = self._repo.create_git_tree(elements, base_tree=parent.tree)
            if made.sha != tree:
                raise ServiceError(
                    "GitHub",
                    f"GitHub built tree {made.sha} for {branch}, not {tree}; nothing "
                    "was pushed. Run propose again, or turn propose.verified_commits off",
                )
            signed = self._repo.create_git_commit(message, made, [parent])
            if expected is None:
                self._repo.create_git_ref(f"refs/heads/{branch}", signed.sha)
                return signed.sha
            ref = self._repo.get_git_ref(f"heads/{branch}")
            if ref.object.sha != expected:  # what --force-with-lease does for git push
                raise ServiceError(
                    "GitHub", f"{branch} moved on GitHub while propose ran; run it again"
                )
            ref.edit(signed.sha, force=True)
            return signed.sha

        return self._call(what, commit)

    def close(self, number: int, comment: str) -> None:
        def close() -> None:
            pull = self._get(number)
            pull.create_issue_comment(comment)
            pull.edit(state="closed")

        self._call(f"closing pull request #{number}", close)
