"""Notion content that carries HTML or script: the Markdown the exporter writes holds no
HTML but <details>, <summary>, <u> and <br> without attributes, and no link but http,
https, mailto and the module's own files; a link it drops keeps its text and is reported
with its block."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from pipeline.notion.markdown import Rendered, rich_text, to_markdown
from tests.builders import block, para, rt

ALLOWED_TAGS = {"details", "summary", "u", "br"}
TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^>]*)>")


def parser() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # see every link
    return md


MD = parser()


def safe_link(url: str) -> bool:
    scheme = re.match(r"([a-z][a-z0-9+.-]*):", url.strip().lower())
    if scheme:
        return scheme[1] in ("http", "https", "mailto")
    return url.startswith("data/assets/") and ".." not in url.split("/")


def problems(markdown: str) -> list[str]:
    """Raw HTML outside the allow-list, attributes, and unsafe links in `markdown`."""
    found: list[str] = []
    for token in MD.parse(markdown):
        children = token.children or []
        for t in [token, *children]:
            if t.type in ("html_block", "html_inline"):
                rest = t.content
                for closing, name, attributes in TAG.findall(t.content):
                    if name.lower() not in ALLOWED_TAGS or attributes.strip():
                        found.append(f"tag <{closing}{name}{attributes}>")
                rest = TAG.sub("", t.content)
                if "<" in rest:
                    found.append(f"raw {t.type}: {t.content!r}")
            for attribute in ("href", "src"):
                url = t.attrGet(attribute)
                if isinstance(url, str) and not safe_link(url):
                    found.append(f"link {url!r}")
    return found


def md(*blocks: dict[str, Any]) -> Rendered:
    return to_markdown(list(blocks))


# -- HTML contexts -----------------------------------------------------------------------------


def test_a_toggle_title_is_html_escaped_text() -> None:
    title = [
        rt("<script>alert(1)</script> & "),
        rt("<img src=x onerror=alert(1)>", code=True),
        rt(" under", underline=True),
        rt(" bold", bold=True),
    ]
    rendered = md(block("toggle", [para(rt("inside"))], rich_text=title))
    assert rendered.markdown == (
        "<details>\n<summary>&lt;script&gt;alert(1)&lt;/script&gt; &amp; "
        "&lt;img src=x onerror=alert(1)&gt; <u>under</u> bold</summary>\n\n"
        "inside\n\n</details>\n"
    )
    assert problems(rendered.markdown) == []


def test_a_toggle_title_with_a_blank_line_stays_one_title() -> None:
    rendered = md(block("toggle", [], rich_text=[rt("a\n\n<b onclick=x>b</b>")]))
    assert "<summary>a<br><br>&lt;b onclick=x&gt;b&lt;/b&gt;</summary>" in rendered.markdown
    assert problems(rendered.markdown) == []


def test_a_link_in_a_toggle_title_keeps_its_text_and_is_reported() -> None:
    toggle = block("toggle", [], rich_text=[rt("see "), rt("docs", href="https://example.org")])
    rendered = md(toggle)
    assert "<summary>see docs</summary>" in rendered.markdown
    [skipped] = rendered.skipped
    assert skipped.block_id == toggle["id"]
    assert "https://example.org" in skipped.reason and "its text stays" in skipped.reason


@pytest.mark.parametrize(
    ("expression", "written"),
    [
        ("a<b", r"$a\lt b$"),
        ("<script>alert(1)</script>", r"$\lt script>alert(1)\lt/script>$"),
        ("x<1", r"$x\lt1$"),
        ("a\n\n<img src=x onerror=alert(1)>", r"$a \lt img src=x onerror=alert(1)>$"),
        ("E=mc^2", "$E=mc^2$"),
        ("[x](javascript:alert(1))", "$[x]{}(javascript:alert(1))$"),
        ("[a]: javascript:alert(1)", "$[a]{}: javascript:alert(1)$"),
        ("[0, 1](x)", "$[0, 1]{}(x)$"),
        ("``", r"$\grave{}\grave{}$"),
    ],
)
def test_inline_equations_hold_no_html(expression: str, written: str) -> None:
    item = {
        "type": "equation",
        "equation": {"expression": expression},
        "annotations": {},
        "plain_text": expression,
        "href": None,
    }
    text = rich_text([rt("x "), item])
    assert text == f"x {written}"
    assert problems(text) == []


def test_block_equations_hold_no_html() -> None:
    rendered = md(block("equation", expression="a<b\n\n\n<script>alert(1)</script>"))
    assert rendered.markdown == "$$\na\\lt b\n\\lt script>alert(1)\\lt/script>\n$$\n"
    assert problems(rendered.markdown) == []
    assert md(block("equation", expression="a^2+b^2")).markdown == "$$\na^2+b^2\n$$\n"


def test_adjacent_code_spans_stay_code() -> None:
    # Notion splits one code run where its colour changes; written as two spans side by
    # side, "``" would pair with the wrong backticks and let <script> out of the code.
    items = [rt("a`", code=True), rt("<script>alert(1)</script>", code=True, color="red")]
    text = rich_text(items)
    assert text == "``a`<script>alert(1)</script>``"
    assert problems(text) == []
    tokens = MD.parseInline(text)[0].children or []
    assert [t.type for t in tokens] == ["code_inline"]
    assert tokens[0].content == "a`<script>alert(1)</script>"


def test_code_spans_with_different_formatting_are_kept_apart() -> None:
    items = [rt("`a", code=True), rt("b`", code=True, bold=True), rt("`c", code=True)]
    text = rich_text(items)
    spans = [t.content for t in MD.parseInline(text)[0].children or [] if t.type == "code_inline"]
    assert spans == ["`a", "b`", "`c"]


def test_a_code_span_cannot_end_its_paragraph() -> None:
    text = rich_text([rt("x\n\n<script>alert(1)</script>\n\n# title", code=True)])
    assert "\n" not in text
    assert problems(text) == []


def test_table_cells_break_lines_with_br_only() -> None:
    table = block(
        "table",
        [block("table_row", cells=[[rt("a\nb")], [rt("<i>\nx", code=True)]])],
        table_width=2,
        has_column_header=True,
    )
    rendered = md(table)
    assert rendered.markdown.splitlines()[0] == "| a<br>b | `<i> x` |"
    assert problems(rendered.markdown) == []


def test_a_callout_icon_is_text() -> None:
    callout = block("callout", rich_text=[rt("x")], icon={"type": "emoji", "emoji": "<b>"})
    assert md(callout).markdown == "> \\<b\\> x\n"


def test_a_code_block_language_cannot_break_its_fence() -> None:
    rendered = md(
        block("code", rich_text=[rt("<script>x</script>")], language="py`\n<b>", caption=[])
    )
    assert rendered.markdown.startswith("```py")
    assert problems(rendered.markdown) == []


def test_long_runs_of_spaces_take_linear_time() -> None:
    started = time.perf_counter()
    text = rich_text([rt("a" + " " * 200_000 + "b\n", bold=True, underline=True)])
    assert text.startswith("<u>**a ") and text.endswith("b**</u>\\\n")
    assert time.perf_counter() - started < 2  # quadratic would take minutes


# -- links -------------------------------------------------------------------------------------

UNSAFE = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x01javascript:alert(1)",
    "javascript&colon;alert(1)",
    "javascript\\:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file:///etc/passwd",
    "//evil.example/x",
    "../../etc/passwd",
    "data/assets/../../secrets",
    "/etc/passwd",
    "ftp://example.org/x",
]


@pytest.mark.parametrize("url", UNSAFE)
def test_an_unsafe_link_is_dropped_keeping_its_text(url: str) -> None:
    paragraph = para(rt("click "), rt("here", href=url, bold=True))
    rendered = md(paragraph)
    assert rendered.markdown == "click **here**\n"
    [skipped] = rendered.skipped
    assert (skipped.block_id, skipped.block_type) == (paragraph["id"], "paragraph")
    assert "only http, https and mailto links" in skipped.reason
    assert "its text stays" in skipped.reason


@pytest.mark.parametrize(
    "kind", ["bookmark", "embed", "link_preview", "image", "video", "file", "pdf", "audio"]
)
def test_unsafe_urls_of_link_and_media_blocks_are_dropped(kind: str) -> None:
    url = "javascript:alert(document.cookie)"
    if kind in ("bookmark", "embed", "link_preview"):
        item = block(kind, url=url, caption=[rt("Demo")])
    else:
        item = block(kind, type="external", external={"url": url}, caption=[rt("Demo")])
    rendered = md(item)
    assert "Demo" in rendered.markdown
    assert problems(rendered.markdown) == []
    assert [s.block_id for s in rendered.skipped] == [item["id"]]


def test_mentions_with_unsafe_urls_are_text() -> None:
    mention = {
        "type": "mention",
        "mention": {"type": "link_preview", "link_preview": {"url": "javascript:alert(1)"}},
        "annotations": {},
        "plain_text": "preview",
        "href": "javascript:alert(1)",
    }
    rendered = md(block("paragraph", rich_text=[mention]))
    assert rendered.markdown == "preview\n"
    assert len(rendered.skipped) == 1


@pytest.mark.parametrize(
    ("url", "written"),
    [
        ("https://example.org/a (b)", "https://example.org/a%20%28b%29"),
        ("http://example.org/x", "http://example.org/x"),
        ("HTTPS://example.org/", "HTTPS://example.org/"),
        ("mailto:lab@example.org", "mailto:lab@example.org"),
        ("data/assets/m/plan.png", "data/assets/m/plan.png"),
        ("https://example.org/a\\b<c>", "https://example.org/a%5Cb%3Cc%3E"),
        # Notion's own links between pages come as paths; they are Notion pages
        (
            "/38c9ce7b60a48123a7bce8f28521f4db#abc",
            "https://www.notion.so/38c9ce7b60a48123a7bce8f28521f4db#abc",
        ),
    ],
)
def test_safe_links_are_kept(url: str, written: str) -> None:
    rendered = md(para(rt("x", href=url)))
    assert rendered.markdown == f"[x]({written})\n"
    assert rendered.skipped == []


def test_a_link_to_a_page_cannot_smuggle_another_link() -> None:
    hostile = "x) [y](javascript:alert(1)"
    rendered = md(block("link_to_page", type="page_id", page_id=hostile))
    assert problems(rendered.markdown) == []


# -- everything at once, generated -------------------------------------------------------------

PIECES = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<u>",
    "</u>",
    "<br>",
    "<details open>",
    "<!--",
    "-->",
    "<?php",
    "<a href='javascript:alert(1)'>",
    "javascript:",
    "`",
    "``",
    "$",
    "\\",
    "\n",
    "\n\n",
    "|",
    "*",
    "_",
    "[",
    "](javascript:alert(1))",
    "&lt;",
    "&#60;script&#62;",
    "<",
    ">",
    "x",
    " ",
    "# ",
    "> ",
    "- ",
]
HREFS = [None, None, None, "https://example.org/", "javascript:alert(1)", "data:text/html,x"]
KINDS = [
    *("paragraph", "toggle", "table", "quote", "item", "callout", "eq"),
    *("heading_2", "to_do", "bookmark", "image", "file", "code"),
]
texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join)


@st.composite
def rich_items(draw: st.DrawFn) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 5))):
        text = draw(texts)
        if draw(st.integers(0, 5)) == 0:
            items.append(
                {
                    "type": "equation",
                    "equation": {"expression": text},
                    "annotations": {},
                    "plain_text": text,
                    "href": None,
                }
            )
            continue
        if draw(st.integers(0, 7)) == 0:
            url = draw(st.sampled_from([h for h in HREFS if h] + [text]))
            items.append(
                {
                    "type": "mention",
                    "mention": {"type": "link_preview", "link_preview": {"url": url}},
                    "annotations": {},
                    "plain_text": text,
                    "href": url,
                }
            )
            continue
        annotations = {
            name: draw(st.booleans()) for name in ("code", "underline", "bold", "italic")
        }
        items.append(rt(text, href=draw(st.sampled_from(HREFS)), **annotations))
    return items


@st.composite
def pages(draw: st.DrawFn) -> list[dict[str, Any]]:
    def one() -> dict[str, Any]:
        kind = draw(st.sampled_from(KINDS))
        items = draw(rich_items())
        url = draw(st.sampled_from([h for h in HREFS if h] + [draw(texts)]))
        if kind == "bookmark":
            return block("bookmark", url=url, caption=items)
        if kind in ("image", "file"):
            return block(kind, type="external", external={"url": url}, caption=items)
        if kind == "code":
            return block("code", rich_text=items, language=draw(texts), caption=items)
        if kind == "toggle":
            return block("toggle", [para(*draw(rich_items()))], rich_text=items)
        if kind == "table":
            cells = [items, draw(rich_items())]
            return block("table", [block("table_row", cells=cells)], table_width=2)
        if kind == "item":
            return block("bulleted_list_item", rich_text=items)
        if kind == "eq":
            return block("equation", expression=draw(texts))
        if kind == "callout":
            return block("callout", rich_text=items, icon=None)
        return block(kind, rich_text=items)

    return [one() for _ in range(draw(st.integers(1, 4)))]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages())
def test_no_generated_content_gets_html_or_unsafe_links_through(
    blocks: list[dict[str, Any]],
) -> None:
    markdown = to_markdown(blocks).markdown
    assert problems(markdown) == [], markdown
