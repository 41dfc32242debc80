"""Lenient in, strict out: every way the issue (#13) lists of writing a module in Notion
gives the canonical module file, which passes the strict schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pipeline.config import NotionSettings
from pipeline.modules.schema import schema_problems
from pipeline.notion.page import Converted, PageError, convert_page, module_id_of
from tests.builders import (
    PAGE_ID,
    SEED_EXAMPLE_CONFIG,
    block,
    bullet,
    callout,
    code,
    heading,
    item,
    lab_safety_page,
    page_mention,
    para,
    prop,
    rt,
    seed_template,
    table,
    todo,
    toggle_heading,
)

OTHER_MODULE_PAGE = "9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f"
SETTINGS = NotionSettings()


def convert(blocks: list[dict[str, Any]], **properties: Any) -> Converted:
    converted = convert_page(
        lab_safety_page(**properties),
        blocks,
        SETTINGS,
        module_ids_by_page={OTHER_MODULE_PAGE: "equipment-tour", PAGE_ID: "lab-safety-101"},
    )
    module = {**converted.module, "metadata": {"revision": 1}}
    assert schema_problems(module, "x.json") == []  # strict out
    return converted


def section(blocks: list[dict[str, Any]], **properties: Any) -> dict[str, Any]:
    [only] = convert([heading("Section 1: Try it"), *blocks], **properties).module["sections"]
    return dict(only)


def error(blocks: list[dict[str, Any]], **properties: Any) -> str:
    with pytest.raises(PageError) as caught:
        convert_page(lab_safety_page(**properties), blocks, SETTINGS)
    return str(caught.value)


# -- the template as seed 001 writes it --------------------------------------------------------


def test_seed_001s_template_written_literally_gives_the_module() -> None:
    converted = convert(seed_template(), **{"Module ID": prop("rich_text", [])})
    module = converted.module
    assert module["module_id"] == "lab-safety-101"  # from the Metadata list
    assert (module["category"], module["estimated_minutes"], module["target_audience"]) == (
        "Safety",
        10,
        "incoming_students",
    )
    assert module["learning_objectives"] == [
        "Identify 5 key safety protocols",
        "Locate emergency equipment in the lab",
        "Understand PPE requirements",
    ]
    assert [(s["section_number"], s["section_type"], s["title"]) for s in module["sections"]] == [
        (1, "text", "Welcome to Lab Safety"),
        (2, "interactive", "Interactive Equipment Locator"),
        (3, "text", "PPE Requirements"),
    ]
    interactive = module["sections"][1]
    assert interactive["completion_criteria"] == {"type": "hotspots", "hotspots_clicked": 5}
    assert len(interactive["section_config"]["hotspots"]) == 5
    # The title written again and the Export Notes are listed, never silently dropped.
    notes = {(n.where, n.reason.split(";")[0]) for n in converted.skipped}
    assert ("Export Notes", "Export Notes are notes for people") in notes
    assert sum(n.where == "Export Notes" for n in converted.skipped) == 3


def test_seed_001s_example_config_pasted_is_read_and_completed() -> None:
    """Seed 001 prints its section config as JSON, completion criteria without a type."""
    blocks = [heading("Section 1: Locate"), para(rt("Type: Interactive"))]
    converted = convert_page(
        lab_safety_page(), [*blocks, code(SEED_EXAMPLE_CONFIG, "json")], SETTINGS
    )
    [only] = converted.module["sections"]
    assert only["section_config"]["hotspots"][1]["id"] == "eye-wash"
    assert only["completion_criteria"] == {"type": "hotspots", "hotspots_clicked": 5}


def test_the_metadata_list_fills_what_properties_leave_empty_and_disagreements_are_noted() -> None:
    blocks = [
        para(rt("Metadata", bold=True)),
        bullet("Category: Lab work"),
        bullet("Estimated Time: 1.5 hours"),
        bullet("Target Audience: New Researchers"),
        bullet("Tags: safety, onboarding"),
        bullet("Difficulty: easy"),
        bullet("Cohort: Fall 2025"),
        heading("Section 1: A"),
        para(rt("x")),
    ]
    alone = convert(blocks).module
    assert (alone["category"], alone["estimated_minutes"], alone["target_audience"]) == (
        "Lab work",
        90,
        "new_researchers",
    )
    assert (alone["tags"], alone["difficulty_level"]) == (["onboarding", "safety"], 1)
    both = convert(blocks, Category=prop("select", {"name": "Safety"}))
    assert both.module["category"] == "Safety"  # the property wins
    reasons = [n.reason for n in both.skipped]
    assert any(
        "the Metadata line says “Category: Lab work” but the “Category” property says “Safety”" in r
        for r in reasons
    )
    assert any("“Cohort: Fall 2025” is not read" in r for r in reasons)


# -- where sections are ----------------------------------------------------------------------


def test_a_toggle_heading_section_keeps_everything_folded_in_it() -> None:
    image = block(
        "image", type="external", caption=[rt("Plan")], external={"url": "https://e.org/p.png"}
    )
    blocks = [
        toggle_heading(
            "Section 1: Find the eye wash",
            [
                para(rt("Type: Interactive")),
                para(rt("Look closely at the plan.")),
                image,
                code("instruction: Click the eye wash\nhotspots: [{label: Eye wash, x: 3, y: 4}]"),
            ],
        ),
        para(rt("Below the toggle, still section 1.")),
        toggle_heading("Section 2: Done", [para(rt("Well done."))]),
    ]
    first, second = convert(blocks).module["sections"]
    assert first["section_type"] == "interactive"
    assert first["content"] == (  # the picture's caption stays where the picture was
        "Look closely at the plan.\n\n_Plan_\n\nBelow the toggle, still section 1."
    )
    assert first["media_url"] == "https://e.org/p.png"
    assert first["section_config"]["hotspots"] == [
        {"id": "eye-wash", "label": "Eye wash", "x": 3, "y": 4}
    ]
    assert second["content"] == "Well done."


def test_section_headings_inside_toggles_columns_synced_blocks_and_callouts() -> None:
    columns = block(
        "column_list",
        [
            block("column", [heading("Section 2: Left"), para(rt("left text"))]),
            block("column", [heading("Section 3: Right"), para(rt("right text"))]),
        ],
    )
    synced = block(
        "synced_block", [heading("Section 4: Shared"), para(rt("shared"))], synced_from=None
    )
    copy = block(
        "synced_block",
        [heading("Section 4: Shared"), para(rt("shared"))],
        synced_from={"type": "block_id", "block_id": synced["id"]},
    )
    blocks = [
        block(
            "toggle",
            [heading("Section 1: In a toggle"), para(rt("inside"))],
            rich_text=[rt("Part one")],
        ),
        columns,
        synced,
        callout("Last part", [heading("Section 5: In a callout"), para(rt("called out"))]),
        copy,
    ]
    converted = convert(blocks)
    sections = converted.module["sections"]
    assert [(s["title"], s["content"]) for s in sections] == [
        ("In a toggle", "inside"),
        ("Left", "left text"),
        ("Right", "right text"),
        ("Shared", "shared\n\nLast part"),  # the callout's own text stays where it was
        ("In a callout", "called out"),
    ]
    assert any(
        n.block_id == copy["id"] and "already exported" in n.reason for n in converted.skipped
    )
    # The toggle's title came before any section: listed, not lost.
    assert any(n.where == "before the first section" for n in converted.skipped)


def test_type_and_duration_lines_anywhere_among_the_first_paragraphs() -> None:
    first = section(
        [
            para(rt("Read this first.")),
            para(rt("Duration: 90 seconds\nType: Multiple choice")),
            para(rt("Which is right?")),
            todo("This", checked=True),
            todo("That"),
        ]
    )
    assert (first["section_type"], first["duration_seconds"]) == ("quiz", 90)
    assert first["content"] == "Read this first."
    assert first["section_config"]["questions"][0]["prompt"] == "Which is right?"


@pytest.mark.parametrize(
    ("written", "kind"),
    [
        ("Reading", "text"),
        ("video", "video"),
        ("To-do list", "checklist"),
        ("Knowledge check", "quiz"),
        ("Guided Struggle", "guided_struggle"),
        ("Coding exercise", "sandbox"),
    ],
)
def test_section_types_are_matched_loosely(written: str, kind: str) -> None:
    blocks = [heading("Section 1: A"), para(rt(f"Type: {written}"))]
    converted = convert_page(lab_safety_page(), blocks, SETTINGS)
    assert converted.module["sections"][0]["section_type"] == kind


def test_a_component_name_is_an_interactive_section_of_that_component() -> None:
    drag = (
        "instruction: Sort it\nitems: [{id: a, label: A}]\ntargets: [{id: b, label: B}]\n"
        "answer: {a: b}\n"
    )
    only = section([para(rt("Type: Drag and drop")), code(drag)])
    assert only["section_type"] == "interactive"
    assert only["section_config"]["environment_type"] == "drag_drop"


# -- settings blocks -------------------------------------------------------------------------


def test_settings_in_a_plain_text_code_block_read_as_yaml_1_2() -> None:
    quiz = (
        "questions:\n"
        "  - prompt: Is it safe to eat in the lab?\n"
        "    options: [Yes, No]\n"
        "    answer: No\n"
    )
    only = section([para(rt("Type: Quiz")), code(quiz, "plain text")])
    question = only["section_config"]["questions"][0]
    assert question["options"] == [{"id": "yes", "text": "Yes"}, {"id": "no", "text": "No"}]
    assert (question["answer"], question["kind"], question["id"]) == (["no"], "single", "q1")


def test_a_plain_text_block_that_is_not_settings_stays_text() -> None:
    only = section([para(rt("Type: Video")), code("just a note", "plain text"), _video()])
    assert "just a note" in only["content"]


def test_quiz_answers_by_position_and_options_as_text() -> None:
    quiz = (
        '{"questions": [{"question": "Pick the odd ones", "options": ["One", "Two", "Three"], '
        '"answer": ["one", 3]}], "pass_score": "80%"}'
    )
    only = section([para(rt("Type: Quiz")), code(quiz, "json")])
    question = only["section_config"]["questions"][0]
    assert question["answer"] == ["one", "three"]  # "one" by its text, 3 by its position
    assert question["kind"] == "multiple"
    assert only["section_config"]["pass_score"] == 0.8


def test_an_answer_that_is_both_a_position_and_an_option_shows_both_readings() -> None:
    quiz = "questions:\n  - prompt: How many exits?\n    options: ['3', '1', '2']\n    answer: 1\n"
    message = error([heading("Section 1: Q"), para(rt("Type: Quiz")), code(quiz)])
    assert message.startswith("Section 1 (Q), question 1 (“How many exits?”): ")
    assert "can mean option number 1 (“3”) or the option “1”" in message
    assert 'answer: "1"' in message


# -- natural Notion structures ---------------------------------------------------------------


def test_a_checklist_from_to_dos() -> None:
    only = section(
        [
            para(rt("Type: Checklist")),
            para(rt("Before you start:")),
            todo("Safety glasses", checked=True),
            todo("Closed-toe shoes"),
            todo("Lab coat (optional)"),
            todo("Safety glasses"),
            para(rt("Complete when: all required items checked")),
        ]
    )
    assert only["section_config"]["items"] == [
        {"id": "safety-glasses", "label": "Safety glasses", "required": True},
        {"id": "closed-toe-shoes", "label": "Closed-toe shoes", "required": True},
        {"id": "lab-coat", "label": "Lab coat", "required": False},
        {"id": "safety-glasses-2", "label": "Safety glasses", "required": True},
    ]
    assert only["content"] == "Before you start:"
    assert only["completion_criteria"] == {
        "type": "tasks",
        "tasks": ["safety-glasses", "closed-toe-shoes", "safety-glasses-2"],
    }


def test_a_quiz_from_questions_and_ticked_to_dos_with_explanations() -> None:
    only = section(
        [
            para(rt("Type: Quiz")),
            item("Where is the eye wash?"),
            todo("By the door", checked=True),
            todo("Under the sink"),
            callout("It is always by the door, so you can reach it blind."),
            para(rt("Which do you wear?"), children=None),
            todo("Glasses", checked=True),
            todo("Sandals"),
            todo("Gloves", checked=True),
            block("quote", rich_text=[rt("Glasses and gloves protect you.")]),
            para(rt("Complete when: score 80%")),
        ]
    )
    first, second = only["section_config"]["questions"]
    assert first == {
        "id": "q1",
        "prompt": "Where is the eye wash?",
        "kind": "single",
        "options": [
            {"id": "by-the-door", "text": "By the door"},
            {"id": "under-the-sink", "text": "Under the sink"},
        ],
        "answer": ["by-the-door"],
        "explanation": "It is always by the door, so you can reach it blind.",
    }
    assert (second["kind"], second["answer"]) == ("multiple", ["glasses", "gloves"])
    assert only["completion_criteria"] == {"type": "score", "min_score": 0.8}
    assert only["content"] == ""


def test_hotspots_from_a_notion_table() -> None:
    only = section(
        [
            para(rt("Type: Interactive")),
            code("instruction: Find them all", "plain text"),
            table(
                ("Label", "X", "Y", "Description"),
                ("Eye wash", "300", "150", "By the door"),
                ("Exit", "500px", "260.5", ""),
            ),
            para(rt("Complete when: all hotspots clicked")),
        ]
    )
    assert only["section_config"]["hotspots"] == [
        {"id": "eye-wash", "x": 300, "y": 150, "label": "Eye wash", "description": "By the door"},
        {"id": "exit", "x": 500, "y": 260.5, "label": "Exit"},
    ]
    assert only["completion_criteria"] == {"type": "hotspots", "hotspots_clicked": 2}
    assert only["content"] == ""


def test_hotspots_from_a_notion_table_with_the_seeds_id_column() -> None:
    """Seed 001 names each hotspot: an id column keeps those names (progress is kept by
    them); a row without one gets one from its label."""
    only = section(
        [
            para(rt("Type: Interactive")),
            code("instruction: Find them all", "plain text"),
            table(
                ("id", "label", "x", "y"),
                ("fire-extinguisher", "Fire Extinguisher", "100", "200"),
                ("", "Eye Wash Station", "300", "150"),
            ),
            para(rt("Complete when: 2 hotspots clicked")),
        ]
    )
    assert only["section_config"]["hotspots"] == [
        {"id": "fire-extinguisher", "x": 100, "y": 200, "label": "Fire Extinguisher"},
        {"id": "eye-wash-station", "x": 300, "y": 150, "label": "Eye Wash Station"},
    ]
    assert only["completion_criteria"] == {"type": "hotspots", "hotspots_clicked": 2}


# -- links to other modules ------------------------------------------------------------------


def test_links_and_mentions_of_module_library_pages_become_module_links() -> None:
    other_page = "0123456789abcdef0123456789abcdef"
    converted = convert(
        [
            heading("Section 1: Next"),
            para(rt("Then take "), page_mention(OTHER_MODULE_PAGE, "Equipment Tour"), rt(".")),
            para(
                rt(
                    "the tour",
                    href=f"https://www.notion.so/Tour-{OTHER_MODULE_PAGE.replace('-', '')}",
                )
            ),
            block("link_to_page", type="page_id", page_id=OTHER_MODULE_PAGE),
            para(rt("Our wiki", href=f"https://www.notion.so/Wiki-{other_page}")),
        ]
    )
    content = converted.module["sections"][0]["content"]
    assert content == (
        "Then take [Equipment Tour](module:equipment-tour).\n\n"
        "[the tour](module:equipment-tour)\n\n"
        "[Linked page](module:equipment-tour)\n\n"
        "Our wiki"
    )
    [note] = converted.skipped
    assert "students cannot open Notion pages" in note.reason
    assert note.where == "Section 1 (Next)"


# -- what is never lost ----------------------------------------------------------------------

Container = Callable[[list[dict[str, Any]]], dict[str, Any]]
CONTAINERS: dict[str, Container] = {
    "toggle": lambda children: block("toggle", children, rich_text=[rt("Toggle title")]),
    "toggle heading": lambda children: toggle_heading("Folded heading", children),
    "callout": lambda children: callout("Callout text", children),
    "quote": lambda children: block("quote", children, rich_text=[rt("Quoted")]),
    "bulleted item": lambda children: bullet("Bullet text", children),
    "numbered item": lambda children: block(
        "numbered_list_item", children, rich_text=[rt("Numbered")]
    ),
    "to-do": lambda children: todo("Todo text", children=children),
    "paragraph": lambda children: para(rt("Parent paragraph"), children=children),
    "column": lambda children: block(
        "column_list", [block("column", children), block("column", [para(rt("Other column"))])]
    ),
    "synced block": lambda children: block("synced_block", children, synced_from=None),
}


def leaves() -> dict[str, dict[str, Any]]:
    """One block of every type Notion returns, each with a distinct word in its text."""
    external: dict[str, Any] = {
        "type": "external",
        "external": {"url": "https://example.org/f.bin"},
    }
    return {
        "paragraph": para(rt("wordparagraph")),
        "heading_1": block("heading_1", rich_text=[rt("wordheadingone")]),
        "heading_2": block("heading_2", rich_text=[rt("wordheadingtwo")]),
        "heading_3": block("heading_3", rich_text=[rt("wordheadingthree")]),
        "bulleted_list_item": bullet("wordbullet"),
        "numbered_list_item": item("wordnumbered"),
        "to_do": todo("wordtodo"),
        "toggle": block("toggle", [para(rt("wordinsidetoggle"))], rich_text=[rt("wordtoggle")]),
        "quote": block("quote", rich_text=[rt("wordquote")]),
        "callout": callout("wordcallout"),
        "code": code("wordcode = 1", "python"),
        "equation": block("equation", expression="wordequation"),
        "divider": block("divider"),
        "table": table(("wordcellone", "wordcelltwo")),
        "image": block("image", caption=[rt("wordimage")], **external),
        "video": block("video", caption=[rt("wordvideo")], **external),
        "file": block("file", caption=[rt("wordfile")], name="f.bin", **external),
        "pdf": block("pdf", caption=[rt("wordpdf")], **external),
        "audio": block("audio", caption=[rt("wordaudio")], **external),
        "bookmark": block("bookmark", url="https://example.org/wordbookmark", caption=[]),
        "embed": block("embed", url="https://example.org/wordembed", caption=[]),
        "link_preview": block("link_preview", url="https://example.org/wordpreview"),
        "child_page": block("child_page", title="wordchildpage"),
        "child_database": block("child_database", title="wordchilddatabase"),
        "link_to_page": block("link_to_page", type="page_id", page_id=OTHER_MODULE_PAGE),
        "table_of_contents": block("table_of_contents", color="default"),
        "breadcrumb": block("breadcrumb"),
        "column_list": block(
            "column_list",
            [
                block("column", [para(rt("wordcolumnone"))]),
                block("column", [para(rt("wordcolumntwo"))]),
            ],
        ),
        "synced_block": block("synced_block", [para(rt("wordsynced"))], synced_from=None),
        "template": block("template", rich_text=[rt("wordtemplate")]),
        "unsupported": block("unsupported", block_type="button"),
        "made_up_type": block("made_up_type"),
    }


def words_of(value: Any) -> set[str]:
    import re

    return set(re.findall(r"word[a-z]+", str(value)))


@pytest.mark.parametrize("container", sorted(CONTAINERS))
@pytest.mark.parametrize("kind", sorted(leaves()))
@pytest.mark.parametrize("place", ["section", "preamble"])
def test_every_block_type_under_every_container_is_output_or_listed(
    container: str, kind: str, place: str
) -> None:
    leaf = leaves()[kind]
    nested = CONTAINERS[container]([leaf])
    blocks = [nested, heading("Section 1: A"), para(rt("x"))]
    if place == "section":
        blocks = [heading("Section 1: A"), nested]
    converted = convert_page(
        lab_safety_page(), blocks, SETTINGS, module_ids_by_page={OTHER_MODULE_PAGE: "tour"}
    )
    output = words_of(converted.module)
    listed_ids = {n.block_id for n in converted.skipped}
    listed = words_of([n.reason for n in converted.skipped])

    def accounted(b: dict[str, Any], under_listed: bool) -> None:
        mine = words_of({k: v for k, v in b.items() if k != "children"})
        if not (under_listed or b["id"] in listed_ids):
            assert mine <= output | listed, (kind, container, place, mine - output)
        for child in b.get("children", []):
            accounted(child, under_listed or b["id"] in listed_ids)

    accounted(nested, False)
    if kind not in WORDLESS and place == "section":
        assert words_of(leaf) <= output or leaf["id"] in listed_ids
    elif kind in WORDLESS:  # no text to find: each must show as itself, or be listed
        around = {leaf["id"], nested["id"]} & listed_ids
        shown = WORDLESS[kind]
        if place == "preamble":
            assert around, (kind, container)
        elif shown is None:
            assert leaf["id"] in listed_ids, (kind, container)
        else:
            assert shown in str(converted.module) and not around, (kind, container)


# Leaves without words: what a section shows of each (None: it is listed as skipped). A
# table of contents lists the section's headings, and has none here: it shows nothing
# (tests/unit/test_notion_markdown.py shows one that lists some).
WORDLESS: dict[str, str | None] = {
    "divider": "---",
    "link_to_page": "module:tour",
    "breadcrumb": None,
    "unsupported": None,
    "made_up_type": None,
    "table_of_contents": "",
}


# -- in the team lead's words ------------------------------------------------------------------


def test_module_id_from_the_metadata_list() -> None:
    blocks = [
        para(rt("Metadata", bold=True)),
        bullet("Module ID: from-body"),
        heading("Section 1: A"),
    ]
    assert (
        module_id_of(lab_safety_page(**{"Module ID": prop("rich_text", [])}), SETTINGS, blocks)
        == "from-body"
    )
    assert (
        module_id_of(lab_safety_page(), SETTINGS, blocks) == "lab-safety-101"
    )  # the property wins
    message = error(
        [para(rt("Metadata", bold=True)), bullet("Module ID: Lab Safety"), heading("Section 1: A")],
        **{"Module ID": prop("rich_text", [])},
    )
    assert "the Metadata line “Module ID: Lab Safety”" in message and "like lab-safety" in message


def _video() -> dict[str, Any]:
    return block(
        "video", type="external", caption=[], external={"url": "https://v.example.org/a.mp4"}
    )
