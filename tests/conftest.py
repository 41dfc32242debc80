"""Shared fixtures: a throwaway repository layout and a way to run the CLI."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli import main

ROOT = Path(__file__).resolve().parent.parent

MINIMAL: dict[str, Any] = {
    "module_id": "demo",
    "title": "Demo",
    "status": "ready",
    "sections": [
        {"section_number": 1, "section_type": "text", "title": "Intro", "content": "Hello"},
        {"section_number": 2, "section_type": "text", "title": "More", "content": "World"},
    ],
    "metadata": {"revision": 1},
}


def module(**overrides: Any) -> dict[str, Any]:
    """A valid module with top-level fields replaced."""
    data = copy.deepcopy(MINIMAL)
    data.update(overrides)
    return data


@dataclass
class Result:
    code: int
    out: str
    err: str


class Repo:
    """A temporary checkout: data/modules, data/assets, cwd set to its root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules = root / "data" / "modules"
        self.assets = root / "data" / "assets"
        self.modules.mkdir(parents=True)
        self.assets.mkdir(parents=True)

    def write(self, data: dict[str, Any] | str | bytes, name: str | None = None) -> Path:
        if name is None:
            assert isinstance(data, dict)
            name = data["module_id"]
        path = self.modules / f"{name}.json"
        if isinstance(data, dict):
            path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        elif isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        return path

    def asset(self, relative: str, content: bytes = b"x") -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    def copy_samples(self) -> None:
        shutil.copytree(ROOT / "data", self.root / "data", dirs_exist_ok=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(tmp_path)
    return Repo(tmp_path)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `pipeline ARGS` in-process, as a user would, returning code and output."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        else:
            code = 0
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
