"""Bad input never crashes: each gets one clear message with file and position."""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.modules.parse import duplicate_key_problems, may_have_duplicate_keys, read_module_file
from pipeline.modules.schema import _detailed, _fast, schema_problems
from pipeline.modules.validate import validate_paths
from tests.builders import module
from tests.conftest import CLI, Repo

BAD_INPUTS: list[tuple[str, bytes, str, tuple[int, int]]] = [
    ("not json", b"title: Lab Safety\n", "not valid JSON", (1, 1)),
    ("truncated", b'{"module_id": "demo",\n  "title": ', "not valid JSON: unexpected end", (2, 12)),
    ("trailing garbage", b'{"a": 1}\n}', "unexpected content", (2, 1)),
    ("bom", b'\xef\xbb\xbf{"module_id": "demo"}', "byte order mark", (1, 1)),
    ("utf-16", '{"a": 1}'.encode("utf-16"), "UTF-16", (1, 1)),
    ("empty", b"", "the file is empty", (1, 1)),
    ("only whitespace", b"  \n\t\n", "the file is empty", (1, 1)),
    ("array", b"[1, 2, 3]", "found an array", (1, 1)),
    ("string", b'"lab-safety-101"', "found a str", (1, 1)),
    ("null", b"null", "found a NoneType", (1, 1)),
    ("non utf-8", b'{\n  "title": "caf\xe9 au lait"\n}', "byte 0xe9 is not valid UTF-8", (2, 16)),
    ("nan", b'{"estimated_minutes": NaN}', "not valid JSON", (1, 23)),
    ("lone surrogate", b'{"title": "\\ud800"}', "not valid JSON", (1, 1)),
    ("duplicate key", b'{"module_id": "demo",\n "module_id": "demo"}', "appears twice", (2, 2)),
]


@pytest.mark.parametrize(
    ("raw", "words", "position"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_gets_one_clear_message(
    repo: Repo, cli: CLI, raw: bytes, words: str, position: tuple[int, int]
) -> None:
    repo.write(raw, "demo")
    result = cli("validate", "--format", "json")
    assert result.code == 1
    problems = json.loads(result.out)["problems"]
    matching = [p for p in problems if words in p["message"]]
    assert len(matching) == 1, problems
    assert matching[0]["file"] == "data/modules/demo.json"
    if position != (1, 1):
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


@pytest.mark.parametrize("depth", [200, 5_000, 100_000])
def test_deeply_nested_values(repo: Repo, cli: CLI, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    text = json.dumps(module(title="T")).replace('"T"', nested)
    repo.write(text, "demo")
    result = cli("validate", "--format", "json")
    assert result.code == 1
    [problem] = json.loads(result.out)["problems"]
    assert problem["file"] == "data/modules/demo.json"
    assert "title" in problem["message"] or "nested" in problem["message"]


def test_deep_free_form_config_is_fine(repo: Repo) -> None:
    deep: object = {}
    for _ in range(300):
        deep = {"k": deep}
    repo.write(module(adaptive_config=deep))
    assert validate_paths([repo.modules]).valid


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
        return  # regex corner case; the fallback reported jsonschema-rs errors


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
    assert parsed is not None or problems
    if parsed is not None:
        validate_paths([path])


@settings(max_examples=300, deadline=None)
@given(json_values.filter(lambda v: isinstance(v, dict | list)), st.data())
def test_fast_duplicate_test_never_misses(value: object, data: st.DataObject) -> None:
    """may_have_duplicate_keys is False only when the precise scan finds nothing."""
    text = json.dumps(value, indent=data.draw(st.sampled_from([None, 1])))
    if data.draw(st.booleans()) and '":' in text:
        # Repeat one member of some object: `"k": v` -> `"k": v, "k": v`.
        at = text.index('":')
        start = text.rindex('"', 0, at)
        while start > 0 and text[start - 1] == "\\":
            start = text.rindex('"', 0, start - 1)
        text = text[:start] + text[start:at] + '": 0, ' + text[start:]
    try:
        parsed = json.loads(text)
    except ValueError:
        return
    precise = duplicate_key_problems(text, "x.json")
    if precise:
        assert may_have_duplicate_keys(text, parsed)
