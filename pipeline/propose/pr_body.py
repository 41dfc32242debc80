"""The pull request a reviewer judges a module by: title and body, as pure functions.

The body says what changed (revision, sections added / changed / removed,
fields changed), whether the file is valid, and shows the whole module
readably, so the review needs nothing but the PR page.

Everything in it that comes from the module was written outside the review, so it
is shown, never obeyed (see "Content on GitHub pages" below): no raw HTML (a
leading `<!--` would hide the rest of the body from the reviewer, a `</details>`
would close one of ours), no @mentions (they notify people), no code fence left
open. The export's job summary uses the same rules (`text`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from pipeline.notion.markdown import notion_url

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters
MARKER = "<!-- module-pipeline:{module_id} -->"
_NOT_FIELDS = ("sections", "metadata", "$schema")
_CUT = "\n\n… (cut here: the body is too long for GitHub; see the file in the diff)\n"


@dataclass
class Changes:
    revision_before: int | None
    revision_after: int | None
    added: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)


def _revision(module: Mapping[str, Any] | None) -> int | None:
    if module is None:
        return None
    value = (module.get("metadata") or {}).get("revision")
    return value if isinstance(value, int) else None


def changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> Changes:
    result = Changes(_revision(old), _revision(new))
    before = {s["section_number"]: s for s in (old or {}).get("sections", [])}
    after = {s["section_number"]: s for s in new.get("sections", [])}
    result.added = sorted(after.keys() - before.keys())
    result.removed = sorted(before.keys() - after.keys())
    result.changed = sorted(n for n in after.keys() & before.keys() if after[n] != before[n])
    if old is not None:
        keys = (old.keys() | new.keys()) - set(_NOT_FIELDS)
        result.fields = sorted(k for k in keys if old.get(k) != new.get(k))
    return result


def title(module: Mapping[str, Any], *, removed: bool = False) -> str:
    """The PR title (and commit message): one line, notifying nobody. GitHub shows titles
    as text, so only mentions need defusing."""
    name = module.get("title") or module.get("module_id")
    if removed:
        return f"Module: {plain(name)} (remove)"
    return f"Module: {plain(name)} (rev {_revision(module) or 1})"


def _numbers(numbers: Sequence[Any], sections: Mapping[Any, Mapping[str, Any]]) -> str:
    if not numbers:
        return "none"
    return ", ".join(
        text(f"{n} ({sections[n].get('title', '')})" if n in sections else str(n)) for n in numbers
    )


def _marker(module_id: str) -> str:
    """Our HTML comment, which a module id must not close or break."""
    return MARKER.format(module_id=re.sub(r"[^A-Za-z0-9_.-]", "_", module_id))


def _notion_link(page_id: Any) -> list[str]:
    page = str(page_id)
    if re.fullmatch(r"[0-9a-fA-F-]{32,36}", page):
        return [f"Edited in Notion: [open the page]({notion_url(page)})", ""]
    return [f"Edited in Notion: page {code(page)}", ""]


def body(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    *,
    validation: Sequence[str],
    notes: Sequence[str] = (),
) -> str:
    """Markdown for the PR. `validation` lists problems (empty: valid); `notes` are warnings
    about the module's files (a symbolic link left out, ...)."""
    found = changes(old, new)
    module_id = str(new.get("module_id"))
    sections_new = {s["section_number"]: s for s in new.get("sections", [])}
    sections_old = {s["section_number"]: s for s in (old or {}).get("sections", [])}
    before = "new module" if found.revision_before is None else str(found.revision_before)
    lines = [_marker(module_id), f"## {text(new.get('title'))} ({code(module_id)})", ""]
    if new.get("notion_page_id"):
        lines += _notion_link(new["notion_page_id"])
    fields = ", ".join(code(f, table=True) for f in found.fields) or "none"
    lines += [
        "### What changed",
        "",
        "| | |",
        "| --- | --- |",
        f"| Revision | {before} → {found.revision_after} |",
        f"| Sections added | {_numbers(found.added, sections_new)} |",
        f"| Sections changed | {_numbers(found.changed, sections_new)} |",
        f"| Sections removed | {_numbers(found.removed, sections_old)} |",
        f"| Fields changed | {fields} |",
        "",
    ]
    lines += ["### Validation", ""]
    lines += (
        ["✅ `pipeline validate` passes."]
        if not validation
        else ["❌ `pipeline validate` reports:", "", *(f"- {text(v)}" for v in validation)]
    )
    lines += [f"- ⚠️ {text(note)}" for note in notes]
    lines += ["", "### The module as students will see it", "", *_rendering(new)]
    body_text = "\n".join(lines) + "\n"
    if len(body_text) > MAX_BODY:
        body_text = _cut(body_text)
    return body_text


