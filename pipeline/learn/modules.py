"""Quiz questions of deployed LMS modules -> `mcq` atoms, so what a module taught can be
studied later. Postgres only; idempotent.

Reads only what students read, never about students: `modules` (published ones) and
their quiz sections' `section_config`. Each module with questions gets a
`learning_modules` row (lms_module_id); each question an atom with card id
`module:<module_id>:<question id>` (a question id repeated in a later quiz section of
the same module gets `#<section number>`), its prompt as front, its right answers
(and explanation) as back, its options in atom_data. A rerun updates what changed
and adds nothing twice; a question gone (or its module archived) has its atom
deleted, or marked when Anki holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb


@dataclass
class ModulesReport:
    modules: int = 0
    questions: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    failures: list[str] = field(default_factory=list)


def questions_of(
    module_id: str, sections: list[tuple[int, Any]]
) -> tuple[list[tuple[Any, ...]], list[str]]:
    """(card_id, front, back, atom_data) per question of a module's quiz sections."""
    rows: list[tuple[Any, ...]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, stored in sorted(sections, key=lambda s: s[0]):
        config = orjson.loads(stored) if isinstance(stored, str) else stored
        questions = (config or {}).get("questions") if isinstance(config, dict) else None
        if not isinstance(questions, list):
            continue
        for q in questions:
            if not isinstance(q, dict) or not q.get("id") or not q.get("prompt"):
                problems.append(f"module {module_id} section {number}: a question has no id/prompt")
                continue
            options = {str(o.get("id")): str(o.get("text", "")) for o in q.get("options") or []}
            answer = [str(a) for a in q.get("answer") or []]
            key = str(q["id"])
            card_id = f"module:{module_id}:{key}" + (f"#{number}" if key in seen else "")
            seen.add(key)
            back = "; ".join(options.get(a, a) for a in answer)
            if q.get("explanation"):
                back = f"{back}\n\n{q['explanation']}" if back else str(q["explanation"])
            data = {
                "lms_module_id": module_id,
                "section_number": number,
                "question_id": key,
                "kind": q.get("kind", "single"),
                "options": [{"id": i, "text": t} for i, t in options.items()],
                "answer": answer,
            }
            rows.append((card_id, str(q["prompt"]), back or None, data))
    return rows, problems


def atoms_from_modules(conn: psycopg.Connection, *, dry_run: bool) -> ModulesReport:
    """One sync_log row (lms_modules); everything in one transaction (rolled back on a
    dry run)."""
    report = ModulesReport()
    rows = conn.execute(
        "SELECT m.module_id, m.title, m.description, s.section_number, s.section_config "
        "FROM modules m JOIN module_sections s ON s.module_id = m.id "
        "WHERE m.status = 'published' AND s.section_type = 'quiz' "
        "ORDER BY m.module_id, s.section_number"
    ).fetchall()
    by_module: dict[str, tuple[str, str | None, list[tuple[int, Any]]]] = {}
    for module_id, title, description, number, config in rows:
        by_module.setdefault(module_id, (title, description, []))[2].append((number, config))
    try:
        with conn.transaction():
            log = conn.execute(
                "INSERT INTO sync_log (sync_type) VALUES ('lms_modules') RETURNING id"
            ).fetchone()
            assert log is not None
            keep: list[str] = []
            for module_id, (title, description, sections) in by_module.items():
                questions, problems = questions_of(module_id, sections)
                report.failures += problems
                if not questions:
                    continue
                report.modules += 1
                learning = conn.execute(
                    "INSERT INTO learning_modules AS l (lms_module_id, name, description) "
                    "VALUES (%s, %s, %s) ON CONFLICT (lms_module_id) DO UPDATE SET "
                    "name = EXCLUDED.name, description = EXCLUDED.description "
                    "WHERE (l.name, l.description) IS DISTINCT FROM "
                    "(EXCLUDED.name, EXCLUDED.description) RETURNING id",
                    (module_id, title, description),
                ).fetchone()
                if learning is None:
                    learning = conn.execute(
                        "SELECT id FROM learning_modules WHERE lms_module_id = %s", (module_id,)
                    ).fetchone()
                assert learning is not None
                for card_id, front, back, data in questions:
                    report.questions += 1
                    keep.append(card_id)
                    done = conn.execute(
                        "INSERT INTO learning_atoms AS a (card_id, atom_type, front, back, "
                        "module_id, atom_data, source) VALUES (%s, 'mcq', %s, %s, %s, %s, "
                        "'module') ON CONFLICT (card_id) DO UPDATE SET front = EXCLUDED.front, "
                        "back = EXCLUDED.back, module_id = EXCLUDED.module_id, atom_data = "
                        "EXCLUDED.atom_data, source_removed_at = NULL "
                        "WHERE a.source = 'module' AND (a.front, a.back, a.module_id, "
                        "a.atom_data, a.source_removed_at) IS DISTINCT FROM (EXCLUDED.front, "
                        "EXCLUDED.back, EXCLUDED.module_id, EXCLUDED.atom_data, NULL) "
                        "RETURNING (xmax = 0)",
                        (card_id, front, back, learning[0], Jsonb(data)),
                    ).fetchone()
                    if done is not None:
                        if done[0]:
                            report.added += 1
                        else:
                            report.updated += 1
            gone = "source = 'module' AND NOT (card_id = ANY(%s))"
            report.removed = conn.execute(
                f"DELETE FROM learning_atoms WHERE {gone} AND anki_note_id IS NULL",  # noqa: S608
                (keep,),
            ).rowcount
            report.removed += conn.execute(
                f"UPDATE learning_atoms SET source_removed_at = now() WHERE {gone} "  # noqa: S608
                "AND anki_note_id IS NOT NULL AND source_removed_at IS NULL",
                (keep,),
            ).rowcount
            conn.execute(
                "UPDATE sync_log SET completed_at = now(), status = 'completed', "
                "items_processed = %s, items_added = %s, items_updated = %s, "
                "items_removed = %s, items_failed = %s, details = %s WHERE id = %s",
                (
                    report.questions,
                    report.added,
                    report.updated,
                    report.removed,
                    len(report.failures),
                    Jsonb({"modules": report.modules, "failures": report.failures[:100]}),
                    log[0],
                ),
            )
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


class _DryRun(Exception):
    pass
