"""Checks the schema cannot express, as pure functions of parsed module data.

Per-file checks look at one schema-valid module; cross-file checks look at the
whole set (unique ids, references, prerequisite cycles). Nothing here touches
the disk or the network: the caller resolves asset paths and fetches URLs.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

import orjson

from pipeline.layout import ASSET_PREFIX
from pipeline.modules.problems import Problem, did_you_mean, pointer

if TYPE_CHECKING:  # imported on first use: most sections hold no image
    from markdown_it import MarkdownIt

_TYPES_WITH_IDS = frozenset({"checklist", "interactive", "quiz"})

_URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>()\[\]]+")
_NOTION_HOST_PARTS = ("notion-static.com", "notionusercontent.com", "file.notion.so")
# "notion" and what follows it in every host _NOTION_HOST_PARTS names (and in Notion's
# S3 path). Regular expressions, not `in` and str.find: for a literal they scan for its
# first character in one C loop, which takes half the time on a module's text.
_NOTION_HOST = re.compile(r"notion(?:-static\.|usercontent\.|\.so)")
_SIGNING = re.compile("X-Amz-")
_ESCAPED_NUL = re.compile(r"\\u0000")
_WHITESPACE = re.compile(r"\s")
_HOST = re.compile(r"^(localhost|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)(:[0-9]{1,5})?$")


_EXTERNAL = ("http://", "https://")


class Reference(NamedTuple):
    """A place in a module that names a media file."""

    pointer: str
    target: str
    strict: bool  # a media field or image: must be a URL or an asset path

    @property
    def is_external(self) -> bool:
        return self.target.startswith(_EXTERNAL)

    @property
    def is_asset(self) -> bool:
        return self.target.startswith(ASSET_PREFIX)


# -- per-file -------------------------------------------------------------------------------


def file_checks(
    doc: Mapping[str, Any],
    display: str,
    stem: str,
    refs: list[Reference],
    text: str,
    plain: Sequence[bool] | None = None,
) -> list[Problem]:
    """All per-file checks of one schema-valid module.

    `refs` is media_references(doc) and `text` the file's source: the caller
    has both, and scanning the text first lets most files skip the walk over
    every string.
    """
    problems = [*check_file_name(doc, display, stem), *check_section_numbers(doc, display)]
    problems += check_self_references(doc, display)
    problems += check_database_limits(doc, display, text)
    problems += check_markup(doc, display, plain)
    for index, section in enumerate(doc["sections"]):
        if _config_checked(section):  # asked here: most sections cost no pointer, no call
            problems += check_section_config(section, f"/sections/{index}", display)
    if might_hold_notion_urls(text):
        problems += check_notion_hosted(doc, display)
    problems += check_references(refs, display)
    return problems


# Nesting of a module file, counted from the top object; only free-form JSON
# (adaptive_config, a game's challenges) can go this deep.
MAX_DEPTH = 64
_WHOLE_NUMBERS = ("estimated_minutes", "difficulty_level")
_SECTION_WHOLE_NUMBERS = ("section_number", "duration_seconds")


def check_database_limits(doc: Mapping[str, Any], display: str, text: str) -> list[Problem]:
    """What the schema lets through but Postgres would refuse at deploy: a NUL character
    in text, 10.0 where a column holds whole numbers, JSON nested past MAX_DEPTH."""
    problems = []
    if _ESCAPED_NUL.search(text):  # JSON can hold a NUL only escaped
        problems += [
            Problem(
                display,
                "this text holds a NUL character (\\u0000), which the database cannot "
                "store; remove it",
                "database-limits",
                where,
            )
            for where, value in _strings(doc)
            if "\x00" in value
        ]
    # Runs for every section of every file: pointers are built only for a problem.
    fractions = [
        (pointer(name), doc[name]) for name in _WHOLE_NUMBERS if isinstance(doc.get(name), float)
    ]
    free = [("/adaptive_config", doc.get("adaptive_config"), 1)]
    for index, section in enumerate(doc["sections"]):
        get = section.get  # _SECTION_WHOLE_NUMBERS, unrolled: a loop costs more than the test
        if type(get("section_number")) is float or type(get("duration_seconds")) is float:
            fractions += [
                (f"/sections/{index}/{name}", section[name])
                for name in _SECTION_WHOLE_NUMBERS
                if type(get(name)) is float
            ]
        if section["section_type"] == "game":
            challenges = (section.get("section_config") or {}).get("challenges") or ()
            free += [
                (f"/sections/{index}/section_config/challenges/{c}", challenge, 5)
                for c, challenge in enumerate(challenges)
            ]
    problems += [
        Problem(
            display,
            f"{where.rsplit('/', 1)[-1]} is {value!r}; write a whole number ({int(value)}): "
            "the database column holds whole numbers only",
            "database-limits",
            where,
        )
        for where, value in fractions
        if isinstance(value, float)
    ]
    problems += [
        Problem(
            display,
            f"this value is nested more than {MAX_DEPTH} levels deep; flatten it",
            "database-limits",
            where,
        )
        for where, value, base in free
        if isinstance(value, dict | list) and _depth(value) + base > MAX_DEPTH
    ]
    return problems


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in `value`, without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def check_file_name(doc: Mapping[str, Any], display: str, stem: str) -> list[Problem]:
    module_id = doc.get("module_id")
    if not isinstance(module_id, str) or module_id == stem:
        return []
    return [
        Problem(
            display,
            f"module_id {json.dumps(module_id)} does not match the file name "
            f"{stem}.json; rename the file to {module_id}.json or change module_id",
            "file-name",
            "/module_id",
        )
    ]


def check_section_numbers(doc: Mapping[str, Any], display: str) -> list[Problem]:
    """Numbers must be 1..n in list order. Reports duplicates, then the first misplaced one."""
    sections = doc["sections"]
    numbers = [s["section_number"] for s in sections]
    if numbers == list(range(1, len(numbers) + 1)):
        return []  # the usual case: numbers equal to 1..n are neither repeated nor misplaced
    problems = []
    first_at: dict[int, int] = {}
    for index, number in enumerate(numbers):
        if number in first_at:
            problems.append(
                Problem(
                    display,
                    f"section_number {number} is used twice (also by the section at "
                    f"position {first_at[number] + 1}); number sections 1..{len(numbers)}",
                    "section-numbers",
                    pointer("sections", index, "section_number"),
                )
            )
        first_at.setdefault(number, index)
    if problems:
        return problems
    for index, number in enumerate(numbers):
        if number != index + 1:
            return [
                Problem(
                    display,
                    f"section_number is {number} but this is section {index + 1} of "
                    f"{len(numbers)}; number sections 1..{len(numbers)} in order, without gaps",
                    "section-numbers",
                    pointer("sections", index, "section_number"),
                )
            ]
    return []


def check_self_references(doc: Mapping[str, Any], display: str) -> list[Problem]:
    module_id = doc["module_id"]
    return [
        Problem(
            display,
            f"the module lists itself in {field}; remove it",
            "references",
            pointer(field, index),
        )
        for field in ("prerequisites", "related_modules")
        for index, ref in enumerate(doc.get(field, []))
        if ref == module_id
    ]


def _config_checked(section: Mapping[str, Any]) -> bool:
    """Whether check_section_config has anything to check: ids, or completion criteria."""
    return section["section_type"] in _TYPES_WITH_IDS or bool(section.get("completion_criteria"))


def check_section_config(section: Mapping[str, Any], where: str, display: str) -> list[Problem]:
    """Ids inside a section's config are unique and everything that names one exists.

    Runs for every section of every file, so pointers are built only for a problem.
    """
    if not _config_checked(section):
        return []
    kind = section["section_type"]
    criteria = section.get("completion_criteria")
    config = section.get("section_config") or {}
    problems: list[Problem] = []
    task_ids: set[str] = set()
    hotspot_count = 0
    at = f"{where}/section_config"
    if kind == "checklist":
        task_ids = _ids(config["items"], at, "items", display, problems, what="checklist item")
    elif kind == "interactive":
        # Whatever the component (schemas/components/): every list of things with ids
        # (hotspots, tasks, items, targets, ...) has unique ids, and completion may name them.
        for field, value in config.items():
            if not isinstance(value, list) or not value:
                continue
            for v in value:  # all(...) without a generator: runs for every such section
                if not (isinstance(v, dict) and "id" in v):
                    break
            else:
                what = field[:-1] if field.endswith("s") else field
                task_ids |= _ids(value, at, field, display, problems, what=what)
        hotspot_count = len(config.get("hotspots") or ())
    elif kind == "quiz":
        _quiz_problems(config["questions"], at, display, problems)
    if criteria:
        problems += _completion_problems(
            section, criteria, where, display, task_ids=task_ids, hotspot_count=hotspot_count
        )
    return problems


def _ids(
    items: Sequence[Mapping[str, Any]],
    where: str,
    field: str,
    display: str,
    problems: list[Problem],
    *,
    what: str,
) -> set[str]:
    """The ids of `items` (at where/field); appends a Problem for each repeated one."""
    unique = {item["id"] for item in items}
    if len(unique) != len(items):  # rare: only then is the list of ids needed
        seen: set[str] = set()
        for index, item_id in enumerate([item["id"] for item in items]):
            if item_id in seen:
                problems.append(
                    Problem(
                        display,
                        f"{what} id {json.dumps(item_id)} is used more "
                        "than once; ids must be unique",
                        "section-config",
                        f"{where}/{field}/{index}/id",
                    )
                )
            seen.add(item_id)
    return unique


def _quiz_problems(
    questions: Sequence[Mapping[str, Any]], where: str, display: str, problems: list[Problem]
) -> None:
    _ids(questions, where, "questions", display, problems, what="question")
    for q_index, question in enumerate(questions):
        answers = question["answer"]
        options = question["options"]
        option_ids = {option["id"] for option in options}
        if len(option_ids) != len(options):  # _ids, its pointer built only when needed
            _ids(
                options,
                f"{where}/questions/{q_index}",
                "options",
                display,
                problems,
                what="option",
            )
        if not option_ids.issuperset(answers):
            problems += [
                Problem(
                    display,
                    f"answer {json.dumps(answer)} is not one of this "
                    f"question's option ids ({', '.join(sorted(option_ids))})",
                    "section-config",
                    f"{where}/questions/{q_index}/answer/{a_index}",
                )
                for a_index, answer in enumerate(answers)
                if answer not in option_ids
            ]
        if len(answers) != 1 and question["kind"] == "single":
            problems.append(
                Problem(
                    display,
                    "a single-choice question needs exactly one answer; "
                    'use kind "multiple" for more',
                    "section-config",
                    f"{where}/questions/{q_index}/answer",
                )
            )


# Which section types each completion type fits.
_COMPLETION_FITS = {
    "hotspots": frozenset({"interactive"}),
    "tasks": frozenset({"checklist", "interactive"}),
    "score": frozenset({"quiz", "game"}),
}


def _completion_problems(
    section: Mapping[str, Any],
    criteria: Mapping[str, Any],
    where: str,
    display: str,
    *,
    task_ids: set[str],
    hotspot_count: int,
) -> list[Problem]:
    kind, section_type = criteria["type"], section["section_type"]
    path = "completion_criteria"  # under `where`: pointers are built only for a problem
    fits = _COMPLETION_FITS.get(kind)
    if fits is not None and section_type not in fits:
        return [
            Problem(
                display,
                f"completion type {json.dumps(kind)} does not fit a "
                f"{section_type} section; it needs a {' or '.join(sorted(fits))} "
                "section",
                "completion-criteria",
                f"{where}/{path}/type",
            )
        ]
    if kind == "hotspots" and criteria["hotspots_clicked"] > hotspot_count:
        return [
            Problem(
                display,
                f"hotspots_clicked is {criteria['hotspots_clicked']} but the "
                f"section has only {hotspot_count} hotspots; students could never "
                "complete it",
                "completion-criteria",
                f"{where}/{path}/hotspots_clicked",
            )
        ]
    if kind == "tasks" and not task_ids.issuperset(criteria["tasks"]):
        return [
            Problem(
                display,
                f"task {json.dumps(task)} is not an id in this section "
                f"({', '.join(sorted(task_ids)) or 'none defined'})",
                "completion-criteria",
                f"{where}/{path}/tasks/{index}",
            )
            for index, task in enumerate(criteria["tasks"])
            if task not in task_ids
        ]
    return []


def media_references(
    doc: Mapping[str, Any], plain: Sequence[bool] | None = None
) -> list[Reference]:
    """Every place a module names a media file: fields, and images or asset links in
    Markdown. `plain` is plain_sections(doc) when the caller has it already.

    Runs for every section of every file: pointers are built only for a reference."""
    refs = []
    plain = plain_sections(doc) if plain is None else plain
    for index, section in enumerate(doc["sections"]):
        media = section.get("media_url")
        if media:
            refs.append(Reference(f"/sections/{index}/media_url", media, True))
        config = section.get("section_config")
        if config:
            captions = config.get("captions_url")
            if isinstance(captions, str):
                where = f"/sections/{index}/section_config/captions_url"
                refs.append(Reference(where, captions, strict=True))
            if section["section_type"] == "interactive":
                assets = config.get("assets", ())
                if assets:  # (a list, in a schema-valid module; most are empty)
                    refs += [
                        Reference(f"/sections/{index}/section_config/assets/{a}", asset, True)
                        for a, asset in enumerate(assets)
                    ]
                refs += _component_assets(config, f"/sections/{index}/section_config")
        content = section["content"]
        if plain[index] or not _may_name_media(content):
            continue  # most sections: links to web pages at most, which are not media
        refs += [
            Reference(f"/sections/{index}/content", target, strict=image)
            for target, image in markdown_links(content)
            if image or target.startswith(ASSET_PREFIX)
        ]
    return refs


def plain_sections(doc: Mapping[str, Any]) -> list[bool]:
    """_plain_markdown of each section's content, for media_references and check_markup."""
    return [_plain_markdown(section["content"]) for section in doc["sections"]]


