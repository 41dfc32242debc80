"""`pipeline export` against hostile or broken Notion content: one bad page is that page's
failure, reported on its row; the run goes on for the others and exits 1."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from tests.builders import block, body, code, heading, para, properties, rt
from tests.conftest import CLI, Repo
from tests.doubles.notion_server import (
    LazyFile,
    NotionServer,
    NotionState,
)

HOUR_AGO = time.time() - 3600


def exported(repo: Repo) -> list[str]:
    return sorted(p.name for p in repo.modules.glob("*.json"))


def row_error(state: NotionState, page: dict[str, Any]) -> str:
    error = state.pages[page["id"]]["properties"]["Export Error"]["rich_text"]
    return str(error[0]["text"]["content"]) if error else ""


LAUGHS = "".join(
    f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)
LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + LAUGHS


# -- item 10: HTML and script in content ---------------------------------------------------------


def test_html_and_script_in_content_are_written_as_text(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    link = para(rt("Read "), rt("this", href="javascript:alert(document.cookie)"))
    equation = {
        "type": "equation",
        "equation": {"expression": "<img src=x onerror=alert(1)>"},
        "annotations": {},
        "plain_text": "<img src=x onerror=alert(1)>",
        "href": None,
    }
    blocks = [
        heading("Section 1: Welcome"),
        block("toggle", [para(rt("inside"))], rich_text=[rt("<script>alert(1)</script>")]),
        block("paragraph", rich_text=[rt("x "), equation], color="default"),
        link,
    ]
    notion.state.add_page(properties("html", "HTML"), blocks, HOUR_AGO)
    result = cli("export", "--json")
    assert result.code == 0, result.out + result.err
    content = json.loads((repo.modules / "html.json").read_text())["sections"][0]["content"]
    assert "<summary>&lt;script&gt;alert(1)&lt;/script&gt;</summary>" in content
    assert "$\\lt img src=x onerror=alert(1)>$" in content
    assert "Read this" in content and "javascript:" not in content
    assert "<script" not in content and "<img" not in content
    # the dropped link is in the report, with its block
    [page] = json.loads(result.out)["results"]
    [skipped] = page["skipped"]
    assert skipped["block_id"] == link["id"]
    assert "javascript:alert(document.cookie)" in skipped["reason"]
    assert cli("validate").code == 0


# -- item 11: settings blocks and bugs ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "language", "words"),
    [
        pytest.param(LAUGHS, "yaml", "anchor &a", id="billion-laughs"),
        pytest.param("a: &a [*a]\n", "yaml", "anchor &a", id="recursive-alias"),
        pytest.param("1: one\n", "yaml", "key 1", id="int-key"),
        pytest.param("tags: !!set {a, b}\n", "yaml", "tag !!set", id="set"),
        pytest.param("blob: !!binary aGVsbG8=\n", "yaml", "tag !!binary", id="binary"),
        pytest.param("a: " + "[" * 300 + "]" * 300 + "\n", "yaml", "32 levels", id="nesting-300"),
        pytest.param("a: " + "[" * 250 + "1" + "]" * 250, "yaml", "32 levels", id="lists-250"),
        pytest.param("n: 123456789012345678901234567890\n", "yaml", "too large", id="big-int"),
        pytest.param('{"a": ' + "[" * 30_000 + "]" * 30_000 + "}", "json", "32 levels", id="json"),
    ],
)
def test_a_hostile_settings_block_fails_only_its_page(
    repo: Repo, notion: NotionServer, cli: CLI, source: str, language: str, words: str
) -> None:
    state = notion.state
    bad = state.add_page(
        properties("bad", "Bad"), [heading("Section 1: Setup"), code(source, language)], HOUR_AGO
    )
    state.add_page(properties("good", "Good"), body(), HOUR_AGO)
    result = cli("export")
    assert result.code == 1, result.out + result.err
    assert "1 exported, 0 unchanged, 1 failed" in result.out
    assert exported(repo) == ["good.json"]
    message = row_error(state, bad)
    assert message.startswith("Export failed: Section 1 (Setup), settings block")
    assert words in message


def test_dates_and_yaml_1_2_words_in_settings_export(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    """YAML 1.2: `No` and `on` stay words (PyYAML's YAML 1.1 made them booleans, and a
    boolean key crashed the run); a date stays the text written."""
    blocks = [
        heading("Section 1: Play"),
        para(rt("Type: Game")),
        code("game_type: quiz\nchallenges:\n  - {due: 2025-01-01, graded: No, on: yes}\n"),
    ]
    notion.state.add_page(properties("dated", "Dated"), blocks, HOUR_AGO)
    result = cli("export")
    assert result.code == 0, result.out + result.err
    data = json.loads((repo.modules / "dated.json").read_text())
    assert data["sections"][0]["section_config"]["challenges"] == [
        {"due": "2025-01-01", "graded": "No", "on": "yes"}
    ]


def test_a_bug_on_one_page_is_that_pages_failure(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    """A block shaped as Notion never sends it trips the converter (AttributeError)."""
    state = notion.state
    broken = block("paragraph", rich_text="not a list of rich text", color="default")
    bad = state.add_page(properties("bad", "Bad"), [heading("Section 1: A"), broken], HOUR_AGO)
    state.add_page(properties("good", "Good"), body(), HOUR_AGO)
    result = cli("export")
    assert result.code == 1, result.out + result.err
    assert exported(repo) == ["good.json"]
    assert "Traceback" not in result.out + result.err
    message = row_error(state, bad)
    assert "internal error (AttributeError)" in message
    assert "not a mistake on the page" in message
    assert "AttributeError" in result.out


@pytest.mark.parametrize("url", ["http://[::1/x.png", "http://exa mple.org/x.png", "ftp://x/y.png"])
def test_a_malformed_hosted_file_url_fails_only_its_page(
    repo: Repo, notion: NotionServer, cli: CLI, url: str
) -> None:
    state = notion.state
    image = block("image", type="file", caption=[], file={"url": url, "expiry_time": None})
    bad = state.add_page(properties("bad", "Bad"), [heading("Section 1: P"), image], HOUR_AGO)
    state.add_page(properties("good", "Good"), body(), HOUR_AGO)
    result = cli("export")
    assert result.code == 1, result.out + result.err
    assert exported(repo) == ["good.json"]
    message = row_error(state, bad)
    assert f"the file of block {image['id']}" in message
    assert "upload the file again" in message


# -- item 12: hosted files are streamed to disk, limited in size and type ----------------------

MB = 1024 * 1024


def file_section(state: NotionState, url: str, content: bytes | LazyFile, **kind: Any) -> Any:
    """A one-section page body whose image is a Notion-hosted file, and that image block."""
    image = block("image", type="file", caption=[], file=state.hosted_file(url, content, **kind))
    return [heading("Section 1: Plan"), para(rt("Type: Image")), image], image


def set_max_file_mb(repo: Repo, mb: float) -> None:
    config = repo.root / "pipeline.yaml"
    config.write_text(config.read_text() + f"  max_file_mb: {mb}\n")


def nothing_partial(repo: Repo, module_id: str) -> bool:
    folder = repo.assets / module_id
    return not folder.exists() or not any(folder.iterdir())


def test_a_file_over_the_default_limit_is_refused_before_it_is_read(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state
    big = LazyFile(300 * MB)  # says its size: 300 MB > the default 25 MB
    blocks, image = file_section(state, "tour.mp4", big, base_url=notion.url)
    bad = state.add_page(properties("bad", "Bad"), blocks, HOUR_AGO)
    state.add_page(properties("good", "Good"), body(), HOUR_AGO)
    result = cli("export")
    assert result.code == 1, result.out + result.err
    assert exported(repo) == ["good.json"]
    assert big.sent < 30 * MB, big.sent  # not read to the end
    assert nothing_partial(repo, "bad")
    message = row_error(state, bad)
    assert f"the file of block {image['id']} is 300 MB" in message
    assert "more than the 25 MB" in message and "notion.max_file_mb" in message


def test_a_file_that_hides_its_size_is_cut_off_at_the_limit(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    set_max_file_mb(repo, 1)
    state = notion.state
    big = LazyFile(300 * MB, declare_length=False)
    blocks, image = file_section(state, "plan.png", big, base_url=notion.url)
    bad = state.add_page(properties("bad", "Bad"), blocks, HOUR_AGO)
    state.add_page(properties("good", "Good"), body(), HOUR_AGO)
    result = cli("export")
    assert result.code == 1, result.out + result.err
    assert exported(repo) == ["good.json"]
    assert big.sent < 100 * MB, big.sent  # the download stopped soon after 1 MB
    assert nothing_partial(repo, "bad")
    message = row_error(state, bad)
    assert f"the file of block {image['id']} is more than the 1 MB" in message


@pytest.mark.parametrize("kind", ["text/html", "application/x-msdownload", "image/svg"])
def test_a_file_of_a_type_modules_cannot_hold_is_refused(
    repo: Repo, notion: NotionServer, cli: CLI, kind: str
) -> None:
    state = notion.state
    blocks, image = file_section(
        state, "plan.png", b"<script>alert(1)</script>", base_url=notion.url, content_type=kind
    )
    bad = state.add_page(properties("bad", "Bad"), blocks, HOUR_AGO)
    state.add_page(properties("good", "Good"), body(), HOUR_AGO)
    result = cli("export")
    assert result.code == 1, result.out + result.err
    assert exported(repo) == ["good.json"]
    assert nothing_partial(repo, "bad")
    message = row_error(state, bad)
    assert f"the file of block {image['id']} is of type {kind}" in message
    assert "PNG, JPEG" in message


def test_a_file_within_the_limits_lands_whole_with_the_usual_mode(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    set_max_file_mb(repo, 5)
    state = notion.state
    content = LazyFile(3 * MB, declare_length=False)
    blocks, _image = file_section(
        state, "page.html", content, base_url=notion.url, content_type="image/png; charset=binary"
    )
    state.add_page(properties("ok", "OK"), blocks, HOUR_AGO)
    old = os.umask(0o022)
    try:
        result = cli("export")
    finally:
        os.umask(old)
    assert result.code == 0, result.out + result.err
    path = json.loads((repo.modules / "ok.json").read_text())["sections"][0]["media_url"]
    assert path.endswith(".png")  # the type it is, not the name it came with
    data = (repo.root / path).read_bytes()
    assert data == b"".join(LazyFile(3 * MB).chunks())
    assert path == f"data/assets/ok/{hashlib.sha256(data).hexdigest()[:16]}.png"
    names = sorted(p.name for p in (repo.assets / "ok").iterdir())
    assert names == sorted([Path(path).name, ".notion-assets.json"])  # nothing temporary
    for written in (repo.root / path, repo.modules / "ok.json"):
        assert stat.S_IMODE(written.stat().st_mode) == 0o644


def test_a_generic_content_type_falls_back_to_the_file_name(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state
    blocks, _image = file_section(
        state, "plan.jpeg", b"JPEG", base_url=notion.url, content_type="binary/octet-stream"
    )
    state.add_page(properties("ok", "OK"), blocks, HOUR_AGO)
    result = cli("export")
    assert result.code == 0, result.out + result.err
    path = json.loads((repo.modules / "ok.json").read_text())["sections"][0]["media_url"]
    assert path.endswith(".jpeg")  # a name that fits its type is kept, as before
