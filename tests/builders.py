"""Builders and helpers shared by the tests: import them from here, never from a test file.

- module files: MINIMAL, module, text_section, broken_tree
- Notion blocks, as the API returns them: rt, block, para, heading, item, code, row
- Notion pages of the Module Library: prop, schema, properties, body
- deploys on a real Postgres: versions, wait_for, waiting_on_locks
- real git: git
- the command line: cli_commands, printed_table
- GitHub Markdown as a reviewer sees it: github_view, LIVE_MENTION
"""

from __future__ import annotations

import copy
import itertools
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from tests.doubles.notion_server import PLAIN

if TYPE_CHECKING:
    from tests.conftest import Database, Repo

# -- module files ----------------------------------------------------------------------------

MINIMAL: dict[str, Any] = {
    "module_id": "demo",
    "title": "Demo",
    "status": "ready",
    "sections": [
        {"section_number": 1, "section_type": "text", "title": "Intro", "content": "Hello"},
        {"section_number": 2, "section_type": "text", "title": "More", "content": "World"},
    ],
    "metadata": {"revision": 1},
}


def module(**overrides: Any) -> dict[str, Any]:
    """A valid module with top-level fields replaced."""
    data = copy.deepcopy(MINIMAL)
    data.update(overrides)
    return data


def text_section(
    n: int, title: str | None = None, content: str = "x", **extra: Any
) -> dict[str, Any]:
    """A text section numbered `n` (title "S<n>" unless given)."""
    return {
        "section_number": n,
        "section_type": "text",
        "title": title or f"S{n}",
        "content": content,
        **extra,
    }


def broken_tree(repo: Repo) -> None:
    """demo.json, valid, and bad.json with an unknown status (line 4) and a section gap."""
    repo.write(module())
    repo.write(
        module(
            module_id="bad",
            status="live",
            sections=[
                {"section_number": 1, "section_type": "text", "title": "a,b: c", "content": "x"},
                {"section_number": 3, "section_type": "text", "title": "b", "content": "x"},
            ],
        )
    )


# -- Notion blocks ---------------------------------------------------------------------------

_ids = itertools.count(1)


def rt(text: str, href: str | None = None, **annotations: Any) -> dict[str, Any]:
    """A rich text object as Notion returns it."""
    base = dict(PLAIN)
    return {
        "type": "text",
        "text": {"content": text, "link": {"url": href} if href else None},
        "annotations": {**base, **annotations},
        "plain_text": text,
        "href": href,
    }


def block(
    kind: str, children: list[dict[str, Any]] | None = None, **payload: Any
) -> dict[str, Any]:
    """A block of type `kind` with its payload, children given inline."""
    return {
        "object": "block",
        "id": f"00000000-0000-4000-8000-{next(_ids):012d}",
        "type": kind,
        "has_children": bool(children),
        kind: payload,
        "children": children or [],
    }


