"""`pipeline learn due` and `pipeline learn stats`: the study views of seed 003."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pipeline.db.migrate import require_current


@dataclass(frozen=True)
class DueAtom:
    card_id: str | None
    atom_type: str
    front: str
    concept_name: str | None
    module_name: str | None
    cluster_name: str | None
    area_name: str | None
    anki_deck: str | None
    anki_interval: int | None
    anki_due_date: date | None


@dataclass(frozen=True)
class ConceptStats:
    concept_id: str
    concept_name: str
    status: str | None
    total_atoms: int
    atomic_count: int
    anki_syncable: int
    in_anki_count: int
    avg_ease: float | None
    avg_interval: float | None
    needs_review_count: int


@dataclass(frozen=True)
class Stats:
    concepts: list[ConceptStats]
    atoms: int
    in_anki: int
    due_today: int
    review_queue: list[dict[str, Any]]


def _floats(row: dict[str, Any]) -> dict[str, Any]:
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()}


def due(conn: psycopg.Connection, limit: int) -> list[DueAtom]:
    require_current(conn)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT card_id, atom_type, front, concept_name, module_name, cluster_name, "
            "area_name, anki_deck, anki_interval, anki_due_date FROM v_due_atoms "
            "ORDER BY anki_due_date, concept_name NULLS LAST, card_id LIMIT %s",
            (limit,),
        ).fetchall()
    return [DueAtom(**r) for r in rows]


def stats(conn: psycopg.Connection) -> Stats:
    require_current(conn)
    with conn.cursor(row_factory=dict_row) as cur:
        concepts = cur.execute(
            "SELECT concept_id::text, concept_name, status, total_atoms, atomic_count, "
            "anki_syncable, in_anki_count, avg_ease, avg_interval, needs_review_count "
            "FROM v_concept_atom_stats ORDER BY concept_name"
        ).fetchall()
        totals = cur.execute(
            "SELECT count(*) AS atoms, count(anki_note_id) AS in_anki FROM learning_atoms "
            "WHERE source_removed_at IS NULL AND merged_into_id IS NULL"
        ).fetchone()
        due_today = cur.execute("SELECT count(*) AS n FROM v_due_atoms").fetchone()
        queue = cur.execute(
            "SELECT source, status, count, oldest, newest FROM v_review_queue_summary"
        ).fetchall()
    assert totals is not None and due_today is not None
    return Stats(
        [ConceptStats(**_floats(r)) for r in concepts],
        int(totals["atoms"]),
        int(totals["in_anki"]),
        int(due_today["n"]),
        [dict(r) for r in queue],
    )
