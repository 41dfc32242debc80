"""A learner's Notion workspace in the local Notion server: seed 003's seven databases
(flashcards, concepts, concept areas and clusters, modules, tracks, programs), their
pages with properties as the API returns them, and edits the way Notion makes them."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from pipeline.learn.settings import ENTITIES
from tests.doubles.notion_server import PLAIN, NotionState, edit_time


def _rich(text: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "text",
            "text": {"content": text, "link": None},
            "annotations": dict(PLAIN),
            "plain_text": text,
            "href": None,
        }
    ]


def title(text: str) -> dict[str, Any]:
    return {"id": "title", "type": "title", "title": _rich(text)}


def text(value: str) -> dict[str, Any]:
    return {"id": "t", "type": "rich_text", "rich_text": _rich(value) if value else []}


def select(name: str | None) -> dict[str, Any]:
    return {"id": "s", "type": "select", "select": {"id": "o", "name": name} if name else None}


def number(value: float | None) -> dict[str, Any]:
    return {"id": "n", "type": "number", "number": value}


def relation(*ids: str) -> dict[str, Any]:
    return {"id": "r", "type": "relation", "relation": [{"id": i} for i in ids], "has_more": False}


def date(start: str | None, end: str | None = None) -> dict[str, Any]:
    return {
        "id": "d",
        "type": "date",
        "date": {"start": start, "end": end, "time_zone": None} if start else None,
    }


def paragraph(words: str) -> dict[str, Any]:
    return {"type": "paragraph", "paragraph": {"rich_text": _rich(words), "color": "default"}}


@dataclass
class Workspace:
    state: NotionState
    databases: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entity in ENTITIES:
            database_id, source_id = str(uuid.uuid4()), str(uuid.uuid4())
            self.state.databases[database_id] = {
                "title": entity.replace("_", " ").title(),
                "data_source_id": source_id,
            }
            self.state.sources[source_id] = {"database_id": database_id, "properties": {}}
            self.databases[entity] = (database_id, source_id)

    def add(
        self,
        entity: str,
        properties: dict[str, Any],
        blocks: list[dict[str, Any]] | None = None,
        edited: float | None = None,
    ) -> str:
        database_id, source_id = self.databases[entity]
        page = self.state.add_page(properties, blocks or [], edited=edited)
        page["parent"] = {
            "type": "data_source_id",
            "data_source_id": source_id,
            "database_id": database_id,
        }
        return str(page["id"])

    def edit(self, page_id: str, **properties: dict[str, Any]) -> None:
        """A person's edit: properties (by name, underscores for spaces) and edit time."""
        page = self.state.pages[page_id]
        for name, prop in properties.items():
            page["properties"][name.replace("_", " ")] = prop
        page["last_edited_time"] = edit_time(time.time() + 60)

    def trash(self, page_id: str) -> None:
        page = self.state.pages[page_id]
        page["in_trash"] = page["archived"] = True
        page["last_edited_time"] = edit_time(time.time() + 60)

    def config(self, extra: str = "") -> str:
        """pipeline.yaml naming the seven databases, fast pacing for tests."""
        lines = ["learn:", "  requests_per_second: 200", "  databases:"]
        lines += [f"    {entity}: {ids[0]}" for entity, ids in self.databases.items()]
        return "\n".join(lines) + "\n" + extra


def flashcard(
    card_id: str | None,
    question: str,
    answer: str,
    concept: str | None = None,
    module: str | None = None,
    **extra: dict[str, Any],
) -> dict[str, Any]:
    """Properties of a flashcard page as seed 003's example has them."""
    props = {
        "Question": title(question),
        "CardID": text(card_id or ""),
        "Answer": text(answer),
        "Concept": relation(*([concept] if concept else [])),
        "Module": relation(*([module] if module else [])),
        "Status": select("Active"),
    }
    props.update({k.replace("_", " "): v for k, v in extra.items()})
    return props
