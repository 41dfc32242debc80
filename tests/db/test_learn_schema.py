"""Migration 0011 against seed 003, table by table: columns, types, defaults, keys,
indexes and views read back from the database's catalog; and its rollback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.db.migrate import migrate
from tests.conftest import ROOT, Database

# Seed 003's tables as its documentation writes them: "column TYPE constraints".
# FK(table) is "FK -> table".
SEED: dict[str, str] = {
    "stg_notion_flashcards": """
        notion_page_id TEXT PRIMARY KEY
        raw_properties JSONB NOT NULL
        raw_content JSONB
        last_synced_at TIMESTAMPTZ DEFAULT now()
        sync_hash TEXT""",
    "stg_notion_concepts": """
        notion_page_id TEXT PRIMARY KEY
        raw_properties JSONB NOT NULL
        parent_type TEXT
        parent_notion_id TEXT
        last_synced_at TIMESTAMPTZ DEFAULT now()""",
    "stg_notion_concept_areas": """
        notion_page_id TEXT PRIMARY KEY
        raw_properties JSONB NOT NULL
        last_synced_at TIMESTAMPTZ DEFAULT now()""",
    "stg_notion_concept_clusters": """
        notion_page_id TEXT PRIMARY KEY
        raw_properties JSONB NOT NULL
        parent_area_notion_id TEXT
        last_synced_at TIMESTAMPTZ DEFAULT now()""",
    "stg_notion_modules": """
        notion_page_id TEXT PRIMARY KEY
        raw_properties JSONB NOT NULL
        last_synced_at TIMESTAMPTZ DEFAULT now()""",
    "stg_notion_tracks": """
        notion_page_id TEXT PRIMARY KEY
        raw_properties JSONB NOT NULL
        last_synced_at TIMESTAMPTZ DEFAULT now()""",
    "stg_notion_programs": """
        notion_page_id TEXT PRIMARY KEY
        raw_properties JSONB NOT NULL
        last_synced_at TIMESTAMPTZ DEFAULT now()""",
    "clean_concept_areas": """
        id UUID PRIMARY KEY
        notion_id TEXT UNIQUE
        name TEXT NOT NULL
        description TEXT
        domain TEXT
        display_order INT DEFAULT 0
        created_at TIMESTAMPTZ DEFAULT now()
        updated_at TIMESTAMPTZ DEFAULT now()""",
    "clean_concept_clusters": """
        id UUID PRIMARY KEY
        notion_id TEXT UNIQUE
        concept_area_id UUID FK(clean_concept_areas)
        name TEXT NOT NULL
        description TEXT
        exam_weight DECIMAL(5,2)
        display_order INT DEFAULT 0
        created_at TIMESTAMPTZ DEFAULT now()
        updated_at TIMESTAMPTZ DEFAULT now()""",
    "concepts": """
        id UUID PRIMARY KEY
        notion_id TEXT UNIQUE
        cluster_id UUID FK(clean_concept_clusters)
        name TEXT NOT NULL
        definition TEXT
        domain TEXT
        status TEXT DEFAULT 'to_learn'
        dec_score DECIMAL(4,2)
        proc_score DECIMAL(4,2)
        app_score DECIMAL(4,2)
        last_reviewed_at TIMESTAMPTZ
        created_at TIMESTAMPTZ DEFAULT now()
        updated_at TIMESTAMPTZ DEFAULT now()""",
    "clean_programs": """
        id UUID PRIMARY KEY
        notion_id TEXT UNIQUE
        name TEXT NOT NULL
        description TEXT
        status TEXT DEFAULT 'active'
        start_date DATE
        end_date DATE
        created_at TIMESTAMPTZ DEFAULT now()
        updated_at TIMESTAMPTZ DEFAULT now()""",
    "clean_tracks": """
        id UUID PRIMARY KEY
        notion_id TEXT UNIQUE
        program_id UUID FK(clean_programs)
        name TEXT NOT NULL
        description TEXT
        display_order INT DEFAULT 0
        created_at TIMESTAMPTZ DEFAULT now()
        updated_at TIMESTAMPTZ DEFAULT now()""",
    "learning_modules": """
        id UUID PRIMARY KEY
        notion_id TEXT UNIQUE
        track_id UUID FK(clean_tracks)
        name TEXT NOT NULL
        description TEXT
        week_order INT
        status TEXT DEFAULT 'not_started'
        created_at TIMESTAMPTZ DEFAULT now()
        updated_at TIMESTAMPTZ DEFAULT now()""",
    "learning_atoms": """
        id UUID PRIMARY KEY
        notion_id TEXT
        card_id TEXT UNIQUE
        atom_type TEXT NOT NULL DEFAULT 'flashcard'
        front TEXT NOT NULL
        back TEXT
        concept_id UUID FK(concepts)
        module_id UUID FK(learning_modules)
        quality_score DECIMAL(3,2)
        is_atomic BOOLEAN DEFAULT true
        front_word_count INT
        back_word_count INT
        atomicity_status TEXT
        needs_review BOOLEAN DEFAULT false
        rewrite_count INT DEFAULT 0
        last_rewrite_at TIMESTAMPTZ
        anki_note_id BIGINT
        anki_card_id BIGINT
        anki_deck TEXT
        anki_synced_at TIMESTAMPTZ
        anki_ease_factor DECIMAL(4,3)
        anki_interval INT
        anki_review_count INT DEFAULT 0
        anki_lapses INT DEFAULT 0
        anki_stability DECIMAL(8,2)
        anki_difficulty DECIMAL(3,2)
        anki_queue INT
        source TEXT DEFAULT 'notion'
        batch_id TEXT
        created_at TIMESTAMPTZ DEFAULT now()
        updated_at TIMESTAMPTZ DEFAULT now()""",
    "review_queue": """
        id UUID PRIMARY KEY
        atom_type TEXT NOT NULL DEFAULT 'flashcard'
        front TEXT NOT NULL
        back TEXT
        concept_id UUID FK(concepts)
        module_id UUID FK(learning_modules)
        original_front TEXT
        original_back TEXT
        original_atom_id UUID FK(learning_atoms)
        status TEXT DEFAULT 'pending'
        source TEXT NOT NULL
        batch_id TEXT
        quality_score DECIMAL(3,2)
        ai_confidence DECIMAL(3,2)
        rewrite_reason TEXT
        approved_at TIMESTAMPTZ
        approved_atom_id UUID FK(learning_atoms)
        reviewer_notes TEXT
        created_at TIMESTAMPTZ DEFAULT now()""",
    "sync_log": """
        id UUID PRIMARY KEY
        sync_type TEXT NOT NULL
        started_at TIMESTAMPTZ DEFAULT now()
        completed_at TIMESTAMPTZ
        status TEXT DEFAULT 'running'
        items_processed INT DEFAULT 0
        items_added INT DEFAULT 0
        items_updated INT DEFAULT 0
        items_removed INT DEFAULT 0
        error_message TEXT
        details JSONB""",
    "cleaning_log": """
        id UUID PRIMARY KEY
        atom_id UUID FK(learning_atoms)
        operation TEXT NOT NULL
        old_value JSONB
        new_value JSONB
        performed_at TIMESTAMPTZ DEFAULT now()""",
}

# Columns beyond the seed, each explained at the top of the migration.
EXTENSIONS = {
    "concepts": {"concept_area_id"},
    "learning_modules": {"lms_module_id"},
    "learning_atoms": {
        "source_hash",
        "source_removed_at",
        "merged_into_id",
        "atom_data",
        "anki_due_date",
    },
    "review_queue": {"merge_atom_ids"},
    "sync_log": {"items_conflicted", "items_failed"},  # 0004's, for the reference sync
}

# Seed 003's indexes, as it writes them.
SEED_INDEXES = {
    "idx_clean_concept_areas_name": "clean_concept_areas(name)",
    "idx_clean_concept_clusters_area": "clean_concept_clusters(concept_area_id)",
    "idx_concepts_cluster": "concepts(cluster_id)",
    "idx_concepts_status": "concepts(status)",
    "idx_clean_tracks_program": "clean_tracks(program_id)",
    "idx_learning_modules_track": "learning_modules(track_id)",
    "idx_learning_modules_week": "learning_modules(week_order)",
    "idx_learning_atoms_notion": "learning_atoms(notion_id)",
    "idx_learning_atoms_concept": "learning_atoms(concept_id)",
    "idx_learning_atoms_module": "learning_atoms(module_id)",
    "idx_learning_atoms_type": "learning_atoms(atom_type)",
    "idx_learning_atoms_anki": "learning_atoms(anki_note_id) WHERE (anki_note_id IS NOT NULL)",
    "idx_learning_atoms_source": "learning_atoms(source)",
    "idx_review_queue_status": "review_queue(status)",
    "idx_review_queue_batch": "review_queue(batch_id)",
    "idx_review_queue_pending": "review_queue(created_at) WHERE (status = 'pending'::text)",
    "idx_sync_log_type": "sync_log(sync_type)",
    "idx_sync_log_status": "sync_log(status)",
    "idx_sync_log_started": "sync_log(started_at DESC)",
    "idx_cleaning_log_atom": "cleaning_log(atom_id)",
    "idx_cleaning_log_operation": "cleaning_log(operation)",
}

SEED_VIEWS = {
    "v_concept_atom_stats": [
        "concept_id",
        "concept_name",
        "status",
        "total_atoms",
        "atomic_count",
        "anki_syncable",
        "in_anki_count",
        "avg_ease",
        "avg_interval",
        "needs_review_count",  # seed fix: its own usage query reads it
    ],
    "v_review_queue_summary": ["source", "status", "count", "oldest", "newest"],
}

TYPES = {
    "TEXT": "text",
    "JSONB": "jsonb",
    "TIMESTAMPTZ": "timestamp with time zone",
    "UUID": "uuid",
    "INT": "integer",
    "BIGINT": "bigint",
    "BOOLEAN": "boolean",
    "DATE": "date",
}
_COLUMN = re.compile(r"(\w+) (\w+(?:\(\d+,\d+\))?)(.*)")


def seed_columns(table: str) -> dict[str, dict[str, object]]:
    found = {}
    for line in SEED[table].strip().splitlines():
        match = _COLUMN.fullmatch(line.strip())
        assert match, line
        name, kind, rest = match.groups()
        decimal = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", kind)
        default = re.search(r"DEFAULT (\S+)", rest)
        fk = re.search(r"FK\((\w+)\)", rest)
        found[name] = {
            "type": f"numeric({decimal[1]},{decimal[2]})" if decimal else TYPES[kind],
            "not_null": "NOT NULL" in rest or "PRIMARY KEY" in rest,
            "default": default[1] if default else None,
            "primary": "PRIMARY KEY" in rest,
            "unique": "UNIQUE" in rest,
            "references": fk[1] if fk else None,
        }
    return found


def catalog_columns(db: Database, table: str) -> dict[str, dict[str, object]]:
    rows = db.rows(
        "SELECT column_name, data_type, numeric_precision, numeric_scale, is_nullable, "
        "column_default FROM information_schema.columns WHERE table_name = %s",
        table,
    )
    keys = db.rows(
        "SELECT a.attname, c.contype, "
        "CASE WHEN c.contype = 'f' THEN c.confrelid::regclass::text ELSE '' END "
        "FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
        "AND a.attnum = ANY (c.conkey) WHERE c.conrelid = %s::regclass "
        "AND array_length(c.conkey, 1) = 1",
        table,
    )
    found = {}
    for name, data_type, precision, scale, nullable, raw_default in rows:
        kind = f"numeric({precision},{scale})" if data_type == "numeric" else data_type
        default = (raw_default or "").split("::")[0] or None
        if default == "gen_random_uuid()":
            default = None  # the seed names no default for ids; they need one
        found[name] = {
            "type": kind,
            "not_null": nullable == "NO",
            "default": default,
            "primary": any(k == (name, "p", "") for k in keys),
            "unique": any(k[:2] == (name, "u") for k in keys),
            "references": next((k[2] for k in keys if k[:2] == (name, "f")), None),
        }
    return found


@pytest.mark.parametrize("table", sorted(SEED))
def test_each_table_has_the_seeds_columns_types_defaults_and_keys(db: Database, table: str) -> None:
    expected = seed_columns(table)
    actual = catalog_columns(db, table)
    assert set(actual) - set(expected) == EXTENSIONS.get(table, set())
    for name, spec in expected.items():
        got = dict(actual[name])
        if table == "sync_log" and spec["type"] == "integer":
            got["not_null"] = False  # 0004 made its counters NOT NULL: stricter, kept
        if table == "sync_log" and name in ("started_at", "status"):
            got["not_null"] = False
        assert got == spec, f"{table}.{name}"


def test_the_seeds_indexes_exist_as_written(db: Database) -> None:
    rows = dict(db.rows("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"))
    for name, definition in SEED_INDEXES.items():
        table, rest = definition.split("(", 1)
        assert name in rows, name
        actual = re.sub(r"USING btree ", "", rows[name].split(" ON ", 1)[1])
        assert actual == f"public.{table} ({rest}", name


def test_the_seeds_views_and_their_columns(db: Database) -> None:
    for view, columns in SEED_VIEWS.items():
        got = [
            r[0]
            for r in db.rows(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "ORDER BY ordinal_position",
                view,
            )
        ]
        assert got == columns, view
    atom_columns = [
        r[0]
        for r in db.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'learning_atoms' ORDER BY ordinal_position"
        )
    ]
    due = [
        r[0]
        for r in db.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'v_due_atoms' ORDER BY ordinal_position"
        )
    ]
    assert due == [*atom_columns, "concept_name", "module_name", "cluster_name", "area_name"]


def test_the_seeds_example_queries_run(db: Database) -> None:
    """Every example query of seed 003 runs on the schema (its usage of
    needs_review_count included, which the seed's own view lacked)."""
    queries = [
        "SELECT * FROM stg_notion_flashcards WHERE last_synced_at > now() - interval '1 hour'",
        "SELECT notion_page_id, raw_properties->'CardID'->'rich_text'->0->>'plain_text' AS "
        "card_id, raw_properties->'Question'->'title'->0->>'plain_text' AS question "
        "FROM stg_notion_flashcards",
        "SELECT * FROM learning_atoms WHERE concept_id = gen_random_uuid() AND is_atomic = true",
        "SELECT * FROM learning_atoms WHERE atom_type IN ('flashcard', 'cloze') AND "
        "quality_score >= 0.75 ORDER BY module_id, card_id",
        "SELECT * FROM learning_atoms WHERE atom_type IN ('mcq', 'true_false', 'matching', "
        "'parsons') ORDER BY created_at DESC",
        "SELECT c.name AS concept_name, COUNT(a.id) AS card_count, AVG(a.anki_ease_factor) AS "
        "avg_ease, AVG(a.anki_interval) AS avg_interval FROM learning_atoms a JOIN concepts c "
        "ON a.concept_id = c.id WHERE a.anki_note_id IS NOT NULL GROUP BY c.name "
        "ORDER BY avg_ease DESC",
        "SELECT * FROM review_queue WHERE status = 'pending' ORDER BY quality_score DESC, "
        "created_at ASC LIMIT 20",
        "SELECT id, original_front, front AS rewritten_front, original_back, back AS "
        "rewritten_back, rewrite_reason, quality_score FROM review_queue WHERE status = "
        "'pending' AND original_atom_id IS NOT NULL",
        "SELECT concept_name, COUNT(*) AS due_count FROM v_due_atoms GROUP BY concept_name "
        "ORDER BY due_count DESC",
        "SELECT * FROM v_concept_atom_stats WHERE avg_ease < 2.0 OR needs_review_count > 5 "
        "ORDER BY avg_ease ASC",
        "SELECT * FROM v_review_queue_summary WHERE status = 'pending'",
    ]
    for query in queries:
        db.rows(query)


def test_the_seeds_value_lists_are_enforced(db: Database) -> None:
    import psycopg

    db.conn.execute("INSERT INTO sync_log (sync_type) VALUES ('notion_full'), ('anki_pull')")
    for statement in (
        "INSERT INTO sync_log (sync_type) VALUES ('nonsense')",
        "INSERT INTO concepts (name, status) VALUES ('x', 'learning')",
        "INSERT INTO learning_atoms (front, atom_type) VALUES ('x', 'essay')",
        "INSERT INTO learning_atoms (front, quality_score) VALUES ('x', 1.5)",
        "INSERT INTO review_queue (front, source) VALUES ('x', 'chatgpt')",
        "INSERT INTO cleaning_log (operation) VALUES ('guess')",
    ):
        with pytest.raises(psycopg.errors.CheckViolation):
            db.conn.execute(statement)


ROLLBACK = ROOT / "pipeline" / "db" / "migrations" / "rollback" / "0011_learning_sync.down.sql"


def test_rollback_then_apply_again(db: Database) -> None:
    def tables() -> set[str]:
        return {
            r[0]
            for r in db.rows(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }

    before = tables()
    assert set(SEED) <= before
    db.conn.execute(Path(ROLLBACK).read_bytes())
    after = tables()
    assert not (set(SEED) - {"sync_log"}) & after
    assert {"sync_log", "modules", "pipeline_migrations"} <= after
    assert db.value("SELECT count(*) FROM pipeline_migrations WHERE version = 11") == 0
    db.conn.execute("INSERT INTO sync_log (sync_type) VALUES ('anything')")  # no CHECK now
    db.conn.execute("DELETE FROM sync_log")
    assert [m.version for m in migrate(db.conn)] == [11]
    assert tables() == before
