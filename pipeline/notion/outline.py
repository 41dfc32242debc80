"""A content page's outline: its Metadata list, Learning Objectives and sections.

Seed 001's content-page template, as team leads write it in Notion:

    Lab Safety 101                 (a heading repeating the page title: nothing to export)
    Metadata                       (a heading or bold line; then "Key: Value" lines)
    - Module ID: lab-safety-101
    - Estimated Time: 10 minutes
    Learning Objectives            (then list items: the objectives)
    Sections                       (a label; nothing to export)
    Section 1: Welcome             (a heading per section ...)
    ...                            (... and what follows it, to the next one)
    Export Notes                   (notes for people, to the next section heading)

Metadata, Learning Objectives and Sections are the module's own parts only before the
first section, where the template has them: once the sections have begun, a heading or
line "Objectives" or "Metadata" is the section's text like any other (a section may well
talk about its objectives). Export Notes, which the template puts after the sections, end
a section wherever they are.

A section heading may be written wherever Notion lets an author put a heading: as a
toggle heading (the blocks folded inside it are the section's, before those after it),
inside a toggle, a callout, a quote, a column or a synced block. Such a container is
opened: its own text stays where it is (it becomes a paragraph), its blocks follow.

Every block either ends up in the outline or is listed, with its id and where it is,
among `Outline.notes`: nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.notion.markdown import Block, Skipped, plain_text

SECTION = re.compile(r"^\s*section\s+(\d+)\s*[:.\-\u2013\u2014]\s*(.+?)\s*$", re.IGNORECASE)
_HEADINGS = ("heading_1", "heading_2", "heading_3")
_MARKERS = {
    "learning objectives": "objectives",
    "objectives": "objectives",
    "sections": "sections",
    "metadata": "metadata",
    "export notes": "notes",
}
# The parts that are the module's own only before the first section (see above).
_BEFORE_SECTIONS = ("objectives", "sections", "metadata")
_LIST_ITEMS = ("numbered_list_item", "bulleted_list_item", "to_do")
# Blocks whose content is a page of its own: never opened, their blocks are not ours.
_OTHER_PAGES = ("child_page", "child_database", "link_to_page")
# Blocks a container keeps its own text in, as rich text.
_WITH_TEXT = (
    "paragraph",
    *_HEADINGS,
    *_LIST_ITEMS,
    "toggle",
    "callout",
    "quote",
)
_NOTHING = ("divider", "table_of_contents", "breadcrumb")


@dataclass
class Section:
    number: int
    title: str
    heading: Block
    blocks: list[Block] = field(default_factory=list)

    @property
    def place(self) -> str:
        return f"Section {self.number} ({self.title})"


@dataclass(frozen=True)
class MetaLine:
    """A "Key: Value" line of the Metadata list."""

    label: str  # as written: "Estimated Time"
    value: str
    block_id: str


@dataclass
class Outline:
    metadata: list[MetaLine] = field(default_factory=list)
    objectives: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    notes: list[Skipped] = field(default_factory=list)


def text_of(block: Block) -> str:
    payload = block.get(str(block.get("type", "")), {}) or {}
    return plain_text(payload.get("rich_text", []) or [])


def section_heading(block: Block) -> tuple[int, str] | None:
    """(number, title) of a "Section N: Title" heading, else None."""
    if block.get("type") not in _HEADINGS:
        return None
    match = SECTION.match(text_of(block))
    return (int(match[1]), match[2]) if match else None


def _marker(block: Block, in_sections: bool = False) -> str | None:
    """The part a heading or line such as "Learning Objectives" starts; None when it is
    none, or when it names a part of the module's own and the sections have begun."""
    if block.get("type") not in ("paragraph", *_HEADINGS):
        return None
    text = text_of(block).strip().rstrip(":").strip().lower()
    marker = _MARKERS.get(text)
    return None if in_sections and marker in _BEFORE_SECTIONS else marker


def _is_structure(block: Block, in_sections: bool = False) -> bool:
    return section_heading(block) is not None or _marker(block, in_sections) is not None


def holds_sections(blocks: Sequence[Block]) -> bool:
    """Whether a section heading is anywhere among `blocks`, at any depth."""
    stack = list(blocks)
    while stack:
        block = stack.pop()
        if section_heading(block) is not None:
            return True
        if block.get("type") not in _OTHER_PAGES:
            stack.extend(block.get("children") or [])
    return False


def _holds_structure(blocks: Sequence[Block], in_sections: bool) -> bool:
    stack = list(blocks)
    while stack:
        block = stack.pop()
        if _is_structure(block, in_sections):
            return True
        if block.get("type") not in _OTHER_PAGES:
            stack.extend(block.get("children") or [])
    return False


