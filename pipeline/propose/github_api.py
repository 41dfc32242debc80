"""The GitHub pull-request API as `propose` needs it; the one place that talks to PyGithub
and turns its exceptions (and those of requests, underneath it) into ours.

Settings come from the environment as in Actions: GITHUB_TOKEN, GITHUB_REPOSITORY,
GITHUB_API_URL (GitHub Enterprise, the test server). PyGithub's own throttle is
off: the pipeline makes a handful of calls per module. Its retry (GithubRetry)
also repeats a POST on 5xx, which could open two pull requests, so creation
looks before it leaps: a 422 "already exists" finds the open one instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import requests
from github import Auth, BadCredentialsException, Github, GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

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
        client = Github(
            auth=Auth.Token(token),
            timeout=timeout,
            base_url=os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
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

    def close(self, number: int, comment: str) -> None:
        def close() -> None:
            pull = self._get(number)
            pull.create_issue_comment(comment)
            pull.edit(state="closed")

        self._call(f"closing pull request #{number}", close)
