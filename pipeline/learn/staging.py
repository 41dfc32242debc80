"""Postgres side of `learn sync`: staging upserts by hash, then staging -> canonical.

Every write is guarded: a staging row is written only when its page changed (its
sync_hash, or its properties), a canonical row only when one of its values differs
(IS DISTINCT FROM), so a run that changed nothing writes nothing, and a changed page
updates only its own rows. Rows are sent with COPY into ON COMMIT DROP temp tables
(safe behind a transaction-mode pooler) and upserted from there in one statement per
table; relations are resolved from Notion ids to UUIDs by joins.

An atom is rebuilt from its page only when the page changed since the atom was built
(source_hash), so a sync does not undo `learn clean` or an approved rewrite. Atoms
whose page is gone are deleted when Anki does not hold them, else marked
(source_removed_at) and kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg

from pipeline.learn.transform import Canonical, Failure, Staged

STAGE_TABLES = {
    "flashcards": "stg_notion_flashcards",
    "concepts": "stg_notion_concepts",
    "concept_areas": "stg_notion_concept_areas",
    "concept_clusters": "stg_notion_concept_clusters",
    "modules": "stg_notion_modules",
    "tracks": "stg_notion_tracks",
    "programs": "stg_notion_programs",
}


@dataclass(frozen=True)
class StagePage:
    notion_id: str
    properties: dict[str, Any]
    content: list[dict[str, Any]] | None = None
    hash: str | None = None
    parent_type: str | None = None
    parent_id: str | None = None


@dataclass
class Counts:
    added: int = 0
    updated: int = 0
    removed: int = 0
    by_table: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, table: str, added: int, updated: int, removed: int) -> None:
        self.added += added
        self.updated += updated
        self.removed += removed
        self.by_table[table] = {"added": added, "updated": updated, "removed": removed}


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


# -- staging -------------------------------------------------------------------------------


def staged_hashes(conn: psycopg.Connection) -> dict[str, str | None]:
    """Flashcard page id -> its staged sync_hash."""
    rows = conn.execute("SELECT notion_page_id, sync_hash FROM stg_notion_flashcards").fetchall()
    return dict(rows)


_STAGE_SQL = {
    "flashcards": (
        "notion_page_id text, raw_properties text, raw_content text, sync_hash text",
        "INSERT INTO stg_notion_flashcards AS s (notion_page_id, raw_properties, raw_content, "
        "sync_hash) SELECT notion_page_id, raw_properties::jsonb, raw_content::jsonb, sync_hash "
        "FROM stage_in ON CONFLICT (notion_page_id) DO UPDATE SET raw_properties = "
        "EXCLUDED.raw_properties, raw_content = EXCLUDED.raw_content, sync_hash = "
        "EXCLUDED.sync_hash, last_synced_at = now() "
        "WHERE s.sync_hash IS DISTINCT FROM EXCLUDED.sync_hash",
    ),
    "concepts": (
        "notion_page_id text, raw_properties text, parent_type text, parent_notion_id text",
        "INSERT INTO stg_notion_concepts AS s (notion_page_id, raw_properties, parent_type, "
        "parent_notion_id) SELECT notion_page_id, raw_properties::jsonb, parent_type, "
        "parent_notion_id FROM stage_in ON CONFLICT (notion_page_id) DO UPDATE SET "
        "raw_properties = EXCLUDED.raw_properties, parent_type = EXCLUDED.parent_type, "
        "parent_notion_id = EXCLUDED.parent_notion_id, last_synced_at = now() "
        "WHERE s.raw_properties IS DISTINCT FROM EXCLUDED.raw_properties",
    ),
    "concept_clusters": (
        "notion_page_id text, raw_properties text, parent_area_notion_id text",
        "INSERT INTO stg_notion_concept_clusters AS s (notion_page_id, raw_properties, "
        "parent_area_notion_id) SELECT notion_page_id, raw_properties::jsonb, "
        "parent_area_notion_id FROM stage_in ON CONFLICT (notion_page_id) DO UPDATE SET "
        "raw_properties = EXCLUDED.raw_properties, parent_area_notion_id = "
        "EXCLUDED.parent_area_notion_id, last_synced_at = now() "
        "WHERE s.raw_properties IS DISTINCT FROM EXCLUDED.raw_properties",
    ),
}


def _plain_stage_sql(table: str) -> tuple[str, str]:
    return (
        "notion_page_id text, raw_properties text",
        f"INSERT INTO {table} AS s (notion_page_id, raw_properties) SELECT notion_page_id, "  # noqa: S608
        "raw_properties::jsonb FROM stage_in ON CONFLICT (notion_page_id) DO UPDATE SET "
        "raw_properties = EXCLUDED.raw_properties, last_synced_at = now() "
        "WHERE s.raw_properties IS DISTINCT FROM EXCLUDED.raw_properties",
    )


def stage(conn: psycopg.Connection, entity: str, pages: Sequence[StagePage]) -> int:
    """Upsert pages into the entity's staging table; how many rows were written."""
    if not pages:
        return 0
    columns, upsert = _STAGE_SQL.get(entity) or _plain_stage_sql(STAGE_TABLES[entity])
    conn.execute(f"CREATE TEMP TABLE stage_in ({columns}) ON COMMIT DROP")
    width = columns.count(",") + 1
    with conn.cursor() as cur, cur.copy("COPY stage_in FROM STDIN") as copy:
        for p in pages:
            row: tuple[Any, ...]
            if entity == "flashcards":
                row = (p.notion_id, _json(p.properties), _json(p.content), p.hash)
            elif entity == "concepts":
                row = (p.notion_id, _json(p.properties), p.parent_type, p.parent_id)
            elif entity == "concept_clusters":
                row = (p.notion_id, _json(p.properties), p.parent_id)
            else:
                row = (p.notion_id, _json(p.properties))
            assert len(row) == width
            copy.write_row(row)
    written = conn.execute(upsert).rowcount
    conn.execute("DROP TABLE stage_in")
    return written


