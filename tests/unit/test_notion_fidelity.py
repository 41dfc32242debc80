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
    code,
    heading,
    item,
    lab_safety_page,
    para,
    rt,
    table,
    todo,
)


def convert(blocks: list[dict[str, Any]]) -> Converted:
    converted = convert_page(lab_safety_page(), blocks, NotionSettings())
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


# -- captions and where pictures go ----------------------------------------------------------


def test_a_video_sections_caption_stays_in_the_text_where_the_video_was() -> None:
    only, skipped = one_section(
        [
            para(rt("Type: Video")),
            media(
                "video",
                "https://www.youtube.com/watch?v=abc",
                "Watch until 2:30, then stop and answer the question below.",
            ),
            para(rt("After the video...")),
        ]
    )
    assert only["media_url"] == "https://www.youtube.com/watch?v=abc"
    assert only["content"] == (
        "_Watch until 2:30, then stop and answer the question below._\n\nAfter the video..."
    )
    assert skipped == []


def test_a_picture_in_a_text_section_stays_in_its_place_with_its_caption_under_it() -> None:
    only, skipped = one_section(
        [
            para(rt("Intro text.")),
            media("image", "https://example.com/a.png", "Figure 1: the exits, marked in red"),
            para(rt("More text.")),
            media("video", "https://example.com/tour.mp4", "The tour"),
        ]
    )
    assert only["media_url"] is None
    assert only["content"] == (
        "Intro text.\n\n"
        "![Figure 1: the exits, marked in red](https://example.com/a.png)\n\n"
        "_Figure 1: the exits, marked in red_\n\n"
        "More text.\n\n"
        "[The tour](https://example.com/tour.mp4)"
    )
    assert skipped == []


def test_a_caption_in_italics_stays_in_italics_under_its_picture() -> None:
    """Wrapped in "_" again, "_Figure one_" would become "__Figure one__": bold."""
    picture = block(
        "image",
        type="external",
        external={"url": "https://example.com/a.png"},
        caption=[rt("Figure one", italic=True)],
    )
    only, _ = one_section([para(rt("Look:")), picture])
    assert only["content"].endswith("\n\n_Figure one_")
    assert "__" not in only["content"]


def test_a_picture_without_a_caption_is_just_the_picture() -> None:
    only, _ = one_section([para(rt("Look:")), media("image", "https://example.com/a.png")])
    assert only["content"] == "Look:\n\n![](https://example.com/a.png)"


def test_an_image_section_keeps_its_caption_when_the_settings_give_the_alt_text() -> None:
    only, skipped = one_section(
        [
            para(rt("Type: Image")),
            code("alt_text: The lab's floor plan"),
            media("image", "https://example.com/plan.png", "The exits are marked in red"),
        ]
    )
    assert only["media_url"] == "https://example.com/plan.png"
    assert only["section_config"] == {
        "alt_text": "The lab's floor plan",
        "caption": "The exits are marked in red",
    }
    assert skipped == []
    # Without settings the caption is what is read out (docs/authoring.md), as before.
    plain, _ = one_section(
        [para(rt("Type: Image")), media("image", "https://example.com/plan.png", "The plan")]
    )
    assert plain["section_config"] == {"alt_text": "The plan"}


def test_what_an_image_sections_caption_cannot_carry_is_listed() -> None:
    linked = block(
        "image",
        type="external",
        external={"url": "https://example.com/plan.png"},
        caption=[rt("The plan, from "), rt("the facilities site", href="https://fac.example.org")],
    )
    only, skipped = one_section([para(rt("Type: Image")), linked])
    assert only["section_config"] == {"alt_text": "The plan, from the facilities site"}
    [note] = skipped
    assert note.block_id == linked["id"] and "https://fac.example.org" in note.reason
    both = code("alt_text: A plan\ncaption: Exits in red")
    picture = media("image", "https://example.com/plan.png", "Something else")
    only, skipped = one_section([para(rt("Type: Image")), both, picture])
    assert only["section_config"] == {"alt_text": "A plan", "caption": "Exits in red"}
    [note] = skipped
    assert note.block_id == picture["id"] and "“Something else” is not used" in note.reason


def test_an_image_section_takes_its_picture_and_a_video_section_its_video() -> None:
    """A picture before a section's video is not the video (nor a video the picture)."""
    video, _ = one_section(
        [
            para(rt("Type: Video")),
            media("image", "https://example.com/still.png", "Before you watch"),
            media("video", "https://example.com/tour.mp4"),
        ]
    )
    assert video["media_url"] == "https://example.com/tour.mp4"
    assert video["content"] == (
        "![Before you watch](https://example.com/still.png)\n\n_Before you watch_"
    )
    image, _ = one_section(
        [
            para(rt("Type: Image")),
            media("video", "https://example.com/tour.mp4", "The tour"),
            media("image", "https://example.com/plan.png", "The plan"),
        ]
    )
    assert image["media_url"] == "https://example.com/plan.png"
    assert image["section_config"] == {"alt_text": "The plan"}
    assert image["content"] == "[The tour](https://example.com/tour.mp4)"


def test_an_interactive_sections_picture_caption_stays_in_its_text() -> None:
    only, skipped = one_section(
        [
            para(rt("Type: Interactive")),
            code("instruction: Click the eye wash"),
            media("image", "https://example.com/plan.png", "The lab's floor plan"),
            table(("label", "x", "y"), ("Eye wash", "300", "150")),
            para(rt("Take your time.")),
        ]
    )
    assert only["media_url"] == "https://example.com/plan.png"
    assert only["content"] == "_The lab's floor plan_\n\nTake your time."
    assert skipped == []