_SHARED_INTERACTIVE = frozenset({"instruction", "environment_type", "assets", "tasks"})


def _component_assets(config: Mapping[str, Any], where: str) -> list[Reference]:
    """Repository files a component's own settings name (a 3D model, a sound, ...):
    whatever the component, a text that starts with data/assets/ is a file of the module.

    Most settings name no file: one serialisation tells so, and pointers are built only
    for settings that might (a third of validating a file when built for every value)."""
    own = {k: v for k, v in config.items() if k not in _SHARED_INTERACTIVE}
    if not _may_name_asset(own):
        return []
    found = []
    stack: list[tuple[str, Any]] = [(f"{where}{pointer(k)}", v) for k, v in own.items()]
    while stack:
        at, value = stack.pop()
        if isinstance(value, str) and value.startswith(ASSET_PREFIX):
            found.append(Reference(at, value, strict=True))
        elif isinstance(value, dict):
            stack.extend((f"{at}{pointer(k)}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{at}/{i}", v) for i, v in enumerate(value))
    return sorted(found)


_QUOTED_ASSET_PREFIX = b'"' + ASSET_PREFIX.encode()


def _may_name_asset(settings: Mapping[str, Any]) -> bool:
    """False when no text in `settings` can start with data/assets/: orjson writes
    every string as it is (it escapes only quotes, backslashes and control characters),
    so such a text shows in the JSON as `"data/assets/`."""
    if not settings:
        return False
    try:
        return _QUOTED_ASSET_PREFIX in orjson.dumps(settings)
    except orjson.JSONEncodeError:  # a number wider than 64 bits: walk it instead
        return True


