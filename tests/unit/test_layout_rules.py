"""The package's layout rule (see pipeline/__init__.py), checked over the import graph."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pipeline"

# notion-learning-sync (pipeline/learn, issue #17): Anki and the AI provider are systems
# of their own; the pure parts read no system; the stages combine them.
LEARN_EDGES = ("learn.anki", "learn.providers")
LEARN_PURE = ("learn.settings", "learn.transform", "learn.cleaning")
LEARN_STAGES = ("learn.sync", "learn.rewrite", "learn.anki_sync")

# Talk to one outside system each; may import only these of ours.
EDGES = ("notion.api", "propose.github_api", "git", "db.connect", "assets.store", *LEARN_EDGES)
EDGE_MAY_IMPORT = ("errors", "config", "layout", "modules")
# Pure: no outside system, no edge, no stage.
PURE = (
    "modules.checks",
    "modules.parse",
    "modules.problems",
    "modules.records",
    "modules.schema",
    "notion.markdown",
    "notion.page",
    "notion.outline",
    "notion.sections",
    "notion.forms",
    "notion.criteria",
    "notion.settings_block",
    "notion.report",
    "propose.gfm",
    "propose.pr_body",
    "propose.prose",
    "propose.sections",
    "db.plan",
    "sync.entities",
    "sync.plan",
    "sync.properties",
    "assets.rewrite",
    "assets.unused",
    *LEARN_PURE,
)
# Which system a library reaches, for modules that use one directly.
LIBRARY_SYSTEMS = {
    "psycopg": "db.connect",
    "notion_client": "notion.api",
    "github": "propose.github_api",
    "requests": "propose.github_api",
    "subprocess": "git",
    "httpx": "the web",
    "anki": "learn.anki",
    "boto3": "assets.store",
    "botocore": "assets.store",
    "mypy_boto3_s3": "assets.store",
}
SYSTEM_LIBRARIES = tuple(LIBRARY_SYSTEMS)
# db.trust is the deploy stage's validation: the database's rows and git's blob ids.
STAGES = (
    "notion.export",
    "notion.mark_live",
    "notion.review_feedback",
    "propose.run",
    "db.deploy",
    "db.trust",
    "sync.run",
    *LEARN_STAGES,
    # Issue #16: asset publishing (git's index and the store), and the ops commands.
    "assets.publish",
    "propose.rollback",
    "db.backup",
    "notion.backup",
)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def imports(name: str) -> set[str]:
    """Every module `name` imports, at the top or inside a function (dotted, absolute)."""
    tree = ast.parse((PACKAGE / (name.replace(".", "/") + ".py")).read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def ours(found: set[str]) -> set[str]:
    return {m.removeprefix("pipeline.") for m in found if m.startswith("pipeline.")}


def is_under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


ALL = sorted(module_name(p) for p in PACKAGE.rglob("*.py") if "_schemas" not in p.parts)


def test_the_named_modules_exist() -> None:
    for name in (*EDGES, *PURE, *STAGES):
        assert name in ALL, name


@pytest.mark.parametrize("edge", EDGES)
def test_edges_import_only_errors_config_layout_and_modules(edge: str) -> None:
    wrong = sorted(m for m in ours(imports(edge)) if not is_under(m, EDGE_MAY_IMPORT))
    # `from pipeline import __version__` is the package itself, not a system.
    assert [m for m in wrong if m != "__version__"] == []


@pytest.mark.parametrize("pure", PURE)
def test_pure_modules_talk_to_no_system(pure: str) -> None:
    found = imports(pure)
    libraries = sorted(m for m in found if is_under(m, SYSTEM_LIBRARIES))
    assert libraries == []
    assert sorted(m for m in ours(found) if is_under(m, EDGES + STAGES)) == []


def systems(name: str) -> set[str]:
    found = imports(name)
    used = {edge for edge in EDGES if any(is_under(m, (edge,)) for m in ours(found))}
    used |= {
        system
        for library, system in LIBRARY_SYSTEMS.items()
        if any(is_under(m, (library,)) for m in found)
    }
    return used


@pytest.mark.parametrize(
    "name", [n for n in ALL if n not in STAGES and n not in EDGES and n != "cli"]
)
def test_only_stages_and_the_cli_combine_systems(name: str) -> None:
    assert len(systems(name)) <= 1, f"{name} combines {sorted(systems(name))}"


def test_the_rule_catches_a_breach() -> None:
    """The checks above would fail on a module that broke the rule."""
    assert is_under("db.connect", EDGES)
    assert not is_under("render", EDGE_MAY_IMPORT)
    assert ours({"pipeline.db.connect", "psycopg"}) == {"db.connect"}
    assert systems("db.deploy") >= {"db.connect"}
    assert len(systems("propose.run")) > 1  # a stage: git, GitHub and Notion
