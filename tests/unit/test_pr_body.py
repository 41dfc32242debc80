"""PR title and body: what changed, validation, and the module rendered."""

from __future__ import annotations

import copy
import json
from typing import Any

from pipeline.propose import pr_body
from tests.conftest import ROOT


def lab() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (ROOT / "data" / "modules" / "lab-safety-101.json").read_text()
    )
    return data


def test_new_module() -> None:
    module = lab()
    text = pr_body.body(None, module, validation=[])
    assert pr_body.title(module) == "Module: Lab Safety 101 (rev 1)"
    assert text.startswith("<!-- module-pipeline:lab-safety-101 -->\n## Lab Safety 101")
    assert "| Revision | new module → 1 |" in text
    assert "| Sections added | 1 (Welcome to Lab Safety), 2 (Locate Safety Equipment)" in text
    assert "✅ `pipeline validate` passes." in text
    assert "https://www.notion.so/1a2b3c4d5e6f4a1b8c2d3e4f5a6b7c8d" in text
    assert text.index("#### 1. Welcome to Lab Safety (text, 2 min)") < text.index(
        "#### 2. Locate Safety Equipment"
    )
    assert '"hotspots_clicked": 5' in text


def test_changed_module() -> None:
    old = lab()
    new = copy.deepcopy(old)
    new["metadata"]["revision"] = 2
    new["title"] = "Lab Safety 101, revised"
    new["tags"].append("new")
    new["sections"][1]["title"] = "Find the Equipment"
    del new["sections"][3]
    found = pr_body.changes(old, new)
    assert (found.added, found.changed, found.removed) == ([], [2], [4])
    assert found.fields == ["tags", "title"]
    text = pr_body.body(
        old,
        new,
        validation=["data/modules/x.json 3:4: bad"],
        notes=["block 123 could not be exported"],
    )
    assert "| Revision | 1 → 2 |" in text
    assert "| Sections removed | 4 (Check Your Understanding) |" in text
    assert "| Fields changed | `tags`, `title` |" in text
    assert "❌ `pipeline validate` reports:\n\n- data/modules/x.json 3:4: bad" in text
    assert "- ⚠️ block 123 could not be exported" in text


def test_long_bodies_are_cut_for_github() -> None:
    module = lab()
    module["sections"][0]["content"] = "x" * 100_000
    text = pr_body.body(None, module, validation=[])
    assert len(text) < 65_536
    assert text.rstrip().endswith("see the file in the diff)")