def para(*texts: dict[str, Any], children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return block("paragraph", children, rich_text=list(texts), color="default")


def heading(text: str, level: int = 3) -> dict[str, Any]:
    return block(f"heading_{level}", rich_text=[rt(text)], is_toggleable=False)


def item(text: str) -> dict[str, Any]:
    """A numbered list item."""
    return block("numbered_list_item", rich_text=[rt(text)])


def code(source: str, language: str = "yaml") -> dict[str, Any]:
    return block("code", rich_text=[rt(source)], language=language, caption=[])


def row(*cells: str) -> dict[str, Any]:
    """A table row, one plain cell per argument."""
    return block("table_row", cells=[[rt(c)] for c in cells])


# -- Notion pages of the Module Library --------------------------------------------------------


def prop(kind: str, value: Any) -> dict[str, Any]:
    """A page property value of type `kind`."""
    return {"id": "x", "type": kind, kind: value}


PAGE_ID = "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"


def lab_safety_page(**properties: Any) -> dict[str, Any]:
    """The page of a Module Library row with just a name and a Module ID (lab-safety-101),
    and `properties` besides: what the conversion of a page's blocks needs of it."""
    base = {
        "Module Name": prop("title", [rt("Lab Safety 101")]),
        "Module ID": prop("rich_text", [rt("lab-safety-101")]),
    }
    return {
        "object": "page",
        "id": PAGE_ID,
        "properties": {**base, **properties},
        "last_edited_time": "2025-11-26T14:30:00.000Z",
    }


def schema(with_error_property: bool = True) -> dict[str, dict[str, Any]]:
    """The Module Library's property schema, as the data source reports it."""
    kinds = {
        "Module Name": "title",
        "Status": "status",
        "Module ID": "rich_text",
        "Category": "select",
        "Estimated Minutes": "number",
        "Tags": "multi_select",
        "Prerequisites": "relation",
        "GitHub Branch/PR": "url",
        "Last Updated": "date",
    }
    if with_error_property:
        kinds["Export Error"] = "rich_text"
    return {
        name: {"id": name[:4], "name": name, "type": kind, kind: {}} for name, kind in kinds.items()
    }


def properties(
    module_id: str | None, title: str, status: str = "Ready", prerequisites: list[str] | None = None
) -> dict[str, Any]:
    """A Module Library row's properties."""
    return {
        "Module Name": prop("title", [rt(title)]),
        "Status": prop("status", {"id": "s", "name": status}),
        "Module ID": prop("rich_text", [rt(module_id)] if module_id else []),
        "Category": prop("select", {"id": "c", "name": "Safety"}),
        "Estimated Minutes": prop("number", 15),
        "Tags": prop("multi_select", [{"id": "t", "name": "onboarding"}]),
        "Prerequisites": prop("relation", [{"id": i} for i in prerequisites or []]),
        "Export Error": prop("rich_text", []),
        "GitHub Branch/PR": prop("url", None),
        "Last Updated": prop("date", None),
    }


def body(text: str = "Welcome to the lab.") -> list[dict[str, Any]]:
    """A content page in the template: objectives, a text section and a checklist."""
    return [
        para(rt("Learning Objectives", bold=True)),
        item("Stay safe"),
        heading("Section 1: Welcome"),
        para(rt(text)),
        heading("Section 2: Check"),
        para(rt("Type: Checklist")),
        code("items:\n  - {id: glasses, label: Safety glasses}\n"),
    ]


# -- deploys on a real Postgres ----------------------------------------------------------------


def versions(db: Database) -> dict[str, int]:
    """Row versions (xmin) of modules and sections: they change whenever a row is written."""
    rows = db.rows(
        "SELECT 'm:' || module_id, xmin::text::bigint FROM modules UNION ALL "
        "SELECT 's:' || m.module_id || ':' || s.section_number, s.xmin::text::bigint "
        "FROM module_sections s JOIN modules m ON m.id = s.module_id"
    )
    return {key: int(version) for key, version in rows}


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll until `condition()` holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def waiting_on_locks(db: Database) -> int:
    """How many of the pipeline's connections are waiting for a lock."""
    return int(
        db.value(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
            "'module-pipeline' AND wait_event_type = 'Lock'"
        )
    )


# -- real git --------------------------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    """Real git, for arranging and inspecting test repositories."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def remote_checkout(
    tmp_path: Path, files: dict[str, str], *, name: str = "work", message: str = "base"
) -> tuple[Path, Path]:
    """(checkout, bare remote): a bare repository at tmp_path/remote.git whose main holds
    `files` ({repository path: text}) in one commit, and a clone of it at tmp_path/name,
    as a workflow's checkout or a team's working copy."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    work = tmp_path / name
    git(tmp_path, "clone", "-q", str(bare), str(work))
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    git(work, "add", ".")
    git(work, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", message)
    git(work, "push", "-q", "origin", "main")
    return work, bare


# -- the command line ----------------------------------------------------------------------


def cli_commands() -> list[str]:
    """Every command a user can run, as words after `pipeline` ("db migrate")."""
    found: list[str] = []

    def walk(command: Any, path: list[str]) -> None:
        subcommands = getattr(command, "commands", None)  # a group, whichever click it uses
        if subcommands is None:
            found.append(" ".join(path))
            return
        for name, sub in sorted(subcommands.items()):
            if not sub.hidden:
                walk(sub, [*path, name])

    from pipeline.cli import app

    walk(typer.main.get_command(app), [])
    return found


def printed_table(out: str, title: str) -> list[dict[str, str]]:
    """The rows of the table titled `title` in a command's text output (the deploy plan,
    `pipeline status`), each as {column: cell}. Cells are cut where the rule under the
    header marks each column, and every row must leave the gaps between columns blank:
    a row out of line with its header fails the test. The table ends at the first line
    that does not (the counts)."""
    lines = out.splitlines()
    at = lines.index(title)
    header, rule = lines[at + 1], lines[at + 2]
    spans = [m.span() for m in re.finditer("─+", rule)]
    assert rule == "  ".join("─" * (end - start) for start, end in spans), rule
    names = [header[start:end].strip() for start, end in spans]
    rows = []
    for line in lines[at + 3 :]:
        if not line or any(line[start - 2 : start].strip() for start, _ in spans[1:]):
            break
        rows.append({n: line[a:b].strip() for n, (a, b) in zip(names, spans, strict=True)})
    return rows


# -- GitHub Markdown, as a reviewer's page shows it ------------------------------------------

# GitHub links (and notifies) @user and @org/team in text after rendering the Markdown, when
# the @ does not follow a letter or digit; never inside code or links' destinations.
LIVE_MENTION = re.compile(r"(?<![A-Za-z0-9])@[A-Za-z0-9]")


@dataclass
class GitHubView:
    """What a Markdown document becomes: the raw HTML GitHub would pass on, the text
    nodes it would scan for mentions, the code it shows verbatim, the tables' rows."""

    html: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    @property
    def mentions(self) -> list[str]:
        return [t for t in self.text if LIVE_MENTION.search(t)]


