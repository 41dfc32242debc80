"""`pipeline learn clean`: the cleaning rules (cleaning.py) applied to the atoms.

Every row change is written to cleaning_log with its old and new values: one entry
per operation (prefix_normalize, atomicity_check, quality_score). Duplicates are not
merged here: each group becomes a `duplicate_merge` item in the review queue (once:
a group already proposed, pending or decided, is not proposed again). The run is a
sync_log row (cleaning). `--dry-run` lists the same changes and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pipeline.db.connect import translated
from pipeline.db.migrate import require_current
from pipeline.learn.cleaning import Candidate, duplicates, measure, strip_prefix
from pipeline.learn.settings import CleaningSettings


@dataclass(frozen=True)
class Change:
    atom_id: str
    card_id: str | None
    operation: str
    old: dict[str, Any]
    new: dict[str, Any]


@dataclass(frozen=True)
class Merge:
    keep: str
    keep_card: str | None
    merge: tuple[str, ...]
    kind: str
    similarity: float
    queued: bool  # False: proposed before


@dataclass
class CleanReport:
    dry_run: bool
    atoms: int = 0
    changed_atoms: int = 0
    changes: list[Change] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)

    def count(self, operation: str) -> int:
        return sum(c.operation == operation for c in self.changes)


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, Decimal | float | int) else None


def clean(conn: psycopg.Connection, rules: CleaningSettings, *, dry_run: bool) -> CleanReport:
    require_current(conn)
    report = CleanReport(dry_run)
    rows = conn.execute(
        "SELECT id::text, card_id, atom_type, front, back, front_word_count, back_word_count, "
        "atomicity_status, is_atomic, quality_score, needs_review, concept_id::text, "
        "anki_review_count, created_at::text FROM learning_atoms WHERE source_removed_at IS NULL "
        "AND merged_into_id IS NULL "
        "ORDER BY created_at, id"
    ).fetchall()
    report.atoms = len(rows)
    updates: list[tuple[Any, ...]] = []
    candidates: list[Candidate] = []
    for (
        atom_id,
        card_id,
        atom_type,
        front,
        back,
        front_words,
        back_words,
        status,
        is_atomic,
        quality,
        needs_review,
        concept_id,
        reviews,
        created,
    ) in rows:
        changes: list[Change] = []
        new_front = strip_prefix(front, front=True) or front
        new_back = strip_prefix(back, front=False)
        if (new_front, new_back) != (front, back):
            changes.append(
                Change(
                    atom_id,
                    card_id,
                    "prefix_normalize",
                    {"front": front, "back": back},
                    {"front": new_front, "back": new_back},
                )
            )
        metrics = measure(atom_type, new_front, new_back, rules)
        old_atomicity = {
            "front_word_count": front_words,
            "back_word_count": back_words,
            "atomicity_status": status,
            "is_atomic": is_atomic,
        }
        if old_atomicity != metrics.atomicity():
            changes.append(
                Change(atom_id, card_id, "atomicity_check", old_atomicity, metrics.atomicity())
            )
        old_quality = {"quality_score": _float(quality), "needs_review": needs_review}
        new_quality = {"quality_score": metrics.quality_score, "needs_review": metrics.needs_review}
        if old_quality != new_quality:
            changes.append(Change(atom_id, card_id, "quality_score", old_quality, new_quality))
        if changes:
            report.changes += changes
            report.changed_atoms += 1
            updates.append(
                (
                    new_front,
                    new_back,
                    metrics.front_word_count,
                    metrics.back_word_count,
                    metrics.atomicity_status,
                    metrics.is_atomic,
                    metrics.quality_score,
                    metrics.needs_review,
                    atom_id,
                )
            )
        candidates.append(
            Candidate(
                atom_id, concept_id, new_front, int(reviews or 0), metrics.quality_score, created
            )
        )
    cards = {r[0]: r[1] for r in rows}
    groups = duplicates(candidates, rules.near_duplicate)
    for group in groups:
        seen = conn.execute(
            "SELECT 1 FROM review_queue WHERE source = 'duplicate_merge' AND original_atom_id = "
            "%s AND merge_atom_ids @> %s::uuid[]",
            (group.keep, list(group.merge)),
        ).fetchone()
        report.merges.append(
            Merge(
                group.keep,
                cards.get(group.keep),
                group.merge,
                group.kind,
                group.similarity,
                queued=seen is None,
            )
        )
    if dry_run:
        return report
    with translated("the cleaning run"), conn.transaction():
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE learning_atoms SET front = %s, back = %s, front_word_count = %s, "
                "back_word_count = %s, atomicity_status = %s, is_atomic = %s, quality_score = "
                "%s, needs_review = %s WHERE id = %s",
                updates,
            )
            cur.executemany(
                "INSERT INTO cleaning_log (atom_id, operation, old_value, new_value) "
                "VALUES (%s, %s, %s, %s)",
                [(c.atom_id, c.operation, Jsonb(c.old), Jsonb(c.new)) for c in report.changes],
            )
        for merge in report.merges:
            if merge.queued:
                _propose(conn, merge)
        conn.execute(
            "INSERT INTO sync_log (sync_type, status, completed_at, items_processed, "
            "items_updated, details) VALUES ('cleaning', 'completed', now(), %s, %s, %s)",
            (
                report.atoms,
                report.changed_atoms,
                Jsonb(
                    {
                        "operations": {
                            op: report.count(op)
                            for op in ("prefix_normalize", "atomicity_check", "quality_score")
                        },
                        "merges_proposed": sum(m.queued for m in report.merges),
                    }
                ),
            ),
        )
    return report


def _propose(conn: psycopg.Connection, merge: Merge) -> None:
    conn.execute(
        "INSERT INTO review_queue (atom_type, front, back, concept_id, module_id, "
        "original_front, original_back, original_atom_id, source, quality_score, "
        "rewrite_reason, merge_atom_ids) "
        "SELECT atom_type, front, back, concept_id, module_id, front, back, id, "
        "'duplicate_merge', quality_score, %s, %s::uuid[] FROM learning_atoms WHERE id = %s",
        (
            f"{len(merge.merge)} {merge.kind} duplicate(s) in the same concept"
            + (f" (similarity {merge.similarity:.2f})" if merge.kind == "near" else "")
            + "; approving keeps this atom and folds the others into it",
            list(merge.merge),
            merge.keep,
        ),
    )
