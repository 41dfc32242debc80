"""parse.duplicate_key_problems: the exact place of a key's second occurrence in its object."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.modules.parse import (
    duplicate_key_problems,
    may_have_duplicate_keys,
    parse_module_bytes,
    repeated_keys,
)


def places(text: str) -> list[tuple[str, int, int]]:
    """(message, line, column) of each duplicate-key problem."""
    return [(p.message, p.line, p.column) for p in duplicate_key_problems(text, "x.json")]


def message(key: str) -> str:
    return (
        f"the key {json.dumps(key)} appears twice in one object; only the last one counts. Keep one"
    )


def test_duplicate_reported_where_it_is_not_where_the_key_first_appears() -> None:
    text = (
        "{\n"  # 1
        '  "sections": [\n'  # 2
        '    {"title": "One", "content": "a"},\n'  # 3
        '    {"title": "Two", "content": "b"},\n'  # 4
        "    {\n"  # 5
        '      "content": "c",\n'  # 6
        '      "title": "x", "content": "d"\n'  # 7
        "    }\n"
        "  ]\n"
        "}\n"
    )
    assert places(text) == [(message("content"), 7, 21)]


def test_duplicate_in_an_array_of_objects() -> None:
    sections = [{"id": n, "title": f"S{n}"} for n in range(4)]
    text = json.dumps({"sections": sections}, indent=2)
    third = text.index('"title": "S2"')
    text = text[:third] + '"id": 9,\n      ' + text[third:]  # /sections/2 now has "id" twice
    line = text[:third].count("\n") + 1
    column = third - text.rfind("\n", 0, third)
    assert places(text) == [(message("id"), line, column)]


def test_nested_objects_each_keep_their_own_keys() -> None:
    text = '{"a": {"a": {"a": 1}, "b": {"a": 2, "a": 3}}, "b": 1}'
    assert places(text) == [(message("a"), 1, text.index('"a": 3') + 1)]


def test_repeated_key_whose_object_holds_another_repeat() -> None:
    text = '{"x": {"y": 1, "y": 2},\n "x": {}}'
    assert places(text) == [(message("y"), 1, 16), (message("x"), 2, 2)]


def test_escaped_spelling_is_the_same_key() -> None:
    text = '{\n  "ab": 1,\n  "a\\u0062": 2\n}'
    assert places(text) == [(message("ab"), 3, 3)]
    assert places('{"a\\"b": 1, "a\\u0022b": 2}') == [(message('a"b'), 1, 13)]


def test_keys_inside_strings_do_not_count() -> None:
    text = '{"note": "\\"note\\": 1, {\\"x\\": [", "x": "{\\"note\\":", "note": 2}'
    assert places(text) == [(message("note"), 1, text.rindex('"note"') + 1)]


def test_a_key_three_times_is_reported_once_at_its_second_place() -> None:
    text = '{"k": 1,\n "k": 2,\n "k": 3}'
    assert places(text) == [(message("k"), 2, 2)]


def test_same_key_repeated_in_two_objects_is_reported_in_each() -> None:
    text = '[{"id": 1, "id": 2},\n {"id": 3, "id": 4}]'
    assert places(text) == [(message("id"), 1, 12), (message("id"), 2, 12)]


def test_columns_count_characters_not_bytes() -> None:
    text = '{"café": "é", "café": 1}'
    assert places(text) == [(message("café"), 1, 15)]


def test_no_duplicates_no_problems() -> None:
    assert places('{"a": {"b": 1}, "b": {"a": 2}, "c": ["a", "a"]}') == []
    assert places('{"a": 1,') == []  # not JSON: reported elsewhere


def test_through_parse_module_bytes() -> None:
    raw = b'{"module_id": "demo",\n "sections": [{"title": "a",\n  "title": "b"}]}'
    module, problems = parse_module_bytes(raw, Path("demo.json"), "demo.json")
    assert module is not None
    assert [(p.check, p.line, p.column) for p in problems] == [("json", 3, 3)]


# Keys as written in JSON: "a\\u0062" is "ab", and "q\\"" holds a quote.
keys = st.sampled_from(["a", "b", "ab", "é", 'q\\"', "a\\u0062"])
values = st.recursive(
    st.none() | st.integers() | st.sampled_from(["s", '"a": 1', "{", "]"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(st.tuples(keys, inner), max_size=4).map(lambda pairs: ("object", pairs))
    ),
    max_leaves=12,
)


def render(value: object) -> str:
    """JSON text that may repeat keys (objects are lists of pairs); keys written raw."""
    if isinstance(value, tuple):
        return "{" + ", ".join(f'"{k}": {render(v)}' for k, v in value[1]) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    return json.dumps(value)


@settings(max_examples=300, deadline=None)
@given(values.filter(lambda v: isinstance(v, tuple)))
def test_every_reported_place_is_a_key_the_stdlib_saw_twice(value: object) -> None:
    text = render(value)
    objects: list[list[tuple[str, object]]] = []
    json.loads(text, object_pairs_hook=objects.append)
    repeats = sorted(
        key for pairs in objects for key, n in Counter(k for k, _ in pairs).items() if n > 1
    )
    found = repeated_keys(text)
    assert sorted(key for key, _ in found) == repeats
    for key, offset in found:
        assert text[offset] == '"'
        assert json.loads(text[offset : text.index(":", offset + 1)]) == key
    if found:
        assert may_have_duplicate_keys(text, json.loads(text))
