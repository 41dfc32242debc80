r"""Notion blocks -> Markdown, as pure functions.

Input is a list of block objects exactly as the Notion API returns them,
each with an extra key "children" holding its child blocks (fetched by the
caller, all pages of them). Every block type is either converted or reported
in `Rendered.skipped` with its id: nothing is dropped silently.

Choices, where Markdown has no equivalent: colours are dropped (text stays);
underline becomes <u>; toggles become <details>; callouts become quotes led by
their icon; columns are laid out one after another; a table without a header
row gets an empty one (GFM requires it); a synced block's content is written
once per page, the first time it appears; a picture's caption is its alt text
and, as Notion shows it, a line of text under it.

Safety, for whoever renders the Markdown: the only HTML written is <details>,
<summary>, <u> and <br>, without attributes; text in an HTML context (a toggle's
title) is HTML-escaped; an equation's `<` is written `\lt`; adjacent code spans
are one span, and a code span or inline equation never holds a line break; a
link keeps its target only when that is http, https, mailto or a file of the
module (data/assets/...), otherwise its text stays and the link is reported.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Block = Mapping[str, Any]
# Maps a file block (image, video, file, pdf, audio) to the URL to write.
FileResolver = Callable[[Block], str]
# Maps a Notion page's id (32 hex digits, no dashes) to the link to write for it (another
# module: "module:<module_id>"), or None when students could not follow it: the link is
# dropped, its text kept, and reported. Without one, Notion links stay notion.so links.
PageLinks = Callable[[str], str | None]

_ESCAPE = re.compile(r"([\\`*_\[\]<>~|])")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_SAFE_SCHEMES = ("http", "https", "mailto")
_NOTION_PAGE_PATH = re.compile(r"/[0-9a-fA-F]{32}(?:[?#].*)?")  # Notion's links between pages
# A link to a Notion page: notion.so or a workspace's notion.site, the id ending the path.
_NOTION_PAGE_URL = re.compile(
    r"^(?:https?://(?:www\.)?(?:notion\.so|[a-z0-9-]+\.notion\.site)(?:/[^?#\s]*)?)?"
    r"[/-](?P<id>[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})"
    r"(?:[?#]\S*)?$"
)
_URL_CHARACTERS = str.maketrans(
    {
        " ": "%20",
        "(": "%28",
        ")": "%29",
        "<": "%3C",
        ">": "%3E",
        "\\": "%5C",
        "|": "%7C",  # would end a table cell
        "`": "%60",  # would pair with a code span's backticks
    }
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CODE_LANGUAGE = re.compile(r"[^A-Za-z0-9+#._-]")
_LINE_START = re.compile(r"^(\s*)(\d*)(#{1,6}|[>+.)-])(?=\s|$)")
_MEDIA = ("image", "video", "file", "pdf", "audio")
_LINKS = ("bookmark", "embed", "link_preview")
_NOT_CONTENT = {"breadcrumb": "page navigation, not content"}


@dataclass(frozen=True, slots=True)
class Skipped:
    """A block (or part of one) that is not in the output, why, and where it is on the page
    ("Section 2 (Locate Safety Equipment)", "before the first section", ...)."""

    block_id: str
    block_type: str
    reason: str
    where: str = ""
    # Left out on purpose (Export Notes, page navigation, a synced copy written once):
    # nothing the team lead must change, so their row is not told of it.
    intended: bool = False


@dataclass
class Rendered:
    markdown: str
    skipped: list[Skipped] = field(default_factory=list)


def notion_url(object_id: str) -> str:
    return f"https://www.notion.so/{object_id.replace('-', '')}"


def external_or_hosted_url(block: Block) -> str:
    """The URL a file block points at, whoever hosts it."""
    payload = block[block["type"]]
    source = payload.get(payload.get("type", ""), {}) or {}
    return str(source.get("url", ""))


# -- rich text ------------------------------------------------------------------------------


def escape(text: str) -> str:
    return _ESCAPE.sub(r"\\\1", text)


def rich_text(
    items: Sequence[Mapping[str, Any]],
    dropped: list[str] | None = None,
    *,
    in_table: bool = False,
    pages: PageLinks | None = None,
) -> str:
    """Markdown for rich text; why each link it could not keep was dropped goes to
    `dropped`. In a table cell a `|` must not end the cell, even in code or maths.
    `pages` decides links to Notion pages (see PageLinks)."""
    parts: list[str] = []
    for item in _join_code(items):
        part = _segment(item, dropped if dropped is not None else [], in_table, pages)
        if parts and parts[-1].endswith("`") and part.startswith("`"):
            part = " " + part  # two code spans side by side would pair the wrong backticks
        parts.append(part)
    return "".join(parts)


def plain_text(items: list[Mapping[str, Any]]) -> str:
    return "".join(str(item.get("plain_text", "")) for item in items)


_MARKS = {
    "bold": "the bold",
    "italic": "the italics",
    "strikethrough": "the strikethrough",
    "underline": "the underline",
    "code": "the code formatting",
}


def lost_in_plain_text(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """What `plain_text` leaves out of rich text, in words: each link ("the link to
    'https://…'") and each kind of formatting ("the bold"). Colours are not counted (the
    Markdown drops them too); the words themselves are always kept."""
    links: list[str] = []
    marks: list[str] = []
    for item in items:
        if not str(item.get("plain_text", "")).strip():
            continue
        href = item.get("href")
        if href and str(href) not in links:
            links.append(str(href))
        annotations = item.get("annotations") or {}
        marks += [m for m in _MARKS if annotations.get(m) and m not in marks]
    shown = [f"the link to {u if len(u) <= 80 else u[:77] + '...'!r}" for u in links]
    return shown + [_MARKS[m] for m in marks]


def plain_text_loss(items: Sequence[Mapping[str, Any]], what: str, instead: str) -> str | None:
    """Why `what`, plain text made of `items`, is listed: what it left out and where to
    write it instead ("the section's text"); None when it left nothing out."""
    lost = lost_in_plain_text(items)
    if not lost:
        return None
    if any(item.get("href") for item in items):
        advice = f"to keep a link, put it in {instead}"
    else:
        advice = f"to keep the formatting, put those words in {instead}"
    return f"{what} is plain text, so {left_out(lost)} (its words are kept); {advice}"


def left_out(parts: Sequence[str]) -> str:
    """ "a was left out", "a and b were left out", "a, b and c were left out"."""
    if len(parts) == 1:
        return f"{parts[0]} was left out"
    return ", ".join(parts[:-1]) + f" and {parts[-1]} were left out"


def safe_url(url: str) -> str | None:
    """`url` as a Markdown link destination when it may be one: http, https, mailto, or a
    file of the module (data/assets/...); None for anything else (javascript:, data:,
    file:, other hosts' paths, ...). Notion's own page paths become notion.so URLs."""
    text = url.strip()
    if _CONTROL.search(text):  # browsers drop them: java\tscript: is javascript:
        return None
    if _NOTION_PAGE_PATH.fullmatch(text):
        text = "https://www.notion.so" + text
    scheme = _SCHEME.match(text)
    if scheme:
        return _url(text) if scheme[1].lower() in _SAFE_SCHEMES else None
    parts = text.split("/")
    if text.startswith("data/assets/") and ".." not in parts and "\\" not in text:
        return _url(text)
    return None


def notion_page_id(url: str) -> str | None:
    """The id (32 lowercase hex digits) of the Notion page a URL or path links to."""
    match = _NOTION_PAGE_URL.match(url.strip())
    return match["id"].replace("-", "").lower() if match else None


def page_link(page_id: str, text: str, pages: PageLinks, dropped: list[str]) -> str | None:
    """The target to write for a link to the Notion page `page_id`, or None (reported)."""
    target = pages(page_id.replace("-", "").lower())
    if target is None:
        dropped.append(
            f"the link to the Notion page {text or page_id!r} ({notion_url(page_id)}) was "
            "removed: students cannot open Notion pages. Link to a Module Library page (it "
            "becomes a link to that module) or to a public web address; its text stays"
        )
    return target


def _dropped(url: str) -> str:
    shown = url if len(url) <= 80 else url[:77] + "..."
    return (
        f"the link to {shown!r} was removed (only http, https and mailto links, and the "
        "module's own files, are kept); its text stays"
    )


def _join_code(items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Consecutive code runs with the same formatting and link as one run: Notion splits a
    run where only its colour changes."""
    joined: list[Mapping[str, Any]] = []
    for item in items:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and _code_key(previous) is not None
            and _code_key(previous) == _code_key(item)
        ):
            joined[-1] = {
                **previous,
                "plain_text": str(previous.get("plain_text", "")) + str(item["plain_text"]),
            }
        else:
            joined.append(item)
    return joined


