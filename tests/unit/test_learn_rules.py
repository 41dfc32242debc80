"""notion-learning-sync's pure parts: Notion properties read by type, the transform's
page failures, and the cleaning rules (prefixes, atomicity, quality, duplicates)."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.config import load_config
from pipeline.errors import UsageError
from pipeline.learn.cleaning import Candidate, duplicates, measure, strip_prefix, words
from pipeline.learn.settings import DEFAULT_PROPERTIES, CleaningSettings
from pipeline.learn.transform import Staged, sync_hash, transform, value
from tests.conftest import Repo

RULES = CleaningSettings()


def rich(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "plain_text": text, "text": {"content": text}}]


def test_property_values_by_type() -> None:
    assert value({"type": "title", "title": rich("A") + rich("B")}) == "AB"
    assert value({"type": "status", "status": {"name": "Active"}}) == "Active"
    assert value({"type": "select", "select": None}) is None
    assert value({"type": "relation", "relation": [{"id": "0" * 32}]}) == [
        "00000000-0000-0000-0000-000000000000"
    ]
    assert value({"type": "unique_id", "unique_id": {"prefix": "NET", "number": 7}}) == "NET-7"
    assert value({"type": "formula", "formula": {"type": "number", "number": 3}}) == 3
    assert value({"type": "number", "number": 2.5}) == 2.5


def test_sync_hash_changes_with_properties_or_edit_time_only() -> None:
    page = {"last_edited_time": "2026-01-01T00:00:00.000Z", "properties": {"a": 1, "b": 2}}
    same = {"properties": {"b": 2, "a": 1}, "last_edited_time": "2026-01-01T00:00:00.000Z"}
    assert sync_hash(page) == sync_hash(same)
    assert sync_hash(page) != sync_hash({**page, "last_edited_time": "2026-01-01T00:01:00.000Z"})
    assert len(sync_hash(page)) == 32  # MD5, as seed 003 says


def card(page: str, **props: Any) -> Staged:
    properties = {
        name: {"type": "title" if name == "Question" else "rich_text", "rich_text": rich(text)}
        for name, text in props.items()
    }
    for prop in properties.values():
        if prop["type"] == "title":
            prop["title"] = prop.pop("rich_text")
    return Staged(page, properties, None, "h")


def test_transform_reads_flashcards_and_reports_each_bad_page() -> None:
    staged = {
        "flashcards": [
            card("p1", Question="Q: What is TCP?", Answer="A protocol", CardID="C1"),
            card("p2", Question="{{c1::UDP}} is connectionless", CardID="C2"),
            card("p3", Question="", Answer="x", CardID="C3"),
            card("p4", Question="Copy", CardID="C4"),
            card("p5", Question="Copy again", CardID="C4"),
        ],
        "concepts": [
            Staged(
                "c1",
                {
                    "Name": {"type": "title", "title": rich("X")},
                    "Status": {"type": "select", "select": {"name": "Reviewing"}},
                },
            ),
            Staged(
                "c2",
                {
                    "Name": {"type": "title", "title": rich("Y")},
                    "PROC Score": {"type": "number", "number": -1},
                },
            ),
        ],
    }
    out = transform(staged, DEFAULT_PROPERTIES)
    assert [(a[0], a[1], a[2]) for a in out.atoms] == [
        ("p1", "C1", "flashcard"),
        ("p2", "C2", "cloze"),
    ]
    assert [c[6] for c in out.concepts] == ["reviewing"]
    reasons = {f.notion_id: f.reason for f in out.failures}
    assert reasons["p3"] == "its 'Question' is empty; fill it in"
    assert "also on page p5" in reasons["p4"] and "also on page p4" in reasons["p5"]
    assert reasons["c2"] == "its 'PROC Score' is -1; write a number from 0 to 10"


def test_prefixes_are_normalised() -> None:
    assert strip_prefix("Q: What is TCP?", front=True) == "What is TCP?"
    assert strip_prefix("question - What is TCP?", front=True) == "What is TCP?"
    assert strip_prefix("Q. Why?", front=True) == "Why?"
    assert strip_prefix("A: 443", front=False) == "443"
    assert strip_prefix("Answer - 443", front=False) == "443"
    assert strip_prefix("Quick sort is?", front=True) == "Quick sort is?"
    assert strip_prefix("Q:", front=True) == "Q:"  # nothing would be left


def test_atomicity_and_quality_follow_the_documented_rules() -> None:
    atomic = measure("flashcard", "What is TCP?", "Transmission Control Protocol", RULES)
    assert (atomic.atomicity_status, atomic.is_atomic, atomic.quality_score) == (
        "atomic",
        True,
        1.0,
    )
    verbose = measure("flashcard", "What is TCP?", " ".join(["word"] * 20), RULES)
    assert (verbose.atomicity_status, verbose.quality_score) == ("verbose", 0.8)
    split = measure("flashcard", "What is TCP?", "- one\n- two\n- three", RULES)
    assert (split.atomicity_status, split.quality_score, split.needs_review) == (
        "needs_split",
        0.5,
        True,
    )
    empty = measure("flashcard", "What is TCP?", None, RULES)
    assert (empty.quality_score, empty.needs_review) == (0.5, False)
    cloze = measure("cloze", "{{c1::TCP}} is reliable", None, RULES)
    assert cloze.quality_score == 1.0
    assert measure("cloze", "TCP is reliable", None, RULES).quality_score == 0.5
    assert words("{{c1::Transmission Control}} <b>Protocol</b>") == 3
    tight = CleaningSettings(front_max_words=2)
    assert measure("flashcard", "What is TCP?", "x y", tight).atomicity_status == "verbose"


def test_duplicates_within_a_concept_exact_and_near() -> None:
    atoms = [
        Candidate("a", "k1", "What is TCP?", 0, 1.0, "2026-01-02"),
        Candidate("b", "k1", "Q: what is TCP", 3, 0.8, "2026-01-03"),  # studied in Anki: kept
        Candidate("c", "k1", "Wht is TCP?", 0, 1.0, "2026-01-01"),  # a typo
        Candidate("d", "k2", "What is TCP?", 0, 1.0, "2026-01-01"),  # another concept
        Candidate("e", None, "What is TCP?", 0, 1.0, "2026-01-01"),  # no concept
        Candidate("f", "k1", "Which port does HTTPS use?", 0, 1.0, "2026-01-01"),
    ]
    found = duplicates(atoms, 0.9)
    assert len(found) == 1
    assert found[0].keep == "b"
    assert set(found[0].merge) == {"a", "c"}
    assert found[0].kind == "near"
    assert duplicates(atoms, 0.99)[0].merge == ("a",)


def test_learn_settings_from_pipeline_yaml(repo: Repo) -> None:
    (repo.root / "pipeline.yaml").write_text(
        "learn:\n  databases:\n    flashcards: 0123456789abcdef0123456789abcdef\n"
        "  properties:\n    flashcards: {front: Prompt}\n"
        "  cleaning: {back_max_words: 10}\n  anki: {min_quality: 0.8, deck: Net}\n"
    )
    learn = load_config().learn
    assert learn.properties["flashcards"]["front"] == "Prompt"
    assert learn.properties["flashcards"]["back"] == "Answer"
    assert learn.cleaning.back_max_words == 10
    assert (learn.anki.min_quality, learn.anki.deck) == (0.8, "Net")
    assert learn.rewrite.provider is None
    (repo.root / "pipeline.yaml").write_text("learn:\n  anki: {min_qualty: 0.8}\n")
    with pytest.raises(UsageError, match="did you mean 'min_quality'"):
        load_config()