def github_view(markdown: str) -> GitHubView:
    """`markdown` parsed as CommonMark with GFM tables and strikethrough (markdown-it-py)."""
    from markdown_it import MarkdownIt

    view = GitHubView()
    tokens = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    in_heading = False
    row: list[str] | None = None
    for token in tokens.parse(markdown):
        if token.type == "html_block":
            view.html.append(token.content.strip())
        elif token.type in ("fence", "code_block"):
            view.code.append(token.content)
        elif token.type == "heading_open":
            in_heading = True
        elif token.type == "heading_close":
            in_heading = False
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            view.rows.append(row)
            row = None
        elif token.type == "inline":
            if in_heading:
                view.headings.append(token.content)
            if row is not None and token.level > 0:
                row.append(token.content)
            for child in _inline_children(token.children or []):
                if child.type == "html_inline":
                    view.html.append(child.content)
                elif child.type == "text":
                    view.text.append(child.content)
                elif child.type == "code_inline":
                    view.code.append(child.content)
    return view


def _inline_children(children: list[Any]) -> Iterator[Any]:
    for child in children:
        yield child
        yield from _inline_children(child.children or [])


# -- authoring (#13): the blocks team leads write, and seed 001's content-page template ----


def todo(text: str, checked: bool = False, children: list[dict[str, Any]] | None = None) -> Any:
    return block("to_do", children, rich_text=[rt(text)], checked=checked, color="default")


def bullet(text: str, children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return block("bulleted_list_item", children, rich_text=[rt(text)], color="default")


def toggle_heading(text: str, children: list[dict[str, Any]], level: int = 3) -> dict[str, Any]:
    """A heading with its content folded inside it, as Notion's toggle headings are."""
    return block(f"heading_{level}", children, rich_text=[rt(text)], is_toggleable=True)


def callout(text: str, children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return block("callout", children, rich_text=[rt(text)], icon={"type": "emoji", "emoji": "💡"})


def table(*rows: tuple[str, ...], header: bool = True) -> dict[str, Any]:
    return block(
        "table",
        [row(*cells) for cells in rows],
        table_width=max(len(r) for r in rows),
        has_column_header=header,
        has_row_header=False,
    )


def page_mention(page_id: str, title: str) -> dict[str, Any]:
    """An @-mention of a Notion page in rich text."""
    return {
        "type": "mention",
        "mention": {"type": "page", "page": {"id": page_id}},
        "annotations": dict(PLAIN),
        "plain_text": title,
        "href": f"https://www.notion.so/{page_id.replace('-', '')}",
    }


SEED_HOTSPOTS = (
    "instruction: Click on 5 safety equipment locations\n"
    "hotspots:\n"
    "  - {id: fire-extinguisher, x: 100, y: 200, label: Fire Extinguisher}\n"
    "  - {id: eye-wash, x: 300, y: 150, label: Eye Wash Station}\n"
    "  - {id: first-aid, x: 420, y: 80, label: First Aid Kit}\n"
    "  - {id: emergency-stop, x: 60, y: 40, label: Emergency Power Off}\n"
    "  - {id: exit, x: 500, y: 260, label: Emergency Exit}\n"
    "completion_criteria: {hotspots_clicked: 5}\n"
)
# Seed 001's example section config (lab-safety-101.json, section 2's "content"), as
# printed there: two of its five hotspots.
SEED_EXAMPLE_CONFIG = """{
  "instruction": "Click on 5 safety equipment locations",
  "hotspots": [
    {"id": "fire-extinguisher", "x": 100, "y": 200, "label": "Fire Extinguisher"},
    {"id": "eye-wash", "x": 300, "y": 150, "label": "Eye Wash Station"}
  ],
  "completion_criteria": {"hotspots_clicked": 5}
}"""


def seed_template(hotspots: str = SEED_HOTSPOTS, language: str = "yaml") -> list[dict[str, Any]]:
    """Seed 001's "Module Content Page Template", block for block as Notion holds it once
    typed in: its placeholders filled ("[Hotspot configuration here...]" with `hotspots`)."""
    return [
        heading("Lab Safety 101", 1),
        para(rt("Metadata", bold=True)),
        bullet("Module ID: lab-safety-101"),
        bullet("Category: Safety"),
        bullet("Estimated Time: 10 minutes"),
        bullet("Target Audience: Incoming Students"),
        para(rt("Learning Objectives", bold=True)),
        item("Identify 5 key safety protocols"),
        item("Locate emergency equipment in the lab"),
        item("Understand PPE requirements"),
        para(rt("Sections", bold=True)),
        heading("Section 1: Welcome to Lab Safety"),
        para(rt("This module will teach you the five rules that keep everyone safe.")),
        heading("Section 2: Interactive Equipment Locator"),
        para(rt("Type: Interactive")),
        code(hotspots, language),
        heading("Section 3: PPE Requirements"),
        para(rt("Wear safety glasses and closed-toe shoes.")),
        para(rt("Export Notes", bold=True)),
        bullet("Last exported: 2025-11-26"),
        bullet("Exported by: @Developer"),
        bullet("GitHub PR: #123"),
    ]