def _code_key(item: Mapping[str, Any]) -> tuple[Any, ...] | None:
    annotations = item.get("annotations") or {}
    if item.get("type") != "text" or not annotations.get("code"):
        return None
    marks = ("bold", "italic", "strikethrough", "underline")
    return (item.get("href"), *(bool(annotations.get(m)) for m in marks))


def _segment(
    item: Mapping[str, Any],
    dropped: list[str],
    in_table: bool = False,
    pages: PageLinks | None = None,
) -> str:
    kind = item.get("type")
    text = str(item.get("plain_text", ""))
    href = item.get("href")
    if kind == "equation":
        tex = _tex(str(item["equation"]["expression"])).replace("\n", " ")
        return "$" + (tex.replace("|", "\\vert ") if in_table else tex) + "$"
    annotations = item.get("annotations", {})
    linked_page = None
    if kind == "mention":
        body, href = _mention(item["mention"], text, href)
        mention = item["mention"]
        if mention.get("type") in ("page", "database"):
            linked_page = str(mention[mention["type"]]["id"])
    elif annotations.get("code") and text.strip():
        body = _inline_code(text)  # code spans show text as it is: no escaping
        body = body.replace("|", "\\|") if in_table else body  # GFM: \| is | in a cell
    else:
        body = escape(text).replace("\n", "\\\n")  # a line break inside a block: hard break
    body = _annotate(body, annotations)
    if pages is not None and href and linked_page is None:
        linked_page = notion_page_id(str(href))
    if pages is not None and linked_page is not None:
        target = page_link(linked_page, text, pages, dropped)
        return f"[{body}]({target})" if target else body
    if href:
        target = safe_url(str(href))
        if target is None:
            dropped.append(_dropped(str(href)))
        else:
            body = f"[{body}]({target})"
    return body


