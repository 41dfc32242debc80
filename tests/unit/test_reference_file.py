"""db/seed.load checks data/reference.yaml against schemas/reference.schema.json."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest

from pipeline.db.seed import TABLES, load
from pipeline.errors import ContentError, UsageError
from pipeline.layout import REFERENCE_SCHEMA, schema_file

ROOT = Path(__file__).resolve().parents[2]


def problems(tmp_path: Path, text: str) -> str:
    """The message load raises for a reference file holding `text`."""
    path = tmp_path / "reference.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        load(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ")
    return message


def test_the_repository_reference_file_is_valid() -> None:
    rows = load(ROOT / "data" / "reference.yaml")
    assert list(rows) == list(TABLES)
    assert rows["teams"][0]["id"] == 1


def test_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "reference.yaml"
    path.write_text(
        "universities:\n"
        "  - id: cpp\n    name: Cal Poly Pomona\n    location: null\n"
        "    contact_email: lab@cpp.example.edu\n"
        "faculty:\n"
        "  - {id: f1, name: Ann, email: ann@cpp.example.edu, university_id: cpp,"
        " department: Aero}\n"
        "teams:\n"
        "  - {id: 7, name: Structures, university_id: cpp, subsystem: structures}\n",
        encoding="utf-8",
    )
    rows = load(path)
    assert rows["universities"][0]["location"] is None
    assert rows["faculty"][0]["email"] == "ann@cpp.example.edu"
    assert rows["teams"] == [
        {"id": 7, "name": "Structures", "university_id": "cpp", "subsystem": "structures"}
    ]


def test_tables_may_be_left_out_or_empty(tmp_path: Path) -> None:
    path = tmp_path / "reference.yaml"
    path.write_text("universities:\n  - id: cpp\nfaculty:\n", encoding="utf-8")
    assert load(path) == {"universities": [{"id": "cpp"}], "faculty": [], "teams": []}


def test_unknown_table(tmp_path: Path) -> None:
    message = problems(tmp_path, "facutly:\n  - id: f\nstudents: []\n")
    assert 'facutly: unknown table (did you mean "faculty"?)' in message
    assert "students: unknown table; expected one of universities, faculty, teams" in message


def test_unknown_column_with_did_you_mean(tmp_path: Path) -> None:
    message = problems(
        tmp_path,
        "faculty:\n  - id: a\n  - id: b\n  - id: c\n    emial: c@x.edu\n    office: 12\n",
    )
    assert 'faculty[2].emial: unknown column (did you mean "email"?)' in message
    assert (
        "faculty[2].office: unknown column; expected one of id, name, email, university_id, "
        "department" in message
    )


def test_wrong_types(tmp_path: Path) -> None:
    message = problems(
        tmp_path,
        "universities:\n  - id: 12\n    name: [a]\n"
        'teams:\n  - id: "1"\n  - id: 0\n'
        "faculty: {id: f}\n",
    )
    assert 'universities[0].id: 12 is not of type "string"' in message
    assert 'universities[0].name: ["a"] is not of types "null", "string"' in message
    assert 'teams[0].id: "1" is not of type "integer"' in message
    assert "teams[1].id: 0 is less than the minimum of 1" in message
    assert 'faculty: {"id":"f"} is not of types' in message


def test_missing_id(tmp_path: Path) -> None:
    message = problems(tmp_path, "universities:\n  - name: no id\n")
    assert message.endswith(': universities[0]: missing the required key "id"')


def test_email_and_length(tmp_path: Path) -> None:
    message = problems(
        tmp_path,
        f"faculty:\n  - id: f\n    email: not an email\n    department: {'x' * 256}\n",
    )
    assert 'faculty[0].email: "not an email" is not an email address' in message
    assert "faculty[0].department: " in message and "longer than 255 characters" in message


def test_every_problem_is_named(tmp_path: Path) -> None:
    message = problems(tmp_path, "faculty:\n  - {id: a, nam: x}\n  - {id: b, nam: y}\n")
    assert message.count("unknown column") == 2
    assert "faculty[0].nam" in message and "faculty[1].nam" in message


def test_what_yaml_reads_as_other_than_text(tmp_path: Path) -> None:
    message = problems(tmp_path, "universities:\n  - id: cpp\n    name: 2024-01-01\n1: x\n")
    assert "universities[0].name: YAML reads 2024-01-01 as a date; put it in quotes" in message
    assert "the top level: the key 1 is not text; put it in quotes" in message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "the top level: null is not of type"),
        ("- cpp\n", "the top level: "),
        ("universities: [\n", "not readable YAML"),
        ("[" * 5000 + "]" * 5000, "values are nested more than"),
    ],
)
def test_not_a_mapping(tmp_path: Path, text: str, words: str) -> None:
    assert words in problems(tmp_path, text)


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        load(tmp_path / "nope.yaml")


def test_schema_is_valid_and_matches_the_tables_seed_writes() -> None:
    path = schema_file(REFERENCE_SCHEMA)
    assert path == ROOT / "schemas" / REFERENCE_SCHEMA
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema_rs.meta.validate(schema)
    assert list(schema["properties"]) == list(TABLES)
    for table, columns in TABLES.items():
        rows = schema["properties"][table]["items"]
        assert tuple(rows["properties"]) == columns
        assert rows["required"] == ["id"]
        assert rows["additionalProperties"] is False


# -- What a red-team pass wrote into a reference file: each one a content error (exit 1)
# that names the file and the row, before anything reaches the database.


def test_half_a_surrogate_pair_is_named(tmp_path: Path) -> None:
    message = problems(tmp_path, 'universities:\n  - id: "\\ud800"\n')
    assert "universities[0].id: " in message and "\\ud800" in message


def test_a_nul_character_is_named(tmp_path: Path) -> None:
    message = problems(tmp_path, 'universities:\n  - id: cpp\n    name: "a\\0b"\n')
    assert "universities[0].name: " in message and "NUL" in message


def test_a_table_that_contains_itself_is_named(tmp_path: Path) -> None:
    message = problems(tmp_path, "universities: &a [*a]\n")
    assert "universities[0]: " in message and "alias" in message


@pytest.mark.parametrize(
    ("column", "row"),
    [
        ("id", "universities:\n  - id: {long}\n"),
        ("id", "faculty:\n  - id: {long}\n"),
        ("university_id", "faculty:\n  - id: f\n    university_id: {long}\n"),
        ("university_id", "teams:\n  - id: 1\n    university_id: {long}\n"),
    ],
)
def test_keys_are_short_enough_for_the_databases_index(
    tmp_path: Path, column: str, row: str
) -> None:
    """A btree index entry holds at most about 2,700 bytes: the schema says so first."""
    message = problems(tmp_path, row.format(long="x" * 300_000))
    table = row.split(":", 1)[0]
    assert f"{table}[0].{column}: " in message
    assert "300000 characters" in message and "longer than 255 characters" in message
    assert len(message) < 1000, "the message does not repeat the whole value"


def test_ids_of_255_characters_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "reference.yaml"
    path.write_text(f"universities:\n  - id: {'é' * 255}\n", encoding="utf-8")
    assert load(path)["universities"] == [{"id": "é" * 255}]
