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

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "module.schema.json"


def section(n: int, module_id: str) -> dict[str, object]:
    kind = ["text", "image", "checklist", "quiz", "interactive", "video", "text"][n % 7]
    base: dict[str, object] = {"section_number": n, "section_type": kind, "title": f"Part {n}",
                               "content": f"## Part {n}\n\nSome **Markdown** for {module_id}, "
                               "with a [link](https://example.org/docs) and a list:\n\n- one\n"
                               "- two\n", "duration_seconds": 60 + n}
    if kind == "image":
        base.update(media_url="data/assets/shared/diagram.png",
                    section_config={"alt_text": "A diagram", "caption": "Figure"})
    elif kind == "checklist":
        base.update(section_config={"items": [{"id": f"i{k}", "label": f"Item {k}"}
                                              for k in range(4)]},
                    completion_criteria={"type": "tasks", "tasks": ["i0", "i1"]})
    elif kind == "quiz":
        base.update(section_config={"questions": [{
            "id": f"q{k}", "prompt": "Which?", "kind": "single", "answer": ["b"],
            "options": [{"id": o, "text": o.upper()} for o in "abc"]} for k in range(3)]},
            completion_criteria={"type": "score", "min_score": 0.6})
    elif kind == "interactive":
        base.update(media_url="data/assets/shared/floor.png", section_config={
            "instruction": "Find them", "hotspots": [
                {"id": f"h{k}", "x": 10 * k, "y": 5 * k, "label": f"Spot {k}"}
                for k in range(5)]},
            completion_criteria={"type": "hotspots", "hotspots_clicked": 5})
    elif kind == "video":
        base.update(media_url="https://videos.example.org/v.mp4",
                    section_config={"provider": "file"})
    return base


def module(i: int) -> dict[str, object]:
    module_id = f"module-{i:05d}"
    return {
        "module_id": module_id, "title": f"Module {i}", "description": "Generated.",
        "category": "Technical", "estimated_minutes": 20, "university_id": "cpp",
        "status": "ready", "prerequisites": [f"module-{i - 1:05d}"] if i % 10 else [],
        "related_modules": [f"module-{(i * 7) % 100:05d}"] if i != (i * 7) % 100 else [],
        "tags": ["generated", "bench"], "module_type": "mixed", "difficulty_level": 2,
        "learning_objectives": ["Learn", "Practise"],
        "notion_page_id": f"{i:032x}", "content_source": "notion",
        "sections": [section(n, module_id) for n in range(1, 21)],
        "metadata": {"revision": 1, "exported_at": "2026-01-01T00:00:00Z",
                     "exported_by": "bench"},
    }


def generate(root: Path, count: int) -> Path:
    modules = root / "data" / "modules"
    assets = root / "data" / "assets" / "shared"
    modules.mkdir(parents=True)
    assets.mkdir(parents=True)
    for name in ("diagram.png", "floor.png"):
        (assets / name).write_bytes(b"\x89PNG\r\n\x1a\n")
    for i in range(count):
        data = module(i)
        (modules / f"{data['module_id']}.json").write_text(json.dumps(data, indent=2) + "\n")
    return modules


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