def _tex(expression: str) -> str:
    r"""An equation's TeX, safe to read as Markdown too (a renderer without maths does):
    `<` becomes `\lt`, so it starts no HTML tag; `](`, `][` and `]:` get an empty group
    between (`]{}(`, the same maths), so they make no link; a backtick (not maths) becomes
    `\grave{}`, so it pairs with no code span's; blank lines (not TeX in maths either)
    go, so the equation stays one block."""
    lines = [line for line in expression.split("\n") if line.strip()]
    tex = re.sub(r"<(?=([A-Za-z])?)", lambda m: "\\lt " if m[1] else "\\lt", "\n".join(lines))
    return re.sub(r"\](?=[(\[:])", "]{}", tex).replace("`", "\\grave{}")


def _mention(mention: Mapping[str, Any], text: str, href: str | None) -> tuple[str, str | None]:
    kind = mention.get("type")
    if kind == "user":
        name = mention["user"].get("name") or text.lstrip("@") or "someone"
        return escape(f"@{name}"), None
    if kind in ("page", "database"):
        return escape(text or "Untitled"), href or notion_url(mention[kind]["id"])
    if kind == "link_preview":
        url = mention["link_preview"]["url"]
        return escape(text or url), url
    return escape(text), href  # date, template_mention, link_mention: their text says it


def _as_caption(text: str) -> str:
    """A caption's Markdown in italics, as Notion shows captions; as written when it
    starts or ends with emphasis of its own: "_" around "_Figure_" makes "__Figure__",
    which is bold."""
    return text if text[:1] in "*_" or text[-1:] in "*_" else f"_{text}_"


def _core(body: str) -> tuple[int, int]:
    """Where the text of an annotated run starts and ends: whitespace at either end,
    a hard break ("\\" newline) included, stays outside the markers, or Markdown would
    not see them (and the "\\" would escape them)."""
    start, end = 0, len(body)
    while start < end:
        if body.startswith("\\\n", start):
            start += 2
        elif body[start].isspace():
            start += 1
        else:
            break
    while end > start:
        if body.endswith("\\\n", start, end):
            end -= 2
        elif body[end - 1].isspace():
            end -= 1
        else:
            break
    return start, end