def _may_name_media(content: str) -> bool:
    """A cheap pre-filter for markdown_links: False means the Markdown has no image and
    no link to an asset.

    Every image starts with a literal "![". A link's target is its text with backslash
    escapes and entities resolved (nothing else), so a target under data/assets/ either
    has that prefix in the text or spells a "/" as "\\/" or "&sol;" or a character as
    a numeric entity ("&#47;"); no other named entity stands for a letter or "/".
    """
    if "![" in content or ASSET_PREFIX in content:
        return True
    spelled = "\\/" in content or "&#" in content or "&sol;" in content
    return spelled and ("](" in content or "]:" in content)


@cache
def _markdown() -> MarkdownIt:
    """One CommonMark parser per process, made on first use (the import costs 30 ms)."""
    from markdown_it import MarkdownIt

    class _Targets(MarkdownIt):
        """Keeps targets as written: no %-encoding (asset paths are file names), and no
        refusing javascript: or data: URLs (they are reported, not rendered)."""

        def normalizeLink(self, url: str) -> str:
            return url

        def validateLink(self, url: str) -> bool:
            return True

    parser = _Targets("commonmark")
    # Emphasis never changes what is a link or an image; skipping it saves a quarter.
    parser.disable(["emphasis", "balance_pairs", "fragments_join", "text_join"])
    return parser