def _cut(body_text: str) -> str:
    """The body cut to GitHub's size, with no code fence or <details> of ours left open."""
    kept = body_text[:MAX_BODY]
    if "\n" in kept[MAX_BODY // 2 :]:
        kept = kept[: kept.rindex("\n")]  # at a line end where one is near
    kept = _closed_fence(kept)
    html = [t.content for t in _parser().parse(kept) if t.type == "html_block"]
    opened = sum(h.startswith("<details>") for h in html)
    kept += "\n\n</details>" * (opened - sum(h.startswith("</details>") for h in html))
    return kept + _CUT


def _rendering(module: Mapping[str, Any]) -> list[str]:
    facts = [
        f"**Category:** {text(module.get('category') or 'none')}",
        f"**Estimated time:** {text(module.get('estimated_minutes', 10))} min",
        f"**Status:** {text(module.get('status'))}",
    ]
    lines = [" · ".join(facts), ""]
    if module.get("prerequisites"):
        prerequisites = ", ".join(code(p) for p in module["prerequisites"])
        lines += [f"**Prerequisites:** {prerequisites}", ""]
    if module.get("description"):
        lines += [text_block(module["description"]), ""]
    if module.get("learning_objectives"):
        lines += ["**Learning objectives**", ""]
        lines += [f"{i}. {text(o)}" for i, o in enumerate(module["learning_objectives"], 1)]
        lines += [""]
    for section in module.get("sections", []):
        duration = section.get("duration_seconds")
        extra = f", {round(duration / 60, 1):g} min" if isinstance(duration, int | float) else ""
        number, kind = text(section.get("section_number")), text(section.get("section_type"))
        heading = f"{number}. {text(section.get('title'))} ({kind}{extra})"
        lines += ["---", "", f"#### {heading}", ""]
        if section.get("content"):
            lines += [markdown(str(section["content"])), ""]
        if section.get("media_url"):
            lines += [f"Media: {code(section['media_url'])}", ""]
        for key in ("section_config", "completion_criteria"):
            if section.get(key):
                source = json.dumps(section[key], indent=2, ensure_ascii=False)
                fence = "`" * max(3, _longest_run(source, "`") + 1)
                lines += [
                    f"<details><summary>{key}</summary>",
                    "",
                    f"{fence}json",
                    source,
                    fence,
                    "",
                    "</details>",
                    "",
                ]
    return lines


# -- Content on GitHub pages -----------------------------------------------------------------
#
# GitHub renders a PR body or a job summary as GitHub Flavored Markdown, passes a subset of
# raw HTML on, and then, on the rendered text, links `@user` and `@org/team` and notifies
# them. So text taken from a module is made inert before it goes into either:
#
# - Mentions: a backslash does not help (`\@user` still notifies: the Markdown is rendered
#   before mentions are found, github/markup#1168), an entity (`&#64;`) neither, and an
#   HTML comment (`@<!-- -->user`) is raw HTML we do not emit. A ZERO WIDTH SPACE after the
#   @ does: GitHub's mention pattern needs a letter or digit right after the @, the text
#   reads the same, and it also holds where the body is read as plain text (e-mail
#   replies). Dependabot and Renovate do the same. An @ after a letter or digit (an e-mail
#   address) is no mention and is left alone.
# - Plain text (titles, descriptions, objectives, section titles, messages): every character
#   Markdown or HTML could act on is backslash-escaped, so it shows exactly as written.
# - Markdown (section content): stays Markdown, but `<` and `&` outside code become
#   `&lt;` / `&amp;`, so raw HTML and entities show as text; code spans and blocks are left as
#   written (nothing acts inside them); a code fence left open is closed. The result is then
#   parsed (markdown-it-py, CommonMark as GitHub's cmark-gfm) and must hold no raw HTML and no
#   live mention; where it would, every line is escaped as text instead.

ZERO_WIDTH_SPACE = "\u200b"
_MENTION = re.compile(r"(?<![A-Za-z0-9])@(?=[A-Za-z0-9])")
# Characters that may act in inline Markdown or HTML; all are ASCII punctuation, which
# CommonMark lets a backslash make literal.
_ACTIVE = re.compile(r"([\\`*_\[\]<>&|~!])")
# GitHub links bare URLs (GFM autolinks): an @ inside one is part of the link, not a mention.
_URL = re.compile(r"(?:(?<=^)|(?<=[\s*_~(]))(?:https?://|www\.)[\w-]+(?:\.[\w-]+)+[^\s<]*")
_SENTINEL = "pipeline-end-of-content"


def plain(value: Any) -> str:
    """One line of text for a title: whitespace runs as one space, mentions defused."""
    return _MENTION.sub("@" + ZERO_WIDTH_SPACE, " ".join(str(value).split()))


def text(value: Any) -> str:
    """Plain text (a title, a message) for one line of a Markdown page, table cells
    included: shows exactly as written and notifies nobody."""
    line = _ACTIVE.sub(r"\\\1", " ".join(str(value).split()))
    # Nor may it start a block: a heading, a list item ("- x", "1. x"), a setext line.
    line = re.sub(r"^([#=+-])", r"\\\1", line)
    line = re.sub(r"^(\d+)([.)])", r"\1\\\2", line)
    return _MENTION.sub("@" + ZERO_WIDTH_SPACE, line)


def text_block(value: Any) -> str:
    """Plain text of several lines (a description): its lines and paragraphs kept."""
    paragraphs = re.split(r"\n\s*\n", str(value).replace("\r\n", "\n").strip())
    return "\n\n".join(
        "\n".join(text(line) for line in p.split("\n") if line.strip()) for p in paragraphs
    )


def code(value: Any, *, table: bool = False) -> str:
    """A code span showing `value` as written (one line); in a table, with pipes escaped."""
    source = " ".join(str(value).splitlines())
    fence = "`" * (_longest_run(source, "`") + 1)
    pad = " " if source.startswith("`") or source.endswith("`") or not source.strip() else ""
    span = f"{fence}{pad}{source}{pad}{fence}"
    return span.replace("|", "\\|") if table else span


def markdown(value: str) -> str:
    """Module Markdown for a GitHub page: reads as Markdown, acts as nothing."""
    source = value.replace("\r\n", "\n").replace("\r", "\n")
    lines = source.split("\n")
    escaped = [_escape_line(line) for line in lines]
    # Code blocks as GitHub will see them once no raw HTML is left: shown as written.
    for token in _parser().parse("\n".join(escaped)):
        if token.type in ("fence", "code_block") and token.map:
            for i in range(*token.map):
                escaped[i] = lines[i]
    result = _closed_fence("\n".join(escaped))
    if _inert(result):
        return result
    return _closed_fence("\n".join(_escape_all(line) for line in lines))


def _longest_run(source: str, char: str) -> int:
    return max((len(run) for run in re.findall(f"{re.escape(char)}+", source)), default=0)


@cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


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
        for token in _tokens(_parser().parse(source))
    )


def _live_mention(content: str) -> bool:
    urls = {i for m in _URL.finditer(content) for i in range(m.start(), m.end())}
    return any(m.start() not in urls for m in _MENTION.finditer(content))


def _tokens(tokens: Sequence[Token]) -> list[Token]:
    found: list[Token] = []
    for token in tokens:
        found.append(token)
        found += _tokens(token.children or [])
    return found
