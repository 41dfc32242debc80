"""Notion blocks -> Markdown, as pure functions.

Input is a list of block objects exactly as the Notion API returns them,
each with an extra key "children" holding its child blocks (fetched by the
caller, all pages of them). Every block type is either converted or reported
in `Rendered.skipped` with its id: nothing is dropped silently.

Choices, where Markdown has no equivalent: colours are dropped (text stays);
underline becomes <u>; toggles become <details>; callouts become quotes led by
their icon; columns are laid out one after another; a table without a header
row gets an empty one (GFM requires it); a synced block's content is written
once per page, the first time it appears.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Block = Mapping[str, Any]
# Maps a file block (image, video, file, pdf, audio) to the URL to write.
FileResolver = Callable[[Block], str]

_ESCAPE = re.compile(r"([\\`*_\[\]<>~|])")
_LINE_START = re.compile(r"^(\s*)(\d*)(#{1,6}|[>+.)-])(?=\s|$)")
_MEDIA = ("image", "video", "file", "pdf", "audio")
_LINKS = ("bookmark", "embed", "link_preview")
_NOT_CONTENT = {"breadcrumb": "page navigation, not content"}


@dataclass(frozen=True, slots=True)
class Skipped:
    block_id: str
    block_type: str
    reason: str


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


def rich_text(items: list[Mapping[str, Any]]) -> str:
    return "".join(_segment(item) for item in items)


def plain_text(items: list[Mapping[str, Any]]) -> str:
    return "".join(str(item.get("plain_text", "")) for item in items)


def _segment(item: Mapping[str, Any]) -> str:
    kind = item.get("type")
    text = str(item.get("plain_text", ""))
    href = item.get("href")
    if kind == "equation":
        return f"${item['equation']['expression']}$"
    annotations = item.get("annotations", {})
    if kind == "mention":
        body, href = _mention(item["mention"], text, href)
    elif annotations.get("code") and text.strip():
        body = _inline_code(text)  # code spans show text as it is: no escaping
    else:
        body = escape(text).replace("\n", "\\\n")  # a line break inside a block: hard break
    body = _annotate(body, annotations)
    if href:
        body = f"[{body}]({_url(href)})"
    return body


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


def _annotate(body: str, annotations: Mapping[str, Any]) -> str:
    if not body.strip():
        return body
    lead = body[: len(body) - len(body.lstrip())]
    trail = body[len(body.rstrip()) :]
    core = body.strip()
    if annotations.get("bold"):
        core = f"**{core}**"
    if annotations.get("italic"):
        core = f"_{core}_"
    if annotations.get("strikethrough"):
        core = f"~~{core}~~"
    if annotations.get("underline"):
        core = f"<u>{core}</u>"
    return f"{lead}{core}{trail}"


def _inline_code(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


# -- blocks ---------------------------------------------------------------------------------


class _Writer:
    def __init__(self, resolve_file: FileResolver, headings: list[Block]) -> None:
        self.resolve_file = resolve_file
        self.skipped: list[Skipped] = []
        self.synced_seen: set[str] = set()
        self.headings = headings

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
            return self._link(payload)
        if handler is not None:
            result: str | None = handler(block, payload, children, number)
            return result
        if kind in _NOT_CONTENT:
            self.skipped.append(Skipped(str(block.get("id", "?")), kind, _NOT_CONTENT[kind]))
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
        text = _guard_line_start(rich_text(payload.get("rich_text", [])))
        nested = self.blocks(children)
        return "\n\n".join(part for part in (text, nested) if part) or None

    def _heading(self, level: int, payload: Any, children: list[Block]) -> str:
        text = f"{'#' * level} {rich_text(payload.get('rich_text', []))}".rstrip()
        nested = self.blocks(children)
        return f"{text}\n\n{nested}" if nested else text

    def _heading_1(self, _b: Block, payload: Any, children: list[Block], _: int) -> str:
        return self._heading(1, payload, children)

    def _heading_2(self, _b: Block, payload: Any, children: list[Block], _: int) -> str:
        return self._heading(2, payload, children)

    def _heading_3(self, _b: Block, payload: Any, children: list[Block], _: int) -> str:
        return self._heading(3, payload, children)

    def _item(self, marker: str, payload: Any, children: list[Block]) -> str:
        text = _indent(rich_text(payload.get("rich_text", [])), " " * len(marker))
        nested = self.blocks(children)
        body = f"{marker}{text[len(marker) :]}"
        if nested:
            body += "\n" + _indent(nested, " " * len(marker))
        return body

    def _bulleted_list_item(self, _b: Block, payload: Any, children: list[Block], _: int) -> str:
        return self._item("- ", payload, children)

    def _numbered_list_item(
        self, _b: Block, payload: Any, children: list[Block], number: int
    ) -> str:
        return self._item(f"{number}. ", payload, children)

    def _to_do(self, _b: Block, payload: Any, children: list[Block], _: int) -> str:
        return self._item(f"- [{'x' if payload.get('checked') else ' '}] ", payload, children)

    def _quote(self, _b: Block, payload: Any, children: list[Block], _: int) -> str:
        text = rich_text(payload.get("rich_text", []))
        nested = self.blocks(children)
        return _indent("\n\n".join(p for p in (text, nested) if p), "> ", blank=">")

    def _callout(self, _b: Block, payload: Any, children: list[Block], _: int) -> str:
        icon = payload.get("icon") or {}
        lead = icon.get("emoji", "") if icon.get("type") == "emoji" else ""
        text = rich_text(payload.get("rich_text", []))
        first = f"{lead} {text}".strip()
        nested = self.blocks(children)
        return _indent("\n\n".join(p for p in (first, nested) if p), "> ", blank=">")

    def _toggle(self, _b: Block, payload: Any, children: list[Block], _: int) -> str:
        summary = rich_text(payload.get("rich_text", []))
        nested = self.blocks(children)
        return f"<details>\n<summary>{summary}</summary>\n\n{nested}\n\n</details>"

    def _code(self, _b: Block, payload: Any, _c: list[Block], _: int) -> str:
        code = plain_text(payload.get("rich_text", []))
        language = payload.get("language", "")
        language = "" if language in ("plain text", None) else language.replace(" ", "-")
        longest = max((len(run) for run in re.findall(r"`{3,}", code)), default=2)
        fence = "`" * (longest + 1)
        caption = rich_text(payload.get("caption", []))
        block = f"{fence}{language}\n{code}\n{fence}"
        return f"{block}\n\n_{caption}_" if caption else block

    def _equation(self, _b: Block, payload: Any, _c: list[Block], _: int) -> str:
        return f"$$\n{payload.get('expression', '')}\n$$"

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
            [_cell(cell) for cell in row.get("table_row", {}).get("cells", [])]
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
        return f"[{escape(payload.get('title') or 'Untitled')}]({notion_url(block['id'])})"

    def _child_database(self, block: Block, payload: Any, _c: list[Block], _: int) -> str:
        return f"[{escape(payload.get('title') or 'Untitled')}]({notion_url(block['id'])})"

    def _link_to_page(self, _b: Block, payload: Any, _c: list[Block], _: int) -> str:
        target = payload.get(payload.get("type", ""), "")
        return f"[Linked page]({notion_url(str(target))})"

    def _table_of_contents(self, _b: Block, _p: Any, _c: list[Block], _: int) -> str | None:
        lines = []
        for heading in self.headings:
            level = int(heading["type"][-1])
            title = plain_text(heading[heading["type"]].get("rich_text", []))
            lines.append(f"{'  ' * (level - 1)}- {escape(title)}")
        return "\n".join(lines) or None

    # Media and links

    def _media(self, block: Block, payload: Any) -> str:
        url = _url(self.resolve_file(block))
        caption = rich_text(payload.get("caption", []))
        if block["type"] == "image":
            return f"![{caption}]({url})"
        label = caption or escape(payload.get("name") or url.rsplit("/", 1)[-1] or url)
        return f"[{label}]({url})"

    def _link(self, payload: Any) -> str:
        url = str(payload.get("url", ""))
        caption = rich_text(payload.get("caption", []))
        return f"[{caption or escape(url)}]({_url(url)})"


def _cell(cell: list[Mapping[str, Any]]) -> str:
    return rich_text(cell).replace("\n", "<br>")


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
    blocks: Sequence[Block], resolve_file: FileResolver = external_or_hosted_url
) -> Rendered:
    """Markdown for a page's blocks, and the blocks that could not be exported."""
    writer = _Writer(resolve_file, _headings(blocks))
    text = writer.blocks(blocks).strip("\n")
    return Rendered(text + "\n" if text else "", writer.skipped)
