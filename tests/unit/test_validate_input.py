"""Bad input never crashes: each gets one clear message with file and position."""

from __future__ import annotations

import json
import os
import string
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.modules.parse import duplicate_key_problems, may_have_duplicate_keys, read_module_file
from pipeline.modules.problems import pointer
from pipeline.modules.schema import _detailed, _fast, schema_problems
from pipeline.modules.validate import validate_paths
from tests.builders import module
from tests.conftest import CLI, Repo

# (id, file bytes, check, words in the message, line and column it points at)
BAD_INPUTS: list[tuple[str, bytes, str, str, tuple[int, int]]] = [
    ("not json", b"title: Lab Safety\n", "json", "not valid JSON", (1, 1)),
    (
        "truncated",
        b'{"module_id": "demo",\n  "title": ',
        "json",
        "not valid JSON: unexpected end",
        (2, 12),
    ),
    ("trailing garbage", b'{"a": 1}\n}', "json", "unexpected content", (2, 1)),
    ("bom", b'\xef\xbb\xbf{"module_id": "demo"}', "encoding", "byte order mark", (1, 1)),
    ("utf-16", '{"a": 1}'.encode("utf-16"), "encoding", "UTF-16", (1, 1)),
    ("empty", b"", "json", "the file is empty", (1, 1)),
    ("only whitespace", b"  \n\t\n", "json", "the file is empty", (1, 1)),
    ("array", b"[1, 2, 3]", "json", "found an array", (1, 1)),
    ("string", b'"lab-safety-101"', "json", "found a str", (1, 1)),
    ("null", b"null", "json", "found a NoneType", (1, 1)),
    (
        "non utf-8",
        b'{\n  "title": "caf\xe9 au lait"\n}',
        "encoding",
        "byte 0xe9 is not valid UTF-8",
        (2, 16),
    ),
    ("nan", b'{"estimated_minutes": NaN}', "json", "not valid JSON", (1, 23)),
    ("lone surrogate", b'{"title": "\\ud800"}', "json", "no low surrogate", (1, 12)),
    (
        "duplicate key",
        b'{"module_id": "demo",\n "module_id": "demo"}',
        "json",
        "appears twice",
        (2, 2),
    ),
]


@pytest.mark.parametrize(
    ("raw", "check", "words", "position"),
    [c[1:] for c in BAD_INPUTS],
    ids=[c[0] for c in BAD_INPUTS],
)
def test_bad_input_gets_one_clear_message(
    repo: Repo, cli: CLI, raw: bytes, check: str, words: str, position: tuple[int, int]
) -> None:
    repo.write(raw, "demo")
    result = cli("validate", "--format", "json")
    assert result.code == 1
    problems = json.loads(result.out)["problems"]
    matching = [p for p in problems if words in p["message"]]
    assert len(matching) == 1, problems
    assert matching[0]["file"] == "data/modules/demo.json"
    assert matching[0]["check"] == check
    assert (matching[0]["line"], matching[0]["column"]) == position
    assert "Traceback" not in result.out + result.err


def test_ten_megabyte_file(repo: Repo, cli: CLI) -> None:
    data = module(description="x" * 10 * 1_048_576)
    repo.write(data)
    result = cli("validate")
    assert result.code == 1
    assert "10.0 MB" in result.out
    assert "at most 2 MB" in result.out


def test_large_valid_file_under_the_limit(repo: Repo) -> None:
    repo.write(module(description="x" * 1_500_000))
    assert validate_paths([repo.modules]).valid


@pytest.mark.parametrize(
    ("depth", "check", "message"),
    [
        (200, "schema", "title must be a string, found an array"),
        (5_000, "json", "not valid JSON: values are nested too deeply"),
        (100_000, "json", "not valid JSON: values are nested too deeply"),
    ],
)
def test_deeply_nested_values(repo: Repo, cli: CLI, depth: int, check: str, message: str) -> None:
    nested = "[" * depth + "]" * depth
    text = json.dumps(module(title="T")).replace('"T"', nested)
    repo.write(text, "demo")
    result = cli("validate", "--format", "json")
    assert result.code == 1
    [problem] = json.loads(result.out)["problems"]
    assert problem["file"] == "data/modules/demo.json"
    assert (problem["check"], problem["message"]) == (check, message)


@pytest.mark.parametrize(("depth", "valid"), [(60, True), (64, False), (300, False)])
def test_deep_free_form_config_has_a_documented_limit(repo: Repo, depth: int, valid: bool) -> None:
    deep: object = {}
    for _ in range(depth - 1):
        deep = {"k": deep}
    repo.write(module(adaptive_config=deep))
    report = validate_paths([repo.modules])
    assert report.valid is valid
    if not valid:
        [problem] = report.problems
        assert problem.pointer == "/adaptive_config"
        assert "nested more than 64 levels deep" in problem.message


def test_deep_free_form_config_with_an_error_elsewhere(repo: Repo) -> None:
    deep = '{"k": ' * 800 + "{}" + "}" * 800
    text = json.dumps(module(status="bad", adaptive_config="DEEP")).replace('"DEEP"', deep)
    repo.write(text, "demo")
    [problem] = validate_paths([repo.modules]).problems
    assert problem.pointer == "/status"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_is_a_content_error(repo: Repo, cli: CLI) -> None:
    path = repo.write(module())
    path.chmod(0)
    result = cli("validate")
    assert result.code == 1
    assert "cannot read the file" in result.out


