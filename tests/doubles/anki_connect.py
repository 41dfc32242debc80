"""A local AnkiConnect (the add-on's HTTP API, version 6) serving a real Anki collection
through the official `anki` package, so the pipeline's two ways of talking to Anki are
tested on the same real data. Requests and answers have AnkiConnect's shapes:
{"action", "version", "params", "key"} -> {"result", "error"}; a note or card that does
not exist is an empty object in a list answer, as the add-on gives it.

Also here: `new_collection` and `study`, which make a collection and answer its cards
with Anki's own scheduler (FSRS on), as a learner would.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from anki.collection import Collection
from anki.errors import NotFoundError

from tests.doubles.local_http import LocalServer, run_server


def new_collection(path: Path) -> Path:
    """An empty collection with Anki's stock note types, FSRS on."""
    col = Collection(str(path))
    col.set_config("fsrs", True)
    col.close()
    return path


def study(path: Path, answers: dict[int, list[int]]) -> None:
    """Answer cards (card id -> eases, 1 Again .. 4 Easy) with Anki's scheduler."""
    col = Collection(str(path))
    try:
        for card_id, eases in answers.items():
            for ease in eases:
                card = col.get_card(card_id)  # type: ignore[arg-type]
                card.start_timer()
                col.sched.answerCard(card, ease)  # type: ignore[arg-type]
    finally:
        col.close()


@dataclass
class AnkiState:
    collection: Path
    key: str | None = None
    col: Collection | None = None
    calls: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(BaseHTTPRequestHandler):
    server: AnkiConnectServer

    def log_message(self, *_: object) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self._answer(None, "request body must be JSON")
        state = self.server.state
        if state.key is not None and body.get("key") != state.key:
            return self._answer(None, "valid api key must be provided")
        action = str(body.get("action"))
        method = getattr(self, f"_{action}", None)
        if body.get("version") != 6 or method is None:
            return self._answer(None, "unsupported action")
        with state.lock:
            state.calls[action] += 1
            assert state.col is not None
            try:
                result = method(state.col, **(body.get("params") or {}))
            except Exception as exc:  # the add-on answers every failure this way
                return self._answer(None, str(exc))
        return self._answer(result, None)

    def _answer(self, result: Any, error: str | None) -> None:
        data = json.dumps({"result": result, "error": error}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # -- actions, as the add-on implements them ----------------------------------------------

    def _version(self, col: Collection) -> int:
        return 6

    def _findNotes(self, col: Collection, query: str) -> list[int]:
        return [int(n) for n in col.find_notes(query)]

    def _notesInfo(self, col: Collection, notes: list[int]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for nid in notes:
            try:
                note = col.get_note(nid)  # type: ignore[arg-type]
            except NotFoundError:
                found.append({})
                continue
            model = note.note_type()
            assert model is not None
            found.append(
                {
                    "noteId": note.id,
                    "modelName": model["name"],
                    "tags": note.tags,
                    "fields": {
                        f["name"]: {"value": note.fields[f["ord"]], "order": f["ord"]}
                        for f in model["flds"]
                    },
                    "cards": [c.id for c in note.cards()],
                }
            )
        return found

    def _cardsInfo(self, col: Collection, cards: list[int]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for cid in cards:
            try:
                card = col.get_card(cid)  # type: ignore[arg-type]
            except NotFoundError:
                found.append({})
                continue
            note = card.note()
            model = note.note_type()
            assert model is not None
            found.append(
                {
                    "cardId": card.id,
                    "fields": {
                        f["name"]: {"value": note.fields[f["ord"]], "order": f["ord"]}
                        for f in model["flds"]
                    },
                    "fieldOrder": card.ord,
                    "modelName": model["name"],
                    "ord": card.ord,
                    "deckName": col.decks.name(card.did),
                    "factor": card.factor,
                    "interval": card.ivl,
                    "note": card.nid,
                    "type": card.type,
                    "queue": card.queue,
                    "due": card.due,
                    "reps": card.reps,
                    "lapses": card.lapses,
                    "left": card.left,
                    "mod": card.mod,
                }
            )
        return found

    def _areDue(self, col: Collection, cards: list[int]) -> list[bool]:
        due = {int(c) for c in col.find_cards("is:due")}
        return [int(c) in due for c in cards]

    def _createDeck(self, col: Collection, deck: str) -> int:
        return int(col.decks.id(deck))  # type: ignore[arg-type]

    def _modelFieldNames(self, col: Collection, modelName: str) -> list[str]:
        model = col.models.by_name(modelName)
        if model is None:
            raise ValueError(f"model was not found: {modelName}")
        return [f["name"] for f in model["flds"]]

    def _addNote(self, col: Collection, note: dict[str, Any]) -> int:
        model = col.models.by_name(note["modelName"])
        if model is None:
            raise ValueError(f"model was not found: {note['modelName']}")
        new = col.new_note(model)
        for name, value in note["fields"].items():
            new[name] = value
        new.tags = list(note.get("tags") or [])
        col.add_note(new, col.decks.id(note["deckName"]))  # type: ignore[arg-type]
        return int(new.id)

    def _updateNoteFields(self, col: Collection, note: dict[str, Any]) -> None:
        found = col.get_note(note["id"])
        for name, value in note["fields"].items():
            found[name] = value
        col.update_note(found)

    def _changeDeck(self, col: Collection, cards: list[int], deck: str) -> None:
        col.set_deck(cards, col.decks.id(deck))  # type: ignore[arg-type]


class AnkiConnectServer(LocalServer[AnkiState]):
    def __init__(self, state: AnkiState) -> None:
        super().__init__(state, Handler)


def serve(state: AnkiState) -> Iterator[AnkiConnectServer]:
    """AnkiConnect over the collection, open for the duration (as the desktop app has it)."""
    state.col = Collection(str(state.collection))
    try:
        yield from run_server(AnkiConnectServer(state))
    finally:
        state.col.close()
        state.col = None
