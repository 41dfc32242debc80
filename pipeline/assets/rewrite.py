"""The rows students read, with every asset path replaced by its absolute URL: one pure
function, `with_urls`.

Module files name assets by repository path (`data/assets/lab/plan.png`), which no
student's browser can load. Deploy publishes the files and writes the rows through
`with_urls`, which replaces every place `checks.media_references` finds an asset: a
section's `media_url`, its config's `captions_url` and an interactive section's
`assets`, and images and links in the Markdown `content`, however the link is spelt
(inline, reference definitions, `<...>` destinations, backslash escapes, entities).
A `#fragment` or `?query` after the path is kept. The Markdown is parsed again
afterwards: a link to an asset that is still a repository path stops the deploy
(nothing is written) rather than reach students.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from typing import Any

import orjson

from pipeline.errors import ContentError
from pipeline.layout import ASSET_PREFIX
from pipeline.modules.checks import asset_file, markdown_links
from pipeline.modules.records import MODULE_COLUMNS, SECTION_COLUMNS, ModuleRows

_TYPE = SECTION_COLUMNS.index("section_type")
_CONTENT = SECTION_COLUMNS.index("content")
_MEDIA = SECTION_COLUMNS.index("media_url")
_CONFIG = SECTION_COLUMNS.index("section_config")
_NUMBER = SECTION_COLUMNS.index("section_number")
_URLS = MODULE_COLUMNS.index("asset_urls")
MEDIA_URL_MAX = 500  # module_sections.media_url is VARCHAR(500), migration 0001

# A line break inside a link, as CommonMark allows one: optionally continued after block
# quote markers and indentation.
_BREAK = r"(?:[ \t]*\n(?:[ \t]*>)*)?[ \t]*"
# A link destination after "](": <...>, or text without spaces with balanced parentheses.
_INLINE = re.compile(
    r"(?P<lead>\]\(" + _BREAK + r")"
    r"(?P<dest><[^<>\n]*>|(?:\\.|[^\s()<>\\]|\((?:\\.|[^\s()<>\\])*\))+)"
)
# A reference definition "[label]: destination" at the start of a line (after any
# block-quote markers and indentation).
_DEFINITION = re.compile(
    r"(?P<lead>^(?:[ \t]*>)*[ \t]*\[(?:\\.|[^\]\\])+\]:" + _BREAK + r")"
    r"(?P<dest><[^<>\n]*>|\S+)",
    re.MULTILINE,
)
# Code, where a destination-like text is shown as written: fenced blocks and code spans.
_FENCE = re.compile(r"^(?:[ \t]*>)*[ ]{0,3}(`{3,}|~{3,})", re.MULTILINE)
_BACKTICKS = re.compile(r"`+")
_BARE_SAFE = re.compile(r"^[^\s()<>\\]+$")


def with_urls(record: ModuleRows, urls: Mapping[str, str], module_id: str = "") -> ModuleRows:
    """`record` as students get it: each asset path in its sections replaced by its URL
    in `urls` ({repo path: absolute URL}) and the module row's `asset_urls` set.
    Paths not in `urls` stay as they are."""
    if not urls:
        return record
    name = module_id or record.module_id
    sections = tuple(_section(section, urls, name) for section in record.sections)
    row = list(record.row)
    row[_URLS] = orjson.dumps(dict(sorted(urls.items()))).decode()
    return record._replace(row=tuple(row), sections=sections)


def _target(target: str, urls: Mapping[str, str]) -> str | None:
    """The URL for an asset reference (its #fragment or ?query kept), or None."""
    if not target.startswith(ASSET_PREFIX):
        return None
    path = asset_file(target)
    url = urls.get(path)
    return None if url is None else url + target[len(path) :]


def _section(section: tuple[Any, ...], urls: Mapping[str, str], module_id: str) -> tuple[Any, ...]:
    media, config, content = section[_MEDIA], section[_CONFIG], section[_CONTENT]
    # JSON text as records wrote it (orjson: "/" is never escaped), so a config without
    # the prefix names no asset.
    in_config = config is not None and ASSET_PREFIX in config
    in_content = isinstance(content, str) and _may_name_assets(content)
    if not (in_config or in_content or (isinstance(media, str) and media.startswith(ASSET_PREFIX))):
        return section  # most sections of a module that has assets name none of them
    values = list(section)
    if isinstance(media, str):
        values[_MEDIA] = _target(media, urls) or media
        _fits(values[_MEDIA], media, f"{module_id} section {values[_NUMBER]}")
    if in_config:
        parsed = orjson.loads(config)
        if isinstance(parsed, dict) and _config(parsed, values[_TYPE], urls):
            values[_CONFIG] = orjson.dumps(parsed).decode()
    if in_content:
        where = f"{module_id} section {values[_NUMBER]}"
        values[_CONTENT] = markdown_with_urls(content, urls, where)
    return tuple(values)


def _fits(url: str, written: str, where: str) -> None:
    """The column holds MEDIA_URL_MAX characters, and validate allows that many for the
    path as written: its URL (the store's base, a digest, then the ?query or #fragment
    kept) can be longer. Said here, with the section named, before anything is written,
    instead of the database refusing the whole deploy without naming it."""
    if len(url) > MEDIA_URL_MAX:
        raise ContentError(
            f"{where}: media_url {written[:60]}... becomes a URL of {len(url)} characters, "
            f"more than the {MEDIA_URL_MAX} the database holds; nothing was deployed. "
            "Shorten what follows the file name (?query, #fragment), or the asset store's "
            "public_base_url"
        )


def _may_name_assets(content: str) -> bool:
    """False when the Markdown cannot link to an asset (most sections: parsing each would
    cost a deploy of many modules seconds). A destination is its text with backslash
    escapes and entities resolved, so it names data/assets/ only if the text has the
    prefix, or spells a "/" as "\\/" or "&sol;", or a character as a numeric entity.
    The same reasoning as checks.media_references' pre-filter."""
    if ASSET_PREFIX in content:
        return True
    spelled = "\\/" in content or "&#" in content or "&sol;" in content
    return spelled and ("](" in content or "]:" in content)


def _config(config: dict[str, Any], section_type: str, urls: Mapping[str, str]) -> bool:
    """Rewrite the config's asset references in place (as media_references finds them);
    True when one changed."""
    changed = False
    captions = config.get("captions_url")
    if isinstance(captions, str) and (url := _target(captions, urls)):
        config["captions_url"], changed = url, True
    assets = config.get("assets")
    if section_type == "interactive" and isinstance(assets, list):
        for index, asset in enumerate(assets):
            if isinstance(asset, str) and (url := _target(asset, urls)):
                assets[index], changed = url, True
    return changed


def markdown_with_urls(content: str, urls: Mapping[str, str], where: str = "") -> str:
    """Markdown with the destination of every image and link to an asset in `urls`
    replaced by its URL; code (fenced blocks, code spans) is left as written. ContentError
    when a link to an asset would be left as a repository path."""
    if not any(_target(t, urls) for t, _image in markdown_links(content)):
        return content
    rewritten = _rewrite(content, urls, _code(content))
    if _left(rewritten, urls):  # a link inside what looked like code: take every one
        rewritten = _rewrite(content, urls, [])
    left = _left(rewritten, urls)
    if left:
        raise ContentError(
            f"{where}: the link to {left[0]} is written in a way the deploy cannot turn into "
            "its URL; nothing was deployed. Write it as ![text](data/assets/...) or "
            "[text](data/assets/...)"
        )
    return rewritten


def _left(content: str, urls: Mapping[str, str]) -> list[str]:
    return [asset_file(t) for t, _image in markdown_links(content) if _target(t, urls)]


def _code(content: str) -> list[tuple[int, int]]:
    """(start, end) of the fenced code blocks and code spans in `content`."""
    spans: list[tuple[int, int]] = []
    outside: list[tuple[int, int]] = []
    position, fence = 0, None
    for match in _FENCE.finditer(content):
        if fence is None:
            fence = match
        elif match[1][0] == fence[1][0] and len(match[1]) >= len(fence[1]):
            outside.append((position, fence.start()))
            spans.append((fence.start(), match.end()))
            position, fence = match.end(), None
    if fence is not None:  # an unclosed fence runs to the end
        outside.append((position, fence.start()))
        spans.append((fence.start(), len(content)))
    else:
        outside.append((position, len(content)))
    for start, end in outside:
        spans += _code_spans(content, start, end)
    return spans


def _code_spans(content: str, start: int, end: int) -> list[tuple[int, int]]:
    """Code spans between start and end: a run of n backticks (not escaped) up to the next
    run of exactly n. In O(n log n) however many runs there are (hostile text too)."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(content, start, end)]
    by_length: dict[int, list[int]] = {}
    for index, (a, b) in enumerate(runs):
        by_length.setdefault(b - a, []).append(index)
    spans = []
    index = 0
    while index < len(runs):
        a, b = runs[index]
        if a > 0 and content[a - 1] == "\\":  # an escaped backtick opens nothing
            index += 1
            continue
        same = by_length[b - a]
        after = bisect.bisect_right(same, index)
        if after == len(same):
            index += 1
            continue
        closing = same[after]
        spans.append((a, runs[closing][1]))
        index = closing + 1
    return spans


def _rewrite(content: str, urls: Mapping[str, str], code: list[tuple[int, int]]) -> str:
    """Replace asset destinations outside `code`."""
    from markdown_it.common.utils import unescapeAll

    def one(match: re.Match[str]) -> str:
        if any(start <= match.start() < end for start, end in code):
            return match[0]
        return _replace(match, urls, unescapeAll)

    return _INLINE.sub(one, _DEFINITION.sub(one, content))


def _decoded(dest: str, unescape: Any) -> str:
    inner = dest[1:-1] if dest.startswith("<") and dest.endswith(">") else dest
    return str(unescape(inner))


def _replace(match: re.Match[str], urls: Mapping[str, str], unescape: Any) -> str:
    url = _target(_decoded(match["dest"], unescape), urls)
    if url is None:
        return match[0]
    bracketed = match["dest"].startswith("<") or not _BARE_SAFE.match(url)
    return match["lead"] + (f"<{url}>" if bracketed else url)