def markdown_links(content: str) -> Iterator[tuple[str, bool]]:
    """(target, is an image) of every image and link in Markdown, in document order.

    Code spans, fenced and indented code and raw HTML hold none; reference-style
    images and links ([alt][ref] with "[ref]: target" elsewhere) and autolinks count.
    """
    stack = _markdown().parse(content)[::-1]
    while stack:
        token = stack.pop()
        if token.type == "image":
            yield str(token.attrs["src"]), True
        elif token.type == "link_open":
            yield str(token.attrs["href"]), False
        if token.children:
            stack += token.children[::-1]


# Raw HTML the LMS may render: what the exporter itself writes, without attributes.
ALLOWED_TAGS = frozenset({"details", "summary", "u", "br"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^>]*)>|<[!?]", re.DOTALL)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]")


def check_markup(
    doc: Mapping[str, Any], display: str, plain: Sequence[bool] | None = None
) -> list[Problem]:
    """Section content is Markdown: raw HTML only from ALLOWED_TAGS and without
    attributes (no <script>, no onerror=, no comments hiding text from reviewers), and
    links and images only to http(s), mailto or repository paths."""
    problems = []
    plain = plain_sections(doc) if plain is None else plain
    for index, section in enumerate(doc["sections"]):
        if plain[index]:
            continue
        content = section["content"]
        where = f"/sections/{index}/content"
        problems += [
            Problem(display, message, "markup", where) for message in _markup_problems(content)
        ]
    return problems


