"""Errors a team lead can act on: one row per kind of error, each in Notion's words and
1-based (the section as they see it, the line of the settings block, the to-do, the table
row), saying what to write instead; problems the operator must fix say so."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.config import NotionSettings
from pipeline.modules.records import file_text
from pipeline.modules.schema import load_schema
from pipeline.modules.validate import check_document
from pipeline.notion.page import PageError, convert_page
from pipeline.notion.report import (
    CHECK_FAILED,
    EXPORT_FAILED,
    OPERATOR,
    describe,
    guide_link,
    row_message,
)
from tests.builders import (
    bullet,
    code,
    heading,
    item,
    lab_safety_page,
    para,
    prop,
    rt,
    table,
    todo,
)

SETTINGS = NotionSettings(universities={"Cal Poly Pomona": "cpp"})


def problems(blocks: list[dict[str, Any]], **properties: Any) -> list[str]:
    """What the team lead reads: the page's error, or the exported module's problems."""
    try:
        converted = convert_page(lab_safety_page(**properties), blocks, SETTINGS)
    except PageError as exc:
        return [str(exc)]
    module = {**converted.module, "metadata": {"revision": 1}}
    found, _refs = check_document(
        module,
        file_text(module, load_schema()),
        "x.json",
        "lab-safety-101",
        ".",
        present=lambda _root, _path: True,
    )
    return [str(describe(p, converted.origins, module)) for p in found if p.is_error]


def section(*blocks: dict[str, Any], title: str = "Locate Safety Equipment") -> list[Any]:
    return [heading("Section 1: Intro"), para(rt("x")), heading(f"Section 2: {title}"), *blocks]


INTERACTIVE = para(rt("Type: Interactive"))

KINDS: dict[str, tuple[list[dict[str, Any]], dict[str, Any], str]] = {
    "module id missing": (
        [heading("Section 1: A")],
        {"Module ID": prop("rich_text", [])},
        "the Module ID is empty: set the “Module ID” property (or a line “Module ID: ...” "
        "under Metadata) to a short id of lowercase words joined by hyphens, like lab-safety-101",
    ),
    "module id not an id": (
        [heading("Section 1: A")],
        {"Module ID": prop("rich_text", [rt("Lab Safety 101")])},
        "Module ID 'Lab Safety 101' (in the “Module ID” property) is not a valid id: use "
        "lowercase letters, digits and single hyphens, like lab-safety-101",
    ),
    "no sections": (
        [para(rt("Welcome to the lab."))],
        {},
        "the page has no sections: add a heading like “Section 1: Welcome” for each section "
        "(a toggle heading, or a heading inside a toggle or column, counts too)",
    ),
    "sections out of order": (
        [heading("Section 1: A"), heading("Section 3: C")],
        {},
        "Section 3 (C) comes right after Section 1 (A): number the sections 1, 2, 3, … in "
        "the order they appear on the page, without gaps or repeats",
    ),
    "unknown section type": (
        section(para(rt("Type: Vidoe"))),
        {},
        "Section 2 (Locate Safety Equipment), the line “Type: Vidoe”: “Vidoe” is not a "
        "section type (did you mean Video?). The section types are: Text, Video, Image, "
        "Checklist, Interactive, Quiz, Sandbox, Game, Guided struggle; write it like "
        "“Type: Quiz”",
    ),
    "two type lines": (
        section(para(rt("Type: Quiz")), para(rt("Type: Video"))),
        {},
        "Section 2 (Locate Safety Equipment): it has two lines for the same thing "
        "(“Type: Quiz” and “Type: Video”); keep one",
    ),
    "unreadable duration": (
        section(para(rt("Duration: a while"))),
        {},
        "Section 2 (Locate Safety Equipment), the line “Duration: a while”: cannot read the "
        "duration “a while”; write e.g. “Duration: 2 minutes” or “Duration: 90 seconds”",
    ),
    "unreadable settings block": (
        section(INTERACTIVE, code("instruction: Find them\nhotspots: [\n  {label: A, x: 1\n")),
        {},
        "Section 2 (Locate Safety Equipment), settings block line 4: this is not valid YAML",
    ),
    "setting missing": (
        section(INTERACTIVE, code("hotspots: [{label: Eye wash, x: 300, y: 150}]")),
        {},
        "Section 2 (Locate Safety Equipment), settings block: an interactive section needs an "
        "instruction (what the student is asked to do): add it to the settings block, e.g. "
        "`instruction: Click on the 5 pieces of safety equipment`",
    ),
    "unknown setting": (
        section(INTERACTIVE, code("instruction: Find them\nhotspot:\n  - {label: A, x: 1, y: 2}")),
        {},
        "Section 2 (Locate Safety Equipment), settings block line 2: “hotspot” is not a "
        "setting here (did you mean “hotspots”?): remove or rename it; the settings it takes "
        "are: assets, environment_type, hotspots, instruction, tasks",
    ),
    "setting of the wrong kind": (
        section(
            INTERACTIVE, code("instruction: Find them\nhotspots:\n  - {label: A, x: one, y: 2}")
        ),
        {},
        "Section 2 (Locate Safety Equipment), settings block line 3: “x” must be a number, "
        "not text",
    ),
    "unknown component": (
        section(INTERACTIVE, code("instruction: Spin it\nenvironment_type: spinner")),
        {},
        "Section 2 (Locate Safety Equipment), settings block line 2: “spinner” is not an "
        "interactive component the LMS knows; the components are: 3d scene, drag drop, image "
        "hotspots, simulation. A new kind is added by the pipeline's developers",
    ),
    "ambiguous completion": (
        section(
            INTERACTIVE,
            code("instruction: Find\nhotspots: [{label: A, x: 1, y: 2}]"),
            para(rt("Complete when: 5")),
        ),
        {},
        "Section 2 (Locate Safety Equipment), the line “Complete when: 5”: “5” can mean 5 "
        "hotspots clicked, or 5 seconds spent on the section. Write the one you mean: "
        "“Complete when: 5 hotspots clicked” or “Complete when: 5 seconds”",
    ),
    "completion that cannot be reached": (
        section(
            INTERACTIVE,
            code(
                "instruction: Find\nhotspots: [{label: A, x: 1, y: 2}]\n"
                "completion_criteria: {hotspots_clicked: 5}"
            ),
        ),
        {},
        "Section 2 (Locate Safety Equipment), settings block line 3: the number of hotspots "
        "to click is 5 but the section has only 1 hotspots; students could never complete it: "
        "add the missing hotspots, or lower the number",
    ),
    "completion that does not fit": (
        section(para(rt("Type: Checklist")), todo("Glasses"), para(rt("Complete when: score 80%"))),
        {},
        "Section 2 (Locate Safety Equipment), the line “Complete when: score 80%”: “Complete "
        'when” "score" does not fit a checklist section; it needs a game or quiz section',
    ),
    "quiz without a ticked answer": (
        section(para(rt("Type: Quiz")), item("Where is the eye wash?"), todo("Door"), todo("Sink")),
        {},
        "Section 2 (Locate Safety Equipment), question 1 (“Where is the eye wash?”): no option "
        "is ticked: tick the box of the correct option (or of each correct one)",
    ),
    "quiz answer that is not an option": (
        section(
            para(rt("Type: Quiz")),
            code("questions:\n  - prompt: Safe?\n    options: [Yes, No]\n    answer: Maybe\n"),
        ),
        {},
        "Section 2 (Locate Safety Equipment), question 1 (“Safe?”): the answer “Maybe” is not "
        "one of the options (“Yes”, “No”); write it exactly as one of them, or give its number "
        "(1 for the first)",
    ),
    "a quiz without questions": (
        section(para(rt("Type: Quiz")), para(rt("Answer these."))),
        {},
        "Section 2 (Locate Safety Equipment): a quiz needs its questions: write each question "
        "followed by its options as to-dos and tick the correct ones",
    ),
    "hotspot table with a bad number": (
        section(
            INTERACTIVE,
            code("instruction: Find", "plain text"),
            table(("label", "x", "y"), ("Eye wash", "300", "150"), ("Exit", "far", "2")),
        ),
        {},
        "Section 2 (Locate Safety Equipment), the hotspot table, row 2: x “far” is not a "
        "number: write a number of pixels from the picture's top left corner, e.g. 120",
    ),
    "video without a video": (
        section(para(rt("Type: Video")), para(rt("Watch this."))),
        {},
        "Section 2 (Locate Safety Equipment): a video section needs its video: add a video "
        "block (upload the file, or paste a YouTube or Vimeo link)",
    ),
    "unreadable metadata time": (
        [para(rt("Metadata", bold=True)), bullet("Estimated Time: soon"), heading("Section 1: A")],
        {},
        "the Metadata line “Estimated Time: soon”: cannot read the time “soon”; write it like "
        "“Estimated Time: 10 minutes”",
    ),
    "prerequisite page without a module": (
        [heading("Section 1: A")],
        {"Prerequisites": prop("relation", [{"id": "0123456789abcdef0123456789abcdef"}])},
        "Prerequisites links to a page without a Module ID (0123456789abcdef0123456789abcdef); "
        "give that page a Module ID (and export it) or remove the link",
    ),
    "university the operator has not mapped": (
        [heading("Section 1: A")],
        {"University": prop("select", {"name": "Elsewhere"})},
        OPERATOR + "University 'Elsewhere' has no id; add it under notion.universities in "
        "pipeline.yaml, e.g. `Elsewhere: cpp`",
    ),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_of_error_in_the_team_leads_words(kind: str) -> None:
    blocks, properties, expected = KINDS[kind]
    found = problems(blocks, **properties)
    assert any(f.startswith(expected) for f in found), found


def test_the_row_message_links_the_guide_and_is_never_too_long() -> None:
    guide = guide_link("https://github.com/o/r/blob/HEAD/docs/authoring.md", "quizzes")
    message = row_message(
        ["Section 2 (Quiz): a", "Section 2 (Quiz): a", "b"], check=False, guide=guide
    )
    assert message == (
        f"{EXPORT_FAILED}Section 2 (Quiz): a\nb\n"
        "How to fix it: https://github.com/o/r/blob/HEAD/docs/authoring.md#quizzes"
    )
    long = row_message([f"problem {n} " + "x" * 600 for n in range(8)], check=True, guide=guide)
    assert long.startswith(CHECK_FAILED) and len(long) <= 2000
    assert long.endswith("#quizzes")
    assert guide_link("docs/authoring.md", "settings-blocks") == (
        "docs/authoring.md, the part “Settings blocks” (in the pipeline's repository)"
    )
