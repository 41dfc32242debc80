"""`pipeline export` against hostile or broken Notion content: one bad page is that page's
failure, reported on its row; the run goes on for the others and exits 1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.builders import block, body, code, heading, para, properties, rt, schema
from tests.conftest import CLI, Repo
from tests.doubles.notion_server import NotionServer, NotionState, point_cli_at, serve

HOUR_AGO = time.time() - 3600


@pytest.fixture
def notion(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotionServer]:
    state = NotionState(schema=schema())
    for server in serve(state):
        point_cli_at(server, monkeypatch, repo.root, database=True)
        yield server


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
    assert message.startswith("Export failed: Section 1 (Setup): the settings code block ")
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
