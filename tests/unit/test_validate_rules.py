"""Every content rule of `pipeline validate`, each with a failing and a passing case."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import pipeline.modules.validate as validate_module
from pipeline.modules.validate import validate_paths
from tests.builders import module
from tests.builders import text_section as text
from tests.conftest import ROOT, Repo


def interactive(hotspots: int, clicked: int) -> dict[str, Any]:
    return {
        "section_number": 1,
        "section_type": "interactive",
        "title": "Find",
        "content": "",
        "section_config": {
            "instruction": "Click",
            "hotspots": [
                {"id": f"h{i}", "x": i, "y": i, "label": f"H{i}"} for i in range(hotspots)
            ],
        },
        "completion_criteria": {"type": "hotspots", "hotspots_clicked": clicked},
    }


def checklist(ids: list[str], tasks: list[str]) -> dict[str, Any]:
    return {
        "section_number": 1,
        "section_type": "checklist",
        "title": "Do",
        "content": "",
        "section_config": {"items": [{"id": i, "label": i} for i in ids]},
        "completion_criteria": {"type": "tasks", "tasks": tasks},
    }


def quiz(kind: str, answer: list[str]) -> dict[str, Any]:
    return {
        "section_number": 1,
        "section_type": "quiz",
        "title": "Q",
        "content": "",
        "section_config": {
            "questions": [
                {
                    "id": "q1",
                    "prompt": "?",
                    "kind": kind,
                    "answer": answer,
                    "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
                }
            ]
        },
    }


def image(url: str, content: str = "") -> dict[str, Any]:
    return {
        "section_number": 1,
        "section_type": "image",
        "title": "Img",
        "content": content,
        "media_url": url,
        "section_config": {"alt_text": "alt"},
    }


NOTION_URL = (
    "https://prod-files-secure.s3.us-west-2.amazonaws.com/abc/def/plan.png"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=ff"
)

# (id, failing module, passing module, check, words in the message)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    (
        "section gap",
        module(sections=[text(1), text(3)]),
        module(sections=[text(1), text(2)]),
        "section-numbers",
        "section_number is 3 but this is section 2 of 2",
    ),
    (
        "section duplicate",
        module(sections=[text(1), text(1)]),
        module(sections=[text(1), text(2)]),
        "section-numbers",
        "section_number 1 is used twice",
    ),
    (
        "section order",
        module(sections=[text(2), text(1)]),
        module(sections=[text(1), text(2)]),
        "section-numbers",
        "number sections 1..2 in order",
    ),
    (
        "section from zero",
        module(sections=[text(0)]),
        module(sections=[text(1)]),
        "schema",
        "section_number must be at least 1",
    ),
    (
        "unknown section type",
        module(sections=[{**text(1), "section_type": "vidoe"}]),
        module(sections=[text(1)]),
        "schema",
        'did you mean "video"',
    ),
    (
        "unknown status",
        module(status="live"),
        module(status="published"),
        "schema",
        'status "live" is not known',
    ),
    ("unknown field", module(titel="x"), module(), "schema", 'unknown field "titel"'),
    (
        "missing field",
        {k: v for k, v in module().items() if k != "title"},
        module(),
        "schema",
        'missing required field "title"',
    ),
    ("bad slug", module(module_id="Demo_1"), module(), "schema", "must be a slug"),
    (
        "self prerequisite",
        module(prerequisites=["demo"]),
        module(prerequisites=[]),
        "references",
        "lists itself in prerequisites",
    ),
    (
        "hotspots over count",
        module(sections=[interactive(2, 3)]),
        module(sections=[interactive(3, 3)]),
        "completion-criteria",
        "only 2 hotspots",
    ),
    (
        "unknown task",
        module(sections=[checklist(["a", "b"], ["a", "c"])]),
        module(sections=[checklist(["a", "b"], ["a", "b"])]),
        "completion-criteria",
        'task "c" is not an id',
    ),
    (
        "duplicate item id",
        module(sections=[checklist(["a", "a"], ["a"])]),
        module(sections=[checklist(["a", "b"], ["a"])]),
        "section-config",
        'id "a" is used more',
    ),
    (
        "quiz answer not an option",
        module(sections=[quiz("single", ["z"])]),
        module(sections=[quiz("single", ["a"])]),
        "section-config",
        'answer "z" is not one',
    ),
    (
        "single choice two answers",
        module(sections=[quiz("single", ["a", "b"])]),
        module(sections=[quiz("multiple", ["a", "b"])]),
        "section-config",
        "exactly one answer",
    ),
    (
        "criteria wrong type",
        module(
            sections=[
                {**text(1), "completion_criteria": {"type": "hotspots", "hotspots_clicked": 1}}
            ]
        ),
        module(sections=[{**text(1), "completion_criteria": {"type": "time", "value": 30}}]),
        "completion-criteria",
        "does not fit a text section",
    ),
    (
        "criteria missing value",
        module(sections=[{**text(1), "completion_criteria": {"type": "time"}}]),
        module(sections=[{**text(1), "completion_criteria": {"type": "time", "value": 30}}]),
        "schema",
        'missing required field "value"',
    ),
    (
        "image needs alt text",
        module(sections=[{**image("https://example.org/a.png"), "section_config": {}}]),
        module(sections=[image("https://example.org/a.png")]),
        "schema",
        'missing required field "alt_text"',
    ),
    (
        "video needs media",
        module(sections=[{**text(1), "section_type": "video"}]),
        module(
            sections=[
                {**text(1), "section_type": "video", "media_url": "https://example.org/v.mp4"}
            ]
        ),
        "schema",
        'missing required field "media_url"',
    ),
    (
        "notion hosted media",
        module(sections=[image(NOTION_URL)]),
        module(sections=[image("https://example.org/plan.png")]),
        "notion-url",
        "expires",
    ),
    (
        "notion hosted in markdown",
        module(sections=[text(1, content=f"see ![p]({NOTION_URL})")]),
        module(sections=[text(1, content="see ![p](https://example.org/p.png)")]),
        "notion-url",
        "Notion-hosted",
    ),
    (
        "notion hosted in description",
        module(description=f"plan: {NOTION_URL}"),
        module(description="plan: https://example.org/p.png"),
        "notion-url",
        "Notion-hosted",
    ),
    (
        "notion host in capitals",
        module(description="see https://FILE.Notion.SO/f/plan.png"),
        module(description="see https://files.example.org/notion/plan.png"),
        "notion-url",
        "Notion-hosted",
    ),
    (
        "notion static host",
        module(sections=[image("https://s3.amazonaws.com/secure.notion-static.com/a/plan.png")]),
        module(sections=[image("https://s3.amazonaws.com/example/a/plan.png")]),
        "notion-url",
        "expires",
    ),
    (
        "malformed url",
        module(sections=[image("https://exa mple.org/a.png")]),
        module(sections=[image("https://example.org/a.png")]),
        "media-url",
        "not a well-formed URL",
    ),
    (
        "url without host",
        module(sections=[image("https:///a.png")]),
        module(sections=[image("https://example.org/a.png")]),
        "media-url",
        "not a well-formed URL",
    ),
    (
        "served path instead of repo path",
        module(sections=[image("/assets/x.png")]),
        module(sections=[image("data/assets/x.png")]),
        "media-url",
        "write data/assets/x.png",
    ),
    (
        "relative junk media",
        module(sections=[image("x.png")]),
        module(sections=[image("data/assets/x.png")]),
        "media-url",
        "neither an https:// URL",
    ),
    (
        "dot-dot asset path",
        module(sections=[image("data/assets/../secrets.png")]),
        module(sections=[image("data/assets/x.png")]),
        "media-url",
        "not a clean asset path",
    ),
    (
        "missing asset",
        module(sections=[image("data/assets/missing.png")]),
        module(sections=[image("data/assets/x.png")]),
        "asset",
        "does not exist",
    ),
    (
        "missing asset in markdown",
        module(sections=[text(1, content="![a](data/assets/no.png)")]),
        module(sections=[text(1, content="![a](data/assets/x.png)")]),
        "asset",
        "does not exist",
    ),
    (
        "notion page id",
        module(notion_page_id="abc123def456"),
        module(notion_page_id="1a2b3c4d5e6f4a1b8c2d3e4f5a6b7c8d"),
        "schema",
        "Notion page id",
    ),
]


@pytest.mark.parametrize(
    ("failing", "passing", "check", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule_fails_and_passes(
    repo: Repo, failing: dict[str, Any], passing: dict[str, Any], check: str, words: str
) -> None:
    repo.asset("data/assets/x.png")
    repo.write(failing, "demo")
    report = validate_paths([repo.modules])
    assert not report.valid
    matching = [p for p in report.problems if p.check == check and words in p.message]
    assert matching, [(p.check, p.message) for p in report.problems]

    repo.write(passing, "demo")
    report = validate_paths([repo.modules])
    assert report.valid, [(p.check, p.message) for p in report.problems]


def test_file_name_must_equal_module_id(repo: Repo) -> None:
    repo.write(module(module_id="other"), "demo")
    [problem] = validate_paths([repo.modules]).problems
    assert problem.check == "file-name"
    assert "rename the file to other.json" in problem.message
    assert (problem.line, problem.column) == (2, 16)


def test_file_name_checked_even_when_schema_fails(repo: Repo) -> None:
    repo.write(module(module_id="other", status="nope"), "demo")
    checks = {p.check for p in validate_paths([repo.modules]).problems}
    assert checks == {"schema", "file-name"}


def test_module_id_unique_across_directories(repo: Repo) -> None:
    repo.write(module())
    elsewhere = repo.root / "drafts"
    elsewhere.mkdir()
    (elsewhere / "demo.json").write_text(json.dumps(module()))
    report = validate_paths([repo.modules, elsewhere])
    assert [p.check for p in report.problems] == ["unique-id", "unique-id"]
    assert "also used by drafts/demo.json" in report.problems[0].message


@pytest.mark.parametrize("field", ["prerequisites", "related_modules"])
def test_references_must_name_existing_modules(repo: Repo, field: str) -> None:
    repo.write(module(**{field: ["lab-safety-10"]}))
    [problem] = validate_paths([repo.modules]).problems
    assert problem.check == "references"
    assert problem.pointer == f"/{field}/0"
    assert "no module has that id" in problem.message

    repo.write(module(module_id="lab-safety-101"))
    [problem] = validate_paths([repo.modules]).problems
    assert 'did you mean "lab-safety-101"' in problem.message

    repo.write(module(**{field: ["lab-safety-101"]}))
    assert validate_paths([repo.modules]).valid


def test_reference_to_unchanged_sibling_when_checking_one_file(repo: Repo) -> None:
    repo.write(module(module_id="base"))
    path = repo.write(module(prerequisites=["base"]))
    report = validate_paths([path])
    assert report.valid
    assert report.files == ["data/modules/demo.json"]


def test_prerequisite_cycle_is_named_on_every_member(repo: Repo) -> None:
    repo.write(module(module_id="a", prerequisites=["b"]))
    repo.write(module(module_id="b", prerequisites=["c"]))
    repo.write(module(module_id="c", prerequisites=["a"]))
    repo.write(module(module_id="d", prerequisites=["a"]))
    problems = validate_paths([repo.modules]).problems
    assert sorted(p.file for p in problems) == [f"data/modules/{m}.json" for m in "abc"]
    assert all("a -> b -> c -> a" in p.message for p in problems)

    repo.write(module(module_id="c", prerequisites=[]))
    assert validate_paths([repo.modules]).valid


def test_two_module_cycle_and_long_chain(repo: Repo) -> None:
    for i in range(300):
        repo.write(module(module_id=f"m{i}", prerequisites=[f"m{i + 1}"] if i < 299 else []))
    assert validate_paths([repo.modules]).valid
    repo.write(module(module_id="m299", prerequisites=["m298"]))
    problems = validate_paths([repo.modules]).problems
    assert {p.file for p in problems} == {"data/modules/m298.json", "data/modules/m299.json"}
    assert "m298 -> m299 -> m298" in problems[0].message


def test_samples_are_valid() -> None:
    report = validate_paths([ROOT / "data" / "modules"])
    assert report.valid, report.problems
    assert len(report.files) >= 3


def test_sample_breakage_is_caught(repo: Repo) -> None:
    repo.copy_samples()
    (repo.assets / "lab-safety-101" / "lab-floor-plan.png").unlink()
    [problem] = validate_paths([repo.modules]).problems
    assert problem.check == "asset"
    assert problem.file == "data/modules/lab-safety-101.json"


def mutate(data: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    change(data)
    return data


def test_problems_point_at_the_line_of_the_value(repo: Repo) -> None:
    data = module(sections=[text(1), {**text(2), "section_type": "vidoe"}])
    path = repo.write(data)
    [problem] = validate_paths([repo.modules]).problems
    lines = path.read_text().splitlines()
    assert '"vidoe"' in lines[problem.line - 1]
    assert lines[problem.line - 1][problem.column - 1 :].startswith('"vidoe"')


def test_unknown_field_points_at_its_key(repo: Repo) -> None:
    path = repo.write(module(sections=[{**text(1), "colour": "red"}]))
    [problem] = validate_paths([repo.modules]).problems
    line = path.read_text().splitlines()[problem.line - 1]
    assert line[problem.column - 1 :].startswith('"colour"')
    assert problem.pointer == "/sections/0/colour"


def test_parallel_and_serial_checks_agree(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.asset("data/assets/x.png")
    for i in range(30):
        prerequisites = [f"m{(i + 1) % 30}"] if i % 3 == 0 else []
        repo.write(
            module(
                module_id=f"m{i}",
                prerequisites=prerequisites,
                sections=[image("data/assets/x.png" if i % 4 else "data/assets/no.png")],
            )
        )
    repo.write(module(module_id="m5", status="bogus"))
    repo.write(module(module_id="m8", prerequisites=["ghost"]))
    repo.write("{broken", "m7")
    serial = validate_paths([repo.modules])
    monkeypatch.setattr(validate_module, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(validate_module, "_CHUNK", 4)
    parallel = validate_paths([repo.modules])
    assert parallel.problems == serial.problems
    assert {p.check for p in serial.problems} >= {"asset", "schema", "json", "references"}
