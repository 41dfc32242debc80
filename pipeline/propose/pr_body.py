"""The pull request a reviewer judges a module by: title and body, as pure functions.

The body says what changed and shows it where it is, so the review needs nothing
but the PR page and no JSON:

- what changed: revision, sections added / changed / removed / moved (sections are
  matched by type and title, so inserting one does not make every later one
  "changed"), fields before → after, files (images before and after);
- validation: whether the file passes `pipeline validate`;
- the module as students will see it: changed sections open, their text as a word
  diff, their quiz, checklist, hotspots and completion criteria with the changes
  marked (`sections`); unchanged sections collapsed; removed ones at the end.
  Headings inside a section's text sit below the section's heading; images and
  media point at the files at the PR's head commit (`Where`), so they show in the
  PR, for private repositories too, to anyone who can see the PR.

GitHub refuses a body over 65,536 characters. A body that would be longer is cut
only between sections, never inside a code fence or a `<details>`: unchanged
sections lose their collapsed text first, then whole sections are left out, each
named, with a link to the file for the rest.

A module file validate rejects is shown all the same, as far as it can be: a value of the
wrong type counts as none. A file that holds no JSON object (or nests too deeply to
compare) gets a body that says so (`unreadable`), never one that calls it a removal.

Everything in it that comes from the module was written outside the review, so it is
shown, never obeyed (`gfm`): no raw HTML but ours, no @mentions, no code fence left
open. The export's job summary uses the same rules (`text`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import partial
from typing import Any, Literal

from pipeline.layout import module_file
from pipeline.notion.markdown import notion_url
from pipeline.propose import sections
from pipeline.propose.gfm import (
    ZERO_WIDTH_SPACE,
    code,
    inline,
    is_image,
    markdown,
    plain,
    text,
    text_block,
)

__all__ = [
    "MARKER",
    "MAX_BODY",
    "ZERO_WIDTH_SPACE",
    "Changes",
    "FileChange",
    "Proposed",
    "Where",
    "body",
    "changes",
    "code",
    "markdown",
    "plain",
    "revision",
    "text",
    "text_block",
    "title",
    "unreadable",
]

MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters
MARKER = "<!-- module-pipeline:{module_id} -->"
_NOT_FIELDS = ("sections", "metadata", "$schema")
_MAX_PROBLEMS = 30  # validation problems listed in the body; the check run has them all

Section = Mapping[str, Any]
FileKind = Literal["added", "changed", "removed"]
# What a PR proposes for a module: a revision (a new one too), its removal, or a file that
# is there but cannot be read as a module.
Proposed = Literal["revision", "removal", "unreadable"]


@dataclass(frozen=True, slots=True)
class FileChange:
    """A file of the module (an asset) the PR adds, changes or removes."""

    path: str
    kind: FileKind


@dataclass(frozen=True)
class Where:
    """Where the PR's files are on GitHub: the repository's web address (its html_url)
    and the commits of the PR's head and base. Files are linked at a commit, not a
    branch, so the body shows what was reviewed even after the branch moves on."""

    repository_url: str
    head: str
    base: str | None = None

    def url(self, path: str, image: bool, *, commit: str) -> str:
        return f"{self.repository_url.rstrip('/')}/{'raw' if image else 'blob'}/{commit}/{path}"

    def file(self, path: str) -> str:
        return self.url(path, False, commit=self.head)

    def assets(self) -> sections.Assets:
        before = partial(self._at, self.base) if self.base else None
        return sections.Assets(now=partial(self._at, self.head), before=before)

    def _at(self, commit: str, path: str, image: bool) -> str:
        return self.url(path, image, commit=commit)


@dataclass
class Changes:
    revision_before: int | None
    revision_after: int | None
    # Section numbers (as the files have them, so Any: an invalid file may hold anything).
    added: list[Any] = field(default_factory=list)  # in the new module
    changed: list[Any] = field(default_factory=list)  # in the new module
    removed: list[Any] = field(default_factory=list)  # in the old module
    moved: list[tuple[Any, Any]] = field(default_factory=list)  # (old number, new number)
    fields: list[str] = field(default_factory=list)
    # new section number -> the old section it continues
    was: dict[Any, Section] = field(default_factory=dict)


def revision(module: Mapping[str, Any] | None) -> int | None:
    """The module's metadata.revision; None when it has none, or none a number (a file
    validate rejects is proposed all the same)."""
    metadata = (module or {}).get("metadata")
    value = metadata.get("revision") if isinstance(metadata, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _sections(module: Mapping[str, Any] | None) -> list[Section]:
    return sections.objects((module or {}).get("sections"))


def _number(section: Section) -> Any:
    """The section's number, to match sections by: as written, or, when it is a list or
    an object (which validate rejects), its JSON, which can be looked up."""
    number = section.get("section_number")
    return number if isinstance(number, Hashable) else json.dumps(number, ensure_ascii=False)


def _key(section: Section) -> tuple[str, str]:
    return (str(section.get("section_type")), " ".join(str(section.get("title", "")).split()))


def _without_number(section: Section) -> dict[str, Any]:
    return {k: v for k, v in section.items() if k != "section_number"}


def _similar(old: Section, new: Section) -> bool:
    if old.get("section_type") == new.get("section_type"):
        return True
    matcher = SequenceMatcher(None, str(old.get("content")), str(new.get("content")))
    return matcher.quick_ratio() > 0.5 and matcher.ratio() > 0.5


def _pairs(before: list[Section], after: list[Section]) -> dict[int, int]:
    """index in `after` -> index in `before` of the same section: matched by type and
    title in order, then, where titles differ, by place (same type or similar text)."""
    pairs: dict[int, int] = {}
    keys_before, keys_after = [_key(s) for s in before], [_key(s) for s in after]
    matcher = SequenceMatcher(None, keys_before, keys_after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pairs.update({j1 + k: i1 + k for k in range(i2 - i1)})
        elif op == "replace":
            for k in range(min(i2 - i1, j2 - j1)):
                if _similar(before[i1 + k], after[j1 + k]):
                    pairs[j1 + k] = i1 + k
    return pairs


def changes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Changes:
    result = Changes(revision(old), revision(new))
    before, after = _sections(old), _sections(new)
    pairs = _pairs(before, after)
    for j, section in enumerate(after):
        number = _number(section)
        if j not in pairs:
            result.added.append(number)
            continue
        was = before[pairs[j]]
        result.was[number] = was
        if _number(was) != number:
            result.moved.append((_number(was), number))
        if _without_number(was) != _without_number(section):
            result.changed.append(number)
    paired = set(pairs.values())
    result.removed = [_number(s) for i, s in enumerate(before) if i not in paired]
    if old is not None and new is not None:
        keys = (old.keys() | new.keys()) - set(_NOT_FIELDS)
        result.fields = sorted(k for k in keys if old.get(k) != new.get(k))
    return result


def title(module: Mapping[str, Any], proposed: Proposed = "revision") -> str:
    """The PR title (and commit message): one line, notifying nobody, and what the PR
    proposes: a revision of the module, its removal, or a file that cannot be read. GitHub
    shows titles as text, so only mentions need defusing."""
    name = plain(module.get("title") or module.get("module_id"))
    if proposed == "removal":
        return f"Module: {name} (remove)"
    if proposed == "unreadable":
        return f"Module: {name} (file cannot be read)"
    return f"Module: {name} (rev {revision(module) or 1})"


def _numbers(numbers: Sequence[Any], by_number: Mapping[Any, Section]) -> str:
    if not numbers:
        return "none"
    return ", ".join(
        text(f"{n} ({by_number[n].get('title', '')})" if n in by_number else str(n))
        for n in numbers
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
    new: Mapping[str, Any] | None,
    *,
    validation: Sequence[str],
    notes: Sequence[str] = (),
    where: Where | None = None,
    files: Sequence[FileChange] = (),
) -> str:
    """Markdown for the PR. `old` is the module on the default branch (None: a new module),
    `new` the module proposed (None: the PR removes it). `validation` lists problems
    (empty: valid); `notes` are warnings about the module's files (a symbolic link left
    out, ...); `where` places links and images at the PR's commits; `files` are the
    module's other files (assets) that the PR adds, changes or removes. A module nested
    too deeply for Python to compare gets the `unreadable` body: any file gets a body."""
    shown = new if new is not None else old or {}
    try:
        found = changes(old, new)
        head = _head(old, new, found, validation, notes, where, files)
        blocks = _section_blocks(old, new, found, where)
    except RecursionError:  # orjson reads 1,024 levels; Python compares and writes fewer
        why = "its values are nested too deeply to show here"
        return unreadable(
            str(shown.get("module_id")),
            shown,
            why,
            validation=validation,
            notes=notes,
            where=where,
            files=files,
        )
    # The file left out of a long body is read where it is: at the head, or (a removed
    # module) at the base.
    place = where
    if new is None and where is not None and where.base:
        place = Where(where.repository_url, where.base, where.base)
    return _fit(head, blocks, shown, place)


# -- the head: what changed, validation ----------------------------------------------------


def _head(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    found: Changes,
    validation: Sequence[str],
    notes: Sequence[str],
    where: Where | None,
    files: Sequence[FileChange],
) -> tuple[list[str], list[str]]:
    """(the head in full, a shorter one for when the full one leaves too little room)."""
    shown = new if new is not None else old or {}
    module_id = str(shown.get("module_id"))
    lines = _top(module_id, shown)
    if shown.get("notion_page_id"):
        lines += _notion_link(shown["notion_page_id"])
    if new is None:
        lines += ["**This pull request removes the module.** Its sections are listed below.", ""]
    by_new = {_number(s): s for s in _sections(new)}
    by_old = {_number(s): s for s in _sections(old)}
    before = "new module" if found.revision_before is None else str(found.revision_before)
    after = "removed" if new is None else str(found.revision_after)
    fields = ", ".join(code(f, table=True) for f in found.fields) or "none"
    table = [
        "### What changed",
        "",
        "| | |",
        "| --- | --- |",
        f"| Revision | {before} → {after} |",
        f"| Sections added | {_numbers(found.added, by_new)} |",
        f"| Sections changed | {_numbers(found.changed, by_new)} |",
        f"| Sections removed | {_numbers(found.removed, by_old)} |",
    ]
    if found.moved:
        moved = ", ".join(text(f"{a} → {b} ({by_new[b].get('title', '')})") for a, b in found.moved)
        table.append(f"| Sections renumbered | {moved} |")
    table.append(f"| Fields changed | {fields} |")
    if files:
        listed = ", ".join(f"{code(f.path, table=True)} ({f.kind})" for f in files)
        table.append(f"| Files | {listed} |")
    table.append("")
    details = _field_lines(old, new, found) + _file_lines(files, where)
    checks = _validation(validation, notes, module_id)
    full = lines + table + details + checks
    short = lines + table + checks
    return full, short


def _top(module_id: str, module: Mapping[str, Any]) -> list[str]:
    """Our marker and the heading: the module's title and id."""
    return [_marker(module_id), f"## {text(module.get('title'))} ({code(module_id)})", ""]


