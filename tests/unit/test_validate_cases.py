"""Module files in tests/cases/: every valid/ file passes `pipeline validate`, every invalid/
file fails with the one problem invalid/expected.yaml names. Add a case by adding files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CLI, Repo, Result

CASES = Path(__file__).resolve().parents[1] / "cases"
VALID = sorted((CASES / "valid").glob("*.json"))
INVALID = sorted((CASES / "invalid").glob("*.json"))
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load(
    (CASES / "invalid" / "expected.yaml").read_text(encoding="utf-8")
)
KEYS = {"check", "message", "line", "pointer"}


def validate_case(repo: Repo, cli: CLI, case: Path) -> tuple[Result, str]:
    """`pipeline validate` on the case, as data/modules/<its module_id>.json of a checkout
    with data/assets/x.png; returns the result and the file's path there."""
    repo.asset("data/assets/x.png")
    data = json.loads(case.read_bytes())
    module_id = data.get("module_id")
    name = module_id if isinstance(module_id, str) and module_id else case.stem
    (repo.modules / f"{name}.json").write_bytes(case.read_bytes())
    return cli("validate", "--format", "json"), f"data/modules/{name}.json"


def test_every_case_is_described_and_has_a_twin() -> None:
    assert len(VALID) >= 32 and len(INVALID) >= 32
    assert sorted(EXPECTED) == [case.name for case in INVALID]
    for name, expected in EXPECTED.items():
        assert {"check", "message"} <= set(expected) <= KEYS, name
    # The valid twin shows the fix: `diff invalid/X.json valid/X.json`.
    assert {c.name for c in INVALID} <= {c.name for c in VALID}


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.stem)
def test_valid_case_passes(repo: Repo, cli: CLI, case: Path) -> None:
    result, _ = validate_case(repo, cli, case)
    assert json.loads(result.out)["problems"] == []
    assert result.code == 0


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.stem)
def test_invalid_case_fails_as_expected(repo: Repo, cli: CLI, case: Path) -> None:
    expected = EXPECTED[case.name]
    result, path = validate_case(repo, cli, case)
    assert result.code == 1
    [problem] = json.loads(result.out)["problems"]
    assert (problem["file"], problem["check"]) == (path, expected["check"])
    assert expected["message"] in problem["message"]
    if "line" in expected:
        assert problem["line"] == expected["line"]
    if "pointer" in expected:
        assert problem["pointer"] == expected["pointer"]
