"""Benchmark `pipeline validate` against check-jsonschema on the same files.

Generates N module files of 20 sections each (mixed section types, assets,
prerequisites), then times, from one run on this machine:
  - `pipeline validate DIR` (schema + every content rule), as a user runs it;
  - `check-jsonschema --schemafile schemas/module.schema.json FILES` (schema only).
Both are whole processes, start-up included. Prints files/second for each.

Usage: python bench/validate.py [--files 10000] [--keep]
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
from pathlib import Path

from generate import generate

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "module.schema.json"


def timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-validate-"))
    try:
        modules = generate(root, args.files)
        files = sorted(str(p) for p in modules.glob("*.json"))
        size = sum(os.path.getsize(f) for f in files) / len(files)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}")
        print(f"{len(files)} module files, 20 sections each, {size / 1024:.1f} KiB average")

        ours, done = timed([sys.executable, "-m", "pipeline", "validate", "data/modules",
                            "--format", "json"], root)
        report = json.loads(done.stdout)
        assert done.returncode == 0 and report["valid"], done.stdout[:2000] + done.stderr
        theirs, done = timed([sys.executable, "-m", "check_jsonschema", "--schemafile",
                              str(SCHEMA), *files], root)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

        print(f"pipeline validate (schema + all rules): {ours:6.2f} s  "
              f"{len(files) / ours:8.0f} files/s")
        print(f"check-jsonschema (schema only):         {theirs:6.2f} s  "
              f"{len(files) / theirs:8.0f} files/s")
        print(f"speed-up: {theirs / ours:.1f}x; target >= 2000 files/s: "
              f"{'met' if len(files) / ours >= 2000 else 'NOT met'}")
    finally:
        if args.keep:
            print(f"files kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
