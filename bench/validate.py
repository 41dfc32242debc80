"""Benchmark `pipeline validate` against check-jsonschema on the same files.

Generates N module files of 20 sections each (mixed section types, assets,
prerequisites), then times, from one run on this machine:
  - `pipeline validate DIR` (schema + every content rule), as a user runs it;
  - `check-jsonschema --schemafile schemas/module.schema.json FILES` (schema only);
  - start-up: `pipeline --help` and `pipeline validate` on the three sample files;
  - the CPU time of `pipeline validate` (its workers included) beside the floor,
    bench/peers/validate_floor.py (orjson + jsonschema-rs in one loop), --reps times.
All are whole processes, start-up included. Prints files/second for each.

Usage: python bench/validate.py [--files 10000] [--reps 3] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import generate
from installed import as_installed

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "module.schema.json"
FLOOR = ROOT / "bench" / "peers" / "validate_floor.py"


def timed_cpu(
    command: list[str], cwd: Path
) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall time, CPU time (user + system, the command's worker processes included),
    and the finished process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    as_installed()

    root = Path(tempfile.mkdtemp(prefix="bench-validate-"))
    try:
        modules = generate(root, args.files)
        files = sorted(str(p) for p in modules.glob("*.json"))
        size = sum(os.path.getsize(f) for f in files) / len(files)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}")
        print(f"{len(files)} module files, 20 sections each, {size / 1024:.1f} KiB average")

        for label, command in (("pipeline --help", ["--help"]),
                               ("pipeline validate data/modules (the 3 samples)",
                                ["validate", str(ROOT / "data" / "modules")])):
            runs = [timed_cpu([sys.executable, "-m", "pipeline", *command], ROOT)[0]
                    for _ in range(args.reps * 5)]
            print(f"start-up, {label}: median {statistics.median(runs):.3f} s "
                  f"(target < 0.15 s)")
        ours_cpu, floor_cpu = [], []
        for _ in range(args.reps):  # CPU: ours and the floor, alternately
            ours, cpu, done = timed_cpu([sys.executable, "-m", "pipeline", "validate",
                                         "data/modules", "--format", "json"], root)
            report = json.loads(done.stdout)
            assert done.returncode == 0 and report["valid"], done.stdout[:2000] + done.stderr
            ours_cpu.append((ours, cpu))
            _, cpu, done = timed_cpu([sys.executable, str(FLOOR), "data/modules"], root)
            assert done.returncode == 0, done.stderr[-2000:]
            floor_cpu.append(cpu)
        ours = statistics.median(wall for wall, _ in ours_cpu)
        cpu = statistics.median(cpu for _, cpu in ours_cpu)
        floor = statistics.median(floor_cpu)
        print(f"CPU, medians of {args.reps}: pipeline validate {cpu:.2f} s (wall {ours:.2f} s), "
              f"floor (orjson + jsonschema-rs loop) {floor:.2f} s: {cpu / floor:.2f}x "
              f"(target <= 1.5x: {'met' if cpu <= 1.5 * floor else 'NOT met'})")
        theirs, _, done = timed_cpu([sys.executable, "-m", "check_jsonschema", "--schemafile",
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
