"""Text taken from a module, made safe and readable on a GitHub page (a PR body, a job
summary): pure functions, no outside system.

GitHub renders a PR body or a job summary as GitHub Flavored Markdown, passes a subset of
raw HTML on, and then, on the rendered text, links `@user` and `@org/team` and notifies
them. So text taken from a module is made inert before it goes into either:

- Mentions: a backslash does not help (`\\@user` still notifies: the Markdown is rendered
  before mentions are found, github/markup#1168), an entity (`&#64;`) neither, and an
  HTML comment (`@<!-- -->user`) is raw HTML we do not emit. A ZERO WIDTH SPACE after the
  @ does: GitHub's mention pattern needs a letter or digit right after the @, the text
  reads the same, and it also holds where the body is read as plain text (e-mail
  replies). Dependabot and Renovate do the same. An @ after a letter or digit (an e-mail
  address) is no mention and is left alone.
- Plain text (titles, descriptions, objectives, section titles, messages): every character
  Markdown or HTML could act on is backslash-escaped, so it shows exactly as written.
- Markdown (section content): stays Markdown, but `<` and `&` outside code become
  `&lt;` / `&amp;`, so raw HTML and entities show as text; code spans and blocks are left as
  written (nothing acts inside them); a code fence left open is closed. The result is then
  parsed (markdown-it-py, CommonMark as GitHub's cmark-gfm) and must hold no raw HTML and no
  live mention; where it would, every line is escaped as text instead.

Besides, for a PR body: headings inside section content can be demoted below the section
heading (`markdown(shift=...)`), and links and images to `data/assets/` can be pointed at
absolute URLs (`markdown(asset_url=...)`), since a PR description resolves no relative path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from pipeline.layout import ASSET_PREFIX

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

ZERO_WIDTH_SPACE = "\u200b"
_MENTION = re.compile(r"(?<![A-Za-z0-9])@(?=[A-Za-z0-9])")
# Characters that may act in inline Markdown or HTML; all are ASCII punctuation, which
# CommonMark lets a backslash make literal.
_ACTIVE = re.compile(r"([\\`*_\[\]<>&|~!])")
# GitHub links bare URLs (GFM autolinks): an @ inside one is part of the link, not a mention.
_URL = re.compile(r"(?:(?<=^)|(?<=[\s*_~(]))(?:https?://|www\.)[\w-]+(?:\.[\w-]+)+[^\s<]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SENTINEL = "pipeline-end-of-content"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".bmp")

# asset_url(path, image) -> the absolute URL of a repository path under data/assets/.
AssetURL = Callable[[str, bool], str]


def plain(value: Any) -> str:
    """One line of text for a title, which is also a commit message that git takes on its
    command line: whitespace runs and control characters (a NUL no command line can
    carry) as one space, a lone surrogate (no UTF-8) as U+FFFD, mentions defused."""
    words = _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", str(value)))
    return _MENTION.sub("@" + ZERO_WIDTH_SPACE, " ".join(words.split()))


def inline(value: Any) -> str:
    """Text for the middle of a Markdown line: as written (its spaces too), acting as
    nothing, notifying nobody. `text` is this plus the rules for a line's start."""
    return _MENTION.sub("@" + ZERO_WIDTH_SPACE, _ACTIVE.sub(r"\\\1", str(value)))


def line_start(line: str) -> str:
    """`line` unable to start a block: a heading, a list item ("- x", "1. x"), a setext
    line, a block quote (`>` is escaped by `inline` already)."""
    line = re.sub(r"^(\s*)([#=+-])", r"\1\\\2", line)
    return re.sub(r"^(\s*\d+)([.)])", r"\1\\\2", line)


def text(value: Any) -> str:
    """Plain text (a title, a message) for one line of a Markdown page, table cells
    included: shows exactly as written and notifies nobody."""
    return line_start(inline(" ".join(str(value).split())))