def _alone(block: Block) -> dict[str, Any]:
    """A container's own text without its children: a toggle, callout or quote becomes a
    paragraph (so its text stays in the flow), a heading or list item stays what it is."""
    kind = str(block.get("type", ""))
    payload = block.get(kind, {}) or {}
    if kind in ("toggle", "callout", "quote"):
        return {
            **{k: v for k, v in block.items() if k not in (kind, "children")},
            "type": "paragraph",
            "paragraph": {"rich_text": payload.get("rich_text", []), "color": "default"},
            "has_children": False,
            "children": [],
        }
    alone = {**block, "has_children": False, "children": []}
    if kind in _HEADINGS:
        alone[kind] = {**payload, "is_toggleable": False}
    return alone


def linear(blocks: Sequence[Block], notes: list[Skipped]) -> Iterator[Block]:
    """The blocks in reading order, with every container that holds a section heading or a
    marker opened (see the module's docstring). A synced block's content comes once."""
    seen_synced: set[str] = set()
    in_sections = False  # once a section has begun, "Objectives" and the like are text
    stack: list[Block] = list(reversed(blocks))
    while stack:
        block = stack.pop()
        kind = str(block.get("type", ""))
        children = list(block.get("children") or [])
        if _is_structure(block, in_sections):
            in_sections = in_sections or section_heading(block) is not None
            yield _alone(block) if children else block
            stack.extend(reversed(children))  # a toggle heading's folded blocks
            continue
        if not children or kind in _OTHER_PAGES or kind == "table":
            yield block
            continue
        if not _holds_structure(children, in_sections):
            yield block
            continue
        if kind == "synced_block":
            source = str((block[kind].get("synced_from") or {}).get("block_id") or block["id"])
            if source in seen_synced:
                notes.append(
                    Skipped(
                        str(block["id"]),
                        kind,
                        "a copy of a synced block already exported above; written once",
                        intended=True,
                    )
                )
                continue
            seen_synced.add(source)
        if kind in _WITH_TEXT and text_of(block).strip():
            yield _alone(block)
        stack.extend(reversed(children))


def outline(blocks: Sequence[Block], page_title: str = "") -> Outline:
    """Split a content page into its Metadata, objectives and sections."""
    result = Outline()
    mode = "preamble"
    for block in linear(blocks, result.notes):
        heading = section_heading(block)
        marker = _marker(block, in_sections=bool(result.sections))
        if heading is not None:
            result.sections.append(Section(heading[0], heading[1], block))
            mode = "section"
        elif marker is not None:
            mode = marker
        elif mode == "section":
            result.sections[-1].blocks.append(block)
        elif _empty(block):
            continue
        elif mode == "objectives" and block.get("type") in (*_LIST_ITEMS, "paragraph"):
            result.objectives.append(text_of(block).strip())
            _note_children(block, result.notes, "under a learning objective", "objectives")
        elif mode == "metadata" and block.get("type") in (*_LIST_ITEMS, "paragraph"):
            _metadata_line(block, result)
        elif mode == "notes":
            result.notes.append(
                _skip(
                    block,
                    "Export Notes",
                    "Export Notes are notes for people; not exported",
                    intended=True,
                )
            )
        elif (
            mode == "preamble"
            and block.get("type") in _HEADINGS
            and text_of(block).strip() == page_title.strip()
        ):
            continue  # the page's title, written again as the template shows it
        else:
            result.notes.append(
                _skip(
                    block,
                    "before the first section",
                    "not part of any section, so not exported; move it under a section "
                    "heading (Section 1: ...) to keep it",
                )
            )
    return result


def _empty(block: Block) -> bool:
    kind = block.get("type")
    if kind in _NOTHING:
        return True
    return kind == "paragraph" and not text_of(block).strip() and not block.get("children")


def _skip(block: Block, where: str, reason: str, *, intended: bool = False) -> Skipped:
    return Skipped(str(block.get("id", "?")), str(block.get("type", "")), reason, where, intended)


def _note_children(block: Block, notes: list[Skipped], what: str, where: str) -> None:
    for child in block.get("children") or []:
        notes.append(_skip(child, where, f"blocks {what} are not exported"))


_META_LINE = re.compile(r"^\s*([^:]{1,40}?)\s*:\s*(.*?)\s*$", re.DOTALL)


def _metadata_line(block: Block, result: Outline) -> None:
    match = _META_LINE.match(text_of(block))
    if match is None or not match[2]:
        result.notes.append(
            _skip(
                block,
                "Metadata",
                "not a “Name: value” line, so not read; write it like “Category: Safety”",
            )
        )
        return
    result.metadata.append(MetaLine(match[1], match[2], str(block.get("id", "?"))))
    _note_children(block, result.notes, "under a Metadata line", "Metadata")
