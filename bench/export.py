"""Benchmark `pipeline export` against the local Notion server enforcing 3 requests/s.

200 Ready modules of 40 blocks each (by default). Prints requests made vs the
minimum needed, wall time vs that minimum at 3 requests/s, the 429 count,
and the requests of a rerun with nothing changed.

Usage: python bench/export.py [--modules 200] [--blocks 40]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import NotionSettings  # noqa: E402
from pipeline.notion.api import NotionAPI  # noqa: E402
from pipeline.notion.export import Exporter  # noqa: E402
from tests.builders import heading, para, properties, rt, schema  # noqa: E402
from tests.doubles.notion_server import TOKEN, Bucket, NotionState, serve  # noqa: E402


def page_blocks(count: int) -> list[dict[str, object]]:
    blocks: list[dict[str, object]] = []
    section = 0
    while len(blocks) < count:
        if len(blocks) % 10 == 0:
            section += 1
            blocks.append(heading(f"Section {section}: Part {section}"))
        else:
            blocks.append(para(rt(f"Paragraph {len(blocks)} with "), rt("bold", bold=True),
                               rt(" text.")))
    return blocks


def run(url: str, settings: NotionSettings, work: Path, *, full: bool
        ) -> tuple[float, NotionAPI, int]:
    api = NotionAPI(TOKEN, base_url=url)
    start = time.perf_counter()
    report = Exporter(api, settings, work).run(full=full)
    assert report.count("failed") == 0
    return time.perf_counter() - start, api, report.count("exported")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=200)
    parser.add_argument("--blocks", type=int, default=40)
    args = parser.parse_args()

    state = NotionState(schema=schema(), bucket=Bucket(rate=3, burst=3))
    edited = time.time() - 3600
    for i in range(args.modules):
        state.add_page(properties(f"module-{i:04d}", f"Module {i}"), page_blocks(args.blocks),
                       edited)
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    (work / "data" / "modules").mkdir(parents=True)
    for server in serve(state):
        os.environ["NOTION_API_BASE_URL"] = server.url
        settings = NotionSettings(database_id=state.database_id)

        elapsed, api, exported = run(server.url, settings, work, full=True)
        # database + data source + query pages + one children call per page (< 100 blocks)
        minimum = 2 + math.ceil(args.modules / 100) + args.modules * math.ceil(
            args.blocks / 100)
        floor = minimum / 3
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}")
        print(f"{exported} modules x {args.blocks} blocks exported")
        print(f"requests: {api.stats.requests} (minimum needed {minimum})")
        print(f"wall time: {elapsed:.1f} s vs floor {floor:.1f} s at 3 requests/s "
              f"-> {elapsed / floor:.2f}x (target <= 1.2x)")
        print(f"429 answers: {api.stats.rate_limited} "
              f"({100 * api.stats.rate_limited / max(api.stats.requests, 1):.2f}% of requests, "
              "target < 1%)")
        again, api, exported = run(server.url, settings, work, full=False)
        print(f"rerun with nothing changed: {api.stats.requests} requests in {again:.1f} s, "
              f"{exported} exported (target < 5 requests)")


if __name__ == "__main__":
    main()
