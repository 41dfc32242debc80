"""Generated module trees for the benchmarks: N modules of 20 mixed sections each."""

from __future__ import annotations

import json
from pathlib import Path


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
