"""Minutes, not a night, from Ready to PR: one scheduled run of the export workflow's
steps (`pipeline export`, then `pipeline propose`), as whole commands, against the
local Notion server enforcing 3 requests/s and the local GitHub server (git over
HTTP, the token required).

A library of N Ready modules is exported and proposed once (their rows get the PR
link, which edits them, so the next tick reads them once more); then team leads
flip K more pages to Ready and one run of the steps happens. Printed: the time from that
run's start until the PRs exist, its Notion requests, and the same for a run with
nothing to do (what every quiet 15-minute tick costs). A team lead waits at most
the schedule's interval (15 minutes) plus that time.

Usage: python bench/latency.py [--library 100] [--flip 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.builders import body, git, properties, schema  # noqa: E402
from tests.doubles.github_server import (  # noqa: E402
    GITHUB_TOKEN,
    GitHubState,
    serve_with_git,
)
from tests.doubles.notion_server import TOKEN, Bucket, NotionState, serve  # noqa: E402


def status(name: str) -> dict[str, object]:
    return {"id": "s", "type": "status", "status": {"name": name}}


def run_steps(clone: Path, env: dict[str, str]) -> tuple[float, int]:
    """The export workflow's two run: steps, timed from the start of the first."""
    start = time.perf_counter()
    for command in (["pipeline", "export"], ["pipeline", "propose"]):
        done = subprocess.run(
            command, cwd=clone, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        if command[1] == "export":
            requests = int(done.stdout.rsplit(" Notion requests", 1)[0].rsplit(" ", 1)[1])
    return time.perf_counter() - start, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=int, default=100)
    parser.add_argument("--flip", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    bare, clone = work / "remote.git", work / "checkout"
    git(work, "init", "-q", "--bare", "-b", "main", str(bare))
    git(work, "clone", "-q", str(bare), str(clone))
    (clone / "data" / "modules").mkdir(parents=True)
    (clone / "data" / "modules" / ".keep").write_text("")
    git(clone, "add", ".")
    git(clone, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "start")
    git(clone, "push", "-q", "origin", "main")

    state = NotionState(schema=schema(), bucket=Bucket(rate=3, burst=3))
    edited = time.time() - 3600
    for i in range(args.library):
        state.add_page(properties(f"module-{i:04d}", f"Module {i}"), body(), edited)
    drafts = [
        state.add_page(
            {**properties(f"new-{i}", f"New {i}"), "Status": status("Drafting")}, body(), edited
        )
        for i in range(args.flip)
    ]
    try:
        for notion in serve(state):
            for github in serve_with_git(GitHubState(bare=bare)):
                git(clone, "remote", "set-url", "origin", github.clone_url())
                (clone / "pipeline.yaml").write_text(
                    f"notion:\n  database_id: {state.database_id}\n"
                )
                env = {
                    **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
                    "NOTION_TOKEN": TOKEN,
                    "NOTION_API_BASE_URL": notion.url,
                    "GITHUB_TOKEN": GITHUB_TOKEN,
                    "GITHUB_REPOSITORY": "frames/modules",
                    "GITHUB_API_URL": github.url,
                    "GITHUB_SERVER_URL": github.url,
                }
                first, first_requests = run_steps(clone, env)
                assert len(github.state.open_pulls()) == args.library
                # The library is in review. The next tick reads again the pages propose
                # wrote the PR link to (that edits them); the one after is quiet. The
                # export's cursor keeps a minute's margin for Notion's clocks (its edit
                # times are whole minutes), so an edit is read again by each tick that
                # starts less than two minutes after it: with ticks 15 minutes apart,
                # the next one only. Ticks are spaced so here too.
                time.sleep(121)
                after, after_requests = run_steps(clone, env)
                quiet, quiet_requests = run_steps(clone, env)
                for page in drafts:
                    page["properties"]["Status"] = status("Ready")
                    page["last_edited_time"] = time.strftime(
                        "%Y-%m-%dT%H:%M:00.000Z", time.gmtime()
                    )
                flipped, flipped_requests = run_steps(clone, env)
                titles = {p["title"] for p in github.state.open_pulls()}
                assert all(f"Module: New {i} (rev 1)" in titles for i in range(args.flip))

                print(
                    f"machine: {platform.machine()}, {os.cpu_count()} cores, "
                    f"Python {platform.python_version()}; Notion at 3 requests/s"
                )
                print(
                    f"first run, {args.library} Ready pages -> {args.library} PRs: "
                    f"{first:6.1f} s, {first_requests} Notion requests"
                )
                print(
                    f"next tick (reads the {args.library} linked pages again): "
                    f"{after:6.1f} s, {after_requests} Notion requests"
                )
                print(
                    f"quiet tick (nothing changed):            {quiet:6.1f} s, "
                    f"{quiet_requests} Notion requests"
                )
                print(
                    f"{args.flip} pages flipped to Ready -> their PRs:  {flipped:6.1f} s, "
                    f"{flipped_requests} Notion requests"
                )
                print(
                    f"a team lead waits at most 15 min (the schedule) + {flipped:.0f} s "
                    "(+ the runner's queue) from Ready to PR"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
