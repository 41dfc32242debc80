"""A section's settings code block (YAML or JSON) -> section_config: JSON values only,
no aliases, bounded depth and size; each refusal names the section and what to change."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.config import NotionSettings
from pipeline.notion.page import PageError, convert_page
from tests.builders import code, heading, prop, rt

PAGE = {
    "object": "page",
    "id": "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d",
    "properties": {
        "Module Name": prop("title", [rt("Lab Safety 101")]),
        "Module ID": prop("rich_text", [rt("lab-safety-101")]),
    },
    "last_edited_time": "2025-11-26T14:30:00.000Z",
}
SETTINGS = NotionSettings()

# The "billion laughs": 342 characters that PyYAML turned into 9^9 strings (4 GB once
# written out as JSON).
LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


def config(source: str, language: str = "yaml") -> Any:
    """The section_config of a one-section page whose settings block is `source`."""
    blocks = [heading("Section 1: Setup"), code(source, language)]
    [section] = convert_page(PAGE, blocks, SETTINGS).module["sections"]
    return section.get("section_config")


def refusal(source: str, language: str = "yaml") -> str:
    with pytest.raises(PageError) as caught:
        config(source, language)
    message = str(caught.value)
    assert message.startswith("Section 1 (Setup), settings block"), message
    assert "Traceback" not in message
    return message


@pytest.mark.parametrize(
    ("source", "words"),
    [
        (LAUGHS, ["anchor &a", "line 1", "aliases and anchors", "write every value out"]),
        ("a: &a [*a]\n", ["anchor &a", "line 1"]),  # refers to itself
        ("a: 1\nb: *a\n", ["alias *a", "line 2", "write the value out in full"]),
        ("base: &base {x: 1}\nother: 2\n", ["anchor", "&base", "line 1"]),
        ("1: one\n", ["key 1", "not text", "quotes"]),
        ("true: yes\n", ["key true", "quotes"]),
        ("? [a, b]\n: c\n", ["list or mapping as a key"]),
        ("a: 1\na: 2\n", ["'a' twice", "line 2"]),
        ("tags: !!set {a, b}\n", ["tag !!set", "line 1", "text, numbers"]),
        ("blob: !!binary aGVsbG8=\n", ["tag !!binary"]),
        ("when: !!timestamp 2025-01-01\n", ["tag !!timestamp"]),
        ("obj: !!python/object:os.system x\n", ["tag !!python/object:os.system"]),
        ("x: !custom 1\n", ["tag !custom"]),
        ("n: 123456789012345678901234567890\n", ["too large", "quotes"]),
        ("n: 9223372036854775808\n", ["too large"]),
        ("n: -9223372036854775809\n", ["too large"]),
        ("x: .inf\n", ["not a finite number"]),
        ("x: 1e400\n", ["not a finite number"]),
        ("a: " + "[" * 300 + "]" * 300 + "\n", ["more than 32 levels", "flatten"]),
        (
            "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v\n",
            ["more than 32 levels"],
        ),
        ("a: " + "[" * 250 + "1" + "]" * 250 + "\n", ["more than 32 levels"]),
        ("a: 1\n---\nb: 2\n", ["more than one YAML document"]),
        ("a: [1,\n", ["not valid YAML", "line"]),
        ("text: '" + "x" * 70_000 + "'\n", ["68 KiB", "at most 64 KiB"]),
    ],
    ids=[
        "billion-laughs",
        "recursive-alias",
        "alias",
        "anchor",
        "int-key",
        "bool-key",
        "list-key",
        "duplicate-key",
        "set",
        "binary",
        "timestamp-tag",
        "python-tag",
        "custom-tag",
        "int-over-64-bits",
        "int-2**63",
        "int-below-min",
        "inf",
        "float-overflow",
        "flow-nesting-300",
        "block-nesting-100",
        "lists-250-deep",
        "two-documents",
        "invalid",
        "size",
    ],
)
def test_unsafe_yaml_settings_are_refused_with_a_message(source: str, words: list[str]) -> None:
    message = refusal(source)
    for word in words:
        assert word in message, message


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ('{"a": ' + "[" * 30_000 + "]" * 30_000 + "}", ["more than 32 levels"]),
        ('{"a": ' + "[" * 250 + "]" * 250 + "}", ["more than 32 levels"]),
        ('{"n": 123456789012345678901234567890}', ["too large"]),
        ('{"n": 18446744073709551615}', ["too large"]),
        ('{"x": 1e400}', ["not valid JSON"]),
        ('{"x": NaN}', ["not valid JSON"]),
        ('{"a": 1, "a": 2}', ["'a' twice"]),
        ('{"text": "' + "x" * 70_000 + '"}', ["at most 64 KiB"]),
    ],
    ids=[
        "deep-30000",
        "lists-250-deep",
        "int-over-64-bits",
        "uint64",
        "float-overflow",
        "nan",
        "duplicate-key",
        "size",
    ],
)
def test_json_settings_get_the_same_limits(source: str, words: list[str]) -> None:
    message = refusal(source, "json")
    for word in words:
        assert word in message, message


def test_yaml_settings_are_read_as_yaml_1_2_json_values() -> None:
    source = (
        "answer: No\n"  # YAML 1.1 (PyYAML) made this False; 1.2 keeps the word
        "country: NO\n"
        "on: off\n"
        "when: 2025-01-01\n"  # a date stays the text the team lead wrote
        "time: 1:30\n"
        "count: 42\n"
        "hex: 0x1F\n"
        "big: 9223372036854775807\n"
        "small: -9223372036854775808\n"
        "ratio: 0.25\n"
        "done: true\n"
        "nothing: null\n"
        "empty:\n"
        "quoted: '123'\n"
        "items: [a, {b: c}]\n"
        "text: |\n  two\n  lines\n"
    )
    assert config(source) == {
        "answer": "No",
        "country": "NO",
        "on": "off",
        "when": "2025-01-01",
        "time": "1:30",
        "count": 42,
        "hex": 31,
        "big": 2**63 - 1,
        "small": -(2**63),
        "ratio": 0.25,
        "done": True,
        "nothing": None,
        "empty": None,
        "quoted": "123",
        "items": ["a", {"b": "c"}],
        "text": "two\nlines\n",
    }


def test_settings_at_the_limits_are_kept() -> None:
    deep: Any = "end"
    for _ in range(31):
        deep = {"k": deep}
    assert config(json.dumps({"d": deep})) == {"d": deep}  # 32 levels, JSON is YAML too
    assert config(json.dumps({"d": deep}), "json") == {"d": deep}
    text = "x" * (64 * 1024 - 20)
    assert config(f"text: '{text}'\n") == {"text": text}
