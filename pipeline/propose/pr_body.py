"""The pull request a reviewer judges a module by: title and body, as pure functions.

The body says what changed (revision, sections added / changed / removed,
fields changed), whether the file is valid, and shows the whole module
readably, so the review needs nothing but the PR page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.notion.markdown import notion_url

MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters
MARKER = "<!-- module-pipeline:{module_id} -->"
_NOT_FIELDS = ("sections", "metadata", "$schema")


@dataclass
class Changes:
    revision_before: int | None
    revision_after: int | None
    added: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)


def _revision(module: Mapping[str, Any] | None) -> int | None:
    if module is None:
        return None
    value = (module.get("metadata") or {}).get("revision")
    return value if isinstance(value, int) else None


def changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> Changes:
    result = Changes(_revision(old), _revision(new))
    before = {s["section_number"]: s for s in (old or {}).get("sections", [])}
    after = {s["section_number"]: s for s in new.get("sections", [])}
    result.added = sorted(after.keys() - before.keys())
    result.removed = sorted(before.keys() - after.keys())
    result.changed = sorted(n for n in after.keys() & before.keys() if after[n] != before[n])
    if old is not None:
        keys = (old.keys() | new.keys()) - set(_NOT_FIELDS)
        result.fields = sorted(k for k in keys if old.get(k) != new.get(k))
    return result


def title(module: Mapping[str, Any]) -> str:
    revision = _revision(module)
    return f"Module: {module.get('title', module.get('module_id'))} (rev {revision or 1})"


def _numbers(numbers: Sequence[int], sections: Mapping[int, Mapping[str, Any]]) -> str:
    if not numbers:
        return "none"
    return ", ".join(
        f"{n} ({sections[n].get('title', '')})" if n in sections else str(n) for n in numbers
    )


def body(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    *,
    validation: Sequence[str],
    notes: Sequence[str] = (),
) -> str:
    """Markdown for the PR. `validation` lists problems (empty: valid)."""
    found = changes(old, new)
    module_id = str(new.get("module_id"))
    sections_new = {s["section_number"]: s for s in new.get("sections", [])}
    sections_old = {s["section_number"]: s for s in (old or {}).get("sections", [])}
    before = "new module" if found.revision_before is None else str(found.revision_before)
    lines = [MARKER.format(module_id=module_id), f"## {new.get('title')} (`{module_id}`)", ""]
    if new.get("notion_page_id"):
        lines += [
            f"Edited in Notion: [open the page]({notion_url(str(new['notion_page_id']))})",
            "",
        ]
    lines += [
        "### What changed",
        "",
        "| | |",
        "| --- | --- |",
        f"| Revision | {before} → {found.revision_after} |",
        f"| Sections added | {_numbers(found.added, sections_new)} |",
        f"| Sections changed | {_numbers(found.changed, sections_new)} |",
        f"| Sections removed | {_numbers(found.removed, sections_old)} |",
        f"| Fields changed | {', '.join(f'`{f}`' for f in found.fields) or 'none'} |",
        "",
    ]
    lines += ["### Validation", ""]
    lines += (
        ["✅ `pipeline validate` passes."]
        if not validation
        else ["❌ `pipeline validate` reports:", "", *(f"- {v}" for v in validation)]
    )
    lines += [f"- ⚠️ {note}" for note in notes]
    lines += ["", "### The module as students will see it", "", *_rendering(new)]
    text = "\n".join(lines) + "\n"
    if len(text) > MAX_BODY:
        text = text[:MAX_BODY] + (
            "\n\n… (cut here: the body is too long for GitHub; see the file in the diff)\n"
        )
    return text


def _rendering(module: Mapping[str, Any]) -> list[str]:
    facts = [
        f"**Category:** {module.get('category') or 'none'}",
        f"**Estimated time:** {module.get('estimated_minutes', 10)} min",
        f"**Status:** {module.get('status')}",
    ]
    lines = [" · ".join(facts), ""]
    if module.get("prerequisites"):
        lines += ["**Prerequisites:** " + ", ".join(f"`{p}`" for p in module["prerequisites"]), ""]
    if module.get("description"):
        lines += [str(module["description"]), ""]
    if module.get("learning_objectives"):
        lines += ["**Learning objectives**", ""]
        lines += [f"{i}. {o}" for i, o in enumerate(module["learning_objectives"], 1)] + [""]
    for section in module.get("sections", []):
        duration = section.get("duration_seconds")
        extra = f", {round(duration / 60, 1):g} min" if duration else ""
        lines += [
            "---",
            "",
            f"#### {section['section_number']}. {section.get('title')} "
            f"({section.get('section_type')}{extra})",
            "",
        ]
        if section.get("content"):
            lines += [str(section["content"]), ""]
        if section.get("media_url"):
            lines += [f"Media: `{section['media_url']}`", ""]
        for key in ("section_config", "completion_criteria"):
            if section.get(key):
                lines += [
                    f"<details><summary>{key}</summary>",
                    "",
                    "```json",
                    json.dumps(section[key], indent=2, ensure_ascii=False),
                    "```",
                    "",
                    "</details>",
                    "",
                ]
    return lines