def unstage_missing(conn: psycopg.Connection, entity: str, seen: Iterable[str]) -> int:
    """A full run: staging rows of pages Notion no longer has are deleted."""
    table = STAGE_TABLES[entity]
    return conn.execute(
        f"DELETE FROM {table} WHERE NOT (notion_page_id = ANY(%s))",  # noqa: S608
        (list(seen),),
    ).rowcount


def read_staged(
    conn: psycopg.Connection, names: Mapping[str, Mapping[str, str]]
) -> dict[str, list[Staged]]:
    """What the transform needs of staging, by entity: every page of the six small
    databases; of the flashcards only those whose atom was not built from this staged
    version (new, changed, or failed before): an unchanged page's atom is up to date,
    and its relations are refreshed in SQL (`write_canonical`). Properties come with
    rich text reduced to its plain text (learn_slim_properties), blocks only for a card
    with no answer (the body is its answer)."""
    staged: dict[str, list[Staged]] = {}
    loads = orjson.loads
    for entity, table in STAGE_TABLES.items():
        if entity == "flashcards":
            rows = conn.execute(
                "SELECT s.notion_page_id, learn_slim_properties(s.raw_properties)::text, "
                "CASE WHEN learn_plain_text(s.raw_properties->%s) = '' "
                "THEN s.raw_content::text END, s.sync_hash FROM stg_notion_flashcards s "
                "LEFT JOIN learning_atoms a ON a.source = 'notion' "
                "AND a.notion_id = s.notion_page_id "
                "WHERE a.source_hash IS DISTINCT FROM s.sync_hash",
                (names["flashcards"]["back"],),
            ).fetchall()
            staged[entity] = [
                Staged(r[0], loads(r[1]), loads(r[2]) if r[2] else None, r[3]) for r in rows
            ]
        else:
            rows = conn.execute(
                f"SELECT notion_page_id, learn_slim_properties(raw_properties)::text "  # noqa: S608
                f"FROM {table}"
            ).fetchall()
            staged[entity] = [Staged(r[0], loads(r[1])) for r in rows]
    return staged


# -- canonical -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    table: str
    stage: str
    temp: str  # the temp table's columns, in Canonical's tuple order
    columns: tuple[str, ...]  # the target's columns, notion_id first
    select: str  # from canon_in t, relations joined