def _annotate(body: str, annotations: Mapping[str, Any]) -> str:
    start, end = _core(body)
    if start >= end:
        return body
    core = body[start:end]
    if annotations.get("bold"):
        core = f"**{core}**"
    if annotations.get("italic"):
        core = f"_{core}_"
    if annotations.get("strikethrough"):
        core = f"~~{core}~~"
    if annotations.get("underline"):
        core = f"<u>{core}</u>"
    return f"{body[:start]}{core}{body[end:]}"


def _inline_code(text: str) -> str:
    text = text.replace("\r", " ").replace("\n", " ")  # as Markdown shows it; never a new block
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _url(url: str) -> str:
    return url.translate(_URL_CHARACTERS)


def _html(text: str) -> str:
    """Text for an HTML context: escaped, line breaks as <br>."""
    return html.escape(text, quote=False).replace("\r", "").replace("\n", "<br>")


def _summary(items: list[Mapping[str, Any]], dropped: list[str]) -> str:
    """A toggle's title: HTML (GitHub does not read Markdown inside <summary>), so plain
    escaped text, underlined runs in <u>; a link cannot be kept there."""
    parts = []
    for item in items:
        text = _html(str(item.get("plain_text", "")))
        core = text.strip()
        if (item.get("annotations") or {}).get("underline") and core:
            start = text.index(core)
            text = f"{text[:start]}<u>{core}</u>{text[start + len(core) :]}"
        if item.get("href"):
            dropped.append(
                f"the link to {str(item['href'])[:80]!r} in a toggle's title was removed (a "
                "title cannot hold a link); its text stays: put the link in the toggle's content"
            )
        parts.append(text)
    return "".join(parts)


# -- blocks ---------------------------------------------------------------------------------


