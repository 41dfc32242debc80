"""Module Library page -> module: properties, the content-page template, and page errors."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.config import NotionSettings
from pipeline.modules.schema import schema_problems
from pipeline.notion.page import PageError, convert_page, parse_duration, property_value
from tests.builders import block, code, heading, item, para, prop, rt

PAGE_ID = "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
SETTINGS = NotionSettings(
    universities={"Cal Poly Pomona": "cpp"}, people={"jdoe@cpp.example.edu": "faculty-john-doe"}
)


def page(**overrides: Any) -> dict[str, Any]:
    properties = {
        "Module Name": prop("title", [rt("Lab Safety 101")]),
        "Status": prop("status", {"id": "s", "name": "Ready", "color": "green"}),
        "Module ID": prop("rich_text", [rt("lab-safety-101")]),
        "Category": prop("select", {"id": "c", "name": "Safety", "color": "red"}),
        "Estimated Minutes": prop("number", 10),
        "Tags": prop(
            "multi_select", [{"id": "1", "name": "safety"}, {"id": "2", "name": "onboarding"}]
        ),
        "University": prop("select", {"id": "u", "name": "Cal Poly Pomona"}),
        "Team Lead": prop(
            "people",
            [
                {
                    "object": "user",
                    "id": "p",
                    "name": "John Doe",
                    "person": {"email": "jdoe@cpp.example.edu"},
                }
            ],
        ),
        "Prerequisites": prop("relation", []),
    }
    properties.update(overrides)
    return {
        "object": "page",
        "id": PAGE_ID,
        "properties": properties,
        "last_edited_time": "2025-11-26T14:30:00.000Z",
    }


TEMPLATE = [
    para(rt("Metadata", bold=True)),
    block("bulleted_list_item", rich_text=[rt("Module ID: lab-safety-101")]),
    para(rt("Learning Objectives", bold=True)),
    item("Identify 5 key safety protocols"),
    item("Locate emergency equipment in the lab"),
    para(rt("Sections", bold=True)),
    heading("Section 1: Welcome to Lab Safety"),
    para(rt("Duration: 2 minutes")),
    para(rt("This module will teach you "), rt("five rules", bold=True), rt(".")),
    heading("Section 2: Interactive Equipment Locator"),
    para(rt("Type: Interactive")),
    code(
        "instruction: Click on 5 safety equipment locations\n"
        "hotspots:\n  - {id: eye-wash, x: 300, y: 150, label: Eye Wash Station}\n"
        "completion_criteria: {type: hotspots, hotspots_clicked: 1}\n"
    ),
    block(
        "image",
        type="external",
        caption=[rt("Floor plan")],
        external={"url": "https://example.org/plan.png"},
    ),
    para(rt("Find the eye wash station.")),
    heading("Export Notes", 2),
    para(rt("Last exported: 2025-11-26")),
]


def test_template_becomes_a_valid_module() -> None:
    converted = convert_page(page(), TEMPLATE, SETTINGS)
    module = converted.module
    assert module["module_id"] == "lab-safety-101"
    assert (module["title"], module["category"], module["estimated_minutes"]) == (
        "Lab Safety 101",
        "Safety",
        10,
    )
    assert (module["university_id"], module["created_by_id"]) == ("cpp", "faculty-john-doe")
    assert module["tags"] == ["onboarding", "safety"]
    assert module["learning_objectives"] == [
        "Identify 5 key safety protocols",
        "Locate emergency equipment in the lab",
    ]
    assert module["notion_page_id"] == PAGE_ID
    first, second = module["sections"]
    assert first == {
        "section_number": 1,
        "section_type": "text",
        "title": "Welcome to Lab Safety",
        "media_url": None,
        "duration_seconds": 120,
        "content": "This module will teach you **five rules**.",
    }
    assert second["section_type"] == "interactive"
    assert second["media_url"] == "https://example.org/plan.png"
    assert second["section_config"]["hotspots"][0]["id"] == "eye-wash"
    assert second["completion_criteria"] == {"type": "hotspots", "hotspots_clicked": 1}
    assert second["content"] == "_Floor plan_\n\nFind the eye wash station."
    assert "Last exported" not in str(module)
    assert schema_problems({**module, "metadata": {"revision": 1}}, "x.json") == []


def test_image_section_takes_alt_text_from_the_caption() -> None:
    blocks = [
        heading("Section 1: Plan"),
        para(rt("Type: Image")),
        block(
            "image",
            type="external",
            caption=[rt("The lab floor")],
            external={"url": "https://example.org/a.png"},
        ),
    ]
    [section] = convert_page(page(), blocks, SETTINGS).module["sections"]
    assert section["section_config"] == {"alt_text": "The lab floor"}


def test_json_config_and_guided_struggle_type() -> None:
    blocks = [
        heading("Section 1 - Stuck?", 2),
        para(rt("Type: Guided Struggle")),
        code('{"problem_type": "merge_conflict"}', "json"),
    ]
    [section] = convert_page(page(), blocks, SETTINGS).module["sections"]
    assert section["section_type"] == "guided_struggle"
    assert section["section_config"] == {"problem_type": "merge_conflict"}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2 minutes", 120),
        ("90 seconds", 90),
        ("1:30", 90),
        ("1.5 min", 90),
        ("45", 45),
        ("1 hour", 3600),
        ("soon", None),
    ],
)
def test_durations(text: str, seconds: int | None) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("overrides", "blocks", "words"),
    [
        ({"Module ID": prop("rich_text", [])}, TEMPLATE[2:], "the Module ID is empty"),
        ({"Module ID": prop("rich_text", [rt("../etc/passwd")])}, TEMPLATE, "is not a valid id"),
        ({"Module ID": prop("rich_text", [rt("Lab Safety")])}, TEMPLATE, "is not a valid id"),
        (
            {"University": prop("select", {"name": "Elsewhere"})},
            TEMPLATE,
            "University 'Elsewhere' has no id",
        ),
        ({"Estimated Minutes": prop("number", -5)}, TEMPLATE, "must be a positive number"),
        ({}, [para(rt("Just some text"))], "has no sections"),
        (
            {},
            [heading("Section 1: A"), code("a: [1, 2", "yaml")],
            "Section 1 (A), settings block line 1: this is not valid YAML",
        ),
        ({}, [heading("Section 1: A"), code("- 1\n- 2")], "must be “name: value” lines"),
        (
            {},
            [heading("Section 1: A"), para(rt("Duration: a while"))],
            "cannot read the duration “a while”",
        ),
        (
            {"Prerequisites": prop("relation", [{"id": "other-page"}])},
            TEMPLATE,
            "links to a page without a Module ID",
        ),
    ],
)
def test_page_errors_name_the_problem(
    overrides: dict[str, Any], blocks: list[dict[str, Any]], words: str
) -> None:
    with pytest.raises(PageError) as caught:
        convert_page(page(**overrides), blocks, SETTINGS)
    assert words in str(caught.value)
    assert caught.value.page_id == PAGE_ID


def test_prerequisites_from_relations_and_text() -> None:
    related = page(Prerequisites=prop("relation", [{"id": "p2"}, {"id": "p1"}]))
    module = convert_page(
        related, TEMPLATE, SETTINGS, module_ids_by_page={"p1": "intro", "p2": "basics"}
    ).module
    assert module["prerequisites"] == ["basics", "intro"]
    texted = page(Prerequisites=prop("rich_text", [rt("intro, basics")]))
    assert convert_page(texted, TEMPLATE, SETTINGS).module["prerequisites"] == ["basics", "intro"]


def test_property_values_of_every_kind() -> None:
    p = {
        "properties": {
            "d": prop("date", {"start": "2025-01-02", "end": None}),
            "u": prop("url", "https://example.org"),
            "c": prop("checkbox", True),
            "e": prop("rich_text", []),
        }
    }
    assert property_value(p, "d") == "2025-01-02"
    assert property_value(p, "u") == "https://example.org"
    assert property_value(p, "c") is True
    assert property_value(p, "e") is None
    assert property_value(p, "missing") is None


def test_unsupported_blocks_in_a_section_are_reported() -> None:
    blocks = [heading("Section 1: A"), para(rt("ok")), block("unsupported", block_type="button")]
    converted = convert_page(page(), blocks, SETTINGS)
    assert [s.block_type for s in converted.skipped] == ["unsupported"]
