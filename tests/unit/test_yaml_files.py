"""YAML a person wrote (pipeline/yamlfile.py): pipeline.yaml and a reference file are read
alike, and whatever is in them becomes the reader's own error (a usage error for the
configuration, a content error for reference rows) naming the file and the place."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import load_config
from pipeline.db.seed import load
from pipeline.errors import ContentError, PipelineError, UsageError

Reader = tuple[Callable[[Path], Any], type[PipelineError]]
READERS: dict[str, Reader] = {
    "pipeline.yaml": (load_config, UsageError),
    "reference file": (load, ContentError),
}


@pytest.fixture(params=list(READERS))
def reader(request: pytest.FixtureRequest) -> Reader:
    return READERS[request.param]


def refused(reader: Reader, path: Path) -> str:
    """The message of the error `reader` raises for the file at `path`."""
    read, error = reader
    with pytest.raises(error) as caught:
        read(path)
    message = str(caught.value)
    assert type(caught.value) is error
    assert message.startswith(f"{path}: ")
    message.encode("utf-8")  # printable: no half of a surrogate pair in it
    return message


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# -- The file itself -------------------------------------------------------------------------


@contextmanager
def unblocking(fifo: Path) -> Iterator[None]:
    """While inside: should a reader block opening `fifo` (the bug), a writer opens and
    closes the other end, so that the reader finds an empty file and the test fails
    rather than hangs."""
    done = threading.Event()

    def open_and_close() -> None:
        while not done.wait(0.05):
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # ENXIO: nobody is reading it
                continue

    thread = threading.Thread(target=open_and_close, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path, reader: Reader) -> None:
    fifo = tmp_path / "x.fifo"
    os.mkfifo(fifo)
    with unblocking(fifo):
        assert "not a regular file" in refused(reader, fifo)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused_without_reading_it(reader: Reader, device: str) -> None:
    assert "not a regular file" in refused(reader, Path(device))


def test_a_folder_is_refused(tmp_path: Path, reader: Reader) -> None:
    assert "not a regular file" in refused(reader, tmp_path)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path, reader: Reader) -> None:
    from pipeline.yamlfile import MAX_BYTES

    path = tmp_path / "big.yaml"
    path.write_bytes(b"")
    os.truncate(path, MAX_BYTES + 1)  # sparse: NUL bytes, were they read
    message = refused(reader, path)
    assert f"at most {MAX_BYTES // 1_048_576} MB" in message


def test_a_file_at_the_size_limit_is_read(tmp_path: Path, reader: Reader) -> None:
    from pipeline.yamlfile import MAX_BYTES

    path = tmp_path / "big.yaml"
    path.write_bytes(b"{}\n#" + b"#" * (MAX_BYTES - 5) + b"\n")
    assert path.stat().st_size == MAX_BYTES
    read, _error = reader
    read(path)  # the defaults, or a reference file with no tables


def test_text_that_is_not_utf8_is_named_by_line(tmp_path: Path, reader: Reader) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"# ok\n# caf\xe9\n")
    message = refused(reader, path)
    assert "line 2: not UTF-8 text" in message


def test_a_symbolic_link_to_a_file_is_followed(tmp_path: Path) -> None:
    """The paths are named by the person running the command (or are the repository's own
    pipeline.yaml), unlike module files found by walking a folder."""
    target = written(tmp_path, "deploy:\n  archive_limit: 7\n")
    link = tmp_path / "pipeline.yaml"
    link.symlink_to(target)
    assert load_config(link).deploy.archive_limit == 7


# -- Its YAML ------------------------------------------------------------------------------


def test_a_syntax_error_names_its_line_and_column(tmp_path: Path, reader: Reader) -> None:
    message = refused(reader, written(tmp_path, "universities:\n  - id: a\n  - {id: b\n"))
    assert ": line 4, column 1: not readable YAML: expected ',' or '}'" in message
    assert "flow mapping at line 3, column 5" in message


def test_a_character_yaml_does_not_allow_is_named_by_line(tmp_path: Path, reader: Reader) -> None:
    message = refused(reader, written(tmp_path, "a: 1\nb: x\x07y\n"))
    assert "line 2: not readable YAML: the character U+0007" in message


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("!!bool maybe", "bool"),
        ("2024-13-45", "timestamp"),
        ("!!timestamp soon", "timestamp"),
        ("!!float many", "float"),
        ("9" * 5000, "int"),
    ],
)
def test_a_value_its_tag_cannot_make_is_named_by_line(
    tmp_path: Path, reader: Reader, value: str, kind: str
) -> None:
    message = refused(reader, written(tmp_path, f"universities:\n  - id: {value}\n"))
    assert f"line 2, column 9: not readable YAML: YAML reads this value as a {kind}" in message


def test_nesting_is_limited_while_parsing(tmp_path: Path, reader: Reader) -> None:
    from pipeline.yamlfile import MAX_DEPTH

    message = refused(reader, written(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert f"line 1, column {3 + MAX_DEPTH}: " in message
    assert f"nested more than {MAX_DEPTH} deep" in message


def test_nesting_through_aliases_is_limited_too(tmp_path: Path, reader: Reader) -> None:
    from pipeline.yamlfile import MAX_DEPTH

    levels = MAX_DEPTH // 2
    lines = ["a0: &a0 1"]
    lines += [f"a{n}: &a{n} {'[' * levels}*a{n - 1}{']' * levels}" for n in range(1, 4)]
    message = refused(reader, written(tmp_path, "\n".join(lines) + "\n"))
    assert f"a3{'[0]' * (MAX_DEPTH - 1)}: " in message
    assert f"nested more than {MAX_DEPTH} deep" in message


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path, reader: Reader) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    message = refused(reader, written(tmp_path, "\n".join(lines) + "\n"))
    assert "more than 1,000,000 values" in message


# -- What it holds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a:\n  b: !!binary aGVsbG8=\n", "a.b: YAML reads this value as bytes"),
        ("a: !!set {x, y}\n", "a: YAML reads this value as a set"),
        ("a: !!omap [{x: 1}]\n", "a[0]: YAML reads this value as a pair"),
        ("a: [2024-01-01]\n", "a[0]: YAML reads 2024-01-01 as a date; put it in quotes"),
        ("a: .nan\n", "a: YAML reads nan as a number that is not finite"),
        ("a: {1: x}\n", "a: the key 1 is not text; put it in quotes"),
        ("a: {yes: x}\n", "a: the key True is not text; put it in quotes"),
        ('a: ["x\\0y"]\n', "a[0]: the text holds a NUL character"),
        ('a: {"\\udfff": x}\n', 'a: the key "\\udfff" holds \\udfff'),
        ('"\\0": x\n', 'the top level: the key "\\u0000" holds a NUL character'),
        ('a: {"\\ud800": {b: "\\ud801"}}\n', 'a."\\ud800".b: the text holds \\ud801'),
    ],
)
def test_what_json_has_not_is_named_by_place(
    tmp_path: Path, reader: Reader, text: str, words: str
) -> None:
    assert words in refused(reader, written(tmp_path, text))


def test_a_value_that_contains_itself_is_named(tmp_path: Path, reader: Reader) -> None:
    message = refused(reader, written(tmp_path, "x: 1\na: &a {b: [*a]}\n"))
    assert "a.b[0]: an alias here refers to a value that holds it" in message


def test_shared_values_and_merge_keys_are_read(tmp_path: Path) -> None:
    """What aliases are for: the same value in two places is not a cycle."""
    path = written(
        tmp_path,
        "propose:\n  labels: &labels [a, b]\n  category_labels:\n"
        "    x: *labels\n    y: *labels\n"
        "notion:\n  people: &people {a@x.edu: a}\n  universities: {<<: *people, cpp: cpp}\n",
    )
    config = load_config(path)
    assert config.propose.category_labels == {"x": ("a", "b"), "y": ("a", "b")}
    assert config.notion.universities == {"a@x.edu": "a", "cpp": "cpp"}


def test_many_problems_are_listed_up_to_a_limit(tmp_path: Path, reader: Reader) -> None:
    from pipeline.yamlfile import MAX_PROBLEMS

    items = ", ".join(['"\\0"'] * (MAX_PROBLEMS + 5))
    message = refused(reader, written(tmp_path, f"a: [{items}]\n"))
    assert message.count("NUL character") == MAX_PROBLEMS
    assert f"a[{MAX_PROBLEMS - 1}]: " in message and f"a[{MAX_PROBLEMS}]: " not in message
    assert "and 5 more" in message
