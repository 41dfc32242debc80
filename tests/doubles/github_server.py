"""A local GitHub REST API for tests: PyGithub talks to it over HTTP.

It speaks the pull-request, label, comment and repository endpoints with
GitHub's response and error shapes, including 422 "A pull request already
exists for owner:branch." Branches come from the real bare git repository the
tests push to, as on GitHub.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.doubles.local_http import LocalServer, run_server

GITHUB_TOKEN = "ghs_test_token_never_printed"


@dataclass
class GitHubState:
    bare: Path
    owner: str = "frames"
    name: str = "modules"
    default_branch: str = "main"
    pulls: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)
    fail_create_once: int | None = None  # status to answer the next PR creation with
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Who may be asked to review (GitHub: collaborators, and the organisation's teams); a
    # request for anyone else is refused with 422, as GitHub does. Drafts need a plan
    # that has them (GitHub: 422 "Draft pull requests are not supported ...").
    collaborators: set[str] = field(default_factory=lambda: {"alice", "bob", "carol"})
    teams: set[str] = field(default_factory=lambda: {"content-reviewers"})
    drafts_supported: bool = True
    bot: str = "module-pipeline[bot]"  # who the token is: the author of the PRs it opens
    # Commits made through the git data API without an author of their own: GitHub signs
    # those an App makes, and shows them as verified.
    verified: set[str] = field(default_factory=set)
    # (branch, commit): someone else pushes this just before the next read of the ref.
    push_before_ref_read: tuple[str, str] | None = None
    reviews: list[dict[str, Any]] = field(default_factory=list)  # each with "pull_number"
    review_comments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def branch_sha(self, branch: str) -> str | None:
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
            cwd=self.bare,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() or None

    def open_pulls(self) -> list[dict[str, Any]]:
        return [p for p in self.pulls if p["state"] == "open"]


class Handler(BaseHTTPRequestHandler):
    server: GitHubServer

    def log_message(self, *_: object) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        body: dict[str, Any] = {
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
        }
        if errors:
            body["errors"] = errors
        self._send(status, body)

    def _route(self) -> tuple[str, dict[str, str], Any] | None:
        parts = urlsplit(self.path)
        state = self.server.state
        with state.lock:
            state.hits[f"{self.command} {re.sub(r'/[0-9]+', '/N', parts.path)}"] += 1
        if (
            self.headers.get("Authorization") != f"token {GITHUB_TOKEN}"
            and self.headers.get("Authorization") != f"Bearer {GITHUB_TOKEN}"
        ):
            self._error(401, "Bad credentials")
            return None
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        prefix = f"/repos/{state.full_name}"
        if not parts.path.startswith(prefix):
            self._error(404, "Not Found")
            return None
        return parts.path[len(prefix) :], query, body

    def _repo(self) -> dict[str, Any]:
        s = self.server.state
        base = self.server.url
        return {
            "id": 1,
            "name": s.name,
            "full_name": s.full_name,
            "owner": {"login": s.owner, "id": 2, "type": "Organization"},
            "default_branch": s.default_branch,
            "private": False,
            "url": f"{base}/repos/{s.full_name}",
            "html_url": f"https://github.com/{s.full_name}",
        }

    def _pull(self, number: int) -> dict[str, Any] | None:
        return next((p for p in self.server.state.pulls if p["number"] == number), None)

    def do_GET(self) -> None:
        route = self._route()
        if route is None:
            return None
        path, query, _ = route
        state = self.server.state
        if path == "":
            return self._send(200, self._repo())
        if path == "/pulls":
            pulls = [p for p in state.pulls if query.get("state", "open") in (p["state"], "all")]
            if "head" in query:
                pulls = [p for p in pulls if p["head"]["label"] == query["head"]]
            return self._send(200, pulls)
        if m := re.fullmatch(r"/pulls/(\d+)", path):
            pull = self._pull(int(m[1]))
            return self._send(200, pull) if pull else self._error(404, "Not Found")
        return self._get_review_data(path, query)

    # -- reviews, their comments, files at a commit (issue #14) ------------------------------

    def _get_review_data(self, path: str, query: dict[str, str]) -> None:
        state = self.server.state
        if m := re.fullmatch(r"/pulls/(\d+)/reviews", path):
            found = [r for r in state.reviews if r["pull_number"] == int(m[1])]
            return self._send(200, [_public(r) for r in found])
        if m := re.fullmatch(r"/pulls/(\d+)/reviews/(\d+)", path):
            for review in state.reviews:
                if review["pull_number"] == int(m[1]) and review["id"] == int(m[2]):
                    return self._send(200, _public(review))
            return self._error(404, "Not Found")
        if m := re.fullmatch(r"/pulls/(\d+)/comments", path):
            found = [c for c in state.review_comments if c["pull_number"] == int(m[1])]
            return self._send(200, [_public(c) for c in found])
        if m := re.fullmatch(r"/issues/(\d+)/comments", path):
            found = [c for c in state.comments if c["issue_number"] == int(m[1])]
            return self._send(200, found)
        if m := re.fullmatch(r"/contents/(.+)", path):
            return self._contents(m[1], query.get("ref") or state.default_branch)
        if m := re.fullmatch(r"/git/commits/([0-9a-f]{40})", path):
            return self._git_commit(m[1])
        if m := re.fullmatch(r"/git/trees/([0-9a-f]{40})", path):
            return self._send(200, self._tree_json(m[1]))
        if m := re.fullmatch(r"/git/ref/heads/(.+)", path):
            if state.push_before_ref_read and state.push_before_ref_read[0] == m[1]:
                _git(state.bare, "update-ref", f"refs/heads/{m[1]}", state.push_before_ref_read[1])
                state.push_before_ref_read = None
            sha = state.branch_sha(m[1])
            return (
                self._send(200, self._ref_json(m[1], sha)) if sha else self._error(404, "Not Found")
            )
        if m := re.fullmatch(r"/git/blobs/([0-9a-f]{40})", path):
            done = _git(state.bare, "cat-file", "blob", m[1])
            if done.returncode:
                return self._error(404, "Not Found")
            content = base64.b64encode(done.stdout).decode()
            return self._send(
                200,
                {"sha": m[1], "size": len(done.stdout), "content": content, "encoding": "base64"},
            )
        return self._error(404, "Not Found")

    # -- the git data API: blobs, trees, commits, refs, on the bare repository ------------

    def _git_write(self, path: str, body: dict[str, Any]) -> None:
        state = self.server.state
        if path == "/git/blobs" and self.command == "POST":
            raw = (
                base64.b64decode(body.get("content", ""))
                if body.get("encoding") == "base64"
                else str(body.get("content", "")).encode()
            )
            done = subprocess.run(
                ["git", "hash-object", "-w", "--stdin"],
                cwd=state.bare,
                input=raw,
                capture_output=True,
                check=True,
            )
            sha = done.stdout.decode().strip()
            return self._send(
                201,
                {"sha": sha, "url": f"{self.server.url}/repos/{state.full_name}/git/blobs/{sha}"},
            )
        if path == "/git/trees" and self.command == "POST":
            return self._create_tree(body)
        if path == "/git/commits" and self.command == "POST":
            return self._create_commit(body)
        if path == "/git/refs" and self.command == "POST":
            ref = str(body.get("ref", ""))
            if not ref.startswith("refs/heads/"):
                return self._error(422, "Reference name must start with refs/heads/")
            if state.branch_sha(ref[len("refs/heads/") :]):
                return self._error(422, "Reference already exists")
            _git(state.bare, "update-ref", ref, str(body.get("sha")))
            return self._send(201, self._ref_json(ref[len("refs/heads/") :], str(body.get("sha"))))
        if m := re.fullmatch(r"/git/refs/heads/(.+)", path):
            current = state.branch_sha(m[1])
            if current is None:
                return self._error(422, "Reference does not exist")
            new = str(body.get("sha"))
            forward = _git(state.bare, "merge-base", "--is-ancestor", current, new).returncode == 0
            if not body.get("force") and not forward:
                return self._error(422, "Update is not a fast forward")
            _git(state.bare, "update-ref", f"refs/heads/{m[1]}", new)
            return self._send(200, self._ref_json(m[1], new))
        return self._error(404, "Not Found")

    def _create_tree(self, body: dict[str, Any]) -> None:
        """POST /git/trees: base_tree plus the entries given (sha null: removed)."""
        state = self.server.state
        index = state.bare / f"index-{threading.get_ident()}"
        env = {**os.environ, "GIT_INDEX_FILE": str(index)}
        try:

            def run(args: list[str]) -> subprocess.CompletedProcess[bytes]:
                return subprocess.run(
                    args, cwd=state.bare, env=env, capture_output=True, check=False
                )

            if body.get("base_tree"):
                run(["git", "read-tree", str(body["base_tree"])])
            for entry in body.get("tree", []):
                if entry.get("sha") is None:
                    run(["git", "update-index", "--force-remove", "--", entry["path"]])
                else:
                    info = f"{entry['mode']},{entry['sha']},{entry['path']}"
                    done = run(["git", "update-index", "--add", "--cacheinfo", info])
                    if done.returncode:
                        return self._error(422, "Invalid tree info", [{"message": entry["path"]}])
            sha = run(["git", "write-tree"]).stdout.decode().strip()
        finally:
            index.unlink(missing_ok=True)
        return self._send(201, self._tree_json(sha))

    def _create_commit(self, body: dict[str, Any]) -> None:
        """POST /git/commits: without an author, the token's (an App's) identity, signed."""
        state = self.server.state
        author = body.get("author") or {
            "name": state.bot,
            "email": f"{state.bot.removesuffix('[bot]')}@users.noreply.github.com",
        }
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": author["name"],
            "GIT_AUTHOR_EMAIL": author["email"],
            "GIT_COMMITTER_NAME": "GitHub",
            "GIT_COMMITTER_EMAIL": "noreply@github.com",
        }
        parents = [arg for parent in body.get("parents", []) for arg in ("-p", str(parent))]
        done = subprocess.run(
            [
                "git",
                "commit-tree",
                str(body.get("tree")),
                *parents,
                "-m",
                str(body.get("message", "")),
            ],
            cwd=state.bare,
            env=env,
            capture_output=True,
            check=False,
        )
        if done.returncode:
            return self._error(422, "Tree SHA does not exist")
        sha = done.stdout.decode().strip()
        if not body.get("author") and not body.get("committer"):
            state.verified.add(sha)
        return self._git_commit(sha, status=201)

    def _git_commit(self, sha: str, status: int = 200) -> None:
        state = self.server.state
        shown = _git(state.bare, "show", "-s", "--format=%T%n%P%n%an%n%ae%n%B", sha)
        if shown.returncode:
            return self._error(404, "Not Found")
        tree, parents, name, email, *message = shown.stdout.decode().split("\n")
        base = f"{self.server.url}/repos/{state.full_name}/git"
        verified = sha in state.verified
        return self._send(
            status,
            {
                "sha": sha,
                "url": f"{base}/commits/{sha}",
                "html_url": f"https://github.com/{state.full_name}/commit/{sha}",
                "tree": {"sha": tree, "url": f"{base}/trees/{tree}"},
                "parents": [{"sha": p, "url": f"{base}/commits/{p}"} for p in parents.split()],
                "message": "\n".join(message).strip(),
                "author": {"name": name, "email": email, "date": "2025-11-27T10:00:00Z"},
                "verification": {
                    "verified": verified,
                    "reason": "valid" if verified else "unsigned",
                    "signature": None,
                    "payload": None,
                },
            },
        )

    def _tree_json(self, sha: str) -> dict[str, Any]:
        state = self.server.state
        return {
            "sha": sha,
            "url": f"{self.server.url}/repos/{state.full_name}/git/trees/{sha}",
            "tree": [],
            "truncated": False,
        }

    def _ref_json(self, branch: str, sha: str | None) -> dict[str, Any]:
        state = self.server.state
        base = f"{self.server.url}/repos/{state.full_name}/git"
        return {
            "ref": f"refs/heads/{branch}",
            "url": f"{base}/refs/heads/{branch}",
            "object": {"type": "commit", "sha": sha, "url": f"{base}/commits/{sha}"},
        }

    def _contents(self, path: str, ref: str) -> None:
        """GET /contents/{path}?ref=: a file's content, base64, up to 1 MB; a bigger one
        with encoding "none" and no content (read it as a blob), as GitHub answers."""
        state = self.server.state
        listed = _git(state.bare, "ls-tree", ref, "--", path)
        if listed.returncode or not listed.stdout.strip():
            return self._error(404, "Not Found")
        sha = listed.stdout.decode().split()[2]
        content = _git(state.bare, "cat-file", "blob", sha).stdout
        big = len(content) > 1_000_000
        encoded = "" if big else base64.encodebytes(content).decode()
        return self._send(
            200,
            {
                "type": "file",
                "encoding": "none" if big else "base64",
                "size": len(content),
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "content": encoded,
                "sha": sha,
                "url": f"{self.server.url}/repos/{state.full_name}/contents/{path}?ref={ref}",
                "html_url": f"https://github.com/{state.full_name}/blob/{ref}/{path}",
            },
        )

    def do_POST(self) -> None:
        route = self._route()
        if route is None:
            return None
        path, _, body = route
        state = self.server.state
        if path == "/pulls":
            return self._create_pull(body)
        if path.startswith("/git/"):
            return self._git_write(path, body)
        if m := re.fullmatch(r"/pulls/(\d+)/requested_reviewers", path):
            return self._request_reviewers(int(m[1]), body)
        if m := re.fullmatch(r"/issues/(\d+)/assignees", path):
            return self._assign(int(m[1]), body)
        if m := re.fullmatch(r"/issues/(\d+)/(labels|comments)", path):
            pull = self._pull(int(m[1]))
            if pull is None:
                return self._error(404, "Not Found")
            if m[2] == "labels":
                names = {label["name"] for label in pull["labels"]}
                wanted = body if isinstance(body, list) else body.get("labels", [])
                for name in wanted:  # GitHub takes a list or {"labels": [...]}
                    if name not in names:
                        pull["labels"].append(
                            {"id": len(names) + 1, "name": name, "color": "ededed"}
                        )
                return self._send(200, pull["labels"])
            comment = {
                "id": len(state.comments) + 1,
                "body": body.get("body", ""),
                "issue_number": pull["number"],
                "user": _user(state.bot),
                "created_at": "2025-11-28T09:30:00Z",
                "html_url": f"{pull['html_url']}#issuecomment-{len(state.comments) + 1}",
            }
            state.comments.append(comment)
            return self._send(201, comment)
        return self._error(404, "Not Found")

    def do_PATCH(self) -> None:
        route = self._route()
        if route is None:
            return None
        path, _, body = route
        if path.startswith("/git/refs/heads/"):
            return self._git_write(path, body)
        if m := re.fullmatch(r"/pulls/(\d+)", path):
            pull = self._pull(int(m[1]))
            if pull is None:
                return self._error(404, "Not Found")
            for key in ("title", "body", "state"):
                if key in body:
                    pull[key] = body[key]
            if body.get("state") == "closed":
                pull["closed_at"] = "2025-11-28T09:30:00Z"
            return self._send(200, pull)
        return self._error(404, "Not Found")

    # -- a PR's reviewers and assignees (issue #14) -----------------------------------------

    def _request_reviewers(self, number: int, body: dict[str, Any]) -> None:
        """POST /pulls/{n}/requested_reviewers: 201 with the PR; 422 for anyone who is no
        collaborator (or team of the organisation), or the PR's own author."""
        state = self.server.state
        pull = self._pull(number)
        if pull is None:
            return self._error(404, "Not Found")
        users = list(body.get("reviewers") or [])
        teams = list(body.get("team_reviewers") or [])
        if pull["user"]["login"] in users:
            return self._error(422, "Review cannot be requested from pull request author.")
        if not set(users) <= state.collaborators or not set(teams) <= state.teams:
            return self._error(
                422,
                "Reviews may only be requested from collaborators. One or more of the users "
                f"or teams you specified is not a collaborator of the {state.full_name} "
                "repository.",
            )
        known = {u["login"] for u in pull["requested_reviewers"]}
        pull["requested_reviewers"] += [_user(u) for u in users if u not in known]
        slugs = {t["slug"] for t in pull["requested_teams"]}
        pull["requested_teams"] += [
            {"id": 50 + len(slugs), "slug": t, "name": t} for t in teams if t not in slugs
        ]
        return self._send(201, pull)

    def _assign(self, number: int, body: dict[str, Any]) -> None:
        """POST /issues/{n}/assignees: 201 with the issue; users who cannot be assigned
        (not collaborators) are left out silently, as GitHub does."""
        state = self.server.state
        pull = self._pull(number)
        if pull is None:
            return self._error(404, "Not Found")
        known = {u["login"] for u in pull["assignees"]}
        for login in body.get("assignees") or []:
            if login in state.collaborators and login not in known:
                pull["assignees"].append(_user(login))
        return self._send(201, {**pull, "pull_request": {"url": pull["url"]}})

    def _create_pull(self, body: dict[str, Any]) -> None:
        state = self.server.state
        if state.fail_create_once is not None:
            status, state.fail_create_once = state.fail_create_once, None
            return self._error(status, "Server Error")
        if body.get("draft") and not state.drafts_supported:
            return self._error(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": "Draft pull requests are not supported in this repository.",
                    }
                ],
            )
        head = body.get("head", "")
        branch = head.split(":", 1)[-1]
        label = f"{state.owner}:{branch}"
        sha = state.branch_sha(branch)
        if sha is None:
            return self._error(
                422,
                "Validation Failed",
                [{"resource": "PullRequest", "field": "head", "code": "invalid"}],
            )
        if any(p["head"]["ref"] == branch for p in state.open_pulls()):
            return self._error(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {label}.",
                    }
                ],
            )
        number = len(state.pulls) + 1
        pull = {
            "id": 1000 + number,
            "number": number,
            "state": "open",
            "title": body.get("title", ""),
            "body": body.get("body", ""),
            "html_url": f"https://github.com/{state.full_name}/pull/{number}",
            "url": f"{self.server.url}/repos/{state.full_name}/pulls/{number}",
            "issue_url": f"{self.server.url}/repos/{state.full_name}/issues/{number}",
            "comments_url": f"{self.server.url}/repos/{state.full_name}/issues/{number}/comments",
            "head": {"ref": branch, "label": label, "sha": sha, "repo": self._repo()},
            "base": {
                "ref": body.get("base"),
                "label": f"{state.owner}:{body.get('base')}",
                "sha": state.branch_sha(str(body.get("base"))),
                "repo": self._repo(),
            },
            "closed_at": None,
            "merged_at": None,
            "labels": [],
            "merged": False,
            "draft": bool(body.get("draft", False)),
            "user": _user(state.bot),
            "requested_reviewers": [],
            "requested_teams": [],
            "assignees": [],
        }
        state.pulls.append(pull)
        return self._send(201, pull)