def test_directory_named_like_a_module_is_skipped(repo: Repo, cli: CLI) -> None:
    repo.write(module())
    (repo.modules / "dir.json").mkdir()
    result = cli("validate")
    assert result.code == 0
    assert "1 module file valid" in result.out


def test_dangling_symlink_is_a_content_error(repo: Repo, cli: CLI) -> None:
    (repo.modules / "gone.json").symlink_to(repo.root / "nowhere.json")
    result = cli("validate")
    assert result.code == 1
    assert "data/modules/gone.json" in result.out
    assert "cannot read the file" in result.out


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(string.ascii_lowercase + "_", max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)

module_like = st.fixed_dictionaries(
    {},
    optional={
        "module_id": st.sampled_from(["demo", "Demo", "demo\n", ""]) | st.text(max_size=5),
        "title": st.text(max_size=5) | json_values,
        "status": st.sampled_from(["ready", "live", "draft"]) | json_values,
        "sections": st.lists(
            st.fixed_dictionaries(
                {
                    "section_number": st.integers(-1, 4) | json_values,
                    "section_type": st.sampled_from(["text", "video", "quiz", "nope"]),
                    "title": st.just("t") | json_values,
                    "content": st.just("c") | json_values,
                },
                optional={
                    "media_url": st.sampled_from(
                        ["https://example.org/a.png", "data/assets/a.png", "x", None]
                    )
                    | json_values,
                    "section_config": json_values,
                },
            ),
            max_size=3,
        ),
        "metadata": st.fixed_dictionaries({"revision": st.integers(0, 3) | json_values}),
        "prerequisites": st.lists(st.sampled_from(["demo", "other", "x y"]), max_size=3),
        "extra": json_values,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, module_like))
def test_random_json_never_crashes(value: object) -> None:
    problems = schema_problems(value, "x.json")
    assert all(p.message and p.file == "x.json" for p in problems)
    # The fast verdict and the detailed errors agree: no error means valid.
    assert _fast().is_valid(value) == (not problems)
    if problems and _detailed().is_valid(value):
        # A regex corner case: jsonschema-rs's verdict stands, with its own errors.
        assert [(p.check, p.pointer) for p in problems] == sorted(
            ("schema", pointer(*e.instance_path)) for e in _fast().iter_errors(value)
        )


def test_regex_corner_case_keeps_the_fast_verdict() -> None:
    """Python's `$` matches before a final newline; jsonschema-rs's does not, and wins."""
    data = module(module_id="demo\n")
    assert _detailed().is_valid(data)
    [problem] = schema_problems(data, "x.json")
    assert (problem.check, problem.pointer) == ("schema", "/module_id")
    assert "does not match" in problem.message


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_random_bytes_never_crash(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "demo.json"
    path.write_bytes(raw)
    parsed, problems = read_module_file(path, "demo.json")
    if parsed is None:
        [problem] = problems  # one clear message
        assert problem.message and problem.file == "demo.json" and problem.is_error
    else:
        report = validate_paths([path])
        assert len(report.files) == 1
        assert all(p.message and p.file == report.files[0] for p in report.problems)
        if schema_problems(parsed.data, "demo.json"):
            assert not report.valid


@settings(max_examples=300, deadline=None)
@given(json_values.filter(lambda v: isinstance(v, dict | list)), st.data())
def test_fast_duplicate_test_never_misses(value: object, data: st.DataObject) -> None:
    """may_have_duplicate_keys is False only when the precise scan finds nothing."""
    indent = data.draw(st.sampled_from([None, 1]))
    target = _first_object(value) if data.draw(st.booleans()) else None
    if target is None:
        text = json.dumps(value, indent=indent)
        assert duplicate_key_problems(text, "x.json") == []
    else:
        # Repeat the first member of one object: {"k": v, ...} -> {"k": 0, "k": v, ...}.
        marker = json.dumps(f"duplicate-here-{uuid.uuid4()}")
        first = json.dumps(next(iter(target)))
        obj = "{" + first + ": 0, " + json.dumps(target, indent=indent)[1:]
        text = json.dumps(_replace(value, target, marker[1:-1]), indent=indent)
        text = text.replace(marker, obj, 1)
        assert duplicate_key_problems(text, "x.json"), text
    parsed = json.loads(text)
    if duplicate_key_problems(text, "x.json"):
        assert may_have_duplicate_keys(text, parsed)


def _first_object(value: object) -> dict[str, object] | None:
    """The first non-empty JSON object in `value`, depth first."""
    if isinstance(value, dict):
        if value:
            return value
        children: list[object] = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = _first_object(child)
        if found is not None:
            return found
    return None


def _replace(value: object, target: object, replacement: object) -> object:
    """`value` with the object `target` (by identity) replaced."""
    if value is target:
        return replacement
    if isinstance(value, dict):
        return {k: _replace(v, target, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, target, replacement) for v in value]
    return value
