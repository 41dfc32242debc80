"""Blob ids from real git agree with ours; edited and untracked files are left to us."""

from __future__ import annotations

from pathlib import Path

from pipeline.git import blob_id, known_blob_ids
from tests.builders import git


def test_known_blob_ids(tmp_path: Path) -> None:
    modules = tmp_path / "data" / "modules"
    modules.mkdir(parents=True)
    (modules / "a.json").write_text('{"a": 1}\n')
    (modules / "b.json").write_text('{"b": 2}\n')
    (modules / "sub").mkdir()
    (modules / "sub" / "c.json").write_text("{}")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "x")

    known = known_blob_ids(modules)
    assert set(known) == {"a.json", "b.json"}
    assert known["a.json"] == blob_id(b'{"a": 1}\n')
    assert known["a.json"] == git(tmp_path, "hash-object", "data/modules/a.json").strip()

    (modules / "a.json").write_text('{"a": 2}\n')  # edited, not staged
    (modules / "new.json").write_text("{}")  # untracked
    assert set(known_blob_ids(modules)) == {"b.json"}
    git(tmp_path, "add", "data/modules/a.json")  # staged: the index matches again
    assert known_blob_ids(modules)["a.json"] == blob_id(b'{"a": 2}\n')


def test_outside_git_nothing_is_known(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    assert known_blob_ids(tmp_path) == {}
    assert known_blob_ids(tmp_path / "missing") == {}
