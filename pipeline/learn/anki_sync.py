"""`pipeline learn anki push|pull`: atoms to Anki notes, Anki's statistics to atoms.

push: flashcard and cloze atoms with quality_score >= learn.anki.min_quality (0.75,
seed 003), not removed from Notion and not merged, become notes in their deck
(anki_deck, else learn.anki.deck; created as needed): Basic (front, back) or Cloze
(text, back extra). An atom's note is the one whose id it stored, else the one tagged
nls::atom::<atom id>; a note whose fields differ is updated in place, one whose
cards sit in another deck is moved; nothing is added twice. A note deleted in Anki
is added again. Notes of atoms removed from Notion are left in Anki and counted.

pull: for every atom with a card in Anki: ease (factor / 1000), interval, reviews,
lapses, queue, due date, and FSRS stability and difficulty (difficulty 1..10 scaled
to 0..1; only through a collection file, AnkiConnect does not report them).

Each run is a sync_log row (anki_push / anki_pull). Postgres is written in one
transaction after Anki (a dry run writes neither).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pipeline.db.connect import translated
from pipeline.db.migrate import require_current
from pipeline.errors import PipelineError
from pipeline.learn.anki import AnkiBackend, as_field, atom_tag, open_backend
from pipeline.learn.settings import AnkiSettings


@dataclass
class AnkiReport:
    direction: str
    where: str
    dry_run: bool
    atoms: int = 0
    added: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0
    missing: int = 0  # pull: cards no longer in Anki
    removed_in_anki: int = 0  # push: notes of atoms whose page is gone
    failures: list[str] = field(default_factory=list)


def push(
    conn: psycopg.Connection, settings: AnkiSettings, collection: Path | None, *, dry_run: bool
) -> AnkiReport:
    require_current(conn)
    backend = open_backend(settings.connect_url, _collection(settings, collection))
    try:
        return run_push(conn, backend, settings, dry_run=dry_run)
    finally:
        backend.close()


def pull(
    conn: psycopg.Connection, settings: AnkiSettings, collection: Path | None, *, dry_run: bool
) -> AnkiReport:
    require_current(conn)
    backend = open_backend(settings.connect_url, _collection(settings, collection))
    try:
        return run_pull(conn, backend, dry_run=dry_run)
    finally:
        backend.close()


def _collection(settings: AnkiSettings, given: Path | None) -> Path | None:
    if given is not None:
        return given
    return Path(settings.collection) if settings.collection else None


def _log(conn: psycopg.Connection, kind: str, report: AnkiReport, error: str | None) -> None:
    conn.execute(
        "INSERT INTO sync_log (sync_type, status, completed_at, items_processed, items_added, "
        "items_updated, items_removed, items_failed, error_message, details) "
        "VALUES (%s, %s, now(), %s, %s, %s, %s, %s, %s, %s)",
        (
            kind,
            "failed" if error else "completed",
            report.atoms,
            report.added,
            report.updated,
            report.missing,
            len(report.failures),
            error,
            Jsonb({"where": report.where, "moved": report.moved, "failures": report.failures}),
        ),
    )


def run_push(
    conn: psycopg.Connection, backend: AnkiBackend, settings: AnkiSettings, *, dry_run: bool
) -> AnkiReport:
    report = AnkiReport("push", backend.where, dry_run)
    atoms = conn.execute(
        "SELECT id::text, atom_type, front, back, anki_note_id, anki_deck FROM learning_atoms "
        "WHERE atom_type IN ('flashcard', 'cloze') AND quality_score >= %s "
        "AND source_removed_at IS NULL AND merged_into_id IS NULL ORDER BY created_at, id",
        (settings.min_quality,),
    ).fetchall()
    report.atoms = len(atoms)
    report.removed_in_anki = int(
        conn.execute(
            "SELECT count(*) FROM learning_atoms WHERE anki_note_id IS NOT NULL AND "
            "(source_removed_at IS NOT NULL OR merged_into_id IS NOT NULL)"
        ).fetchone()[0]  # type: ignore[index]
    )
    written: list[tuple[Any, ...]] = []
    try:
        tagged = backend.tagged_notes()
        known = backend.notes({int(a[4]) for a in atoms if a[4]} | set(tagged.values()))
        for atom_id, atom_type, front, back, note_id, deck_name in atoms:
            deck = deck_name or settings.deck
            model = settings.models.get(atom_type, settings.models["flashcard"])
            fields = [as_field(front), as_field(back)]
            note = known.get(int(note_id)) if note_id else None
            if note is None and atom_id in tagged:
                note = known.get(tagged[atom_id])
            if note is None:
                report.added += 1
                if not dry_run:
                    new_id = backend.add_note(deck, model, fields, [atom_tag(atom_id)])
                    info = backend.notes([new_id]).get(new_id)
                    card = info.cards[0] if info and info.cards else None
                    written.append((new_id, card, deck, atom_id))
                continue
            changed = False
            if list(note.fields[:2]) != fields:
                changed = True
                if not dry_run:
                    backend.update_note(note.note_id, fields)
            if note.deck is not None and note.deck != deck and note.cards:
                report.moved += 1
                changed = True
                if not dry_run:
                    backend.move_cards(list(note.cards), deck)
            report.updated += changed
            report.unchanged += not changed
            card = note.cards[0] if note.cards else None
            written.append((note.note_id, card, deck, atom_id))
    except PipelineError as exc:
        if not dry_run:
            _store_push(conn, written)
            _log(conn, "anki_push", report, str(exc))
        raise
    if not dry_run:
        _store_push(conn, written)
        _log(conn, "anki_push", report, None)
    return report


def _store_push(conn: psycopg.Connection, written: list[tuple[Any, ...]]) -> None:
    with translated("the Anki push"), conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "UPDATE learning_atoms SET anki_note_id = %s, anki_card_id = %s, anki_deck = %s, "
            "anki_synced_at = now() WHERE id = %s",
            written,
        )


def _same(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    def plain(value: Any) -> Any:
        return float(value) if isinstance(value, Decimal) else value

    return [plain(v) for v in old] == [plain(v) for v in new]


def run_pull(conn: psycopg.Connection, backend: AnkiBackend, *, dry_run: bool) -> AnkiReport:
    report = AnkiReport("pull", backend.where, dry_run)
    atoms = conn.execute(
        "SELECT id::text, anki_card_id, anki_ease_factor, anki_interval, anki_review_count, "
        "anki_lapses, anki_stability, anki_difficulty, anki_queue, anki_due_date "
        "FROM learning_atoms WHERE anki_card_id IS NOT NULL"
    ).fetchall()
    report.atoms = len(atoms)
    stats = backend.cards(int(a[1]) for a in atoms)
    rows = []
    for atom_id, card_id, *old in atoms:
        card = stats.get(int(card_id))
        if card is None:
            report.missing += 1
            continue
        new = (
            card.ease_factor,
            card.interval,
            card.reviews,
            card.lapses,
            card.stability if card.stability is not None else old[4],
            card.difficulty if card.difficulty is not None else old[5],
            card.queue,
            card.due,
        )
        if _same(tuple(old), new):
            report.unchanged += 1
        else:
            rows.append((*new, atom_id))
    report.updated = len(rows)
    if dry_run:
        return report
    with translated("the Anki pull"), conn.transaction():
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE learning_atoms SET anki_ease_factor = %s, anki_interval = %s, "
                "anki_review_count = %s, anki_lapses = %s, anki_stability = %s, "
                "anki_difficulty = %s, anki_queue = %s, anki_due_date = %s, "
                "anki_synced_at = now() WHERE id = %s",
                rows,
            )
        _log(conn, "anki_pull", report, None)
    return report
