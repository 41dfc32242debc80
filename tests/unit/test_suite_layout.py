"""The suite's own layout rules (tests/README.md): where a test goes, what it may import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
TEST_FILES = sorted(TESTS.rglob("test_*.py"))
KINDS = ("unit", "db", "e2e")
# What makes a test leave unit/: a real Postgres, a server double, a process.
POSTGRES_FIXTURES = {"postgres", "db", "empty_db", "pooler"}
OUT_OF_PROCESS = {
    "subprocess",
    "tests.doubles.notion_server",
    "tests.doubles.github_server",
    "tests.doubles.local_http",
    "http.server",
    "socket",
}


def imported_modules(tree: ast.Module, package: str) -> set[str]:
    """Every module a file imports, relative imports resolved against `package`."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            # `from tests.unit import test_x` imports a module too.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def relative(path: Path) -> str:
    return path.relative_to(TESTS.parent).as_posix()


@pytest.mark.parametrize("path", TEST_FILES, ids=relative)
def test_no_test_file_imports_another(path: Path) -> None:
    package = ".".join(path.relative_to(TESTS.parent).parent.parts)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    from_tests = [
        m for m in imported_modules(tree, package) if m.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert from_tests == [], (
        f"{relative(path)} imports from {from_tests}: move shared helpers to tests/builders.py"
    )


def test_the_rule_catches_each_import_form() -> None:
    def caught(source: str) -> bool:
        modules = imported_modules(ast.parse(source), "tests.e2e")
        return any(m.rsplit(".", 1)[-1].startswith("test_") for m in modules)

    assert caught("from tests.unit.test_notion_page import code")
    assert caught("import tests.db.test_deploy")
    assert caught("from .test_export import body")
    assert caught("from ..unit.test_notion_markdown import rt")
    assert caught("from tests.unit import test_notion_markdown")
    assert not caught("from tests.builders import rt\nfrom tests.doubles import notion_server")


@pytest.mark.parametrize("path", TEST_FILES, ids=relative)
def test_every_test_file_is_in_unit_db_or_e2e(path: Path) -> None:
    kind = path.relative_to(TESTS).parts[0]
    assert kind in KINDS, f"{relative(path)}: put it in tests/unit, tests/db or tests/e2e"
    assert (TESTS / kind / "__init__.py").is_file()


@pytest.mark.parametrize("path", sorted((TESTS / "unit").glob("test_*.py")), ids=relative)
def test_unit_tests_stay_in_process_without_postgres(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    arguments = {
        arg.arg
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for arg in node.args.args
    }
    assert not arguments & POSTGRES_FIXTURES, f"{relative(path)} uses Postgres: tests/db"
    imports = imported_modules(tree, "tests.unit")
    assert not imports & OUT_OF_PROCESS, f"{relative(path)} leaves the process: tests/e2e"