# -- checklists, quizzes and hotspot tables --------------------------------------------------


def test_a_checklist_items_link_and_bold_are_listed_and_its_words_kept() -> None:
    linked = to_do(
        rt("Read "),
        rt("the safety manual", href="https://example.com/manual.pdf"),
        rt(" "),
        rt("carefully", bold=True),
    )
    only, skipped = one_section([para(rt("Type: Checklist")), linked, todo("Closed-toe shoes")])
    assert only["section_config"]["items"][0] == {
        "id": "read-the-safety-manual-carefully",
        "label": "Read the safety manual carefully",
        "required": True,
    }
    [note] = skipped
    assert (note.block_id, note.where) == (linked["id"], "Section 1 (Try it)")
    assert "https://example.com/manual.pdf" in note.reason
    assert "bold" in note.reason
    assert "section's text" in note.reason  # what to write instead


def test_a_quiz_prompts_link_is_listed() -> None:
    prompt = para(rt("Where is the "), rt("eye wash", href="https://example.com/eyewash"), rt("?"))
    only, skipped = one_section(
        [
            para(rt("Type: Quiz")),
            prompt,
            todo("By the door", checked=True),
            todo("Under the "),
            # an option's own formatting and link are listed too
            to_do(rt("sink", href="https://example.com/sink")),
        ]
    )
    question = only["section_config"]["questions"][0]
    assert question["prompt"] == "Where is the eye wash?"
    notes = {n.block_id: n.reason for n in skipped}
    assert "https://example.com/eyewash" in notes[prompt["id"]]
    assert len(skipped) == 2 and any("https://example.com/sink" in r for r in notes.values())


def test_a_quiz_explanation_keeps_all_its_text_and_lists_its_picture() -> None:
    picture = media("image", "https://example.com/eyewash.png", "eye wash photo")
    explanation = block(
        "callout",
        [
            para(rt("Second paragraph of explanation.")),
            picture,
            bullet("a bullet", [para(rt("nested grandchild detail"))]),
        ],
        rich_text=[rt("It is by the door.")],
        icon={"type": "emoji", "emoji": "💡"},
        color="default",
    )
    only, skipped = one_section(
        [
            para(rt("Type: Quiz")),
            item("Where is the eye wash?"),
            todo("By the door", checked=True),
            todo("Under the sink"),
            explanation,
        ]
    )
    question = only["section_config"]["questions"][0]
    assert question["explanation"] == (
        "It is by the door.\n\nSecond paragraph of explanation.\n\na bullet\n\n"
        "nested grandchild detail"
    )
    [note] = skipped
    assert note.block_id == picture["id"]
    assert "eye wash photo" in note.reason and "explanation" in note.reason
    assert note.where == "Section 1 (Try it)"


def test_a_hotspot_column_without_a_name_is_listed_with_what_it_holds() -> None:
    spots = table(
        ("label", "x", "y", ""),
        ("Extinguisher", "100", "200", "behind the door, red"),
        ("Eye wash", "300", "150", ""),
    )
    only, skipped = one_section([para(rt("Type: Interactive")), code("instruction: Click"), spots])
    assert [h["label"] for h in only["section_config"]["hotspots"]] == ["Extinguisher", "Eye wash"]
    [note] = skipped
    assert note.block_id == spots["id"]
    assert "behind the door, red" in note.reason and "description" in note.reason


def test_what_a_hotspot_cell_or_an_explanation_cannot_hold_is_listed() -> None:
    linked = block(
        "table_row",
        cells=[[rt("Exit", href="https://example.com/exits")], [rt("5")], [rt("6")]],
    )
    spots = block(
        "table",
        [block("table_row", cells=[[rt("label")], [rt("x")], [rt("y")]]), linked],
        table_width=3,
        has_column_header=True,
        has_row_header=False,
    )
    only, skipped = one_section([para(rt("Type: Interactive")), code("instruction: Click"), spots])
    assert only["section_config"]["hotspots"] == [{"id": "exit", "x": 5, "y": 6, "label": "Exit"}]
    [note] = skipped
    assert note.block_id == linked["id"] and "https://example.com/exits" in note.reason
    # a table in an explanation is listed once, with what is under it; the rest is kept
    inner = table(("Where", "Why"), ("By the door", "Reach it blind"))
    only, skipped = one_section(
        [
            para(rt("Type: Quiz")),
            para(rt("Where is the eye wash?")),
            todo("By the door", checked=True),
            to_do(rt("Under the "), rt("sink", italic=True)),
            block("quote", [inner, para(rt("See above."))], rich_text=[rt("Because:")]),
        ]
    )
    assert only["section_config"]["questions"][0]["explanation"] == "Because:\n\nSee above."
    assert [n.block_id for n in skipped] == [skipped[0].block_id, inner["id"]]
    assert "the italics was left out" in skipped[0].reason
    assert "to keep the formatting, put those words in the section's text" in skipped[0].reason
    assert "the table block in the explanation of question 1 is left out" in skipped[1].reason


def test_an_empty_column_without_a_name_is_nothing_to_list() -> None:
    spots = table(("label", "x", "y", ""), ("Extinguisher", "100", "200", ""))
    _, skipped = one_section([para(rt("Type: Interactive")), code("instruction: Click"), spots])
    assert skipped == []


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
