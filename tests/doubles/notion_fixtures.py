"""Real Notion API responses from shared/notion-fixtures (vcrpy cassettes), as block trees."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

# CI and sessions have shared/ beside the checkout: tests/doubles/ -> checkout -> its parent.
FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "notion-fixtures" / "ultimate-notion"
if not FIXTURES.is_dir():
    raise RuntimeError(
        f"recorded Notion responses not found at {FIXTURES}; the tests expect "
        "shared/notion-fixtures beside the checkout"
    )
_CHILDREN = re.compile(r"/v1/blocks/([0-9a-f-]{36})/children")


@cache
def responses(cassette: str) -> list[tuple[str, str, Any]]:
    """(method, uri, json body) of each recorded interaction."""
    data = yaml.safe_load((FIXTURES / cassette).read_text(encoding="utf-8"))
    found = []
    for interaction in data["interactions"]:
        content = interaction["response"].get("content")
        try:
            body = json.loads(content) if content else None
        except ValueError:
            continue
        found.append((interaction["request"]["method"], interaction["request"]["uri"], body))
    return found


def children_by_parent(cassette: str) -> dict[str, list[dict[str, Any]]]:
    """The last recorded GET of each block's children (all pages of it, in order)."""
    pages: dict[str, list[dict[str, Any]]] = {}
    for method, uri, body in responses(cassette):
        match = _CHILDREN.search(uri)
        if method == "GET" and match and isinstance(body, dict) and "results" in body:
            parent = match.group(1)
            if "start_cursor" not in uri:
                pages[parent] = []
            pages.setdefault(parent, []).extend(body["results"])
    return pages


def _with_children(
    blocks: list[dict[str, Any]], by_parent: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    return [
        {
            **block,
            "children": _with_children(by_parent.get(block["id"], []), by_parent)
            if block.get("has_children")
            else [],
        }
        for block in blocks
    ]


def tree(cassette: str, root: str) -> list[dict[str, Any]]:
    """The blocks under `root`, each with "children" filled in from the recording."""
    by_parent = children_by_parent(cassette)
    return _with_children(by_parent.get(root, []), by_parent)


def all_blocks() -> list[dict[str, Any]]:
    """Every block object in every cassette, with "children" filled in from its cassette
    (empty where the recording never asked for them)."""
    blocks = []
    for cassette in sorted(p.name for p in FIXTURES.glob("*.yaml")):
        by_parent = children_by_parent(cassette)
        for _method, _uri, body in responses(cassette):
            objects = body.get("results", [body]) if isinstance(body, dict) else []
            found = [o for o in objects if isinstance(o, dict) and o.get("object") == "block"]
            blocks += _with_children(found, by_parent)
    return blocks
