"""What a team lead reads about their page, in their words: the page's errors and report.

A page's errors name the place as the team lead sees it in Notion, 1-based ("Section 2
(Locate Safety Equipment), settings block line 3"), say what is wrong and what to write
instead, with a short example; a problem that the person running the pipeline must fix
says so. Every message the pipeline writes to Notion ends with a link to the authoring
guide (docs/authoring.md). Pure functions: nothing here talks to Notion.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline.config import NotionSettings
from pipeline.errors import ContentError
from pipeline.modules.problems import Problem
from pipeline.notion.markdown import Skipped

# Why a page failed decides when it is read again (see notion/row.py):
#   content    the page must change: not read again until it is edited
#   operator   pipeline.yaml or the integration must change: read again next run
#   transient  a download, a 5xx, a timeout: read again next run
#   cross      another page or module file must change: read again next run
FailureKind = Literal["content", "operator", "transient", "cross"]

GUIDE_PATH = "docs/authoring.md"
OPERATOR = "For whoever runs the pipeline (nothing to change on this page): "
_MAX_LISTED = 5


class PageError(ContentError):
    """A page that cannot become a module file; the message is for the team lead.

    `where` is the place on the page ("Section 2 (Locate Safety Equipment), settings
    block line 3"), `kind` when to read the page again, `guide` the part of the
    authoring guide that explains it (an anchor of docs/authoring.md)."""

    def __init__(
        self,
        page_id: str,
        message: str,
        *,
        where: str = "",
        kind: FailureKind = "content",
        guide: str = "",
        lines: list[str] | None = None,
    ) -> None:
        text = f"{where}: {message}" if where else message
        text = OPERATOR + text if kind == "operator" else text
        super().__init__(text)
        self.page_id = page_id
        self.where = where
        self.kind: FailureKind = kind
        self.guide = guide
        self.lines = lines or [text]  # one problem per line, for the row

    def at(self, where: str) -> PageError:
        """This error, placed (when it was not yet) at `where` on the page."""
        if self.where:
            return self
        message = str(self).removeprefix(OPERATOR) if self.kind == "operator" else str(self)
        return PageError(self.page_id, message, where=where, kind=self.kind, guide=self.guide)


def quoted(text: str, limit: int = 60) -> str:
    """Text from the page as a team lead would quote it: “…”, shortened when long."""
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


# -- where a value of the module came from --------------------------------------------------


@dataclass
class Origins:
    """Where each part of a converted module came from on the page, by JSON pointer into
    the module ("/sections/1/section_config/hotspots/0" -> "Section 2 (Locate Safety
    Equipment), hotspot table row 1"), so a problem found in the module file is named
    where the team lead can fix it."""

    places: dict[str, str] = field(default_factory=dict)
    sections: list[tuple[int, str]] = field(default_factory=list)  # (number, title)

    def add(self, at: str, place: str) -> None:
        self.places[at] = place

    def place(self, at: str) -> str:
        """The place of `at` or of the nearest part that holds it."""
        probe = at
        while True:
            if probe in self.places:
                return self.places[probe]
            if not probe:
                break
            probe = probe.rsplit("/", 1)[0]
        return "the page"


# -- validation problems in the team lead's words ------------------------------------------

_TYPE_WORDS = {
    "a string": "text",
    "an object": "a group of settings (name: value lines)",
    "an array": "a list",
    "a number": "a number",
    "true/false": "true or false",
    "null": "empty",
    "an integer": "a whole number",
    "a whole number": "a whole number",
}
_SECTION_FIELD = re.compile(r"^/sections/(\d+)(?:/(.*))?$")
_SECTION_OR_SETTINGS = re.compile(r"^/sections/\d+(?:/section_config)?$")
_MISSING = re.compile(r'^missing required field "(?P<name>[^"]+)"$')
_UNKNOWN = re.compile(
    r'^unknown field "(?P<name>[^"]+)"(?: \(did you mean "(?P<close>[^"]+)"\?\))?$'
)
_WRONG_TYPE = re.compile(r"^(?P<name>\S+) must be (?P<wanted>.+), found (?P<found>.+)$")
_ENUM = re.compile(
    r"^(?P<name>\S+) (?P<value>.+) is not known(?P<hint> \(did you mean [^)]*\))?; "
    r"use one of: (?P<options>[^(]+?)(?: \(.*\))?$"
)


@dataclass(frozen=True)
class TeamLeadProblem:
    where: str
    message: str
    guide: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def describe(problem: Problem, origins: Origins, module: Mapping[str, Any]) -> TeamLeadProblem:
    """A problem `pipeline validate` found in the exported module, where the team lead wrote
    it and in their words."""
    where = origins.place(problem.pointer)
    message = _reworded(problem, module)
    section = _SECTION_FIELD.match(problem.pointer)
    guide = "common-problems"
    if section and section.group(2) and section.group(2).startswith("section_config"):
        guide = _section_guide(module, int(section.group(1)))
    elif section and section.group(2) and section.group(2).startswith("completion_criteria"):
        guide = "when-a-section-is-complete"
    return TeamLeadProblem(where, message, guide)


def _section_guide(module: Mapping[str, Any], index: int) -> str:
    try:
        kind = str(module["sections"][index]["section_type"])
    except (KeyError, IndexError, TypeError):
        return "section-types"
    return {
        "checklist": "checklists",
        "quiz": "quizzes",
        "interactive": "interactive-sections",
    }.get(kind, "section-types")


# What a section of each type needs that team leads most often leave out, in their words.
_NEEDS = {
    ("checklist", "items"): "a checklist needs its items: write each as a to-do in the section, "
    "or list them in a settings block, e.g. `items: [Safety glasses, Closed-toe shoes]`",
    ("quiz", "questions"): "a quiz needs its questions: write each question followed by its "
    "options as to-dos and tick the correct ones, or write them in a settings block, e.g. "
    "`questions: [{prompt: Where is the eye wash?, options: [By the door, Under the sink], "
    "answer: By the door}]`",
    ("interactive", "hotspots"): "a hotspot section needs its hotspots: add a table with the "
    "columns label, x and y, or list them in the settings block, e.g. `hotspots: [{label: Eye "
    "wash, x: 300, y: 150}]`",
    ("interactive", "instruction"): "an interactive section needs an instruction (what the "
    "student is asked to do): add it to the settings block, e.g. `instruction: Click on the 5 "
    "pieces of safety equipment`",
    ("video", "media_url"): "a video section needs its video: add a video block (upload the "
    "file, or paste a YouTube or Vimeo link)",
    ("image", "media_url"): "an image section needs its picture: add an image block",
}


def _section_type(module: Mapping[str, Any], at: str) -> str | None:
    section = _SECTION_FIELD.match(at)
    if not section:
        return None
    try:
        return str(module["sections"][int(section.group(1))]["section_type"])
    except (KeyError, IndexError, TypeError):
        return None


def _reworded(problem: Problem, module: Mapping[str, Any]) -> str:
    message = problem.message
    if problem.check != "schema":
        return _plain(message)
    for pattern, reword in _REWORDS:
        if match := pattern.match(message):
            return reword(match, problem, module)
    return _plain(message)


def _missing(match: re.Match[str], problem: Problem, module: Mapping[str, Any]) -> str:
    name = match["name"]
    need = _NEEDS.get((_section_type(module, problem.pointer) or "", name))
    if need is not None and _SECTION_OR_SETTINGS.match(problem.pointer):
        return need
    example = setting_example(module, problem.pointer, name)
    return f"the setting “{name}” is missing: add it" + (f", e.g. `{example}`" if example else "")


def _unknown(match: re.Match[str], problem: Problem, module: Mapping[str, Any]) -> str:
    close = f" (did you mean “{match['close']}”?)" if match["close"] else ""
    takes = _settings_taken(module, problem.pointer)
    taken = f"; the settings it takes are: {', '.join(takes)}" if takes else ""
    return f"“{match['name']}” is not a setting here{close}: remove or rename it{taken}"


def _wrong_type(match: re.Match[str], problem: Problem, module: Mapping[str, Any]) -> str:
    need = _NEEDS.get((_section_type(module, problem.pointer) or "", match["name"]))
    if need is not None and match["found"] == "null":
        return need
    wanted = _TYPE_WORDS.get(match["wanted"], match["wanted"])
    found = _TYPE_WORDS.get(match["found"], match["found"])
    return f"“{match['name']}” must be {wanted}, not {found}"


def _not_a_choice(match: re.Match[str], _problem: Problem, _module: Mapping[str, Any]) -> str:
    hint = match["hint"] or ""
    hint = hint.replace('"', "“", 1).replace('"', "”", 1) if hint else ""
    extra = ""
    if match["name"] == "environment_type":
        extra = (
            ". A new kind of interactive section is added by the pipeline's developers "
            "(a schema in schemas/components/)"
        )
    return (
        f"{match['value']} is not a choice for “{match['name']}”{hint}; choose one of: "
        f"{match['options'].strip()}{extra}"
    )


_REWORDS: tuple[
    tuple[re.Pattern[str], Callable[[re.Match[str], Problem, Mapping[str, Any]], str]], ...
] = (
    (_MISSING, _missing),
    (_UNKNOWN, _unknown),
    (_WRONG_TYPE, _wrong_type),
    (_ENUM, _not_a_choice),
)


def _plain(message: str) -> str:
    """Module-file words a team lead does not use, in theirs."""
    for file_words, page_words in (
        ("section_config", "the settings"),
        ("completion type", "“Complete when”"),
        ("completion_criteria", "“Complete when”"),
        ("hotspots_clicked", "the number of hotspots to click"),
        (
            "students could never complete it",
            "students could never complete it: add the missing hotspots, or lower the number",
        ),
        ("; add data/modules/", "; export that module first, or fix the id ("),
    ):
        message = message.replace(file_words, page_words)
    if message.endswith(" or fix the id") and "export that module first" in message:
        message = message.replace(".json or fix the id", ")")
    return message


def _settings_taken(module: Mapping[str, Any], at: str) -> list[str]:
    from pipeline.modules.schema import load_schema

    section = _SECTION_FIELD.match(at)
    if not section or not (section.group(2) or "").startswith("section_config"):
        return []
    try:
        config_section = module["sections"][int(section.group(1))]
        kind = config_section["section_type"]
    except (KeyError, IndexError, TypeError):
        return []
    defs = load_schema()["$defs"]
    if kind == "interactive":
        from pipeline.modules.schema import default_component

        component = (config_section.get("section_config") or {}).get("environment_type")
        definition = defs.get(f"component_{component or default_component()}", {})
    else:
        definition = defs.get(f"config_{kind}", {})
    inner = (section.group(2) or "").split("/")[1:-1]  # the object holding the field
    node: Any = definition
    for step in inner:
        if not isinstance(node, dict):
            return []
        node = node.get("items", {}) if step.isdigit() else node.get("properties", {}).get(step)
        node = _resolve(node or {}, defs)
    properties = node.get("properties", {}) if isinstance(node, dict) else {}
    return sorted(properties)


def _resolve(node: Any, defs: Mapping[str, Any]) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        node = defs.get(node["$ref"].rsplit("/", 1)[-1], {})
    return node


# Examples of the settings a team lead most often leaves out.
_EXAMPLES = {
    "instruction": "instruction: Click on the 5 pieces of safety equipment",
    "hotspots": "hotspots: [{label: Eye Wash Station, x: 300, y: 150}]",
    "items": "items: [Safety glasses, Closed-toe shoes]",
    "questions": "questions: [{prompt: Where is the eye wash?, options: [By the door, "
    "Under the sink], answer: By the door}]",
    "alt_text": "alt_text: The lab's floor plan with the exits marked",
    "problem_type": "problem_type: merge_conflict",
    "game_type": "game_type: memory",
    "language": "language: python",
    "files": "files: [{path: main.py, content: print('hello')}]",
    "prompt": "prompt: Where is the eye wash?",
    "options": "options: [By the door, Under the sink]",
    "answer": "answer: By the door",
    "label": "label: Safety glasses",
}


def setting_example(module: Mapping[str, Any], at: str, name: str) -> str:
    """A line that would add the setting `name` where `at` points, or ""."""
    section = _SECTION_FIELD.match(at)
    if section and name not in _EXAMPLES:
        try:
            config = module["sections"][int(section.group(1))].get("section_config") or {}
        except (KeyError, IndexError, TypeError):
            config = {}
        from pipeline.modules.schema import component_sample, default_component

        sample = component_sample(str(config.get("environment_type") or default_component()))
        if sample and name in sample:
            return f"{name}: {json.dumps(sample[name], ensure_ascii=False)}"
    return _EXAMPLES.get(name, "")


# -- the message on the Notion row ------------------------------------------------------------

EXPORT_FAILED = "Export failed: "
CHECK_FAILED = "Check before Ready: "
EXPORTED = "Exported: "
CHECKED = "Checked: "
# A page that exports, but without some of what its team lead wrote: not an OK marker,
# so once the page is whole again a short "Exported" message follows.
EXPORTED_LEAVING_OUT = "Exported, but part of the page was left out: "
CHECKED_LEAVING_OUT = "Checked, but exporting would leave part of the page out: "
# The pipeline's messages on a page start with one of these: how it knows its own.
OUR_MARKERS = (
    EXPORT_FAILED,
    CHECK_FAILED,
    EXPORTED,
    CHECKED,
    EXPORTED_LEAVING_OUT,
    CHECKED_LEAVING_OUT,
)
OK_MARKERS = (EXPORTED, CHECKED)


def row_message(problems: Sequence[str], *, check: bool, guide: str) -> str:
    """What the row shows for a page that failed: each problem on its line (the first few),
    then where the guide explains it. At most 2,000 characters, Notion's limit."""
    return _row_text(CHECK_FAILED if check else EXPORT_FAILED, problems, guide)


def left_out_message(skipped: Sequence[Skipped], *, check: bool, guide: str) -> str:
    """What the row shows for a page that exported without some of what was written on
    it (a block the export cannot read, a link it removed, text outside any section):
    each on its line, where it is and what to write instead. Empty when nothing was
    left out but what is meant to be (Export Notes)."""
    lines = [f"{s.where}: {s.reason}" if s.where else s.reason for s in skipped if not s.intended]
    if not lines:
        return ""
    return _row_text(CHECKED_LEAVING_OUT if check else EXPORTED_LEAVING_OUT, lines, guide)


def _row_text(lead: str, problems: Sequence[str], guide: str) -> str:
    shown = list(dict.fromkeys(problems))
    listed = shown[:_MAX_LISTED]
    more = len(shown) - len(listed)
    body = "\n".join(listed) + (f"\n(and {more} more)" if more else "")
    tail = f"\nHow to fix it: {guide}"
    room = 2000 - len(lead) - len(tail)
    if len(body) > room:
        body = body[: room - 1] + "…"
    return lead + body + tail


def cleared_message(*, check: bool, revision: int | None = None) -> str:
    """The comment that follows an error comment once the page is right."""
    if check:
        return CHECKED + "the page has no problems any more; set Status to Ready to export it."
    at = f" (revision {revision})" if revision else ""
    return EXPORTED + f"the page exports without problems now{at}."


def guide_base(settings: NotionSettings) -> str:
    """Where the authoring guide is: notion.guide_url, else this repository's copy on
    GitHub (in Actions), else its path in the repository."""
    if settings.guide_url:
        return settings.guide_url
    server = os.environ.get("GITHUB_SERVER_URL", "").rstrip("/")
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    if server and repository:
        return f"{server}/{repository}/blob/HEAD/{GUIDE_PATH}"
    return GUIDE_PATH


def guide_link(base: str, anchor: str = "") -> str:
    """The authoring guide (an address, or its path in the repository), at the part
    `anchor` names when given."""
    if base.startswith(("http://", "https://")):
        return f"{base}#{anchor}" if anchor and "#" not in base else base
    part = f", the part “{anchor.replace('-', ' ').capitalize()}”" if anchor else ""
    return f"{base}{part} (in the pipeline's repository)"