def text_block(value: Any) -> str:
    """Plain text of several lines (a description): its lines and paragraphs kept."""
    paragraphs = re.split(r"\n\s*\n", str(value).replace("\r\n", "\n").strip())
    return "\n\n".join(
        "\n".join(text(line) for line in p.split("\n") if line.strip()) for p in paragraphs
    )


def code(value: Any, *, table: bool = False) -> str:
    """A code span showing `value` as written (one line); in a table, with pipes escaped."""
    source = " ".join(str(value).splitlines())
    fence = "`" * (longest_run(source, "`") + 1)
    pad = " " if source.startswith("`") or source.endswith("`") or not source.strip() else ""
    span = f"{fence}{pad}{source}{pad}{fence}"
    return span.replace("|", "\\|") if table else span


def code_block(source: str, language: str = "") -> list[str]:
    """Lines of a fenced code block showing `source` as written, whatever fences it holds."""
    fence = "`" * max(3, longest_run(source, "`") + 1)
    return [f"{fence}{language}", *source.replace("\r\n", "\n").split("\n"), fence]


def markdown(value: str, *, shift: int = 0, asset_url: AssetURL | None = None) -> str:
    """Module Markdown for a GitHub page: reads as Markdown, acts as nothing.

    `shift` demotes its headings by that many levels (at most to level 6), so that a
    section's own `# Heading` sits below the section heading around it; `asset_url`
    points links and images to `data/assets/...` at absolute URLs."""
    source = value.replace("\r\n", "\n").replace("\r", "\n")
    lines = source.split("\n")
    escaped = [_escape_line(line) for line in lines]
    # Code blocks as GitHub will see them once no raw HTML is left: shown as written.
    tokens = _parser().parse("\n".join(escaped))
    in_code: set[int] = set()
    for token in tokens:
        if token.type in ("fence", "code_block") and token.map:
            for i in range(*token.map):
                escaped[i] = lines[i]
                in_code.add(i)
    if shift:
        escaped = _demoted(escaped, tokens, shift)
    if asset_url is not None:
        escaped = [
            line if i in in_code else _assets_linked(line, asset_url)
            for i, line in enumerate(escaped)
        ]
    result = _closed_fence("\n".join(escaped))
    if _inert(result):
        return result
    return _closed_fence("\n".join(_escape_all(line) for line in lines))


def longest_run(source: str, char: str) -> int:
    return max((len(run) for run in re.findall(f"{re.escape(char)}+", source)), default=0)


@cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def parse(source: str) -> list[Token]:
    """`source` as GitHub reads it (CommonMark with GFM tables and strikethrough)."""
    return list(_parser().parse(source))


def _code_spans(line: str) -> list[tuple[int, int]]:
    """(start, end) of each code span in one line, by CommonMark's backtick rule."""
    spans: list[tuple[int, int]] = []
    at, end = 0, len(line)
    while at < end:
        if line[at] == "\\":
            at += 2
            continue
        if line[at] != "`":
            at += 1
            continue
        opener = at
        while at < end and line[at] == "`":
            at += 1
        width, scan = at - opener, at
        while scan < end:
            if line[scan] != "`":
                scan += 1
                continue
            run = scan
            while scan < end and line[scan] == "`":
                scan += 1
            if scan - run == width:
                spans.append((opener, scan))
                at = scan
                break
    return spans


