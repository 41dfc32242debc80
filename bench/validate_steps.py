"""Where `pipeline validate`'s CPU goes: each step of checking one file, per 1,000 files.

bench/validate.py compares whole commands; this splits the work a worker does for each
file into its steps, each timed alone over every file (best of --reps, the collector
off, inputs made beforehand), beside the steps of the floor
(bench/peers/validate_floor.py: read, orjson, jsonschema-rs). It also times the least
any content rule written in Python must do, a loop that only reads five fields of
each section, so the gap to the floor can be judged against what Python allows.

Usage: python bench/validate_steps.py [--files 1000] [--reps 7]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
from generate import generate
from installed import as_installed


def best_of(reps: int, step: Callable[[], Iterable[Any]]) -> float:
    """The least time over `reps` runs of `step`, which runs over every file."""
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        for _ in step():
            pass
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    as_installed()
    from pipeline.modules import checks, schema, validate
    from pipeline.modules.parse import locate, may_have_duplicate_keys, parse_object

    root = Path(tempfile.mkdtemp(prefix="bench-steps-"))
    try:
        modules = generate(root, args.files)
        paths = sorted(str(p) for p in modules.glob("*.json"))
        raws = [Path(p).read_bytes() for p in paths]
        texts = [raw.decode() for raw in raws]
        docs = [orjson.loads(raw) for raw in raws]
        stems = [os.path.basename(p)[: -len(".json")] for p in paths]
        plains = [checks.plain_sections(doc) for doc in docs]
        refs = [
            checks.media_references(doc, plain) for doc, plain in zip(docs, plains, strict=True)
        ]
        fast = schema._fast()
        floor_schema = jsonschema_rs.Draft202012Validator(schema._shared_schema())
        present = cache(validate.asset_present)
        where = str(root)
        gc.disable()
        per = 1000 / len(paths)

        def sections_config() -> Iterable[object]:
            for doc in docs:
                for index, section in enumerate(doc["sections"]):
                    yield checks.check_section_config(section, f"/sections/{index}", "x")

        def checks_of(parsed: Any, stem: str) -> object:
            (text, data), _ = parsed
            return validate.check_document(data, text, "x", stem, where, present=present)

        def least_python() -> Iterable[object]:
            for doc in docs:
                for section in doc["sections"]:
                    get = section.get
                    yield (
                        section["content"],
                        section["section_type"],
                        get("section_config"),
                        get("media_url"),
                        get("completion_criteria"),
                    )

        floor = {
            "read": lambda: (Path(p).read_bytes() for p in paths),
            "orjson": lambda: (orjson.loads(raw) for raw in raws),
            "schema (module.schema.json)": lambda: (floor_schema.is_valid(d) for d in docs),
        }
        ours = {
            "schema (with components)": lambda: (fast.is_valid(d) for d in docs),
            "decode": lambda: (raw.decode() for raw in raws),
            "duplicate-key test": lambda: (
                may_have_duplicate_keys(raw, doc) for raw, doc in zip(raws, docs, strict=True)
            ),
            "plain Markdown sections": lambda: (checks.plain_sections(d) for d in docs),
            "media references": lambda: (
                checks.media_references(d, p) for d, p in zip(docs, plains, strict=True)
            ),
            "section numbers": lambda: (checks.check_section_numbers(d, "x") for d in docs),
            "database limits": lambda: (
                checks.check_database_limits(d, "x", t) for d, t in zip(docs, texts, strict=True)
            ),
            "markup": lambda: (
                checks.check_markup(d, "x", p) for d, p in zip(docs, plains, strict=True)
            ),
            "section configs": sections_config,
            "Notion URL pre-filter": lambda: (checks.might_hold_notion_urls(t) for t in texts),
            "reference forms": lambda: (checks.check_references(r, "x") for r in refs),
            "assets present": lambda: (
                validate.missing_assets(
                    "x",
                    [(r.pointer, checks.asset_file(r.target)) for r in rs if r.is_asset],
                    where,
                    present,
                )
                for rs in refs
            ),
            "summary for cross-file checks": lambda: (validate.summarise(d, "x") for d in docs),
            "unused assets": lambda: (
                validate.unused_asset_warnings("x", d["module_id"], r, where)
                for d, r in zip(docs, refs, strict=True)
            ),
            "locate (no problems)": lambda: (locate([], t) for t in texts),
        }
        whole = {
            "floor's loop (read, orjson, schema)": lambda: (
                floor_schema.is_valid(orjson.loads(Path(p).read_bytes())) for p in paths
            ),
            "ours: parse_object + check_document": lambda: (
                checks_of(parse_object(raw, "x"), stem)
                for raw, stem in zip(raws, stems, strict=True)
            ),
            "ours: check_file (read + all the above)": lambda: (
                validate.check_file(p, "x", lambda _: where, present) for p in paths
            ),
            "least Python: read 5 fields of each section": least_python,
        }

        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}"
        )
        print(
            f"{len(paths)} module files, 20 sections each; CPU per 1,000 files, "
            f"best of {args.reps}, one process"
        )
        for title, steps in (
            ("floor's steps", floor),
            ("our steps besides read and orjson", ours),
            ("whole", whole),
        ):
            print(f"\n{title}:")
            total = 0.0
            for label, step in steps.items():
                took = best_of(args.reps, step) * per * 1000
                total += took
                print(f"  {label:44} {took:7.1f} ms")
            if title != "whole":
                print(f"  {'sum':44} {total:7.1f} ms")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
