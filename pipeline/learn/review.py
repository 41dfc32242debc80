"""The review queue: proposals (AI rewrites, duplicate merges) wait for a person.

  list     pending items (and edited ones not yet approved), best first, beside the
           original atom's current text
  show     one item
  approve  creates the atom (no original) or updates the original; a merge also marks
           each duplicate merged_into the kept atom (kept out of Anki and the views);
           the item gets approved_at and approved_atom_id; the change is in cleaning_log
           (ai_rewrite or duplicate_merge) with old and new values
  reject   the original stays as it is
  edit     changes the proposal (status `edited`), optionally approving it at once

An item is named by its id or the first characters of it (at least 4, unambiguous).
Each action locks its item (FOR UPDATE) in one transaction: two reviewers cannot
both approve it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from pipeline.db.connect import translated
from pipeline.db.migrate import require_current
from pipeline.errors import ContentError, UsageError
from pipeline.learn.cleaning import measure
from pipeline.learn.settings import CleaningSettings

AI_SOURCES = ("gemini", "vertex", "notion_ai")


@dataclass(frozen=True)
class ReviewItem:
    id: str
    status: str
    source: str
    atom_type: str
    front: str
    back: str | None
    original_atom_id: str | None
    original_card_id: str | None
    original_front: str | None
    original_back: str | None
    current_front: str | None  # the original atom as it is now
    current_back: str | None
    merge_atom_ids: list[str]
    quality_score: float | None
    ai_confidence: float | None
    rewrite_reason: str | None
    reviewer_notes: str | None
    batch_id: str | None
    created_at: datetime
    approved_at: datetime | None
    approved_atom_id: str | None


_SELECT = (
    "SELECT q.id::text, q.status, q.source, q.atom_type, q.front, q.back, "
    "q.original_atom_id::text, a.card_id AS original_card_id, q.original_front, "
    "q.original_back, a.front AS current_front, a.back AS current_back, "
    "coalesce(q.merge_atom_ids::text[], '{}') AS merge_atom_ids, q.quality_score, "
    "q.ai_confidence, q.rewrite_reason, q.reviewer_notes, q.batch_id, q.created_at, "
    "q.approved_at, q.approved_atom_id::text "
    "FROM review_queue q LEFT JOIN learning_atoms a ON a.id = q.original_atom_id"
)
_OPEN = "(q.status = 'pending' OR (q.status = 'edited' AND q.approved_at IS NULL))"


def _item(row: dict[str, Any]) -> ReviewItem:
    for key in ("quality_score", "ai_confidence"):
        if isinstance(row[key], Decimal):
            row[key] = float(row[key])
    return ReviewItem(**row)


def pending(conn: psycopg.Connection, limit: int) -> list[ReviewItem]:
    require_current(conn)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"{_SELECT} WHERE {_OPEN} ORDER BY q.quality_score DESC NULLS LAST, "
            "q.created_at ASC LIMIT %s",
            (limit,),
        ).fetchall()
    return [_item(r) for r in rows]


def _find(conn: psycopg.Connection, key: str, *, lock: bool) -> ReviewItem:
    key = key.strip().lower()
    if len(key) < 4 or not all(c in "0123456789abcdef-" for c in key):
        raise UsageError(f"{key!r} is not a queue item id; `pipeline learn review list` shows them")
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"{_SELECT} WHERE q.id::text LIKE %s ORDER BY q.id LIMIT 2"
            + (" FOR UPDATE OF q" if lock else ""),
            (key + "%",),
        ).fetchall()
    if not rows:
        raise UsageError(f"no review queue item {key}; `pipeline learn review list` shows them")
    if len(rows) > 1:
        raise UsageError(f"{key} names more than one queue item; give more of its id")
    return _item(rows[0])


def show(conn: psycopg.Connection, key: str) -> ReviewItem:
    require_current(conn)
    return _find(conn, key, lock=False)


def _open(item: ReviewItem) -> None:
    if item.status == "pending" or (item.status == "edited" and item.approved_at is None):
        return
    raise ContentError(f"queue item {item.id} is already {item.status}; nothing changed")


@contextmanager
def _deciding(conn: psycopg.Connection, key: str, what: str) -> Iterator[ReviewItem]:
    """The queue item `key`, still open, locked in a transaction for a reviewer's decision
    (`what` names it in a database error)."""
    require_current(conn)
    with translated(what), conn.transaction():
        item = _find(conn, key, lock=True)
        _open(item)
        yield item


def approve(
    conn: psycopg.Connection, key: str, rules: CleaningSettings, *, note: str | None
) -> ReviewItem:
    with _deciding(conn, key, "the approval") as item:
        atom_id = _apply(conn, item, rules)
        conn.execute(
            "UPDATE review_queue SET status = CASE WHEN status = 'edited' THEN 'edited' "
            "ELSE 'approved' END, approved_at = now(), approved_atom_id = %s, "
            "reviewer_notes = coalesce(%s, reviewer_notes) WHERE id = %s",
            (atom_id, note, item.id),
        )
        return _find(conn, item.id, lock=False)


def _apply(conn: psycopg.Connection, item: ReviewItem, rules: CleaningSettings) -> str:
    """The atom the item creates or updates; its cleaning_log entries."""
    m = measure(item.atom_type, item.front, item.back, rules)
    metrics = (
        m.front_word_count,
        m.back_word_count,
        m.atomicity_status,
        m.is_atomic,
        m.quality_score,
        m.needs_review,
    )
    operation = "duplicate_merge" if item.source == "duplicate_merge" else "ai_rewrite"
    rewritten = item.source in AI_SOURCES
    if item.original_atom_id is None or item.current_front is None:
        row = conn.execute(
            "INSERT INTO learning_atoms (atom_type, front, back, concept_id, module_id, "
            "front_word_count, back_word_count, atomicity_status, is_atomic, quality_score, "
            "needs_review, source, batch_id, rewrite_count, last_rewrite_at) "
            "SELECT atom_type, front, back, concept_id, module_id, %s, %s, %s, %s, %s, %s, "
            "'ai_batch', batch_id, %s, CASE WHEN %s THEN now() END FROM review_queue "
            "WHERE id = %s RETURNING id::text",
            (*metrics, int(rewritten), rewritten, item.id),
        ).fetchone()
        assert row is not None
        _log(conn, row[0], operation, None, {"front": item.front, "back": item.back})
        return str(row[0])
    atom_id = item.original_atom_id
    conn.execute(
        "UPDATE learning_atoms SET front = %s, back = %s, atom_type = %s, front_word_count = "
        "%s, back_word_count = %s, atomicity_status = %s, is_atomic = %s, quality_score = %s, "
        "needs_review = %s, rewrite_count = rewrite_count + %s, last_rewrite_at = CASE WHEN "
        "%s THEN now() ELSE last_rewrite_at END WHERE id = %s",
        (item.front, item.back, item.atom_type, *metrics, int(rewritten), rewritten, atom_id),
    )
    _log(
        conn,
        atom_id,
        operation,
        {"front": item.current_front, "back": item.current_back},
        {"front": item.front, "back": item.back},
    )
    for merged in item.merge_atom_ids:
        done = conn.execute(
            "UPDATE learning_atoms SET merged_into_id = %s WHERE id = %s AND id <> %s "
            "AND merged_into_id IS NULL",
            (atom_id, merged, atom_id),
        ).rowcount
        if done:
            _log(
                conn,
                merged,
                "duplicate_merge",
                {"merged_into_id": None},
                {"merged_into_id": atom_id},
            )
    return atom_id


def _log(
    conn: psycopg.Connection,
    atom_id: str,
    operation: str,
    old: dict[str, Any] | None,
    new: dict[str, Any],
) -> None:
    conn.execute(
        "INSERT INTO cleaning_log (atom_id, operation, old_value, new_value) "
        "VALUES (%s, %s, %s, %s)",
        (atom_id, operation, Jsonb(old) if old is not None else None, Jsonb(new)),
    )


def reject(conn: psycopg.Connection, key: str, *, note: str | None) -> ReviewItem:
    with _deciding(conn, key, "the rejection") as item:
        conn.execute(
            "UPDATE review_queue SET status = 'rejected', reviewer_notes = "
            "coalesce(%s, reviewer_notes) WHERE id = %s",
            (note, item.id),
        )
        return _find(conn, item.id, lock=False)


def edit(
    conn: psycopg.Connection,
    key: str,
    rules: CleaningSettings,
    *,
    front: str | None,
    back: str | None,
    note: str | None,
    approve: bool,
) -> ReviewItem:
    if front is None and back is None and not approve:
        raise UsageError("say what to change: --front, --back (and --approve to approve it)")
    if front is not None and not front.strip():
        raise UsageError("--front cannot be empty")
    with _deciding(conn, key, "the edit") as opened:
        conn.execute(
            "UPDATE review_queue SET front = coalesce(%s, front), back = CASE WHEN %s THEN %s "
            "ELSE back END, status = 'edited', reviewer_notes = coalesce(%s, reviewer_notes) "
            "WHERE id = %s",
            (front, back is not None, back, note, opened.id),
        )
        item = _find(conn, opened.id, lock=False)
        if approve:
            atom_id = _apply(conn, item, rules)
            conn.execute(
                "UPDATE review_queue SET approved_at = now(), approved_atom_id = %s WHERE id = %s",
                (atom_id, item.id),
            )
            item = _find(conn, item.id, lock=False)
        return item
