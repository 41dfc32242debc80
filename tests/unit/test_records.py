"""records._section_row is _row for SECTION_COLUMNS, spelt out for speed: they must agree."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.modules import records

SECTIONS: list[dict[str, Any]] = [
    {"section_number": 1, "section_type": "text", "title": "T", "content": "c"},
    {
        "section_number": 2,
        "section_type": "quiz",
        "title": "Q",
        "content": "",
        "media_url": "data/assets/m/a.png",
        "duration_seconds": 30,
        "section_config": {"questions": [{"id": "q", "answer": ["a"]}], "é": [1.5, None]},
        "completion_criteria": {"type": "score", "min_score": 80},
        "extra": "ignored",
    },
    {"section_type": "interactive", "section_config": {}, "completion_criteria": None},
    {},
]


@pytest.mark.parametrize("section", SECTIONS)
def test_section_row_is_the_generic_row(section: dict[str, Any]) -> None:
    expected = records._row(section, records.SECTION_COLUMNS, records._SECTION_JSON_AT)
    assert records._section_row(section) == expected


def test_section_row_spells_every_column() -> None:
    full = {column: column for column in records.SECTION_COLUMNS}
    expected = records._row(full, records.SECTION_COLUMNS, records._SECTION_JSON_AT)
    assert records._section_row(full) == expected