def unreadable(
    module_id: str,
    module: Mapping[str, Any],
    why: str,
    *,
    validation: Sequence[str],
    notes: Sequence[str] = (),
    where: Where | None = None,
    files: Sequence[FileChange] = (),
) -> str:
    """Markdown for a PR whose module file is on the branch but cannot be shown as a
    module (`why`): nothing is compared, so nothing is said to be added or removed; its
    other files and what `pipeline validate` says are. `module` gives the title of the
    heading (the module on the default branch, when there is one)."""
    path = module_file(module_id)
    lines = _top(module_id, module)
    lines += [
        f"**{code(path)} is on this branch, but {why}**, so this pull request cannot show "
        "what it changes. Fix what `pipeline validate` reports below (in Notion, then "
        "export again), and the next `pipeline propose` shows the module.",
        "",
    ]
    if files:
        listed = ", ".join(f"{code(f.path)} ({f.kind})" for f in files)
        lines += [f"**Other files:** {listed}", ""]
    lines += _file_lines(files, where) + _validation(validation, notes, module_id)
    return _join(lines)


def _list_change(old: list[Any], new: list[Any]) -> str:
    """A list field's change: the items added and removed (or the new order)."""

    def item(value: Any) -> str:
        words = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return code(words) if len(words) <= 40 and "\n" not in words else f"“{text(words)}”"

    added = [item(v) for v in new if v not in old]
    gone = [item(v) for v in old if v not in new]
    parts = []
    if added:
        parts.append("added " + ", ".join(added))
    if gone:
        parts.append("removed " + ", ".join(gone))
    return "; ".join(parts) or "same items, new order: " + ", ".join(item(v) for v in new)


