"""checks.media_references reads Markdown with markdown-it: images and asset links only."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.modules.checks import Reference, _may_name_media, markdown_links, media_references


def doc(*contents: str) -> dict[str, Any]:
    return {
        "sections": [
            {"section_number": n, "section_type": "text", "title": "T", "content": content}
            for n, content in enumerate(contents, start=1)
        ]
    }


def targets(content: str) -> list[tuple[str, bool]]:
    """(target, strict) of each media reference found in one section's Markdown."""
    return [(r.target, r.strict) for r in media_references(doc(content))]


def test_image_in_code_span_is_not_a_reference() -> None:
    assert targets("write `![x](data/assets/nope.png)` to show an image") == []


def test_image_in_fenced_code_is_not_a_reference() -> None:
    content = "Example:\n\n```markdown\n![x](data/assets/nope.png)\n```\n\nDone."
    assert targets(content) == []


def test_image_in_indented_code_is_not_a_reference() -> None:
    assert targets("Example:\n\n    ![x](data/assets/nope.png)\n") == []


def test_reference_style_image_is_found() -> None:
    content = "See ![the wiring][wiring].\n\n[wiring]: data/assets/demo/wiring.png\n"
    assert targets(content) == [("data/assets/demo/wiring.png", True)]


def test_shortcut_reference_image_is_found() -> None:
    content = "![wiring]\n\n[wiring]: <data/assets/demo/wiring.png> 'The wiring'\n"
    assert targets(content) == [("data/assets/demo/wiring.png", True)]


def test_link_to_an_asset_is_found_but_not_strict() -> None:
    assert targets("Download [the sheet](data/assets/demo/sheet.pdf).") == [
        ("data/assets/demo/sheet.pdf", False)
    ]


def test_reference_style_link_to_an_asset_is_found() -> None:
    content = "Download [the sheet][s].\n\n[s]: data/assets/demo/sheet.pdf\n"
    assert targets(content) == [("data/assets/demo/sheet.pdf", False)]


def test_web_link_is_not_a_media_reference() -> None:
    assert targets("Read [the docs](https://example.org/docs) and <https://example.org>.") == []
    assert list(markdown_links("<https://example.org/a>")) == [("https://example.org/a", False)]


def test_web_image_is_a_strict_reference() -> None:
    assert targets("![chart](https://example.org/chart.png)") == [
        ("https://example.org/chart.png", True)
    ]


@pytest.mark.parametrize(
    "content",
    [
        "![a](<data/assets/demo/a.png>)",
        '![a](data/assets/demo/a.png "A title")',
        "![a](data/assets/demo/a.png 'A title')",
        "![a](data/assets/demo/a.png (A title))",
        '![a](<data/assets/demo/a.png> "A (title)")',
        "![a](  data/assets/demo/a.png  )",
    ],
)
def test_angle_brackets_and_titles(content: str) -> None:
    assert targets(content) == [("data/assets/demo/a.png", True)]


def test_targets_are_kept_as_written() -> None:
    """No %-encoding: an asset path names a file, whatever characters it has."""
    assert targets("![a](<data/assets/demo/my file.png>) ![b](data/assets/demo/café.png)") == [
        ("data/assets/demo/my file.png", True),
        ("data/assets/demo/café.png", True),
    ]
    assert targets("![a](data/assets/demo/a(1).png)") == [("data/assets/demo/a(1).png", True)]


def test_targets_markdown_would_refuse_are_still_reported() -> None:
    """A data: or javascript: image is not safe to render, but it is a reference to judge."""
    assert targets("![a](data:image/svg+xml,x) ![b](javascript:x)") == [
        ("data:image/svg+xml,x", True),
        ("javascript:x", True),
    ]


def test_escapes_and_entities_in_targets_are_resolved() -> None:
    assert targets(r"[a](data/assets\/demo/a.pdf) [b](data&#47;assets/demo/b.pdf)") == [
        ("data/assets/demo/a.pdf", False),
        ("data/assets/demo/b.pdf", False),
    ]
    assert targets("[c](data&sol;assets/demo/c.pdf) [d](&#X64;ata/assets/demo/d.pdf)") == [
        ("data/assets/demo/c.pdf", False),
        ("data/assets/demo/d.pdf", False),
    ]


def test_escaped_image_syntax_is_text() -> None:
    assert targets(r"\![a](https://example.org/a.png)") == []


def test_references_keep_document_order_and_pointer() -> None:
    content = (
        "[s](data/assets/d/s.pdf) ![a](data/assets/d/a.png)\n\n"
        "[![b](data/assets/d/b.png)](data/assets/d/c.pdf)"
    )
    refs = media_references(doc("Hello", content))
    assert refs == [
        Reference("/sections/1/content", "data/assets/d/s.pdf", strict=False),
        Reference("/sections/1/content", "data/assets/d/a.png", strict=True),
        Reference("/sections/1/content", "data/assets/d/c.pdf", strict=False),
        Reference("/sections/1/content", "data/assets/d/b.png", strict=True),
    ]


@pytest.mark.parametrize(
    "content",
    [
        "Plain text",
        "A [link](https://example.org/docs) and **bold** \\*text\\*",
        "[ref]: https://example.org\n\n[ref]",
        "R&D",
        "Q&A &amp; more: [docs](https://example.org/docs)",
    ],
)
def test_pre_filter_skips_markdown_without_media(content: str) -> None:
    assert not _may_name_media(content)
    assert targets(content) == []


@pytest.mark.parametrize(
    "content",
    [
        "![a](x.png)",
        "see data/assets/x.png",
        "[a](data&#47;assets/x.pdf)",
        "[a]\n\n[a]: data\\/assets/x.pdf",
        "[a](data&sol;assets&sol;x.pdf)",
        "[a](&#x64;ata/assets/x.pdf)",
    ],
)
def test_pre_filter_passes_what_could_hold_media(content: str) -> None:
    assert _may_name_media(content)


# Targets that may spell data/assets/ in any way Markdown allows, in links of every form.
slash = st.sampled_from(["/", "\\/", "&sol;", "&#47;", "&#x2F;", " "])
spellings = st.tuples(
    st.sampled_from(["data", "&#100;ata", "&#x64;ata", "dat"]),
    slash,
    st.sampled_from(["assets", "&#97;ssets", "asset"]),
    slash,
    st.sampled_from(["x.png", ""]),
).map("".join)
links = st.tuples(
    st.sampled_from(["[t]({})", "![t]({})", "[t](<{}>)", "[t][r]\n\n[r]: {}", "[r]\n\n[r]: {}"]),
    spellings,
).map(lambda form: form[0].format(form[1]))
noise = st.sampled_from(
    ["", "text ", "`", "\n\n", "    ", "&amp;", "\\", "[web](https://e.org)", "![p](p.png)"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(links, noise), max_size=4).map("".join))
def test_pre_filter_never_hides_media(content: str) -> None:
    """_may_name_media is False only when markdown-it finds no image and no asset link."""
    if not _may_name_media(content):
        found = markdown_links(content)
        assert [t for t, image in found if image or t.startswith("data/assets/")] == []