class _Writer:
    def __init__(
        self, resolve_file: FileResolver, headings: list[Block], pages: PageLinks | None = None
    ) -> None:
        self.resolve_file = resolve_file
        self.skipped: list[Skipped] = []
        self.synced_seen: set[str] = set()
        self.headings = headings
        self.pages = pages

    def rich(
        self, items: list[Mapping[str, Any]] | None, block: Block, *, in_table: bool = False
    ) -> str:
        """rich_text, each link it drops reported against `block`."""
        dropped: list[str] = []
        text = rich_text(items or [], dropped, in_table=in_table, pages=self.pages)
        self.report(block, dropped)
        return text

    def page(self, title: str, page_id: str, block: Block) -> str:
        """A link to a Notion page (a child page, a link to a page): to the module it is,
        or its title alone (reported) when students could not open it."""
        if self.pages is None:
            return self.link(title, notion_url(page_id), block)
        dropped: list[str] = []
        target = page_link(page_id, title, self.pages, dropped)
        self.report(block, dropped)
        return f"[{title}]({target})" if target else title

    def report(self, block: Block, reasons: list[str]) -> None:
        for reason in reasons:
            self.skipped.append(Skipped(str(block.get("id", "?")), block.get("type", ""), reason))

    def link(self, text: str, url: str, block: Block, *, image: bool = False) -> str:
        """[text](url), or just the text (reported) when the URL may not be a link."""
        target = safe_url(url)
        if target is None:
            self.report(block, [_dropped(url)])
            return text
        return f"{'!' if image else ''}[{text}]({target})"

    def blocks(self, blocks: Sequence[Block]) -> str:
        """Blocks separated by blank lines; items of one list by single newlines."""
        parts: list[str] = []
        previous = None
        number = 0
        for block in blocks:
            kind = block.get("type", "")
            number = number + 1 if kind == "numbered_list_item" and previous == kind else 1
            text = self.block(block, number)
            if not text:
                continue
            tight = kind == previous and kind in (
                "bulleted_list_item",
                "numbered_list_item",
                "to_do",
            )
            if parts and tight:
                parts[-1] += "\n" + text
            else:
                parts.append(text)
            previous = kind
        return "\n\n".join(parts)

    def block(self, block: Block, number: int = 1) -> str | None:
        kind = block.get("type", "")
        payload = block.get(kind, {}) or {}
        children: list[Block] = list(block.get("children", []))
        handler = getattr(self, f"_{kind}", None)
        if kind in _MEDIA:
            return self._media(block, payload)
        if kind in _LINKS:
            return self._link(block, payload)
        if handler is not None:
            result: str | None = handler(block, payload, children, number)
            return result
        if kind in _NOT_CONTENT:
            self.skipped.append(
                Skipped(str(block.get("id", "?")), kind, _NOT_CONTENT[kind], intended=True)
            )
            return None
        reason = payload.get("block_type", kind) if kind == "unsupported" else kind
        self.skipped.append(
            Skipped(
                str(block.get("id", "?")), kind, f"Notion block type {reason!r} cannot be exported"
            )
        )
        return None

    # Text blocks

    def _paragraph(self, block: Block, payload: Any, children: list[Block], _: int) -> str | None:
        text = _guard_line_start(self.rich(payload.get("rich_text"), block))
        nested = self.blocks(children)
        return "\n\n".join(part for part in (text, nested) if part) or None

    def _heading(self, level: int, block: Block, payload: Any, children: list[Block]) -> str:
        text = f"{'#' * level} {self.rich(payload.get('rich_text'), block)}".rstrip()
        nested = self.blocks(children)
        return f"{text}\n\n{nested}" if nested else text

    def _heading_1(self, block: Block, payload: Any, children: list[Block], _: int) -> str:
        return self._heading(1, block, payload, children)

    def _heading_2(self, block: Block, payload: Any, children: list[Block], _: int) -> str:
        return self._heading(2, block, payload, children)

    def _heading_3(self, block: Block, payload: Any, children: list[Block], _: int) -> str:
        return self._heading(3, block, payload, children)

    def _item(self, marker: str, block: Block, payload: Any, children: list[Block]) -> str:
        text = _indent(self.rich(payload.get("rich_text"), block), " " * len(marker))
        nested = self.blocks(children)
        body = f"{marker}{text[len(marker) :]}"
        if nested:
            body += "\n" + _indent(nested, " " * len(marker))
        return body

    def _bulleted_list_item(self, block: Block, payload: Any, children: list[Block], _: int) -> str:
        return self._item("- ", block, payload, children)

    def _numbered_list_item(
        self, block: Block, payload: Any, children: list[Block], number: int
    ) -> str:
        return self._item(f"{number}. ", block, payload, children)

    def _to_do(self, block: Block, payload: Any, children: list[Block], _: int) -> str:
        marker = f"- [{'x' if payload.get('checked') else ' '}] "
        return self._item(marker, block, payload, children)

    def _quote(self, block: Block, payload: Any, children: list[Block], _: int) -> str:
        text = self.rich(payload.get("rich_text"), block)
        nested = self.blocks(children)
        return _indent("\n\n".join(p for p in (text, nested) if p), "> ", blank=">")

    def _callout(self, block: Block, payload: Any, children: list[Block], _: int) -> str:
        icon = payload.get("icon") or {}
        lead = escape(str(icon.get("emoji", ""))) if icon.get("type") == "emoji" else ""
        text = self.rich(payload.get("rich_text"), block)
        first = f"{lead} {text}".strip()
        nested = self.blocks(children)
        return _indent("\n\n".join(p for p in (first, nested) if p), "> ", blank=">")

    def _toggle(self, block: Block, payload: Any, children: list[Block], _: int) -> str:
        dropped: list[str] = []
        summary = _summary(payload.get("rich_text") or [], dropped)
        self.report(block, dropped)
        nested = self.blocks(children)
        return f"<details>\n<summary>{summary}</summary>\n\n{nested}\n\n</details>"

    def _code(self, block: Block, payload: Any, _c: list[Block], _: int) -> str:
        code = plain_text(payload.get("rich_text", []))
        language = str(payload.get("language") or "")
        language = (
            "" if language == "plain text" else _CODE_LANGUAGE.sub("", language.replace(" ", "-"))
        )
        longest = max((len(run) for run in re.findall(r"`{3,}", code)), default=2)
        fence = "`" * (longest + 1)
        caption = self.rich(payload.get("caption"), block)
        fenced = f"{fence}{language}\n{code}\n{fence}"
        return f"{fenced}\n\n{_as_caption(caption)}" if caption else fenced

    def _equation(self, _b: Block, payload: Any, _c: list[Block], _: int) -> str:
        return f"$$\n{_tex(str(payload.get('expression', '')))}\n$$"

    def _divider(self, _b: Block, _p: Any, _c: list[Block], _: int) -> str:
        return "---"

    # Containers

    def _column_list(self, _b: Block, _p: Any, children: list[Block], _: int) -> str:
        return self.blocks(children)

    def _column(self, _b: Block, _p: Any, children: list[Block], _: int) -> str:
        return self.blocks(children)

    def _tab(self, _b: Block, _p: Any, children: list[Block], _: int) -> str:
        return self.blocks(children)

    def _synced_block(
        self, block: Block, payload: Any, children: list[Block], _: int
    ) -> str | None:
        source = (payload.get("synced_from") or {}).get("block_id") or block["id"]
        if source in self.synced_seen:
            return None
        self.synced_seen.add(source)
        return self.blocks(children)

    def _table(self, _b: Block, payload: Any, children: list[Block], _: int) -> str:
        rows = [
            [self._cell(cell, row) for cell in row.get("table_row", {}).get("cells", [])]
            for row in children
            if row.get("type") == "table_row"
        ]
        width = max([payload.get("table_width", 0), *(len(r) for r in rows)])
        rows = [r + [""] * (width - len(r)) for r in rows]
        if payload.get("has_column_header") and rows:
            header, body = rows[0], rows[1:]
        else:
            header, body = [""] * width, rows
        lines = [_row(header), _row(["---"] * width), *(_row(r) for r in body)]
        return "\n".join(lines)

    # Links to other pages

    def _child_page(self, block: Block, payload: Any, _c: list[Block], _: int) -> str:
        title = escape(payload.get("title") or "Untitled")
        return self.page(title, str(block["id"]), block)

    def _child_database(self, block: Block, payload: Any, _c: list[Block], _: int) -> str:
        title = escape(payload.get("title") or "Untitled")
        return self.page(title, str(block["id"]), block)

    def _link_to_page(self, block: Block, payload: Any, _c: list[Block], _: int) -> str:
        target = payload.get(payload.get("type", ""), "")
        return self.page("Linked page", str(target), block)

    def _table_of_contents(self, _b: Block, _p: Any, _c: list[Block], _: int) -> str | None:
        lines = []
        for heading in self.headings:
            level = int(heading["type"][-1])
            title = plain_text(heading[heading["type"]].get("rich_text", []))
            lines.append(f"{'  ' * (level - 1)}- {escape(title)}")
        return "\n".join(lines) or None

    # Media and links

    def _media(self, block: Block, payload: Any) -> str:
        url = self.resolve_file(block)
        caption = self.rich(payload.get("caption"), block)
        if block["type"] == "image":
            picture = self.link(caption, url, block, image=True)
            start, end = _core(caption)
            shown = caption[start:end]
            if shown and picture != caption:  # the caption under it, as Notion shows it
                return f"{picture}\n\n{_as_caption(shown)}"
            return picture
        shown = _url(url)
        label = caption or escape(payload.get("name") or shown.rsplit("/", 1)[-1] or shown)
        return self.link(label, url, block)

    def _link(self, block: Block, payload: Any) -> str:
        url = str(payload.get("url", ""))
        caption = self.rich(payload.get("caption"), block)
        return self.link(caption or escape(url), url, block)

    def _cell(self, cell: list[Mapping[str, Any]], row: Block) -> str:
        """A table cell: one line; its line breaks (hard breaks) as <br>."""
        return self.rich(cell, row, in_table=True).replace("\\\n", "<br>").replace("\n", " ")


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _indent(text: str, prefix: str, blank: str = "") -> str:
    return "\n".join(prefix + line if line else blank for line in text.split("\n"))


def _guard_line_start(text: str) -> str:
    """A paragraph that starts like a heading or list item must not become one."""
    match = _LINE_START.match(text)
    if match is None or (match.group(2) == "") != (match.group(3)[0] in "#>+-"):
        return text  # "3)" alone or "-." are not markers
    return f"{match.group(1)}{match.group(2)}\\{match.group(3)}{text[match.end() :]}"


def _headings(blocks: Sequence[Block]) -> list[Block]:
    found: list[Block] = []
    stack = list(reversed(blocks))
    while stack:
        block = stack.pop()
        if block.get("type") in ("heading_1", "heading_2", "heading_3"):
            found.append(block)
        stack.extend(reversed(block.get("children", [])))
    return found


def to_markdown(
    blocks: Sequence[Block],
    resolve_file: FileResolver = external_or_hosted_url,
    pages: PageLinks | None = None,
) -> Rendered:
    """Markdown for a page's blocks, and the blocks that could not be exported."""
    writer = _Writer(resolve_file, _headings(blocks), pages)
    text = writer.blocks(blocks).strip("\n")
    return Rendered(text + "\n" if text else "", writer.skipped)
