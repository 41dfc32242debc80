"""The `learn:` section of pipeline.yaml: which Notion databases, what their properties
are called, cleaning thresholds, Anki, and the AI rewrite provider.

Property names default to seed 003's example (CardID, Question, Answer, Concept,
Module, Status); a title property is found by its type when the configured name is
not on the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The seven Notion databases, in the order a sync reads them (parents first).
ENTITIES = (
    "concept_areas",
    "concept_clusters",
    "concepts",
    "programs",
    "tracks",
    "modules",
    "flashcards",
)

DEFAULT_PROPERTIES: dict[str, dict[str, str]] = {
    "flashcards": {
        "card_id": "CardID",
        "front": "Question",
        "back": "Answer",
        "concept": "Concept",
        "module": "Module",
        "type": "Type",
        "deck": "Deck",
    },
    "concepts": {
        "name": "Name",
        "definition": "Definition",
        "domain": "Domain",
        "status": "Status",
        "dec_score": "DEC Score",
        "proc_score": "PROC Score",
        "app_score": "APP Score",
        "area": "Concept Area",
        "cluster": "Concept Cluster",
    },
    "concept_areas": {
        "name": "Name",
        "description": "Description",
        "domain": "Domain",
        "display_order": "Order",
    },
    "concept_clusters": {
        "name": "Name",
        "description": "Description",
        "area": "Concept Area",
        "exam_weight": "Exam Weight",
        "display_order": "Order",
    },
    "programs": {
        "name": "Name",
        "description": "Description",
        "status": "Status",
        "start_date": "Start Date",
        "end_date": "End Date",
    },
    "tracks": {
        "name": "Name",
        "description": "Description",
        "program": "Program",
        "display_order": "Order",
    },
    "modules": {
        "name": "Name",
        "description": "Description",
        "track": "Track",
        "week_order": "Week",
        "status": "Status",
    },
}


@dataclass(frozen=True)
class CleaningSettings:
    """Atomicity: a front of at most `front_max_words` and a back of at most
    `back_max_words` words is atomic; over either it is verbose; a back over
    `split_words` words, a front over twice its limit, or a back that lists three or
    more items needs splitting. Fronts within a concept whose normalised text is at
    least `near_duplicate` similar (0..1) are near-duplicates."""

    front_max_words: int = 25
    back_max_words: int = 15
    split_words: int = 45
    near_duplicate: float = 0.9


@dataclass(frozen=True)
class AnkiSettings:
    connect_url: str = "http://127.0.0.1:8765"
    collection: str | None = None  # a collection file: used instead of AnkiConnect
    deck: str = "Learning"
    min_quality: float = 0.75  # seed 003: atoms below it stay out of Anki
    models: dict[str, str] = field(default_factory=lambda: {"flashcard": "Basic", "cloze": "Cloze"})


@dataclass(frozen=True)
class RewriteSettings:
    provider: str | None = None  # "gemini"; None: rewriting is off
    model: str = "gemini-2.5-flash"
    limit: int = 20


@dataclass(frozen=True)
class LearnSettings:
    databases: dict[str, str] = field(default_factory=dict)  # entity -> Notion database id
    properties: dict[str, dict[str, str]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_PROPERTIES.items()}
    )
    modules: bool = True  # quiz questions of deployed LMS modules become atoms
    requests_per_second: float = 2.9
    cleaning: CleaningSettings = field(default_factory=CleaningSettings)
    anki: AnkiSettings = field(default_factory=AnkiSettings)
    rewrite: RewriteSettings = field(default_factory=RewriteSettings)


def learn_settings(data: dict[str, Any] | None) -> LearnSettings:
    """The settings from pipeline.yaml's `learn:` mapping (already schema-checked)."""
    data = dict(data or {})
    properties = {
        entity: {**names, **(data.get("properties") or {}).get(entity, {})}
        for entity, names in DEFAULT_PROPERTIES.items()
    }
    anki = dict(data.get("anki") or {})
    if "models" in anki:
        anki["models"] = {"flashcard": "Basic", "cloze": "Cloze", **anki["models"]}
    return LearnSettings(
        databases=dict(data.get("databases") or {}),
        properties=properties,
        modules=bool(data.get("modules", True)),
        requests_per_second=float(data.get("requests_per_second", 2.9)),
        cleaning=CleaningSettings(**(data.get("cleaning") or {})),
        anki=AnkiSettings(**anki),
        rewrite=RewriteSettings(**(data.get("rewrite") or {})),
    )