def _field_lines(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, found: Changes
) -> list[str]:
    if old is None or new is None or not found.fields:
        return []
    lines = ["**Fields, before → after**", ""]
    for name in found.fields:
        was, now = old.get(name), new.get(name)
        if isinstance(was, list) and isinstance(now, list):
            change = _list_change(was, now)
        else:
            change = sections.before_after(was, now)
        lines.append(f"- {code(name)}: {change}")
    return [*lines, ""]


def _file_lines(files: Sequence[FileChange], where: Where | None) -> list[str]:
    shown = [f for f in files if is_image(f.path)]
    if not shown or where is None:
        return []
    assets = where.assets()
    lines = ["**Images, before → after**", "", "| File | Before | After |", "| --- | --- | --- |"]
    for change in shown:
        alt = change.path.rsplit("/", 1)[-1]
        before = (
            sections.media_cell(change.path, alt, assets.before)
            if change.kind != "added"
            else "*none*"
        )
        after = (
            sections.media_cell(change.path, alt, assets.now)
            if change.kind != "removed"
            else "*none*"
        )
        lines.append(f"| {code(change.path, table=True)} ({change.kind}) | {before} | {after} |")
    return [*lines, ""]


def _validation(validation: Sequence[str], notes: Sequence[str], module_id: str) -> list[str]:
    lines = ["### Validation", ""]
    if not validation:
        lines.append("✅ `pipeline validate` passes.")
    else:
        lines += ["❌ `pipeline validate` reports:", ""]
        lines += [f"- {text(v)}" for v in validation[:_MAX_PROBLEMS]]
        if len(validation) > _MAX_PROBLEMS:
            lines.append(
                f"- … and {len(validation) - _MAX_PROBLEMS} more: run "
                f"{code('pipeline validate ' + module_file(module_id))}"
            )
    lines += [f"- ⚠️ {text(note)}" for note in notes]
    return [*lines, ""]


