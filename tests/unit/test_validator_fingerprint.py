"""Deploy trusts a file only if the same validator passed it: the fingerprint must move
whenever anything that judges a file moves, the interactive components' schemas included."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.db import trust
from pipeline.layout import MODULE_SCHEMA, schema_file


@pytest.fixture
def schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    copy = tmp_path / "schemas"
    shutil.copytree(schema_file(MODULE_SCHEMA).parent, copy)
    monkeypatch.setattr(trust, "schema_file", lambda name: copy / name)
    yield copy
    trust.validator_fingerprint.cache_clear()


def fingerprint() -> str:
    """Computed afresh: a process computes it once, as a deploy does."""
    trust.validator_fingerprint.cache_clear()
    return trust.validator_fingerprint()


def test_the_same_schemas_give_the_same_fingerprint(schemas: Path) -> None:
    assert fingerprint() == fingerprint()


def test_a_changed_component_schema_changes_it(schemas: Path) -> None:
    before = fingerprint()
    component = sorted((schemas / "components").glob("*.schema.json"))[0]
    component.write_text(component.read_text().replace("{", '{"description": "x", ', 1))
    assert fingerprint() != before


def test_a_new_component_changes_it(schemas: Path) -> None:
    before = fingerprint()
    (schemas / "components" / "whiteboard.schema.json").write_text('{"type": "object"}')
    assert fingerprint() != before


def test_a_changed_module_schema_changes_it(schemas: Path) -> None:
    before = fingerprint()
    main = schemas / MODULE_SCHEMA
    main.write_text(main.read_text().replace("{", '{"$comment": "x", ', 1))
    assert fingerprint() != before