def _escaped(line: str, at: int) -> bool:
    """Whether the character at `at` follows an odd number of backslashes (is literal)."""
    count = 0
    while at - count > 0 and line[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _escape_line(line: str) -> str:
    """`<` and `&` outside code spans as entities (unless a backslash made them literal
    already), mentions outside code spans and URLs defused."""
    code_at = {i for start, stop in _code_spans(line) for i in range(start, stop)}
    url_at = {i for m in _URL.finditer(line) for i in range(m.start(), m.end())}
    mentions = {m.start() for m in _MENTION.finditer(line)} - url_at
    out = []
    for i, char in enumerate(line):
        if i in code_at:
            out.append(char)
        elif char in "<&" and not _escaped(line, i):
            out.append("&lt;" if char == "<" else "&amp;")
        else:
            out.append(char + ZERO_WIDTH_SPACE if i in mentions else char)
    return "".join(out)


def _escape_all(line: str) -> str:
    """The fallback: every `<`, `&` and mention in the line escaped, code or not."""
    line = line.replace("&", "&amp;").replace("<", "&lt;")
    return _MENTION.sub("@" + ZERO_WIDTH_SPACE, line)


def _closed_fence(source: str) -> str:
    """`source` with a code fence it leaves open closed, so it cannot swallow what follows."""
    tokens = _parser().parse(f"{source}\n\n{_SENTINEL}\n")
    last = [t for t in tokens if t.map and t.level == 0][-1]
    if last.type == "fence" and _SENTINEL in last.content:
        return f"{source}\n{last.markup}"
    return source


def _inert(source: str) -> bool:
    """No raw HTML and no live mention once GitHub renders `source`."""
    return all(
        token.type not in ("html_block", "html_inline")
        and not (token.type == "text" and _live_mention(token.content))
        for token in tokens_of(_parser().parse(source))
    )


def _live_mention(content: str) -> bool:
    urls = {i for m in _URL.finditer(content) for i in range(m.start(), m.end())}
    return any(m.start() not in urls for m in _MENTION.finditer(content))


def tokens_of(tokens: Sequence[Token]) -> list[Token]:
    """Every token, inline children included, in document order."""
    found: list[Token] = []
    for token in tokens:
        found.append(token)
        found += tokens_of(token.children or [])
    return found


# -- headings below the section's, assets at absolute URLs --------------------------------

# An ATX heading's hashes, after any block-quote and list-item markers before them.
_ATX = re.compile(r"^((?:\s{0,3}>)*\s*(?:(?:[-*+]|\d{1,9}[.)])\s+)?\s{0,3})(#{1,6})(?=\s|$)")


def _demoted(lines: list[str], tokens: Sequence[Token], shift: int) -> list[str]:
    """`lines` with every heading `shift` levels lower (at most level 6); a setext heading
    becomes an ATX one on one line (its other lines left empty, so lines keep their
    numbers)."""
    out = list(lines)
    for token in tokens:
        if token.type != "heading_open" or not token.map:
            continue
        level = min(6, int(token.tag[1]) + shift)
        first, end = token.map
        if token.markup.startswith("#"):
            out[first] = _ATX.sub(rf"\g<1>{'#' * level}", lines[first], count=1)
        elif token.level == 0:  # setext: the text lines, then the === or --- line
            words = " ".join(line.strip() for line in lines[first : end - 1])
            out[first] = "#" * level + " " + words
            for i in range(first + 1, end):
                out[i] = ""
    return out


_INLINE_ASSET = re.compile(r"(\]\(\s*<?)(" + re.escape(ASSET_PREFIX) + r"[^\s)>]*)")
_DEFINED_ASSET = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*<?)(" + re.escape(ASSET_PREFIX) + r"[^\s>]*)")


def is_image(path: str) -> bool:
    return path.lower().split("?", 1)[0].endswith(IMAGE_SUFFIXES)


def _assets_linked(line: str, asset_url: AssetURL) -> str:
    """Destinations `data/assets/...` of links, images and link definitions in one line
    of Markdown (outside code spans) as absolute URLs."""
    spans = _code_spans(line)

    def outside(at: int) -> bool:
        return not any(start <= at < stop for start, stop in spans)

    def one(match: re.Match[str]) -> str:
        if not outside(match.start(2)):
            return match[0]
        return match[1] + asset_url(match[2], is_image(match[2]))

    return _DEFINED_ASSET.sub(one, _INLINE_ASSET.sub(one, line))
