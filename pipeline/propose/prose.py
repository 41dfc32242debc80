"""Word-level differences of prose, as GitHub Markdown a reviewer reads at a glance:
removed words ~~struck through~~, added words in **bold**. Pure functions.

The standard library's `difflib` does the matching, first by lines (fast on long texts:
unchanged lines are matched whole) and then, inside the lines that changed, by words.
Words are runs of non-space characters, so a mark always starts after a space or a line's
start and ends before one: GitHub's emphasis rules (left- and right-flanking delimiter
runs) then always see our `~~` and `**`. Everything else is escaped text (`gfm.inline`):
the diff shows the source as written, never acting (a `<!--` or an @mention in it
stays text). The rendered section follows the diff, for how it looks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from pipeline.propose.gfm import inline, line_start

Kind = Literal["same", "removed", "added"]
LEGEND = "removed words are ~~struck through~~, added words are **bold**"
_TOKENS = re.compile(r"\s+|\S+")
_NBSP = "\u00a0"


@dataclass(frozen=True, slots=True)
class Piece:
    kind: Kind
    text: str


def pieces(old: str, new: str) -> list[Piece]:
    """`new` against `old`, word by word: each piece the same, removed or added."""
    old_lines = old.replace("\r\n", "\n").splitlines(keepends=True)
    new_lines = new.replace("\r\n", "\n").splitlines(keepends=True)
    found: list[Piece] = []
    by_lines = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in by_lines.get_opcodes():
        before, after = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        if op == "equal":
            found.append(Piece("same", after))
        else:
            found += _words(before, after)
    return _merged(found)


def _opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes, with changes that only a space separates joined into one, so
    that "~~Locate Safety~~ **Find the**" reads as one change, not two."""
    ops: list[tuple[str, int, int, int, int]] = []
    for op in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if (
            len(ops) >= 2
            and op[0] != "equal"
            and ops[-1][0] == "equal"
            and ops[-2][0] != "equal"
            and not "".join(a[ops[-1][1] : ops[-1][2]]).strip()
            and "\n" not in "".join(a[ops[-1][1] : ops[-1][2]])
        ):
            first = ops[-2]
            ops[-2:] = [("replace", first[1], op[2], first[3], op[4])]
        else:
            ops.append(op)
    return ops


def _words(old: str, new: str) -> list[Piece]:
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    found: list[Piece] = []
    for op, i1, i2, j1, j2 in _opcodes(a, b):
        if op == "equal":
            found.append(Piece("same", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            found.append(Piece("removed", "".join(a[i1:i2])))
        if j2 > j1:
            found.append(Piece("added", "".join(b[j1:j2])))
    return found


def _merged(found: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    for piece in found:
        if not piece.text:
            continue
        if out and out[-1].kind == piece.kind:
            out[-1] = Piece(piece.kind, out[-1].text + piece.text)
        else:
            out.append(piece)
    return out


def changed(found: list[Piece]) -> bool:
    return any(p.kind != "same" and p.text.strip() for p in found)


def _marked(kind: Kind, words: str) -> str:
    """One line's part of a piece: its words escaped, marked unless the same."""
    if kind == "same" or not words.strip():
        return inline(words) if kind != "removed" else ""
    lead = words[: len(words) - len(words.lstrip())]
    trail = words[len(words.rstrip()) :]
    mark = "~~" if kind == "removed" else "**"
    return f"{lead}{mark}{inline(words.strip())}{mark}{trail}"


def _lines(found: list[Piece]) -> Iterator[tuple[str, bool]]:
    """(Markdown line, whether it holds a change) for each line of the new text; removed
    line breaks are dropped, so lines read as the new text has them."""
    line, marked, last = "", False, "same"
    for piece in found:
        parts = piece.text.split("\n")
        for index, part in enumerate(parts):
            words = part
            if index and piece.kind != "removed":  # a line break in this piece
                yield line, marked
                line, marked, last = "", False, "same"
            elif index:
                words = " " + part  # a removed break: the words around it stay apart
            text = _marked(piece.kind, words)
            if not text:
                continue
            if piece.kind != "same" and text.strip():
                if last not in ("same", piece.kind) and not line.endswith(" "):
                    line += " "  # ~~old~~ **new**, never ~~old~~**new**
                marked = True
            line += text
            last = piece.kind if text.strip() else last
    yield line, marked


def _shown(line: str) -> str:
    """A diff line that starts no block of its own: leading spaces (which would make code)
    as no-break spaces, a leading `#`, `-`, `1.` escaped."""
    stripped = line.lstrip(" \t")
    indent = len(line) - len(stripped)
    return _NBSP * min(indent, 8) + line_start(stripped) if indent else line_start(line)


def block(old: str, new: str, *, context: int = 3) -> list[str]:
    """The word diff as a block quote, paragraph by paragraph. With more than `context`
    paragraphs, unchanged ones are left out and counted."""
    paragraphs: list[list[tuple[str, bool]]] = [[]]
    for line, marked in _lines(pieces(old, new)):
        if line.strip():
            paragraphs[-1].append((line, marked))
        elif paragraphs[-1]:
            paragraphs.append([])
    paragraphs = [p for p in paragraphs if p]
    show_all = len(paragraphs) <= context
    out: list[str] = []
    skipped = 0
    for paragraph in paragraphs:
        if not show_all and not any(marked for _, marked in paragraph):
            skipped += 1
            continue
        if skipped:
            out += [_skipped(skipped), ">"]
            skipped = 0
        out += [f"> {_shown(line)}" for line, _ in paragraph] + [">"]
    if skipped:
        out += [_skipped(skipped), ">"]
    while out and out[-1] == ">":
        out.pop()
    return out or ["> *(no text)*"]


def _skipped(count: int) -> str:
    return f"> *… {count} unchanged paragraph{'s' if count != 1 else ''} …*"


def one_line(old: object, new: object) -> str:
    """Two one-line values (titles, labels) as one line with the changed words marked."""
    before = " ".join(str(old).split())
    after = " ".join(str(new).split())
    return line_start(" ".join(line for line, _ in _lines(pieces(before, after))))
