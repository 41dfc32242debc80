"""Notion blocks -> Markdown: every block type, annotations, nesting, real recordings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from pipeline.notion.markdown import Rendered, rich_text, to_markdown
from tests.builders import block, item, para, row, rt
from tests.doubles.notion_fixtures import all_blocks, tree


def md(*blocks: dict[str, Any]) -> str:
    return to_markdown(list(blocks)).markdown


def test_annotations() -> None:
    assert rich_text([rt("bold", bold=True), rt(" and "), rt("it", italic=True)]) == (
        "**bold** and _it_"
    )
    assert rich_text([rt("gone", strikethrough=True), rt("u", underline=True)]) == (
        "~~gone~~<u>u</u>"
    )
    assert rich_text([rt("all", bold=True, italic=True, strikethrough=True)]) == ("~~_**all**_~~")
    # Spaces stay outside the markers, or Markdown would not see them.
    assert rich_text([rt("a"), rt(" b ", bold=True), rt("c")]) == "a **b** c"
    assert rich_text([rt("x = `y`", code=True)]) == "`` x = `y` ``"
    assert rich_text([rt("a_b*c", code=True)]) == "`a_b*c`"
    assert rich_text([rt("red", color="red")]) == "red"


def test_escaping_and_links() -> None:
    assert rich_text([rt("2*3 = [6] <b> a_b")]) == r"2\*3 = \[6\] \<b\> a\_b"
    assert rich_text([rt("docs", href="https://example.org/a (b)")]) == (
        "[docs](https://example.org/a%20%28b%29)"
    )
    assert rich_text([rt("site", href="https://example.org", bold=True)]) == (
        "[**site**](https://example.org)"
    )
    assert md(para(rt("# not a heading"))) == "\\# not a heading\n"
    assert md(para(rt("1. not a list"))) == "1\\. not a list\n"
    assert md(para(rt("- not a bullet"))) == "\\- not a bullet\n"
    assert md(para(rt("3.5 is fine"))) == "3.5 is fine\n"
    assert md(para(rt("## also not"))) == "\\## also not\n"


def test_mentions_and_inline_equation() -> None:
    items: list[Mapping[str, Any]] = [
        {
            "type": "mention",
            "mention": {"type": "user", "user": {"object": "user", "id": "u", "name": "Ada"}},
            "annotations": {},
            "plain_text": "@Ada",
            "href": None,
        },
        {
            "type": "mention",
            "mention": {"type": "page", "page": {"id": "1234-abcd"}},
            "annotations": {},
            "plain_text": "Lab Rules",
            "href": "https://www.notion.so/1234abcd",
        },
        {
            "type": "mention",
            "mention": {"type": "date", "date": {"start": "2025-11-26"}},
            "annotations": {},
            "plain_text": "2025-11-26",
            "href": None,
        },
        {
            "type": "equation",
            "equation": {"expression": "E=mc^2"},
            "annotations": {},
            "plain_text": "E=mc^2",
            "href": None,
        },
    ]
    assert rich_text(items) == "@Ada[Lab Rules](https://www.notion.so/1234abcd)2025-11-26$E=mc^2$"


def test_headings_and_line_breaks() -> None:
    assert (
        md(
            block("heading_1", rich_text=[rt("One")]),
            block("heading_2", rich_text=[rt("Two")]),
            block("heading_3", rich_text=[rt("Three")]),
        )
        == "# One\n\n## Two\n\n### Three\n"
    )
    assert md(para(rt("line one\nline two"))) == "line one\\\nline two\n"


def test_lists_nested_three_deep() -> None:
    tree_ = [
        block(
            "bulleted_list_item",
            [
                block(
                    "numbered_list_item",
                    [
                        block("to_do", rich_text=[rt("deep")], checked=True),
                        block("to_do", rich_text=[rt("deeper")], checked=False),
                    ],
                    rich_text=[rt("first")],
                ),
                block("numbered_list_item", rich_text=[rt("second")]),
            ],
            rich_text=[rt("top")],
        ),
        block("bulleted_list_item", rich_text=[rt("next")]),
    ]
    assert md(*tree_) == (
        "- top\n  1. first\n     - [x] deep\n     - [ ] deeper\n  2. second\n- next\n"
    )


def test_numbering_restarts_after_another_block() -> None:
    assert md(item("a"), item("b"), para(rt("break")), item("c")) == (
        "1. a\n2. b\n\nbreak\n\n1. c\n"
    )


def test_quote_callout_toggle() -> None:
    assert md(block("quote", [para(rt("child"))], rich_text=[rt("said")])) == (
        "> said\n>\n> child\n"
    )
    assert (
        md(block("callout", rich_text=[rt("Careful")], icon={"type": "emoji", "emoji": "⚠️"}))
        == "> ⚠️ Careful\n"
    )
    assert md(block("toggle", [para(rt("hidden"))], rich_text=[rt("More")])) == (
        "<details>\n<summary>More</summary>\n\nhidden\n\n</details>\n"
    )


def test_code_equation_divider() -> None:
    code = "print('```')\n\n\nx = 1"
    assert md(block("code", rich_text=[rt(code)], language="python", caption=[])) == (
        f"````python\n{code}\n````\n"
    )
    assert (
        md(block("code", rich_text=[rt("a")], language="plain text", caption=[rt("note")]))
        == "```\na\n```\n\n_note_\n"
    )
    assert md(block("equation", expression="a^2+b^2")) == "$$\na^2+b^2\n$$\n"
    assert md(block("divider")) == "---\n"


def test_tables() -> None:
    assert md(
        block(
            "table",
            [row("A", "B"), row("1", "x|y")],
            table_width=2,
            has_column_header=True,
            has_row_header=False,
        )
    ) == ("| A | B |\n| --- | --- |\n| 1 | x\\|y |\n")
    assert md(block("table", [row("1", "2")], table_width=2, has_column_header=False)) == (
        "|  |  |\n| --- | --- |\n| 1 | 2 |\n"
    )


def test_columns_tabs_and_synced_blocks_once() -> None:
    columns = block(
        "column_list", [block("column", [para(rt("left"))]), block("column", [para(rt("right"))])]
    )
    assert md(columns) == "left\n\nright\n"
    assert md(block("tab", [para(rt("tab body"))])) == "tab body\n"
    original = block("synced_block", [para(rt("shared"))], synced_from=None)
    reference = block(
        "synced_block",
        [para(rt("shared"))],
        synced_from={"type": "block_id", "block_id": original["id"]},
    )
    assert md(original, para(rt("between")), reference) == "shared\n\nbetween\n"


def test_links_to_pages_and_media() -> None:
    page_id = "38c9ce7b-60a4-8123-a7bc-e8f28521f4db"
    assert md(block("link_to_page", type="page_id", page_id=page_id)) == (
        "[Linked page](https://www.notion.so/38c9ce7b60a48123a7bce8f28521f4db)\n"
    )
    child = block("child_page", title="Sub page")
    assert md(child) == f"[Sub page](https://www.notion.so/{child['id'].replace('-', '')})\n"
    assert md(block("bookmark", url="https://example.org", caption=[])) == (
        "[https://example.org](https://example.org)\n"
    )
    assert md(block("embed", url="https://example.org/e", caption=[rt("Demo")])) == (
        "[Demo](https://example.org/e)\n"
    )
    image = block(
        "image",
        type="file",
        caption=[rt("Plan")],
        file={
            "url": "https://prod-files-secure.s3.us-west-2.amazonaws.com/x.png",
            "expiry_time": "2026-01-01T00:00:00.000Z",
        },
    )
    video = block(
        "video", type="external", caption=[], external={"url": "https://videos.example.org/v.mp4"}
    )
    rendered = to_markdown(
        [image, video],
        resolve_file=lambda b: (
            "data/assets/m/plan.png" if b["type"] == "image" else b["video"]["external"]["url"]
        ),
    )
    assert rendered.markdown == (
        "![Plan](data/assets/m/plan.png)\n\n_Plan_\n\n[v.mp4](https://videos.example.org/v.mp4)\n"
    )


def test_table_of_contents_lists_headings() -> None:
    assert (
        md(
            block("table_of_contents", color="default"),
            block("heading_1", rich_text=[rt("A")]),
            block("heading_2", rich_text=[rt("B")]),
        )
        == "- A\n  - B\n\n# A\n\n## B\n"
    )


def test_unsupported_blocks_are_reported_with_their_id() -> None:
    button = {**block("unsupported", block_type="button")}
    crumbs = block("breadcrumb")
    rendered = to_markdown([para(rt("kept")), button, crumbs, block("made_up_type")])
    assert rendered.markdown == "kept\n"
    assert [(s.block_id, s.block_type) for s in rendered.skipped] == [
        (button["id"], "unsupported"),
        (crumbs["id"], "breadcrumb"),
        (rendered.skipped[2].block_id, "made_up_type"),
    ]
    assert "'button' cannot be exported" in rendered.skipped[0].reason


def test_recorded_page() -> None:
    blocks = tree("test_page_to_markdown.yaml", "00000000-0000-4000-8000-000000000004")
    rendered: Rendered = to_markdown(blocks)
    text = rendered.markdown
    for expected in (
        "# Headline 1\n",
        "- Item 1\n- Item 2\\\n  with a new line\n- Item 3",
        "- [x] Checked ToDo3",
        "1. First item\n2. Second item",
        "> 💡 Callout!",
        "| Cell 1, 1 | Cell 1, 2 |",
        "```python\n# Python Code",
        "[Markdown SubPage Test](https://www.notion.so/",
    ):
        assert expected in text
    assert {s.block_type for s in rendered.skipped} == {"breadcrumb", "unsupported"}
    assert text.count("This is the original Paragraph on Page") == 1


RECORDED = all_blocks()
# Blocks whose content is their children: alone they write nothing, and lose nothing.
CONTAINERS = ("column_list", "column", "synced_block", "tab")


def words(block: dict[str, Any], skipped: set[str]) -> list[str]:
    """The words of a block's text (rich text, caption, table cells) and its children's,
    leaving out blocks reported as skipped. Markdown escapes punctuation, not words."""
    if block["id"] in skipped:
        return []
    payload = block.get(block["type"], {})
    items = [*payload.get("rich_text", []), *payload.get("caption", [])]
    items += [item for cell in payload.get("cells", []) for item in cell]
    found = [w for item in items for w in re.findall(r"[^\W_]+", item.get("plain_text", ""))]
    return found + [w for child in block["children"] for w in words(child, skipped)]


@pytest.mark.parametrize("recorded", RECORDED, ids=lambda b: f"{b['type']}-{b['id'][-6:]}")
def test_every_recorded_block_converts_or_is_reported(recorded: dict[str, Any]) -> None:
    kind = recorded["type"]
    alone = to_markdown([{**recorded, "children": []}])
    if kind in CONTAINERS:
        assert (alone.markdown, alone.skipped) == ("", [])
    elif kind == "table_of_contents":
        with_heading = to_markdown([recorded, block("heading_1", rich_text=[rt("Probe")])])
        assert with_heading.markdown == "- Probe\n\n# Probe\n"
    else:
        assert alone.markdown or alone.skipped, kind
    # Its text, and its recorded children's, is in the Markdown: nothing dropped silently.
    whole = to_markdown([recorded])
    skipped = {s.block_id for s in whole.skipped}
    missing = [w for w in words(recorded, skipped) if w not in whole.markdown]
    assert missing == [], whole.markdown
    if kind == "table":  # every row, even of empty cells; GFM needs a header row
        header = 0 if recorded["table"].get("has_column_header") else 1
        lines = [line for line in whole.markdown.splitlines() if line.startswith("|")]
        assert len(lines) == header + 1 + len(recorded["children"]), whole.markdown


def test_recorded_paragraphs_and_tables_have_text_to_check() -> None:
    """The check above is not empty for the blocks whose text matters most."""
    paragraphs = [b for b in RECORDED if b["type"] == "paragraph"]
    tables = [b for b in RECORDED if b["type"] == "table"]
    assert len(paragraphs) >= 50 and all(words(b, set()) for b in paragraphs)
    assert len(tables) >= 10 and all(b["children"] for b in tables)
    assert sum(bool(words(b, set())) for b in tables) >= 7