# -- the module, section by section ---------------------------------------------------------


@dataclass
class Block:
    """One section's Markdown, self-contained (every fence and <details> closed)."""

    number: Any
    lines: list[str]
    short: list[str] | None = None  # without its collapsed text, when the body is too long
    changed: bool = True


def _facts(module: Mapping[str, Any]) -> list[str]:
    facts = [
        f"**Category:** {text(module.get('category') or 'none')}",
        f"**Estimated time:** {text(module.get('estimated_minutes', 10))} min",
        f"**Status:** {text(module.get('status'))}",
    ]
    lines = ["### The module as students will see it", "", " · ".join(facts), ""]
    if sections.listed(module.get("prerequisites")):
        prerequisites = ", ".join(code(p) for p in module["prerequisites"])
        lines += [f"**Prerequisites:** {prerequisites}", ""]
    if module.get("description"):
        lines += [text_block(module["description"]), ""]
    if sections.listed(module.get("learning_objectives")):
        lines += ["**Learning objectives**", ""]
        lines += [f"{i}. {text(o)}" for i, o in enumerate(module["learning_objectives"], 1)]
        lines += [""]
    return lines


def _section_blocks(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    found: Changes,
    where: Where | None,
) -> list[Block]:
    assets = where.assets() if where is not None else sections.Assets()
    blocks: list[Block] = []
    shown = new if new is not None else old or {}
    blocks.append(Block("facts", _facts(shown)))
    for section in _sections(new):
        number = _number(section)
        heading, state = sections.heading, ""
        was = found.was.get(number)
        moved = was is not None and _number(was) != number
        if old is None:
            body_lines = sections.render(section, assets=assets)
            blocks.append(Block(number, ["---", "", heading(section), "", *body_lines]))
            continue
        if was is None:
            state = f" · {sections.NEW} new section"
            body_lines = sections.render(section, assets=assets)
        elif number in found.changed:
            state = f" · {sections.CHANGED} changed"
            body_lines = sections.render(section, was, diff=True, assets=assets)
        else:
            state = " · unchanged"
            body_lines = []
        if moved and was is not None:
            state += f", was section {text(was.get('section_number'))}"
        top = ["---", "", heading(section, state), ""]
        if body_lines:
            blocks.append(Block(number, top + body_lines))
            continue
        collapsed = sections.render(section, assets=assets)
        blocks.append(
            Block(
                number,
                top + _details("Unchanged. Show the section", collapsed),
                short=[*top, "*Unchanged; not shown here, for length.*", ""],
                changed=False,
            )
        )
    for number in found.removed:
        section = next(s for s in _sections(old) if _number(s) == number)
        before = sections.Assets(now=assets.before)
        said = sections.render(section, assets=before)
        top = ["---", "", sections.removed_heading(section), ""]
        blocks.append(
            Block(
                f"removed {number}",
                top + _details("Removed. Show what it said", said),
                short=[*top, "*Removed; its text is not shown here, for length.*", ""],
            )
        )
    return blocks


