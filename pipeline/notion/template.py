"""`pipeline notion template`: a "Module template" page in the Module Library with one
working example of every section type, written as team leads write (see
docs/authoring.md); exporting it gives a valid module.

Notion's API cannot make a database template (only the app can), but it can fill one:
when the Module Library has a template named "Module template" (New ▾ → + New template),
that template gets the content, and every new page made from it starts from it. Without
one, a page of that name is made in the library (team leads duplicate it). Run again, the
command changes nothing when the content is already there, and otherwise writes it anew.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline.config import NotionSettings
from pipeline.errors import UsageError
from pipeline.notion.api import NotionAPI
from pipeline.notion.markdown import notion_url
from pipeline.notion.page import TEMPLATE_MODULE_ID, TEMPLATE_TITLE
from pipeline.notion.report import guide_base

_APPEND = 100  # blocks per request, Notion's limit
Action = Literal["created", "updated", "unchanged"]


@dataclass
class TemplateResult:
    page_id: str
    url: str
    kind: Literal["database template", "page"]
    action: Action
    section_types: list[str] = field(default_factory=list)
    requests: int = 0


# -- blocks as the API takes them -------------------------------------------------------------


def _text(content: str, **annotations: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "text", "text": {"content": content}}
    if annotations:
        item["annotations"] = annotations
    return item


def _block(kind: str, children: Sequence[dict[str, Any]] = (), **payload: Any) -> dict[str, Any]:
    if children:
        payload["children"] = list(children)
    return {"object": "block", "type": kind, kind: payload}


def _para(*parts: str | dict[str, Any]) -> dict[str, Any]:
    items = [_text(p) if isinstance(p, str) else p for p in parts]
    return _block("paragraph", rich_text=items)


def _bold(text: str) -> dict[str, Any]:
    return _para(_text(text, bold=True))


def _heading(text: str, children: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    return _block("heading_3", children, rich_text=[_text(text)], is_toggleable=bool(children))


def _item(kind: str, text: str) -> dict[str, Any]:
    return _block(kind, rich_text=[_text(text)])


def _todo(text: str, checked: bool = False) -> dict[str, Any]:
    return _block("to_do", rich_text=[_text(text)], checked=checked)


def _code(source: str, language: str = "yaml") -> dict[str, Any]:
    return _block("code", rich_text=[_text(source)], language=language)


def _media(kind: str, url: str, caption: str) -> dict[str, Any]:
    return _block(kind, type="external", external={"url": url}, caption=[_text(caption)])


def _table(*rows: tuple[str, ...]) -> dict[str, Any]:
    return _block(
        "table",
        [_block("table_row", cells=[[_text(c)] for c in cells]) for cells in rows],
        table_width=len(rows[0]),
        has_column_header=True,
        has_row_header=False,
    )


def _callout(text: str) -> dict[str, Any]:
    return _block("callout", rich_text=[_text(text)], icon={"type": "emoji", "emoji": "💡"})


def template_blocks(guide: str = "docs/authoring.md") -> list[dict[str, Any]]:
    """The template's content: the page layout of seed 001 and one working example of every
    section type (and of an interactive component chosen by name)."""
    link = {"url": guide} if guide.startswith(("http://", "https://")) else None
    return [
        _block(
            "callout",
            rich_text=[
                _text(
                    "This is the module template. Duplicate it (or choose it under New ▾), "
                    "give it its own Module ID, then replace the examples with your own. How: "
                ),
                {"type": "text", "text": {"content": "the authoring guide", "link": link}},
                _text("."),
            ],
            icon={"type": "emoji", "emoji": "💡"},
        ),
        _bold("Metadata"),
        _item("bulleted_list_item", f"Module ID: {TEMPLATE_MODULE_ID}"),
        _item("bulleted_list_item", "Category: Safety"),
        _item("bulleted_list_item", "Estimated Time: 20 minutes"),
        _item("bulleted_list_item", "Target Audience: Incoming Students"),
        _bold("Learning Objectives"),
        _item("numbered_list_item", "Name the five lab safety rules"),
        _item("numbered_list_item", "Find the safety equipment in the lab"),
        _bold("Sections"),
        # 1. text
        _heading("Section 1: Welcome"),
        _para("Duration: 2 minutes"),
        _para(
            "Any text, with ",
            _text("bold", bold=True),
            " and ",
            _text("italic", italic=True),
            " words, lists and links, is what the student reads.",
        ),
        _item("bulleted_list_item", "Know your exits."),
        _item("bulleted_list_item", "Wear the right protection."),
        _para("Complete when: 1 minute"),
        # 2. video
        _heading("Section 2: A tour of the lab"),
        _para("Type: Video"),
        _media("video", "https://www.example.org/lab-tour.mp4", "The lab, room by room"),
        _para("Replace the video with yours: upload a file, or paste a YouTube or Vimeo link."),
        # 3. image
        _heading("Section 3: The floor plan"),
        _para("Type: Image"),
        _media(
            "image",
            "https://www.example.org/lab-floor-plan.png",
            "The lab's floor plan, with the exits marked",
        ),
        _para("The picture's caption is what a student who cannot see it hears."),
        # 4. checklist
        _heading("Section 4: Before you start"),
        _para("Type: Checklist"),
        _para("Tick each one off:"),
        _todo("Safety glasses"),
        _todo("Closed-toe shoes"),
        _todo("Long hair tied back (optional)"),
        _para("Complete when: all required items checked"),
        # 5. quiz
        _heading("Section 5: Check yourself"),
        _para("Type: Quiz"),
        _item("numbered_list_item", "Where is the eye wash station?"),
        _todo("By the door", checked=True),
        _todo("Under the sink"),
        _callout("It is by the door, so you can reach it with your eyes closed."),
        _item("numbered_list_item", "Which of these do you wear in the lab?"),
        _todo("Safety glasses", checked=True),
        _todo("Sandals"),
        _todo("A lab coat", checked=True),
        _para("Complete when: score 80%"),
        # 6. interactive (image hotspots), written under a toggle heading
        _heading(
            "Section 6: Find the safety equipment",
            [
                _para("Type: Interactive"),
                _media(
                    "image",
                    "https://www.example.org/lab-floor-plan.png",
                    "The lab's floor plan",
                ),
                _code("instruction: Click on each piece of safety equipment", "plain text"),
                _table(
                    ("label", "x", "y"),
                    ("Fire Extinguisher", "100", "200"),
                    ("Eye Wash Station", "300", "150"),
                    ("First Aid Kit", "420", "80"),
                ),
                _para("Complete when: all hotspots clicked"),
            ],
        ),
        # 7. interactive, a component chosen by name
        _heading("Section 7: Sort the waste"),
        _para("Type: Drag and drop"),
        _code(
            "instruction: Drag each item into the bin it belongs in\n"
            "items:\n"
            "  - {id: gloves, label: Used gloves}\n"
            "  - {id: glass, label: Broken glass}\n"
            "targets:\n"
            "  - {id: biohazard, label: Biohazard bin}\n"
            "  - {id: sharps, label: Sharps box}\n"
            "answer: {gloves: biohazard, glass: sharps}\n"
        ),
        # 8. sandbox
        _heading("Section 8: Try the code"),
        _para("Type: Sandbox"),
        _code(
            "language: python\n"
            "files:\n"
            "  - path: main.py\n"
            "    content: |\n"
            "      print('Stay safe')\n"
            "runnable: true\n"
            "expected_output: Stay safe\n"
        ),
        _para("Run the program and read what it prints."),
        # 9. game
        _heading("Section 9: Safety match-up"),
        _para("Type: Game"),
        _code(
            "game_type: memory\n"
            "time_limit: 120\n"
            "challenges:\n"
            "  - {pair: [Goggles, Eyes]}\n"
            "  - {pair: [Gloves, Hands]}\n"
        ),
        # 10. guided struggle
        _heading("Section 10: When the alarm goes off"),
        _para("Type: Guided struggle"),
        _para("Work out what to do first. Ask for a hint when you are stuck."),
        _code(
            "problem_type: evacuation\n"
            "hints:\n"
            "  - Which exit is closest?\n"
            "  - Who else is in the lab?\n"
        ),
    ]


SECTION_TYPES = [
    "text",
    "video",
    "image",
    "checklist",
    "quiz",
    "interactive",
    "interactive",
    "sandbox",
    "game",
    "guided_struggle",
]


# -- comparing what is there with what should be ---------------------------------------------


def _shape(block: dict[str, Any]) -> tuple[Any, ...]:
    """What of a block the template cares about, whether sent (children in the payload) or
    read back (children beside it)."""
    kind = str(block.get("type"))
    payload = dict(block.get(kind) or {})
    children = payload.pop("children", None) or block.get("children") or []

    def text(items: Any) -> str:
        return "".join(
            str(i.get("plain_text") or (i.get("text") or {}).get("content", ""))
            for i in items or []
        )

    cells = tuple(text(cell) for cell in payload.get("cells", []))
    url = (payload.get("external") or {}).get("url")
    return (
        kind,
        text(payload.get("rich_text")),
        text(payload.get("caption")),
        cells,
        bool(payload.get("checked")),
        payload.get("language"),
        url,
        tuple(_shape(c) for c in children),
    )


# -- the command --------------------------------------------------------------------------


def publish_template(settings: NotionSettings, *, dry_run: bool = False) -> TemplateResult:
    """`pipeline notion template`: NOTION_TOKEN (and NOTION_API_BASE_URL) from the
    environment, the Module Library from pipeline.yaml."""
    api = NotionAPI.from_environment(per_second=settings.requests_per_second)
    result = Publisher(api, settings).publish(dry_run=dry_run)
    result.requests = api.stats.requests
    return result


class Publisher:
    def __init__(self, api: NotionAPI, settings: NotionSettings) -> None:
        self.api, self.settings = api, settings

    def publish(self, *, dry_run: bool) -> TemplateResult:
        if not self.settings.database_id and not self.settings.data_source_id:
            raise UsageError(
                "pipeline.yaml has no notion.database_id; set it to the id of the Module "
                "Library database"
            )
        source = self.settings.data_source_id or self.api.data_source_id(
            str(self.settings.database_id)
        )
        blocks = template_blocks(guide_base(self.settings))
        target, kind = self._find(source)
        if target is None:
            if dry_run:
                return TemplateResult("", "", "page", "created", list(SECTION_TYPES))
            page = self.api.create_row(
                source,
                {self.settings.properties["title"]: {"title": [_text(TEMPLATE_TITLE)]}},
            )
            self._append(str(page["id"]), blocks)
            return self._result(str(page["id"]), "page", "created")
        existing = self.api.block_tree(target)
        if [_shape(b) for b in existing] == [_shape(b) for b in blocks]:
            return self._result(target, kind, "unchanged")
        if not dry_run:
            for block in existing:
                self.api.delete_block(str(block["id"]))
            self._append(target, blocks)
        return self._result(target, kind, "updated")

    def _result(
        self, page_id: str, kind: Literal["database template", "page"], action: Action
    ) -> TemplateResult:
        return TemplateResult(page_id, notion_url(page_id), kind, action, list(SECTION_TYPES))

    def _find(self, source: str) -> tuple[str | None, Literal["database template", "page"]]:
        """The database template named "Module template", else the library's page of that
        name, else nothing."""
        for template in self.api.templates(source):
            if str(template.get("name", "")).strip() == TEMPLATE_TITLE:
                return str(template["id"]), "database template"
        title = self.settings.properties["title"]
        found = self.api.query(
            source,
            what="the Module Library",
            filter={"property": title, "title": {"equals": TEMPLATE_TITLE}},
        )
        page = next(iter(found), None)
        return (str(page["id"]) if page else None), "page"

    def _append(self, parent: str, blocks: list[dict[str, Any]]) -> None:
        for start in range(0, len(blocks), _APPEND):
            self.api.append_blocks(parent, blocks[start : start + _APPEND])
