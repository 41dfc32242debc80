"""Nothing a team lead wrote is lost on the way to the module file: a caption, a link in a
checklist item, a picture in a quiz's explanation, a sub-heading named "Objectives". Each
is carried into the file where the schema has a place for it, and otherwise listed (a
`Skipped` note: what was left out, and what to write instead)."""

from __future__ import annotations

from typing import Any

from pipeline.config import NotionSettings
from pipeline.modules.schema import schema_problems
from pipeline.notion.markdown import Skipped
from pipeline.notion.page import Converted, convert_page
from tests.builders import (
    block,
    bullet,
    callout,
    heading,
    item,
    para,
    prop,
    rt,
)

PAGE_ID = "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"


def page() -> dict[str, Any]:
    return {
        "object": "page",
        "id": PAGE_ID,
        "properties": {
            "Module Name": prop("title", [rt("Lab Safety 101")]),
            "Module ID": prop("rich_text", [rt("lab-safety-101")]),
        },
        "last_edited_time": "2025-11-26T14:30:00.000Z",
    }


def convert(blocks: list[dict[str, Any]]) -> Converted:
    converted = convert_page(page(), blocks, NotionSettings())
    module = {**converted.module, "metadata": {"revision": 1}}
    assert schema_problems(module, "x.json") == []  # strict out
    return converted


def one_section(blocks: list[dict[str, Any]]) -> tuple[dict[str, Any], list[Skipped]]:
    converted = convert([heading("Section 1: Try it"), *blocks])
    [only] = converted.module["sections"]
    return only, converted.skipped


def media(kind: str, url: str, caption: str = "") -> dict[str, Any]:
    return block(
        kind, type="external", external={"url": url}, caption=[rt(caption)] if caption else []
    )


def to_do(*texts: dict[str, Any], checked: bool = False) -> dict[str, Any]:
    return block("to_do", rich_text=list(texts), checked=checked, color="default")


# -- module-level parts are only where the template puts them --------------------------------


def test_an_objectives_heading_inside_a_section_is_the_sections_text() -> None:
    converted = convert(
        [
            para(rt("Learning Objectives", bold=True)),
            item("Stay safe"),
            heading("Section 1: Goals of this lab"),
            para(rt("In this lab you will set your own objectives.")),
            heading("Objectives"),
            para(rt("Write down three things you want to learn.")),
            bullet("Ask your mentor"),
            para(rt("Then discuss them with your team.")),
            heading("Section 2: Done"),
            para(rt("Well done.")),
        ]
    )
    module = converted.module
    assert module["learning_objectives"] == ["Stay safe"]
    assert module["sections"][0]["content"] == (
        "In this lab you will set your own objectives.\n\n### Objectives\n\n"
        "Write down three things you want to learn.\n\n- Ask your mentor\n\n"
        "Then discuss them with your team."
    )
    assert converted.skipped == []


def test_a_metadata_line_inside_a_section_is_the_sections_text() -> None:
    converted = convert(
        [
            heading("Section 1: Metadata in research"),
            para(rt("Metadata")),
            para(rt("Author: who wrote the dataset")),
            para(rt("Category: the kind of data")),
            para(rt("Sections:")),
            para(rt("Learning objectives")),
        ]
    )
    module = converted.module
    assert module["category"] is None
    assert module["sections"][0]["content"] == (
        "Metadata\n\nAuthor: who wrote the dataset\n\nCategory: the kind of data\n\n"
        "Sections:\n\nLearning objectives"
    )
    assert converted.skipped == []


def test_a_callout_in_a_section_holding_the_word_objectives_stays_a_callout() -> None:
    only, skipped = one_section(
        [callout("Before you start", [para(rt("Objectives")), para(rt("Know the exits."))])]
    )
    assert only["content"] == "> 💡 Before you start\n>\n> Objectives\n>\n> Know the exits."
    assert skipped == []


def test_the_module_parts_before_the_first_section_are_still_read() -> None:
    converted = convert(
        [
            heading("Metadata", 2),
            bullet("Category: Safety"),
            heading("Objectives", 2),
            bullet("Know the exits"),
            heading("Section 1: A"),
            para(rt("x")),
            heading("Export Notes", 2),
            para(rt("Exported by hand")),
        ]
    )
    assert converted.module["category"] == "Safety"
    assert converted.module["learning_objectives"] == ["Know the exits"]
    assert converted.module["sections"][0]["content"] == "x"
    assert [n.where for n in converted.skipped] == ["Export Notes"]