def _user(login: str) -> dict[str, Any]:
    return {
        "login": login,
        "id": sum(map(ord, login)),
        "type": "Bot" if "[bot]" in login else "User",
    }


def _git(bare: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=bare, capture_output=True, check=False)


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """A stored review or comment as the API shows it (without our bookkeeping)."""
    return {k: v for k, v in record.items() if k != "pull_number"}


# -- what reviewers do on GitHub, for tests (issue #14) --------------------------------------


def submit_review(
    state: GitHubState,
    number: int,
    user: str,
    verdict: str,
    body: str = "",
    comments: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A reviewer submits a review of PR `number` (APPROVED, CHANGES_REQUESTED, COMMENTED),
    with line comments {"path", "line", "body", "side"?} on the PR's head commit."""
    pull = next(p for p in state.pulls if p["number"] == number)
    review_id = 80 + len(state.reviews)
    html = f"https://github.com/{state.full_name}/pull/{number}"
    review = {
        "id": review_id,
        "node_id": f"PRR_{review_id}",
        "user": _user(user),
        "body": body,
        "state": verdict,
        "html_url": f"{html}#pullrequestreview-{review_id}",
        "pull_request_url": pull["url"],
        "submitted_at": "2025-11-27T10:00:00Z",
        "commit_id": pull["head"]["sha"],
        "author_association": "COLLABORATOR",
        "pull_number": number,
    }
    state.reviews.append(review)
    for comment in comments:
        comment_id = 1000 + len(state.review_comments)
        state.review_comments.append(
            {
                "id": comment_id,
                "node_id": f"PRRC_{comment_id}",
                "pull_request_review_id": review_id,
                "diff_hunk": "@@ -1,3 +1,3 @@",
                "path": comment["path"],
                "position": None,
                "original_position": comment.get("line"),
                "commit_id": pull["head"]["sha"],
                "original_commit_id": pull["head"]["sha"],
                "in_reply_to_id": comment.get("in_reply_to"),
                "user": _user(user),
                "body": comment["body"],
                "created_at": "2025-11-27T10:00:00Z",
                "updated_at": "2025-11-27T10:00:00Z",
                "html_url": f"{html}#discussion_r{comment_id}",
                "pull_request_url": pull["url"],
                "author_association": "COLLABORATOR",
                "line": comment.get("line"),
                "original_line": comment.get("line"),
                "side": comment.get("side", "RIGHT"),
                "start_line": None,
                "original_start_line": None,
                "subject_type": "line" if comment.get("line") else "file",
                "url": f"{pull['url'].rsplit('/', 2)[0]}/pulls/comments/{comment_id}",
                "pull_number": number,
            }
        )
    return review


def close_pull(state: GitHubState, number: int, *, merged: bool = False) -> None:
    """A person closes PR `number` (or merges it)."""
    pull = next(p for p in state.pulls if p["number"] == number)
    pull["state"] = "closed"
    pull["closed_at"] = "2025-11-28T09:30:00Z"
    pull["merged"] = merged
    pull["merged_at"] = pull["closed_at"] if merged else None


class GitHubServer(LocalServer[GitHubState]):
    def __init__(self, state: GitHubState) -> None:
        super().__init__(state, Handler)


def serve(state: GitHubState) -> Iterator[GitHubServer]:
    server = GitHubServer(state)
    yield from run_server(server)


# -- git over HTTP, as github.com serves it ----------------------------------------------------
#
# The REST API above plus git's smart HTTP protocol at /<owner>/<name>.git, served by `git
# http-backend` from the same bare repository. Like GitHub it wants the token as HTTP Basic
# credentials (x-access-token:<token>) and answers 401 without them. Every request's
# Authorization header is kept, for tests to see how the client authenticated.


class GitHandler(Handler):
    server: GitHubGitServer

    def _git(self) -> bool:
        """Serve a git request; False when the path is not the repository's."""
        state = self.server.state
        parts = urlsplit(self.path)
        prefix = f"/{state.full_name}.git"
        if not parts.path.startswith(prefix + "/"):
            return False
        auth = self.headers.get("Authorization")
        with state.lock:
            self.server.git_auth.append(auth)
        scheme, _, credentials = (auth or "").partition(" ")
        wanted = base64.b64encode(f"x-access-token:{GITHUB_TOKEN}".encode()).decode()
        if scheme.lower() != "basic" or credentials.strip() != wanted:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="GitHub"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        body = self._request_body()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "GIT_PROJECT_ROOT": str(state.bare.parent),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": f"/{state.bare.name}{parts.path[len(prefix) :]}",
            "QUERY_STRING": parts.query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "x-access-token",
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(state.bare.parent),
        }
        for header in ("Content-Encoding", "Git-Protocol"):
            if self.headers.get(header):
                env["HTTP_" + header.upper().replace("-", "_")] = self.headers[header]
        done = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = done.stdout.partition(b"\n\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        return True

    def _request_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        if not self._git():
            super().do_GET()

    def do_POST(self) -> None:
        if not self._git():
            super().do_POST()


class GitHubGitServer(GitHubServer):
    def __init__(self, state: GitHubState) -> None:
        LocalServer.__init__(self, state, GitHandler)
        self.git_auth: list[str | None] = []  # each git request's Authorization header

    def clone_url(self) -> str:
        return f"{self.url}/{self.state.full_name}.git"


def serve_with_git(state: GitHubState) -> Iterator[GitHubGitServer]:
    server = GitHubGitServer(state)
    yield from run_server(server)
