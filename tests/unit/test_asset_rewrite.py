"""The rows students read name assets by absolute URL (assets/rewrite.py), and a module's
asset folder holds only what it uses (assets/unused.py, validate's warning)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from pipeline.assets.rewrite import markdown_with_urls, with_urls
from pipeline.assets.store import object_key
from pipeline.assets.unused import asset_files, unused_assets, used_assets
from pipeline.errors import ContentError
from pipeline.modules.records import MODULE_COLUMNS, SECTION_COLUMNS, to_record
from tests.builders import module
from tests.conftest import CLI, Repo

URLS = {
    "data/assets/a/plan.png": "https://cdn.example.org/m/1111.png",
    "data/assets/a/notes.pdf": "https://cdn.example.org/m/2222.pdf",
    "data/assets/a/captions.vtt": "https://cdn.example.org/m/3333.vtt",
    "data/assets/a/x (1).png": "https://cdn.example.org/m/4444.png",
}


def section(column: str, row: tuple[Any, ...]) -> Any:
    return row[SECTION_COLUMNS.index(column)]


def test_every_kind_of_asset_reference_becomes_its_url() -> None:
    data = module(
        module_id="a",
        sections=[
            {
                "section_number": 1,
                "section_type": "video",
                "title": "V",
                "content": "![plan](data/assets/a/plan.png) and [web](https://example.org/x)",
                "media_url": "data/assets/a/plan.png#t=10",
                "section_config": {
                    "provider": "file",
                    "captions_url": "data/assets/a/captions.vtt",
                },
            },
            {
                "section_number": 2,
                "section_type": "interactive",
                "title": "I",
                "content": "Find it.",
                "media_url": "https://example.org/floor.png",
                "section_config": {
                    "instruction": "Click",
                    "assets": ["data/assets/a/notes.pdf", "https://example.org/x.glb"],
                },
            },
        ],
    )
    record = with_urls(to_record(data), URLS)
    first, second = record.sections
    assert section("media_url", first) == "https://cdn.example.org/m/1111.png#t=10"
    assert section("content", first) == (
        "![plan](https://cdn.example.org/m/1111.png) and [web](https://example.org/x)"
    )
    assert (
        json.loads(section("section_config", first))["captions_url"]
        == URLS["data/assets/a/captions.vtt"]
    )
    assert json.loads(section("section_config", second))["assets"] == [
        URLS["data/assets/a/notes.pdf"],
        "https://example.org/x.glb",
    ]
    assert section("media_url", second) == "https://example.org/floor.png"
    # The row says which URLs it holds.
    row = dict(zip(MODULE_COLUMNS, record.row, strict=True))
    assert orjson.loads(row["asset_urls"]) == dict(sorted(URLS.items()))


def test_a_module_without_assets_is_left_as_it_is() -> None:
    record = to_record(module())
    assert with_urls(record, {}) is record


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ('![p](data/assets/a/plan.png "Plan")', '![p](https://cdn.example.org/m/1111.png "Plan")'),
        ("![p](<data/assets/a/plan.png>)", "![p](<https://cdn.example.org/m/1111.png>)"),
        (
            "[n](data/assets/a/notes.pdf?download=1)",
            "[n](https://cdn.example.org/m/2222.pdf?download=1)",
        ),
        ("![p](data\\/assets/a/plan.png)", "![p](https://cdn.example.org/m/1111.png)"),
        ("![p](data&#47;assets/a/plan.png)", "![p](https://cdn.example.org/m/1111.png)"),
        ("![p](<data/assets/a/x (1).png>)", "![p](<https://cdn.example.org/m/4444.png>)"),
        ("![p](data/assets/a/x%20(1).png)", "![p](data/assets/a/x%20(1).png)"),  # not ours
        (
            "![p][r]\n\n[r]: data/assets/a/plan.png",
            "![p][r]\n\n[r]: https://cdn.example.org/m/1111.png",
        ),
        (
            "> ![p][r]\n>\n> [r]:\n> <data/assets/a/plan.png>",
            "> ![p][r]\n>\n> [r]:\n> <https://cdn.example.org/m/1111.png>",
        ),
        ("- [n](\n  data/assets/a/notes.pdf)", "- [n](\n  https://cdn.example.org/m/2222.pdf)"),
        (
            "`![p](data/assets/a/plan.png)` ![p](data/assets/a/plan.png)",
            "`![p](data/assets/a/plan.png)` ![p](https://cdn.example.org/m/1111.png)",
        ),
        ("```\n![p](data/assets/a/plan.png)\n```", "```\n![p](data/assets/a/plan.png)\n```"),
        ("> ![p](\n> data/assets/a/plan.png)", "> ![p](\n> https://cdn.example.org/m/1111.png)"),
        (
            "[web](https://example.org/data/assets/a/plan.png)",
            "[web](https://example.org/data/assets/a/plan.png)",
        ),
        (
            "[![p](data/assets/a/plan.png)](data/assets/a/notes.pdf)",
            "[![p](https://cdn.example.org/m/1111.png)](https://cdn.example.org/m/2222.pdf)",
        ),
    ],
)
def test_markdown_destinations_however_written(markdown: str, expected: str) -> None:
    assert markdown_with_urls(markdown, URLS) == expected


def test_a_link_the_rewrite_cannot_reach_stops_the_deploy() -> None:
    """Parentheses nested twice in a bare destination: CommonMark reads it as a link, the
    rewrite cannot place it. Refused rather than sent as a repository path."""
    urls = {"data/assets/a/((x)).png": "https://cdn.example.org/m/5555.png"}
    with pytest.raises(ContentError, match=r"a section 1: the link to data/assets/a/\(\(x"):
        markdown_with_urls("![p](data/assets/a/((x)).png)", urls, "a section 1")


def test_code_is_found_in_linear_time_on_hostile_text() -> None:
    hostile = "".join("`" * n + "a" for n in range(1, 600)) + "![p](data/assets/a/plan.png)"
    assert markdown_with_urls(hostile, URLS).endswith("(https://cdn.example.org/m/1111.png)")


def test_object_keys_are_content_addresses() -> None:
    digest = "ab" * 32
    assert object_key("modules/", digest, "data/assets/a/Plan.PNG") == f"modules/{digest}.png"
    assert object_key("", digest, "data/assets/a/README") == digest
    assert object_key("", digest, "data/assets/a/x.p<n>g") == digest


# -- files in a module's asset folder that it does not use ------------------------------------


def test_unused_assets_is_pure_and_obvious() -> None:
    files = [
        "data/assets/a/plan.png",
        "data/assets/a/old.png",
        "data/assets/a/deep/older.png",
        "data/assets/a/.notion-assets.json",
        "data/assets/b/plan.png",
    ]
    used = {"data/assets/a/plan.png", "data/assets/b/plan.png"}
    assert unused_assets("a", files, used) == [
        "data/assets/a/deep/older.png",
        "data/assets/a/old.png",
    ]
    assert unused_assets("b", files, used) == []
    data = module(
        module_id="a",
        sections=[
            {
                "section_number": 1,
                "section_type": "image",
                "title": "I",
                "content": "[n](data/assets/a/notes.pdf#p=2)",
                "media_url": "data/assets/a/plan.png",
                "section_config": {"alt_text": "x"},
            }
        ],
    )
    assert used_assets(data) == {"data/assets/a/plan.png", "data/assets/a/notes.pdf"}


def test_asset_files_lists_regular_files_only(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "assets" / "a"
    (folder / "deep").mkdir(parents=True)
    (folder / "plan.png").write_bytes(b"x")
    (folder / "deep" / "older.png").write_bytes(b"x")
    os.symlink(tmp_path, folder / "loop")
    os.symlink(folder / "plan.png", folder / "link.png")
    assert asset_files(tmp_path, "a") == ["data/assets/a/deep/older.png", "data/assets/a/plan.png"]
    assert asset_files(tmp_path, "missing") == []


def test_validate_warns_about_files_the_module_does_not_use(repo: Repo, cli: CLI) -> None:
    repo.asset("data/assets/demo/plan.png")
    repo.asset("data/assets/demo/forgotten.png")
    repo.asset("data/assets/demo/.notion-assets.json", b"{}")
    data = module()
    data["sections"][0]["content"] = "![plan](data/assets/demo/plan.png)"
    repo.write(data)
    result = cli("validate", "--json")
    assert result.code == 0, result.out
    report = json.loads(result.out)
    assert report["valid"] is True and report["warning_count"] == 1
    [problem] = report["problems"]
    assert problem["check"] == "unused-asset" and problem["severity"] == "warning"
    assert problem["message"].startswith(
        "data/assets/demo/forgotten.png is in the module's asset folder but the module "
        "does not use it"
    )