_TARGETS = {
    "areas": _Target(
        "clean_concept_areas",
        "stg_notion_concept_areas",
        "notion_id text, name text, description text, domain text, display_order int",
        ("notion_id", "name", "description", "domain", "display_order"),
        "SELECT t.notion_id, t.name, t.description, t.domain, t.display_order FROM canon_in t",
    ),
    "clusters": _Target(
        "clean_concept_clusters",
        "stg_notion_concept_clusters",
        "notion_id text, area text, name text, description text, exam_weight numeric, "
        "display_order int",
        ("notion_id", "concept_area_id", "name", "description", "exam_weight", "display_order"),
        "SELECT t.notion_id, a.id, t.name, t.description, t.exam_weight, t.display_order "
        "FROM canon_in t LEFT JOIN clean_concept_areas a ON a.notion_id = t.area",
    ),
    "concepts": _Target(
        "concepts",
        "stg_notion_concepts",
        "notion_id text, cluster text, area text, name text, definition text, domain text, "
        "status text, dec_score numeric, proc_score numeric, app_score numeric",
        (
            "notion_id",
            "cluster_id",
            "concept_area_id",
            "name",
            "definition",
            "domain",
            "status",
            "dec_score",
            "proc_score",
            "app_score",
        ),
        "SELECT t.notion_id, cl.id, a.id, t.name, t.definition, t.domain, t.status, "
        "t.dec_score, t.proc_score, t.app_score FROM canon_in t "
        "LEFT JOIN clean_concept_clusters cl ON cl.notion_id = t.cluster "
        "LEFT JOIN clean_concept_areas a ON a.notion_id = t.area",
    ),
    "programs": _Target(
        "clean_programs",
        "stg_notion_programs",
        "notion_id text, name text, description text, status text, start_date date, end_date date",
        ("notion_id", "name", "description", "status", "start_date", "end_date"),
        "SELECT t.notion_id, t.name, t.description, t.status, t.start_date, t.end_date "
        "FROM canon_in t",
    ),
    "tracks": _Target(
        "clean_tracks",
        "stg_notion_tracks",
        "notion_id text, program text, name text, description text, display_order int",
        ("notion_id", "program_id", "name", "description", "display_order"),
        "SELECT t.notion_id, p.id, t.name, t.description, t.display_order FROM canon_in t "
        "LEFT JOIN clean_programs p ON p.notion_id = t.program",
    ),
    "modules": _Target(
        "learning_modules",
        "stg_notion_modules",
        "notion_id text, track text, name text, description text, week_order int, status text",
        ("notion_id", "track_id", "name", "description", "week_order", "status"),
        "SELECT t.notion_id, tr.id, t.name, t.description, t.week_order, t.status "
        "FROM canon_in t LEFT JOIN clean_tracks tr ON tr.notion_id = t.track",
    ),
}


def _copy_in(conn: psycopg.Connection, temp: str, rows: Iterable[tuple[Any, ...]]) -> None:
    conn.execute(f"CREATE TEMP TABLE canon_in ({temp}) ON COMMIT DROP")
    with conn.cursor() as cur, cur.copy("COPY canon_in FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _upsert(
    conn: psycopg.Connection, target: _Target, rows: list[tuple[Any, ...]]
) -> tuple[int, int, int]:
    _copy_in(conn, target.temp, rows)
    cols = ", ".join(target.columns)
    new = ", ".join(f"EXCLUDED.{c}" for c in target.columns[1:])
    old = ", ".join(f"x.{c}" for c in target.columns[1:])
    row = conn.execute(
        f"WITH up AS (INSERT INTO {target.table} AS x ({cols}) {target.select} "  # noqa: S608
        f"ON CONFLICT (notion_id) DO UPDATE SET ({', '.join(target.columns[1:])}) = ROW({new}) "
        f"WHERE ROW({old}) IS DISTINCT FROM ROW({new}) RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up"
    ).fetchone()
    conn.execute("DROP TABLE canon_in")
    removed = conn.execute(
        f"DELETE FROM {target.table} WHERE notion_id IS NOT NULL AND notion_id NOT IN "  # noqa: S608
        f"(SELECT notion_page_id FROM {target.stage})"
    ).rowcount
    assert row is not None
    return int(row[0]), int(row[1]), removed


_ATOM_TEMP = (
    "notion_id text, card_id text, atom_type text, front text, back text, concept text, "
    "module text, deck text, source_hash text"
)


