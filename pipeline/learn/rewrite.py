"""`pipeline learn rewrite`: weak atoms -> the AI provider -> the review queue.

An atom is weak when it needs review, is not atomic, or scores below
learn.anki.min_quality; one with an open item in the queue is not sent again. Each
proposal is queued (source = the provider, one batch id per run) with our quality
score of the proposed text and the provider's confidence; nothing reaches an atom
until a person approves it. One atom the provider cannot rewrite is that atom's
failure; the others go on. `--dry-run` lists the atoms it would send and sends none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg

from pipeline.db.migrate import require_current
from pipeline.learn.cleaning import measure
from pipeline.learn.providers import Provider, Request, Unusable, provider
from pipeline.learn.settings import LearnSettings


@dataclass(frozen=True)
class Rewritten:
    atom_id: str
    card_id: str | None
    front: str
    proposal: str | None  # the proposed front; None in a dry run or on failure
    queue_id: str | None
    error: str | None = None


@dataclass
class RewriteReport:
    dry_run: bool
    provider: str | None
    batch_id: str | None
    atoms: list[Rewritten] = field(default_factory=list)

    @property
    def queued(self) -> int:
        return sum(a.queue_id is not None for a in self.atoms)


def weak_atoms(conn: psycopg.Connection, min_quality: float, limit: int) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT a.id::text, a.card_id, a.atom_type, a.front, a.back, a.atomicity_status, "
        "a.quality_score, a.needs_review FROM learning_atoms a "
        "WHERE a.source_removed_at IS NULL AND a.merged_into_id IS NULL "
        "AND (a.needs_review OR a.atomicity_status IN ('verbose', 'needs_split') "
        "OR a.quality_score < %s) AND NOT EXISTS (SELECT 1 FROM review_queue q "
        "WHERE q.original_atom_id = a.id AND (q.status = 'pending' OR "
        "(q.status = 'edited' AND q.approved_at IS NULL))) "
        "ORDER BY a.quality_score ASC NULLS FIRST, a.created_at LIMIT %s",
        (min_quality, limit),
    ).fetchall()


def _reason(status: str | None, quality: Decimal | None, needs_review: bool) -> str:
    parts = []
    if status in ("verbose", "needs_split"):
        parts.append("too long" if status == "verbose" else "holds several facts")
    if quality is not None:
        parts.append(f"quality score {float(quality):.2f}")
    if needs_review and not parts:
        parts.append("flagged for review")
    return "; ".join(parts) or "flagged for review"


def rewrite(
    conn: psycopg.Connection, settings: LearnSettings, *, limit: int | None, dry_run: bool
) -> RewriteReport:
    require_current(conn)
    chosen = None if dry_run else provider(settings.rewrite.provider, settings.rewrite.model)
    try:
        return run_rewrite(conn, settings, chosen, limit=limit, dry_run=dry_run)
    finally:
        if chosen is not None:
            chosen.close()


def run_rewrite(
    conn: psycopg.Connection,
    settings: LearnSettings,
    chosen: Provider | None,
    *,
    limit: int | None,
    dry_run: bool,
) -> RewriteReport:
    batch = f"rewrite-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    name = chosen.name if chosen else settings.rewrite.provider
    report = RewriteReport(dry_run, name, None if dry_run else batch)
    atoms = weak_atoms(conn, settings.anki.min_quality, limit or settings.rewrite.limit)
    for atom_id, card_id, atom_type, front, back, status, quality, needs_review in atoms:
        if dry_run or chosen is None:
            report.atoms.append(Rewritten(atom_id, card_id, front, None, None))
            continue
        request = Request(atom_type, front, back, _reason(status, quality, needs_review))
        try:
            proposal = chosen.rewrite(request)
        except Unusable as exc:
            report.atoms.append(Rewritten(atom_id, card_id, front, None, None, str(exc)))
            continue
        score = measure(atom_type, proposal.front, proposal.back, settings.cleaning).quality_score
        row = conn.execute(
            "INSERT INTO review_queue (atom_type, front, back, concept_id, module_id, "
            "original_front, original_back, original_atom_id, source, batch_id, "
            "quality_score, ai_confidence, rewrite_reason) SELECT atom_type, %s, %s, "
            "concept_id, module_id, front, back, id, %s, %s, %s, %s, %s FROM learning_atoms "
            "WHERE id = %s RETURNING id::text",
            (
                proposal.front,
                proposal.back,
                chosen.name,
                batch,
                score,
                proposal.confidence,
                proposal.reason,
                atom_id,
            ),
        ).fetchone()
        report.atoms.append(
            Rewritten(atom_id, card_id, front, proposal.front, row[0] if row else None)
        )
    return report
