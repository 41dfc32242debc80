"""`pipeline validate` catches what deploy would refuse, and reads files safely
(issue #12, items 9 and 10)."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from pipeline.modules.validate import validate_paths
from tests.builders import module
from tests.conftest import CLI, Repo


def problems(repo: Repo) -> list[tuple[str, str, str]]:
    return [(p.check, p.pointer, p.message) for p in validate_paths([repo.modules]).problems]


def section(content: str, **extra: Any) -> dict[str, Any]:
    return {
        "section_number": 1,
        "section_type": "text",
        "title": "S",
        "content": content,
        **extra,
    }


# -- 9. what Postgres would refuse ----------------------------------------------------------


def test_a_nul_character_in_text_is_an_error(repo: Repo) -> None:
    repo.write(module(title="Lab\u0000Safety"))
    [(check, where, message)] = problems(repo)
    assert (check, where) == ("database-limits", "/title")
    assert "NUL character" in message


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"estimated_minutes": 10.0}, "/estimated_minutes"),
        ({"difficulty_level": 2.0}, "/difficulty_level"),
        ({"sections": [section("x", duration_seconds=90.0)]}, "/sections/0/duration_seconds"),
        ({"sections": [section("x", section_number=1.0)]}, "/sections/0/section_number"),
    ],
)
def test_whole_number_columns_take_whole_numbers(
    repo: Repo, change: dict[str, Any], where: str
) -> None:
    repo.write(module(**change))
    [(check, pointer, message)] = problems(repo)
    assert (check, pointer) == ("database-limits", where)
    assert "write a whole number" in message


def test_an_integer_too_wide_to_keep_exactly_is_an_error_at_its_place(repo: Repo) -> None:
    """orjson reads it as a float: the digits would be lost on the way to students."""
    config = {
        "seed": 123456789012345678901234567890,
        "low": -(2**63) - 1,
        "u64": 2**64 - 1,
        "i64": -(2**63),
        "digits": "1234567890123456789012345",
        "fraction": 0.12345678901234567890123,
        "text": 'a "quote": 12345678901234567890123 \\", [12345678901234567890123',
    }
    path = repo.write(module(adaptive_config=config))
    found = validate_paths([repo.modules]).problems
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [(p.check, lines[p.line - 1].strip()) for p in found] == [
        ("json", '"seed": 123456789012345678901234567890,'),
        ("json", f'"low": {-(2**63) - 1},'),
    ]
    assert "it would be stored as 1.2345678901234568e+29" in found[0].message
    assert "write it in quotes" in found[0].message
    assert lines[found[0].line - 1][found[0].column - 1 :].startswith("1234567890")


def test_digits_in_text_are_text_however_many(repo: Repo) -> None:
    """A serial number of thousands of digits in a string: Python refuses to convert such
    a run to a number, and it is text anyway. Another, wider than 64 bits, is still
    found after thousands of strings holding such digits."""
    strings = [f": 12345678901234567890123 {n}" for n in range(3000)]
    config = {"serial": "Serial: " + "7" * 4400, "notes": strings, "seed": 2**70}
    path = repo.write(module(adaptive_config=config))
    path.write_text("{ " + path.read_text(encoding="utf-8")[1:], encoding="utf-8")  # hand-made
    [problem] = validate_paths([repo.modules]).problems
    assert problem.check == "json"
    assert f"the number {2**70} has more digits" in problem.message


def test_a_duplicate_key_deep_in_a_file_is_still_found(repo: Repo) -> None:
    deep = '{"k": ' * 900 + '{"a": 1, "a": 2}' + "}" * 900
    text = json.dumps(module(adaptive_config="DEEP"), indent=1).replace('"DEEP"', deep)
    repo.write(text, "demo")
    found = validate_paths([repo.modules]).problems
    assert any(p.check == "json" and "appears twice" in p.message for p in found), found


# -- reading files safely ------------------------------------------------------------------


def test_a_fifo_is_refused_without_hanging(repo: Repo, cli: CLI) -> None:
    os.mkfifo(repo.modules / "pipe.json")
    result = cli("validate", "--json")
    assert result.code == 1
    [problem] = json.loads(result.out)["problems"]
    assert problem["check"] == "read"
    assert "not a regular file" in problem["message"]


def test_a_symlink_out_of_the_repository_is_refused(repo: Repo, tmp_path_factory: Any) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.json"
    outside.write_text(json.dumps(module(module_id="link")))
    (repo.modules / "link.json").symlink_to(outside)
    [(check, _where, message)] = problems(repo)
    assert check == "read"
    assert "symbolic link to a place outside the repository" in message


def test_a_symlink_inside_the_repository_is_followed(repo: Repo) -> None:
    target = repo.root / "data" / "elsewhere.json"
    target.write_text(json.dumps(module(module_id="link")))
    (repo.modules / "link.json").symlink_to(target)
    assert problems(repo) == []


def test_a_huge_file_is_not_read(repo: Repo) -> None:
    path = repo.modules / "huge.json"
    with path.open("wb") as out:
        out.truncate(3 * 1024 * 1024 * 1024)  # 3 GB, sparse: reading it would take long
    [(check, _where, message)] = problems(repo)
    assert check == "size"
    assert "3072.0 MB or more" in message


# -- 10. HTML and script --------------------------------------------------------------------

UNSAFE = [
    ("<script>alert(1)</script>", "raw HTML <script> is not allowed"),
    ("![x](https://example.org/x.png)<img src=x onerror=alert(1)>", "raw HTML <img>"),
    ("[a](javascript:alert(1))", "a javascript: address is not allowed"),
    ("[a](jav&#x61;script:alert(1))", "a javascript: address is not allowed"),
    ("[a](JAVASCRIPT:alert(1))", "a javascript: address is not allowed"),
    ("<javascript:alert(1)>", "a javascript: address is not allowed"),
    ("[x][r]\n\n[r]: data:text/html,<b>hi</b>", "a data: address is not allowed"),
    ("<!-- hidden from reviewers -->Text", "comments and declarations"),
    ("<u onclick='steal()'>x</u>", "<u> may not have attributes"),
    ("<details open><summary>x</summary>y</details>", "<details> may not have attributes"),
]


@pytest.mark.parametrize(("content", "words"), UNSAFE)
def test_unsafe_markup_is_an_error(repo: Repo, content: str, words: str) -> None:
    repo.write(module(sections=[section(content)]))
    found = problems(repo)
    assert ("markup", "/sections/0/content") in {(c, w) for c, w, _m in found}, found
    assert any(words in message for _c, _w, message in found), found


@pytest.mark.parametrize(
    "content",
    [
        "<details>\n<summary>More</summary>\n\nText\n\n</details>",
        "<u>underlined</u> and a<br>break and <br/>",
        "`<script>` in code is text, and so is\n\n    <script>indented code</script>",
        "[site](https://example.org), [mail](mailto:a@example.org), [asset](data/assets/x)",
        "a < b and 3 > 2, R&D, [x](https://example.org/?a=1&b=2)",
    ],
)
def test_what_the_exporter_writes_is_allowed(repo: Repo, content: str) -> None:
    repo.asset("data/assets/x")
    repo.write(module(sections=[section(content)]))
    assert [p for p in problems(repo) if p[0] == "markup"] == []