def _write_atoms(
    conn: psycopg.Connection,
    rows: list[tuple[Any, ...]],
    failures: list[Failure],
    relations: tuple[str, str],
) -> tuple[int, int, int]:
    _copy_in(conn, _ATOM_TEMP, rows)
    # A card id moving between pages in one edit: free it first, then check what is left.
    conn.execute(
        "UPDATE learning_atoms a SET card_id = NULL FROM canon_in t WHERE a.source = 'notion' "
        "AND a.notion_id = t.notion_id AND a.card_id IS DISTINCT FROM t.card_id "
        "AND a.source_hash IS DISTINCT FROM t.source_hash"
    )
    taken = conn.execute(
        "SELECT t.notion_id, t.card_id, coalesce('page ' || a.notion_id, 'a ' || a.source "
        "|| ' atom') FROM canon_in t "
        "JOIN learning_atoms a ON a.card_id = t.card_id "
        "AND NOT (a.source = 'notion' AND a.notion_id = t.notion_id)"
    ).fetchall()
    for notion_id, card_id, holder in taken:
        failures.append(
            Failure(
                "flashcards",
                notion_id,
                "",
                f"its CardID {card_id!r} is also on {holder}; give each flashcard its own",
            )
        )
    if taken:
        conn.execute("DELETE FROM canon_in WHERE notion_id = ANY(%s)", ([t[0] for t in taken],))
    counted = conn.execute(
        "WITH up AS (INSERT INTO learning_atoms AS a (notion_id, card_id, atom_type, front, back, "
        "concept_id, module_id, anki_deck, source_hash, source) "
        "SELECT t.notion_id, t.card_id, t.atom_type, t.front, t.back, c.id, m.id, t.deck, "
        "t.source_hash, 'notion' FROM canon_in t "
        "LEFT JOIN concepts c ON c.notion_id = t.concept "
        "LEFT JOIN learning_modules m ON m.notion_id = t.module "
        "ON CONFLICT (notion_id) WHERE source = 'notion' DO UPDATE SET "
        "card_id = EXCLUDED.card_id, atom_type = EXCLUDED.atom_type, front = EXCLUDED.front, "
        "back = EXCLUDED.back, concept_id = EXCLUDED.concept_id, module_id = EXCLUDED.module_id, "
        "anki_deck = coalesce(EXCLUDED.anki_deck, a.anki_deck), "
        "source_hash = EXCLUDED.source_hash, source_removed_at = NULL "
        "WHERE a.source_hash IS DISTINCT FROM EXCLUDED.source_hash "
        "RETURNING a.id, (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted), "
        "coalesce(array_agg(id) FILTER (WHERE NOT inserted), '{}') FROM up"
    ).fetchone()
    assert counted is not None
    # Relations of every page, changed or not: a concept or module that arrived later,
    # or went. Read from staging's raw relation ids, in SQL.
    relinked = conn.execute(
        "UPDATE learning_atoms a SET concept_id = x.concept_id, module_id = x.module_id "
        "FROM (SELECT s.notion_page_id, c.id AS concept_id, m.id AS module_id "
        "FROM stg_notion_flashcards s "
        "LEFT JOIN concepts c ON c.notion_id = s.raw_properties->%s->'relation'->0->>'id' "
        "LEFT JOIN learning_modules m "
        "ON m.notion_id = s.raw_properties->%s->'relation'->0->>'id') x "
        "WHERE a.source = 'notion' AND a.notion_id = x.notion_page_id "
        "AND a.source_hash IS NOT NULL "
        "AND (a.concept_id, a.module_id) IS DISTINCT FROM (x.concept_id, x.module_id) "
        "AND NOT (a.id = ANY(%s))",
        (relations[0], relations[1], counted[2]),
    ).rowcount
    conn.execute("DROP TABLE canon_in")
    gone = (
        "a.source = 'notion' AND NOT EXISTS (SELECT 1 FROM stg_notion_flashcards s "
        "WHERE s.notion_page_id = a.notion_id)"
    )
    deleted = conn.execute(
        f"DELETE FROM learning_atoms a WHERE {gone} AND a.anki_note_id IS NULL"  # noqa: S608
    ).rowcount
    marked = conn.execute(
        f"UPDATE learning_atoms a SET source_removed_at = now() WHERE {gone} "  # noqa: S608
        "AND a.anki_note_id IS NOT NULL AND a.source_removed_at IS NULL"
    ).rowcount
    return int(counted[0]), int(counted[1]) + relinked, deleted + marked


def write_canonical(
    conn: psycopg.Connection, canonical: Canonical, names: Mapping[str, Mapping[str, str]]
) -> Counts:
    """Staging's transform into the canonical tables, parents first; within the caller's
    transaction."""
    counts = Counts()
    for name, target in _TARGETS.items():
        counts.add(target.table, *_upsert(conn, target, getattr(canonical, name)))
    relations = (names["flashcards"]["concept"], names["flashcards"]["module"])
    counts.add(
        "learning_atoms", *_write_atoms(conn, canonical.atoms, canonical.failures, relations)
    )
    return counts