def _details(summary: str, lines: list[str]) -> list[str]:
    """Our <details>: `summary` is our own words, never module text."""
    return [f"<details><summary>{summary}</summary>", "", *lines, "", "</details>", ""]


# -- fitting GitHub's limit, only between sections ------------------------------------------


def _join(lines: Sequence[str]) -> str:
    return "\n".join(lines) + "\n"


def _fit(
    head: tuple[list[str], list[str]],
    blocks: list[Block],
    module: Mapping[str, Any],
    where: Where | None,
) -> str:
    full_head, short_head = head
    whole = _join(full_head + [line for b in blocks for line in b.lines])
    if len(whole) <= MAX_BODY:
        return whole
    top = full_head if len(_join(full_head)) <= MAX_BODY // 3 else short_head
    # First the collapsed text of unchanged and removed sections goes.
    chosen = [b.short if b.short is not None else b.lines for b in blocks]
    if len(_join(top + [line for lines in chosen for line in lines])) <= MAX_BODY:
        return _join(top + [line for lines in chosen for line in lines])
    # Then whole sections: changed ones first, each whole or not at all, in their order.
    budget = MAX_BODY - len(_join(top)) - 2_000  # room for the note on what is left out
    sizes = [len(_join(lines)) for lines in chosen]
    kept: set[int] = set()
    used = 0
    for changed in (True, False):
        for index, block in enumerate(blocks):
            if block.changed == changed and used + sizes[index] <= budget:
                kept.add(index)
                used += sizes[index]
    shown = [line for i, lines in enumerate(chosen) if i in kept for line in lines]
    left_out = [b.number for i, b in enumerate(blocks) if i not in kept]
    return _join(top + shown + _left_out(left_out, module, where))


def _ranges(numbers: list[Any]) -> str:
    """'3, 5 to 9, 12': runs of consecutive section numbers as ranges."""
    runs: list[list[Any]] = []
    for n in numbers:
        if runs and isinstance(n, int) and isinstance(runs[-1][-1], int) and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    words = [
        text(run[0]) if len(run) == 1 else f"{text(run[0])} to {text(run[-1])}" for run in runs
    ]
    return ", ".join(words[:50]) + (", …" if len(words) > 50 else "")


def _left_out(numbers: list[Any], module: Mapping[str, Any], where: Where | None) -> list[str]:
    path = module_file(str(module.get("module_id")))
    place = (
        f"[{inline(path)}]({where.file(path)}) at this pull request's head commit"
        if where is not None
        else f"{code(path)} in the Files changed tab"
    )
    named = _ranges([n for n in numbers if n != "facts"])
    return [
        "---",
        "",
        f"**Not shown here:** sections {named}. GitHub allows 65,536 characters in a pull "
        f"request description; read the rest in {place}.",
        "",
    ]
