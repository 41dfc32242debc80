"""Rules of `pipeline validate` across files (references, cycles, unique ids, file names),
and where problems point. Single-file cases live in tests/cases/ (test_validate_cases.py)."""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import pipeline.modules.validate as validate_module
from pipeline.db.trust import validate_for_deploy
from pipeline.modules.records import ModuleRows
from pipeline.modules.validate import collect, validate_paths
from tests.builders import module, wait_for
from tests.builders import text_section as text
from tests.conftest import ROOT, Repo


def image(url: str, content: str = "") -> dict[str, Any]:
    return {
        "section_number": 1,
        "section_type": "image",
        "title": "Img",
        "content": content,
        "media_url": url,
        "section_config": {"alt_text": "alt"},
    }


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


def test_rows_made_in_worker_processes_are_the_rows_made_here(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deploy's workers send each valid file's rows back marshalled: they arrive as
    the same ModuleRows, tuples still tuples, awkward text and missing values intact."""
    repo.asset("data/assets/x.png")
    for i in range(12):
        repo.write(
            module(
                module_id=f"m{i}",
                description="tab\there, a\\backslash, a \u00e9 and\nnewline" * (i % 2),
                sections=[
                    text(1, "One", "x\r\ny"),
                    {**image("data/assets/x.png"), "section_number": 2},
                ],
            )
        )
    repo.write(module(module_id="bad", status="bogus"))
    files = collect([repo.modules])
    serial = validate_for_deploy(files, {})
    monkeypatch.setattr(validate_module, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(validate_module, "_CHUNK", 5)
    parallel = validate_for_deploy(files, {})
    assert parallel == serial, [p.message for p in serial.problems]
    records = [r.record for r in parallel.results if r.record is not None]
    assert len(records) == 12
    assert all(type(r) is ModuleRows and type(r.sections[0]) is tuple for r in records)
    assert [r.record is None for r in parallel.results].count(True) == 1


def _mark_after_a_while(folder: str, n: int) -> None:
    time.sleep(0.02)
    (Path(folder) / str(n)).touch()


_ONE_CORE = pytest.mark.skipif(validate_module._cores() < 2, reason="one core: no worker processes")


@_ONE_CORE
def test_after_a_failure_the_workers_drop_the_work_not_started(tmp_path: Path) -> None:
    """A deploy hands chunks to the workers before it takes their results; when it then
    fails (a lock it waited for in vain), it says so without first checking every file."""
    with pytest.raises(RuntimeError), validate_module.workers(10_000) as pool:
        assert pool is not None
        for n in range(200):
            pool.submit(_mark_after_a_while, str(tmp_path), n)
        raise RuntimeError("the deploy failed")
    assert len(list(tmp_path.iterdir())) < 50


def _noted(folder: str, items: list[Any]) -> list[Any]:
    (Path(folder) / str(items[0])).touch()
    return []


@_ONE_CORE
def test_the_workers_check_only_a_few_chunks_ahead_of_what_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deploy held up (waiting for a lock) before it takes the results does not make
    the workers check the whole library into memory: a few chunks per worker, then
    the rest as results are taken."""
    monkeypatch.setattr(validate_module, "_CHUNK", 1)
    ahead = validate_module._AHEAD * validate_module._cores()
    note = partial(_noted, str(tmp_path))
    with validate_module.workers(10_000) as pool:
        assert pool is not None
        results = validate_module.each_in_parallel(
            list(range(ahead * 5)), note, to_read=10_000, pool=pool
        )
        wait_for(lambda: len(list(tmp_path.iterdir())) == ahead)
        time.sleep(0.3)
        assert len(list(tmp_path.iterdir())) == ahead
        assert list(results) == []
    assert len(list(tmp_path.iterdir())) == ahead * 5


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
