"""Anki, two ways behind one interface; the one place Anki's errors become ours.

- AnkiConnect (the add-on's HTTP API, version 6) while the desktop app runs:
  {"action", "version": 6, "params", "key"} -> {"result", "error"}. The address is
  learn.anki.connect_url (default http://127.0.0.1:8765), ANKICONNECT_URL overrides
  it; ANKICONNECT_KEY is sent when the add-on asks for a key.
- A collection file (collection.anki2) through the official `anki` package, for
  people without the desktop app running (Anki must not have the file open).

Each note the pipeline makes carries the tag nls::atom::<atom id>, so a note is found
again even when its id was never stored (a crash between Anki and Postgres): a rerun
never makes a second note. Field 1 of the note type is the front, field 2 the back.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx

from pipeline.errors import ServiceError, UsageError, redact

TAG_PREFIX = "nls::atom::"
URL_VARIABLE = "ANKICONNECT_URL"
KEY_VARIABLE = "ANKICONNECT_KEY"


@dataclass(frozen=True)
class NoteInfo:
    note_id: int
    fields: tuple[str, ...]  # in the note type's order
    tags: tuple[str, ...]
    cards: tuple[int, ...]
    deck: str | None = None


@dataclass(frozen=True)
class CardStats:
    card_id: int
    ease_factor: float | None  # Anki's factor / 1000 (2500 -> 2.5); None for new cards
    interval: int
    reviews: int
    lapses: int
    queue: int
    stability: float | None  # FSRS, days
    difficulty: float | None  # FSRS difficulty 1..10 scaled to 0..1
    due: date | None


class AnkiBackend(Protocol):
    where: str

    def tagged_notes(self) -> dict[str, int]: ...
    def notes(self, note_ids: Iterable[int]) -> dict[int, NoteInfo]: ...
    def add_note(self, deck: str, model: str, fields: list[str], tags: list[str]) -> int: ...
    def update_note(self, note_id: int, fields: list[str]) -> None: ...
    def move_cards(self, card_ids: list[int], deck: str) -> None: ...
    def cards(self, card_ids: Iterable[int]) -> dict[int, CardStats]: ...
    def close(self) -> None: ...


def as_field(text: str | None) -> str:
    """Our plain text as an Anki field (HTML): escaped, line breaks as <br>."""
    return html.escape(text or "", quote=False).replace("\n", "<br>")


def atom_tag(atom_id: str) -> str:
    return f"{TAG_PREFIX}{atom_id}"


def _atom_of(tags: Iterable[str]) -> str | None:
    for tag in tags:
        if tag.startswith(TAG_PREFIX):
            return tag[len(TAG_PREFIX) :]
    return None


def _difficulty(value: float | None) -> float | None:
    return None if value is None else round(min(1.0, max(0.0, (value - 1) / 9)), 2)


# -- AnkiConnect ------------------------------------------------------------------------------


class AnkiConnect:
    def __init__(self, url: str, *, key: str | None = None, timeout: float = 30.0) -> None:
        self.where = f"AnkiConnect at {redact(url)}"
        self._url, self._key = url, key
        self._http = httpx.Client(timeout=timeout)
        version = self._call("version")
        if not isinstance(version, int) or version < 6:
            raise UsageError(f"{self.where} speaks version {version}; update the add-on (6 needed)")

    @classmethod
    def from_environment(cls, url: str) -> AnkiConnect:
        return cls(os.environ.get(URL_VARIABLE) or url, key=os.environ.get(KEY_VARIABLE) or None)

    def _call(self, action: str, **params: Any) -> Any:
        body: dict[str, Any] = {"action": action, "version": 6, "params": params}
        if self._key:
            body["key"] = self._key
        try:
            response = self._http.post(self._url, json=body)
        except httpx.TransportError as exc:
            raise ServiceError(
                "Anki",
                f"{self.where} is not answering ({type(exc).__name__}): start Anki with the "
                "AnkiConnect add-on, or use a collection file (--collection)",
            ) from None
        try:
            answer = response.json()
        except ValueError:
            raise ServiceError("Anki", f"{self.where} did not answer JSON to {action}") from None
        if not isinstance(answer, dict) or set(answer) != {"result", "error"}:
            raise ServiceError("Anki", f"{self.where} answered {action} in an unknown shape")
        if answer["error"] is not None:
            error = str(answer["error"])
            if "api key" in error.lower() or "permission" in error.lower():
                raise UsageError(f"{self.where} refused the request: {error}; set {KEY_VARIABLE}")
            raise ServiceError("Anki", f"{self.where} refused {action}: {error}")
        return answer["result"]

    def tagged_notes(self) -> dict[str, int]:
        ids = self._call("findNotes", query=f"tag:{TAG_PREFIX}*")
        found: dict[str, int] = {}
        for info in self.notes(ids).values():
            atom = _atom_of(info.tags)
            if atom:
                found[atom] = info.note_id
        return found

    def notes(self, note_ids: Iterable[int]) -> dict[int, NoteInfo]:
        ids = list(note_ids)
        if not ids:
            return {}
        found = {}
        for info in self._call("notesInfo", notes=ids):
            if not info:  # a note that no longer exists
                continue
            ordered = sorted(info["fields"].values(), key=lambda f: f["order"])
            found[int(info["noteId"])] = NoteInfo(
                int(info["noteId"]),
                tuple(str(f["value"]) for f in ordered),
                tuple(info.get("tags") or ()),
                tuple(int(c) for c in info.get("cards") or ()),
            )
        cards = [n.cards[0] for n in found.values() if n.cards]
        decks = (
            {int(c["cardId"]): c.get("deckName") for c in self._call("cardsInfo", cards=cards) if c}
            if cards
            else {}
        )
        return {
            nid: NoteInfo(
                n.note_id, n.fields, n.tags, n.cards, decks.get(n.cards[0]) if n.cards else None
            )
            for nid, n in found.items()
        }

    def _field_names(self, model: str) -> list[str]:
        names = self._call("modelFieldNames", modelName=model)
        if not isinstance(names, list) or len(names) < 2:
            raise UsageError(f"the Anki note type {model!r} needs two fields (front and back)")
        return [str(n) for n in names]

    def add_note(self, deck: str, model: str, fields: list[str], tags: list[str]) -> int:
        self._call("createDeck", deck=deck)
        names = self._field_names(model)
        note = {
            "deckName": deck,
            "modelName": model,
            "fields": dict(zip(names, fields, strict=False)),
            "tags": tags,
            "options": {"allowDuplicate": True},
        }
        return int(self._call("addNote", note=note))

    def update_note(self, note_id: int, fields: list[str]) -> None:
        info = self._call("notesInfo", notes=[note_id])[0]
        names = [n for n, _ in sorted(info["fields"].items(), key=lambda f: f[1]["order"])]
        self._call(
            "updateNoteFields",
            note={"id": note_id, "fields": dict(zip(names, fields, strict=False))},
        )

    def move_cards(self, card_ids: list[int], deck: str) -> None:
        self._call("createDeck", deck=deck)
        self._call("changeDeck", cards=card_ids, deck=deck)

    def cards(self, card_ids: Iterable[int]) -> dict[int, CardStats]:
        ids = list(card_ids)
        if not ids:
            return {}
        infos = self._call("cardsInfo", cards=ids)
        due_now = self._call("areDue", cards=ids)
        today = date.today()
        found = {}
        for info, is_due in zip(infos, due_now, strict=False):
            if not info:
                continue
            queue = int(info.get("queue", 0))
            factor = int(info.get("factor") or 0)
            found[int(info["cardId"])] = CardStats(
                int(info["cardId"]),
                factor / 1000 if factor else None,
                max(0, int(info.get("interval") or 0)),
                int(info.get("reps") or 0),
                int(info.get("lapses") or 0),
                queue,
                # AnkiConnect's cardsInfo does not carry FSRS memory state: see the README.
                None,
                None,
                today if is_due or queue == 0 else None,
            )
        return found

    def close(self) -> None:
        self._http.close()


# -- a collection file ----------------------------------------------------------------------


class CollectionFile:
    def __init__(self, path: Path) -> None:
        self.where = f"the Anki collection {path}"
        if not path.is_file():
            raise UsageError(f"{self.where} does not exist; give the path of collection.anki2")
        try:
            from anki.collection import Collection
            from anki.errors import DBError
        except ImportError:
            raise UsageError(
                "reading a collection file needs Anki's package: pip install "
                "'module-pipeline[learn]' (or use AnkiConnect: leave out --collection)"
            ) from None

        try:
            self.col = Collection(str(path))
        except DBError as exc:
            raise ServiceError(
                "Anki",
                f"{self.where} cannot be opened ({exc}); close Anki, or use AnkiConnect",
            ) from None
        except Exception as exc:  # the package raises many kinds for a bad file
            raise UsageError(f"{self.where} cannot be opened: {exc}") from None

    def tagged_notes(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for nid in self.col.find_notes(f"tag:{TAG_PREFIX}*"):
            atom = _atom_of(self.col.get_note(nid).tags)
            if atom:
                found[atom] = int(nid)
        return found

    def notes(self, note_ids: Iterable[int]) -> dict[int, NoteInfo]:
        from anki.errors import NotFoundError

        found = {}
        for nid in note_ids:
            try:
                note = self.col.get_note(nid)  # type: ignore[arg-type]
            except NotFoundError:
                continue
            cards = note.cards()
            deck = self.col.decks.name(cards[0].did) if cards else None
            found[int(nid)] = NoteInfo(
                int(nid),
                tuple(note.fields),
                tuple(note.tags),
                tuple(int(c.id) for c in cards),
                deck,
            )
        return found

    def _model(self, name: str) -> Any:
        model = self.col.models.by_name(name)
        if model is None or len(model["flds"]) < 2:
            raise UsageError(
                f"{self.where} has no note type {name!r} with two fields; set "
                "learn.anki.models in pipeline.yaml"
            )
        return model

    def add_note(self, deck: str, model: str, fields: list[str], tags: list[str]) -> int:
        note = self.col.new_note(self._model(model))
        for index, value in enumerate(fields[: len(note.fields)]):
            note.fields[index] = value
        note.tags = list(tags)
        self.col.add_note(note, self.col.decks.id(deck))  # type: ignore[arg-type]
        return int(note.id)

    def update_note(self, note_id: int, fields: list[str]) -> None:
        note = self.col.get_note(note_id)  # type: ignore[arg-type]
        for index, value in enumerate(fields[: len(note.fields)]):
            note.fields[index] = value
        self.col.update_note(note)

    def move_cards(self, card_ids: list[int], deck: str) -> None:
        self.col.set_deck(card_ids, self.col.decks.id(deck))  # type: ignore[arg-type]

    def cards(self, card_ids: Iterable[int]) -> dict[int, CardStats]:
        from anki.errors import NotFoundError

        today = date.today()
        sched_today = self.col.sched.today
        found = {}
        for cid in card_ids:
            try:
                card = self.col.get_card(cid)  # type: ignore[arg-type]
            except NotFoundError:
                continue
            queue = int(card.queue)
            due_day = card.odue if card.odid else card.due
            if queue in (2, 3):
                due: date | None = today + timedelta(days=int(due_day) - sched_today)
            elif queue == 1:
                due = datetime.fromtimestamp(int(due_day)).date()
            elif queue == 0:
                due = today
            else:
                due = None
            memory = card.memory_state
            found[int(cid)] = CardStats(
                int(cid),
                card.factor / 1000 if card.factor else None,
                max(0, int(card.ivl)),
                int(card.reps),
                int(card.lapses),
                queue,
                round(float(memory.stability), 2) if memory else None,
                _difficulty(float(memory.difficulty)) if memory else None,
                due,
            )
        return found

    def close(self) -> None:
        self.col.close()


def open_backend(url: str, collection: Path | None) -> AnkiBackend:
    if collection is not None:
        return CollectionFile(collection.expanduser())
    return AnkiConnect.from_environment(url)


_CLOZE = re.compile(r"\{\{c\d+::")
