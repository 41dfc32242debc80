"""pipeline.yaml: defaults, overrides, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import DEFAULT_PROPERTIES, load_config
from pipeline.errors import UsageError
from tests.conftest import CLI, Repo


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(tmp_path / "pipeline.yaml")
    assert config.notion.properties == DEFAULT_PROPERTIES
    assert config.notion.ready_status == "Ready"
    assert config.notion.database_id is None


def test_overrides_merge_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        "notion:\n  database_id: 0123456789abcdef0123456789abcdef\n"
        "  properties:\n    module_id: Slug\n"
        "  universities:\n    Cal Poly Pomona: cpp\n"
    )
    notion = load_config(path).notion
    assert notion.database_id == "0123456789abcdef0123456789abcdef"
    assert notion.properties["module_id"] == "Slug"
    assert notion.properties["status"] == "Status"
    assert notion.universities == {"Cal Poly Pomona": "cpp"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("notion:\n  databse_id: x\n", "databse_id"),
        ("notion:\n  database_id: not-an-id\n", "notion.database_id"),
        ("notion:\n  properties:\n    colour: Colour\n", "colour"),
        ("notion: [1, 2]\n", "notion"),
        ("notion: {\n", "not readable YAML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert words in str(caught.value)


# -- What a red-team pass wrote into pipeline.yaml: each one a usage error (exit 2) that
# names the file and the place, never an internal error (exit 3).


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("deploy: " + "[" * 3000 + "]" * 3000 + "\n", "line 1, column "),
        ('assets:\n  public_base_url: "http://\\ud800/"\n', "assets.public_base_url: "),
        ('assets:\n  store: "\\ud800"\n', "assets.store: "),
        ("a: &a [*a]\n", "a[0]: "),
        ("deploy: !!binary aGVsbG8=\n", "deploy: "),
    ],
    ids=["deep", "surrogate-url", "surrogate-store", "self-alias", "binary"],
)
def test_hostile_config_is_a_usage_error_naming_the_place(
    repo: Repo, cli: CLI, text: str, words: str
) -> None:
    path = repo.root / "pipeline.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert words in str(caught.value)
    result = cli("deploy")
    assert result.code == 2, result.err
    assert result.err.startswith("error: pipeline.yaml: ")
    assert words in result.err


@pytest.mark.parametrize(
    "prefix", ["../../../../tmp/escape/", "./", "modules/../", "modules/./x/", "../"]
)
def test_an_asset_prefix_stays_inside_the_store(tmp_path: Path, prefix: str) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(f'assets: {{store: local, prefix: "{prefix}"}}\n', encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: assets.prefix: ")
    assert "'.' or '..'" in message, "the message says what a prefix may be"


@pytest.mark.parametrize("prefix", ["", "modules/", "lms/v2.1/", "a.b/_c-d/", ".well-known/"])
def test_asset_prefixes_of_folder_names_are_kept(tmp_path: Path, prefix: str) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(f'assets: {{store: local, prefix: "{prefix}"}}\n', encoding="utf-8")
    assert load_config(path).assets.prefix == prefix
