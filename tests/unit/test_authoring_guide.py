"""docs/authoring.md, the team leads' guide: every part an error links to is there, it
lists the ten most common problems, and it speaks no programming words."""

from __future__ import annotations

import re

import pytest

from pipeline.notion.sections import display_type
from pipeline.notion.template import SECTION_TYPES
from tests.conftest import ROOT

GUIDE = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
SOURCES = sorted((ROOT / "pipeline" / "notion").glob("*.py"))


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lowercase, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


ANCHORS = {github_anchor(h) for h in re.findall(r"^#{2,3} (.+)$", GUIDE, re.MULTILINE)}


def linked_parts() -> set[str]:
    """Every part of the guide the pipeline's messages link to."""
    found: set[str] = set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'guide="([a-z-]+)"', text))
        found |= set(
            re.findall(
                r'^\s+"[a-z_]+": "([a-z]+(?:-[a-z]+)+|quizzes|checklists)",$', text, re.MULTILINE
            )
        )
    found |= set(
        re.findall(r'guide = "([a-z-]+)"', (ROOT / "pipeline/notion/report.py").read_text())
    )
    return found


def test_the_parts_errors_link_to_exist() -> None:
    parts = linked_parts()
    assert {"settings-blocks", "quizzes", "module-id", "for-operators"} <= parts
    assert parts <= ANCHORS, sorted(parts - ANCHORS)


def test_it_lists_the_ten_most_common_problems() -> None:
    common = GUIDE.split("## Common problems", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^(\d+)\. \*\*", common, re.MULTILINE) == [str(n) for n in range(1, 11)]


@pytest.mark.parametrize("word", ["JSON", "YAML", "schema", "API", "pointer", "section_config"])
def test_the_team_leads_part_speaks_no_programming_words(word: str) -> None:
    team_leads = GUIDE.split("## For operators", 1)[0]
    assert word not in team_leads


@pytest.mark.parametrize("kind", sorted(set(SECTION_TYPES) - {"text"}))
def test_an_example_of_every_section_type(kind: str) -> None:
    """Each type has an example written as on the page (text needs no type line: the
    guide's first example is one)."""
    examples = "\n".join(re.findall(r"```text\n(.*?)```", GUIDE, re.DOTALL))
    assert f"Type: {display_type(kind)}\n" in examples