_WEB_TARGETS = ("https://", "http://", "mailto:", "#")
# A link to another module, which the LMS resolves to its own address for that module.
MODULE_SCHEME = "module"
_MODULE_LINK = re.compile(r"module:[a-z0-9]+(-[a-z0-9]+)*")


def module_links(doc: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(pointer, module id) of every `module:<module_id>` link in the sections' content."""
    found = []
    for index, section in enumerate(doc["sections"]):
        content = section["content"]
        if "module:" not in content:
            continue
        found += [
            (f"/sections/{index}/content", target[len("module:") :])
            for target, image in markdown_links(content)
            if not image and _MODULE_LINK.fullmatch(target)
        ]
    return tuple(dict.fromkeys(found))


def _plain_markdown(content: str) -> bool:
    """A cheap pre-filter for the media and markup checks: True means the Markdown has
    no raw HTML, no image, no asset path, and every link goes to the web, so neither
    check needs to parse it. False means "parse to be sure".

    A link's target follows "](" or, in a reference definition, "]:"; whatever spells
    a scheme or a path with escapes or entities cannot start with a web prefix.
    """
    if "<" in content or "![" in content or ASSET_PREFIX in content:
        return False
    return _NON_WEB_TARGET.search(content) is None


def _non_web_target() -> re.Pattern[str]:
    """A link marker whose target does not start with a web prefix, as one expression:
    twice as fast as a loop in Python over the links, and runs for every section.

    The target is plain when, within the 22 characters after the marker, whitespace
    (what str.lstrip removes; `\\s` in a str pattern is the same str.isspace) is
    followed by a web prefix: at most 22 - len(prefix) characters of it. No prefix
    starts with whitespace, so the bounded `\\s{0,n}` can only match the whole run.
    """
    web = "|".join(rf"\s{{0,{22 - len(t)}}}{re.escape(t)}" for t in _WEB_TARGETS)
    return re.compile(rf"\][(:](?!{web})")


_NON_WEB_TARGET = _non_web_target()


def _markup_problems(content: str) -> list[str]:
    found: list[str] = []
    stack = _markdown().parse(content)[::-1]
    while stack:
        token = stack.pop()
        if token.type in ("html_inline", "html_block"):
            found += _html_problems(token.content)
        target = token.attrs.get("href") if token.type == "link_open" else None
        target = token.attrs.get("src") if token.type == "image" else target
        scheme = _SCHEME.match(_INVISIBLE.sub("", str(target or "")))
        if scheme and scheme[1] == MODULE_SCHEME and token.type == "link_open":
            if not _MODULE_LINK.fullmatch(str(target)):
                found.append(
                    f"the link {_short(str(target))} must name a module id, like "
                    "module:lab-safety-101"
                )
        elif scheme and scheme[1].lower() not in SAFE_SCHEMES:
            found.append(
                f"a link to a {scheme[1].lower()}: address is not allowed (it could run code "
                "in the student's browser); link to an https:// page or a data/assets/ file"
            )
        if token.children:
            stack += token.children[::-1]
    return list(dict.fromkeys(found))


def _html_problems(html: str) -> list[str]:
    found = []
    for match in _TAG.finditer(html):
        if match[2] is None:
            found.append(
                "raw HTML comments and declarations (<!-- … -->, <!…>) are not allowed: "
                "they hide text from reviewers; write it as Markdown or remove it"
            )
        elif match[2].lower() not in ALLOWED_TAGS:
            found.append(
                f"raw HTML <{match[2].lower()}> is not allowed in content; write it as "
                f"Markdown (allowed tags: {', '.join(f'<{t}>' for t in sorted(ALLOWED_TAGS))})"
            )
        elif match[3].strip().strip("/").strip():
            found.append(
                f"<{match[2].lower()}> may not have attributes ({_short(match[3].strip())}); "
                "remove them"
            )
    return found


def check_references(refs: Iterable[Reference], display: str) -> list[Problem]:
    """Media references are well-formed https URLs or clean asset paths."""
    problems = []
    for ref in refs:
        message = _reference_problem(ref)
        if message:
            problems.append(Problem(display, message, "media-url", ref.pointer))
    return problems


def _reference_problem(ref: Reference) -> str | None:
    target = ref.target  # is_external and is_asset spelt out: this runs for every reference
    if target.startswith(_EXTERNAL):
        return _url_problem(target)
    if target.startswith(ASSET_PREFIX):
        return _asset_path_problem(target)
    if not ref.strict:
        return None
    if ref.target.startswith("/assets/"):
        return f"{_short(ref.target)}: asset paths are repo paths; write data{ref.target}"
    return f"{_short(ref.target)} is neither an https:// URL nor a path under {ASSET_PREFIX}"


@lru_cache(maxsize=8192)
def _url_problem(url: str) -> str | None:
    if is_notion_hosted(url):
        return None  # reported once, by check_notion_hosted
    if not _HOST.match(urlsplit(url).netloc) or _WHITESPACE.search(url):
        return f"{_short(url)} is not a well-formed URL"
    return None


def asset_file(target: str) -> str:
    """The repo path an asset reference names, without #fragment or ?query."""
    return target.split("#", maxsplit=1)[0].split("?", maxsplit=1)[0]


_UNCLEAN_PARTS = frozenset({"", ".", ".."})


def _asset_path_problem(target: str) -> str | None:
    path = asset_file(target)
    if "\\" in path or not _UNCLEAN_PARTS.isdisjoint(path.split("/")):
        return (
            f"{_short(target)} is not a clean asset path: use forward slashes, no "
            "'.', '..' or empty parts"
        )
    return None


@lru_cache(maxsize=8192)
def is_notion_hosted(url: str) -> bool:
    """Notion's file URLs are signed and expire about an hour after they are issued."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if any(part in host for part in _NOTION_HOST_PARTS) or host == "file.notion.so":
        return True
    signed = "X-Amz-Signature=" in parts.query or "X-Amz-Expires=" in parts.query
    return signed or ("amazonaws.com" in host and "secure.notion-static.com" in parts.path)


def might_hold_notion_urls(text: str) -> bool:
    """A cheap pre-filter on the source text for check_notion_hosted: False means no
    string can hold what is_notion_hosted flags (hosts in any case, S3's signing
    parameters as written)."""
    return bool(_SIGNING.search(text) or _NOTION_HOST.search(text.lower()))


def check_notion_hosted(doc: Mapping[str, Any], display: str) -> list[Problem]:
    """No string anywhere in the module may hold an expiring Notion file URL."""
    problems = []
    for where, text in _strings(doc):
        if "http" not in text:
            continue
        for url in _URL_IN_TEXT.findall(text):
            if is_notion_hosted(url):
                problems.append(
                    Problem(
                        display,
                        f"{_short(url)} is a Notion-hosted file URL, which expires about an "
                        "hour after export; download the file into data/assets/<module_id>/ and "
                        "refer to it by path (pipeline export does this)",
                        "notion-url",
                        where,
                    )
                )
    return problems


def _strings(doc: Any) -> Iterator[tuple[str, str]]:
    """Every string value with its pointer, iteratively (documents may nest deeply)."""
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            stack.extend((where + pointer(k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}/{i}", v) for i, v in enumerate(value))


def _short(text: str) -> str:
    return json.dumps(text if len(text) <= 80 else text[:77] + "…", ensure_ascii=False)


# -- across files ---------------------------------------------------------------------------


class ModuleRefs(NamedTuple):
    """The part of a module file the cross-file checks need."""

    display: str
    module_id: str
    prerequisites: tuple[str, ...]
    related_modules: tuple[str, ...]
    notion_page_id: str | None = None
    links: tuple[tuple[str, str], ...] = ()  # (pointer, module id): module_links


def cross_file_checks(modules: list[ModuleRefs], known_ids: set[str]) -> list[Problem]:
    return [
        *check_unique_ids(modules),
        *check_unique_pages(modules),
        *check_reference_targets(modules, known_ids),
        *check_prerequisite_cycles(modules),
    ]


def check_unique_ids(modules: list[ModuleRefs]) -> list[Problem]:
    files_by_id: dict[str, list[str]] = defaultdict(list)
    for module in modules:
        files_by_id[module.module_id].append(module.display)
    return [
        Problem(
            module.display,
            f"module_id {json.dumps(module.module_id)} is also used by "
            f"{', '.join(f for f in files_by_id[module.module_id] if f != module.display)}; "
            "module ids must be unique",
            "unique-id",
            "/module_id",
        )
        for module in modules
        if len(files_by_id[module.module_id]) > 1
    ]


def check_unique_pages(modules: list[ModuleRefs]) -> list[Problem]:
    """One Notion page is one module: mark-live would otherwise tell it of both."""
    by_page: dict[str, list[ModuleRefs]] = defaultdict(list)
    for module in modules:
        if module.notion_page_id:
            by_page[module.notion_page_id.replace("-", "").lower()].append(module)
    return [
        Problem(
            module.display,
            f"notion_page_id {json.dumps(module.notion_page_id)} is also the page of "
            f"{', '.join(o.module_id for o in same if o is not module)}; each module comes "
            "from its own Notion page. Fix the id (the page's URL ends with it)",
            "unique-page",
            "/notion_page_id",
        )
        for same in by_page.values()
        if len(same) > 1
        for module in same
    ]


def check_reference_targets(modules: list[ModuleRefs], known_ids: set[str]) -> list[Problem]:
    problems = []
    options = sorted(known_ids)
    for module in modules:
        for field, refs in (
            ("prerequisites", module.prerequisites),
            ("related_modules", module.related_modules),
        ):
            for index, ref in enumerate(refs):
                if ref not in known_ids:
                    problems.append(
                        Problem(
                            module.display,
                            f"{field} names {json.dumps(ref)}, but no module has that "
                            f"id{did_you_mean(ref, options)}; add data/modules/{ref}.json "
                            "or fix the id",
                            "references",
                            pointer(field, index),
                        )
                    )
        for where, ref in module.links:
            if ref not in known_ids:
                problems.append(
                    Problem(
                        module.display,
                        f"the text links to the module {json.dumps(ref)} (module:{ref}), but no "
                        f"module has that id{did_you_mean(ref, options)}; add "
                        f"data/modules/{ref}.json or fix the link",
                        "references",
                        where,
                    )
                )
    return problems


def check_prerequisite_cycles(modules: list[ModuleRefs]) -> list[Problem]:
    """Name each cycle in full on every module in it, at the entry that closes it."""
    by_id = {m.module_id: m for m in modules}
    graph = {
        m.module_id: [p for p in m.prerequisites if p in by_id and p != m.module_id]
        for m in modules
    }
    problems = []
    for component in strongly_connected(graph):
        if len(component) < 2:
            continue
        cycle = _cycle_in(component, graph)
        text = " -> ".join([*cycle, cycle[0]])
        for position, module_id in enumerate(cycle):
            target = cycle[(position + 1) % len(cycle)]
            module = by_id[module_id]
            problems.append(
                Problem(
                    module.display,
                    f"prerequisites form a cycle: {text}; no student could ever "
                    "start these modules. Remove one of the prerequisites",
                    "prerequisite-cycle",
                    pointer("prerequisites", module.prerequisites.index(target)),
                )
            )
    return problems


def _cycle_in(component: set[str], graph: Mapping[str, list[str]]) -> list[str]:
    """A simple cycle through the smallest id of a strongly connected component."""
    start = min(component)
    parent: dict[str, str] = {}
    stack = [start]
    while stack:
        node = stack.pop()
        for nxt in sorted(graph[node], reverse=True):
            if nxt not in component:
                continue
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1]
            if nxt not in parent:
                parent[nxt] = node
                stack.append(nxt)
    return sorted(component)  # unreachable for a real component; keeps the type honest


def strongly_connected(graph: Mapping[str, list[str]]) -> list[set[str]]:
    """Tarjan's algorithm without recursion (prerequisite chains can be long)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            successors = graph[node]
            if child < len(successors):
                work.append((node, child + 1))
                nxt = successors[child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work and work[-1][0] != node:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                result.append(component)
    return result
