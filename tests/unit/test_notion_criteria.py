"""Completion criteria in the seed's shorthand and in words -> the module's canonical form;
an ambiguous one is an error that shows both readings."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.notion.criteria import Context, CriteriaError, from_line, from_setting

HOTSPOTS = Context("interactive", hotspots=5, item_ids=("a", "b"), required_ids=("a",))
CHECKLIST = Context("checklist", item_ids=("glasses", "shoes", "coat"), required_ids=("glasses",))
QUIZ = Context("quiz")
TEXT = Context("text")


@pytest.mark.parametrize(
    ("value", "context", "expected"),
    [
        ({"hotspots_clicked": 5}, HOTSPOTS, {"type": "hotspots", "hotspots_clicked": 5}),
        (
            {"type": "hotspots", "hotspots_clicked": 5},
            HOTSPOTS,
            {"type": "hotspots", "hotspots_clicked": 5},
        ),
        (
            {"type": "Hotspot", "hotspots_clicked": "all"},
            HOTSPOTS,
            {"type": "hotspots", "hotspots_clicked": 5},
        ),
        ({"min_score": 0.8}, QUIZ, {"type": "score", "min_score": 0.8}),
        ({"min_score": "80%"}, QUIZ, {"type": "score", "min_score": 0.8}),
        ({"min_score": 80}, QUIZ, {"type": "score", "min_score": 0.8}),
        ({"type": "quiz", "min_score": 1}, QUIZ, {"type": "score", "min_score": 1}),
        ({"time": "2 minutes"}, TEXT, {"type": "time", "value": 120}),
        ({"minutes": 1.5}, TEXT, {"type": "time", "value": 90}),
        ({"type": "time", "value": 60}, TEXT, {"type": "time", "value": 60}),
        ({"seconds": 45}, TEXT, {"type": "time", "value": 45}),
        (["glasses", "shoes"], CHECKLIST, {"type": "tasks", "tasks": ["glasses", "shoes"]}),
        ({"tasks": "glasses, shoes"}, CHECKLIST, {"type": "tasks", "tasks": ["glasses", "shoes"]}),
        ({"type": "tasks", "tasks": ["a"]}, HOTSPOTS, {"type": "tasks", "tasks": ["a"]}),
        ({"type": "view"}, TEXT, {"type": "view"}),
        (True, TEXT, {"type": "view"}),
        (90, TEXT, {"type": "time", "value": 90}),
        ("2 minutes", TEXT, {"type": "time", "value": 120}),
        ("5 hotspots clicked", HOTSPOTS, {"type": "hotspots", "hotspots_clicked": 5}),
    ],
)
def test_settings_shorthand(value: Any, context: Context, expected: dict[str, Any]) -> None:
    assert from_setting(value, context) == expected


@pytest.mark.parametrize(
    ("line", "context", "expected"),
    [
        ("5 hotspots clicked", HOTSPOTS, {"type": "hotspots", "hotspots_clicked": 5}),
        ("clicking 3 hotspots", HOTSPOTS, {"type": "hotspots", "hotspots_clicked": 3}),
        ("All hotspots found", HOTSPOTS, {"type": "hotspots", "hotspots_clicked": 5}),
        ("score 80%", QUIZ, {"type": "score", "min_score": 0.8}),
        ("a score of at least 75 percent", QUIZ, {"type": "score", "min_score": 0.75}),
        ("80% correct", QUIZ, {"type": "score", "min_score": 0.8}),
        ("min score 0.6", QUIZ, {"type": "score", "min_score": 0.6}),
        ("2 minutes", TEXT, {"type": "time", "value": 120}),
        ("after 90 seconds", TEXT, {"type": "time", "value": 90}),
        ("spent 1:30", TEXT, {"type": "time", "value": 90}),
        ("all items checked", CHECKLIST, {"type": "tasks", "tasks": ["glasses", "shoes", "coat"]}),
        ("all required items ticked", CHECKLIST, {"type": "tasks", "tasks": ["glasses"]}),
        ("tasks glasses, shoes", CHECKLIST, {"type": "tasks", "tasks": ["glasses", "shoes"]}),
        ("items: glasses and coat", CHECKLIST, {"type": "tasks", "tasks": ["glasses", "coat"]}),
        ("viewed", TEXT, {"type": "view"}),
        ("Opened.", TEXT, {"type": "view"}),
        ("45", TEXT, {"type": "time", "value": 45}),
    ],
)
def test_complete_when_lines(line: str, context: Context, expected: dict[str, Any]) -> None:
    assert from_line(line, context) == expected


@pytest.mark.parametrize(
    ("value", "context", "readings"),
    [
        (5, HOTSPOTS, ["5 hotspots clicked", "5 seconds spent on the section"]),
        ("5", HOTSPOTS, ["5 hotspots clicked", "5 seconds spent on the section"]),
        (80, QUIZ, ["a score of 80%", "80 seconds spent on the section"]),
        ({"hotspots_clicked": 5, "min_score": 0.8}, HOTSPOTS, ["hotspots clicked", "quiz score"]),
        ({"tasks": ["a"], "value": 30}, HOTSPOTS, ["tasks done", "time spent"]),
    ],
)
def test_an_ambiguous_one_shows_both_readings(
    value: Any, context: Context, readings: list[str]
) -> None:
    with pytest.raises(CriteriaError) as caught:
        from_setting(value, context)
    message = str(caught.value)
    for reading in readings:
        assert reading in message, message


@pytest.mark.parametrize(
    ("value", "context", "words"),
    [
        ("when they feel ready", TEXT, "cannot tell when the section is complete"),
        ({"type": "badge"}, TEXT, "the completion type “badge” is not one the LMS knows"),
        ({"clicks": 3}, HOTSPOTS, "completion_criteria has clicks, which it does not take"),
        ("score 150%", QUIZ, "cannot be reached"),
        ("all hotspots", Context("interactive"), "has no hotspots yet"),
        ({"hotspots_clicked": "five"}, HOTSPOTS, "must be a whole number"),
        ({"type": "time", "value": "soon"}, TEXT, "cannot read the time “soon”"),
        (None, TEXT, "say when the section is complete"),
    ],
)
def test_unreadable_criteria_say_what_to_write(value: Any, context: Context, words: str) -> None:
    with pytest.raises(CriteriaError, match=words):
        from_setting(value, context)
