-- notion-learning-sync (seed 003): a Notion knowledge base (flashcards, concepts and
-- their hierarchy, programs -> tracks -> modules) staged raw, transformed into
-- canonical tables, cleaned with an audit log, reviewed, and studied in Anki.
--
-- Built for ONE learner: Anki's statistics live on the atom. No table here refers to
-- students or to their progress, assignments, feedback or analytics.
--
-- Rollback: pipeline/db/migrations/rollback/0011_learning_sync.down.sql
--
-- Where this differs from seed 003, and why (each marked "seed fix" or "extension"):
--   * concepts.concept_area_id (extension): a concept directly under an area
--     (stg parent_type 'area') kept its area nowhere in the seed;
--   * learning_modules.lms_module_id (extension): the LMS module whose quiz questions
--     became `module` atoms (issue #17);
--   * learning_atoms.source_hash, source_removed_at, merged_into_id, atom_data,
--     anki_due_date (extensions): which staged version an atom was built from (so a
--     sync does not undo cleaning or an approved rewrite of an unchanged page), its
--     page gone from Notion (marked, never deleted while Anki holds it), merged into
--     another atom by an approved duplicate merge, a quiz's options and answers, and
--     the day Anki next shows the card;
--   * review_queue.merge_atom_ids (extension): the duplicates a merge folds in;
--   * v_due_atoms (seed fix): the seed's view selected every card in Anki, due or
--     not; it now keeps cards due today or earlier, and leaves out removed and
--     merged atoms;
--   * v_concept_atom_stats (seed fix): the seed's usage query reads
--     needs_review_count, which its view did not define;
--   * CHECK constraints spell out the value lists the seed documents.

CREATE FUNCTION learn_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- A Notion property's text (title, rich text: its plain_text joined), and a page's
-- properties with each rich text reduced to its plain_text pieces: what the transform
-- reads of staging (a fraction of the raw JSON, which carries every annotation).
CREATE FUNCTION learn_plain_text(prop jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(piece #>> '{}', ''), '')
    FROM jsonb_array_elements(jsonb_path_query_array(
        prop, '$.*[*].plain_text ? (@.type() == "string")')) piece
$$;

CREATE FUNCTION learn_slim_properties(props jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(jsonb_object_agg(key, CASE
        WHEN value->>'type' IN ('title', 'rich_text') THEN jsonb_build_object(
            'type', value->>'type',
            value->>'type', jsonb_path_query_array(
                value, '$.*[*].plain_text ? (@.type() == "string")'))
        ELSE value END), '{}'::jsonb)
    FROM jsonb_each(props)
$$;

-- -- Staging: raw JSONB from the Notion API, rebuilt from Notion at any time ------------

CREATE TABLE stg_notion_flashcards (
    notion_page_id      TEXT PRIMARY KEY,
    raw_properties      JSONB NOT NULL,
    raw_content         JSONB,
    last_synced_at      TIMESTAMPTZ DEFAULT now(),
    sync_hash           TEXT
);

CREATE TABLE stg_notion_concepts (
    notion_page_id      TEXT PRIMARY KEY,
    raw_properties      JSONB NOT NULL,
    parent_type         TEXT CHECK (parent_type IN ('area', 'cluster')),
    parent_notion_id    TEXT,
    last_synced_at      TIMESTAMPTZ DEFAULT now()
);

CREATE TABLE stg_notion_concept_areas (
    notion_page_id      TEXT PRIMARY KEY,
    raw_properties      JSONB NOT NULL,
    last_synced_at      TIMESTAMPTZ DEFAULT now()
);

CREATE TABLE stg_notion_concept_clusters (
    notion_page_id          TEXT PRIMARY KEY,
    raw_properties          JSONB NOT NULL,
    parent_area_notion_id   TEXT,
    last_synced_at          TIMESTAMPTZ DEFAULT now()
);

CREATE TABLE stg_notion_modules (
    notion_page_id      TEXT PRIMARY KEY,
    raw_properties      JSONB NOT NULL,
    last_synced_at      TIMESTAMPTZ DEFAULT now()
);

CREATE TABLE stg_notion_tracks (
    notion_page_id      TEXT PRIMARY KEY,
    raw_properties      JSONB NOT NULL,
    last_synced_at      TIMESTAMPTZ DEFAULT now()
);

CREATE TABLE stg_notion_programs (
    notion_page_id      TEXT PRIMARY KEY,
    raw_properties      JSONB NOT NULL,
    last_synced_at      TIMESTAMPTZ DEFAULT now()
);

-- -- Knowledge hierarchy: area (L0) -> cluster (L1) -> concept (L2) ----------------------

CREATE TABLE clean_concept_areas (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    notion_id           TEXT UNIQUE,
    name                TEXT NOT NULL,
    description         TEXT,
    domain              TEXT,
    display_order       INT DEFAULT 0,
    created_at          TIMESTAMPTZ DEFAULT now(),
    updated_at          TIMESTAMPTZ DEFAULT now()
);
CREATE INDEX idx_clean_concept_areas_name ON clean_concept_areas(name);

CREATE TABLE clean_concept_clusters (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    notion_id           TEXT UNIQUE,
    concept_area_id     UUID REFERENCES clean_concept_areas(id) ON DELETE SET NULL,
    name                TEXT NOT NULL,
    description         TEXT,
    exam_weight         DECIMAL(5,2) CHECK (exam_weight BETWEEN 0 AND 100),
    display_order       INT DEFAULT 0,
    created_at          TIMESTAMPTZ DEFAULT now(),
    updated_at          TIMESTAMPTZ DEFAULT now()
);
CREATE INDEX idx_clean_concept_clusters_area ON clean_concept_clusters(concept_area_id);

CREATE TABLE concepts (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    notion_id           TEXT UNIQUE,
    cluster_id          UUID REFERENCES clean_concept_clusters(id) ON DELETE SET NULL,
    name                TEXT NOT NULL,
    definition          TEXT,
    domain              TEXT,
    status              TEXT DEFAULT 'to_learn'
                        CHECK (status IN ('to_learn', 'active', 'reviewing', 'mastered', 'stale')),
    dec_score           DECIMAL(4,2) CHECK (dec_score BETWEEN 0 AND 10),
    proc_score          DECIMAL(4,2) CHECK (proc_score BETWEEN 0 AND 10),
    app_score           DECIMAL(4,2) CHECK (app_score BETWEEN 0 AND 10),
    last_reviewed_at    TIMESTAMPTZ,
    created_at          TIMESTAMPTZ DEFAULT now(),
    updated_at          TIMESTAMPTZ DEFAULT now(),
    -- extension: the area of a concept that sits directly under one (no cluster)
    concept_area_id     UUID REFERENCES clean_concept_areas(id) ON DELETE SET NULL
);
CREATE INDEX idx_concepts_cluster ON concepts(cluster_id);
CREATE INDEX idx_concepts_status ON concepts(status);

-- -- Curriculum: program -> track -> module ------------------------------------------------

CREATE TABLE clean_programs (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    notion_id           TEXT UNIQUE,
    name                TEXT NOT NULL,
    description         TEXT,
    status              TEXT DEFAULT 'active'
                        CHECK (status IN ('active', 'completed', 'paused', 'archived')),
    start_date          DATE,
    end_date            DATE,
    created_at          TIMESTAMPTZ DEFAULT now(),
    updated_at          TIMESTAMPTZ DEFAULT now()
);

CREATE TABLE clean_tracks (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    notion_id           TEXT UNIQUE,
    program_id          UUID REFERENCES clean_programs(id) ON DELETE SET NULL,
    name                TEXT NOT NULL,
    description         TEXT,
    display_order       INT DEFAULT 0,
    created_at          TIMESTAMPTZ DEFAULT now(),
    updated_at          TIMESTAMPTZ DEFAULT now()
);
CREATE INDEX idx_clean_tracks_program ON clean_tracks(program_id);

CREATE TABLE learning_modules (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    notion_id           TEXT UNIQUE,
    track_id            UUID REFERENCES clean_tracks(id) ON DELETE SET NULL,
    name                TEXT NOT NULL,
    description         TEXT,
    week_order          INT CHECK (week_order >= 1),
    status              TEXT DEFAULT 'not_started'
                        CHECK (status IN ('not_started', 'in_progress', 'completed', 'reviewing')),
    created_at          TIMESTAMPTZ DEFAULT now(),
    updated_at          TIMESTAMPTZ DEFAULT now(),
    -- extension: the deployed LMS module whose quiz questions are this module's atoms
    lms_module_id       VARCHAR(100) UNIQUE REFERENCES modules(module_id)
);
CREATE INDEX idx_learning_modules_track ON learning_modules(track_id);
CREATE INDEX idx_learning_modules_week ON learning_modules(week_order);

-- -- Learning content ----------------------------------------------------------------------

CREATE TABLE learning_atoms (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    notion_id           TEXT,
    card_id             TEXT UNIQUE,
    atom_type           TEXT NOT NULL DEFAULT 'flashcard'
                        CHECK (atom_type IN ('flashcard', 'cloze', 'mcq', 'true_false',
                                             'matching', 'parsons')),
    front               TEXT NOT NULL,
    back                TEXT,
    concept_id          UUID REFERENCES concepts(id) ON DELETE SET NULL,
    module_id           UUID REFERENCES learning_modules(id) ON DELETE SET NULL,
    quality_score       DECIMAL(3,2) CHECK (quality_score BETWEEN 0 AND 1),
    is_atomic           BOOLEAN DEFAULT true,
    front_word_count    INT,
    back_word_count     INT,
    atomicity_status    TEXT CHECK (atomicity_status IN ('atomic', 'verbose', 'needs_split')),
    needs_review        BOOLEAN DEFAULT false,
    rewrite_count       INT DEFAULT 0,
    last_rewrite_at     TIMESTAMPTZ,
    anki_note_id        BIGINT,
    anki_card_id        BIGINT,
    anki_deck           TEXT,
    anki_synced_at      TIMESTAMPTZ,
    anki_ease_factor    DECIMAL(4,3),
    anki_interval       INT,
    anki_review_count   INT DEFAULT 0,
    anki_lapses         INT DEFAULT 0,
    anki_stability      DECIMAL(8,2),
    anki_difficulty     DECIMAL(3,2) CHECK (anki_difficulty BETWEEN 0 AND 1),
    anki_queue          INT,
    source              TEXT DEFAULT 'notion'
                        CHECK (source IN ('notion', 'ai_batch', 'manual', 'module')),
    batch_id            TEXT,
    created_at          TIMESTAMPTZ DEFAULT now(),
    updated_at          TIMESTAMPTZ DEFAULT now(),
    -- extensions (see the top of this file)
    source_hash         TEXT,
    source_removed_at   TIMESTAMPTZ,
    merged_into_id      UUID REFERENCES learning_atoms(id) ON DELETE SET NULL,
    atom_data           JSONB,
    anki_due_date       DATE
);
CREATE INDEX idx_learning_atoms_notion ON learning_atoms(notion_id);
CREATE INDEX idx_learning_atoms_concept ON learning_atoms(concept_id);
CREATE INDEX idx_learning_atoms_module ON learning_atoms(module_id);
CREATE INDEX idx_learning_atoms_type ON learning_atoms(atom_type);
CREATE INDEX idx_learning_atoms_anki ON learning_atoms(anki_note_id) WHERE anki_note_id IS NOT NULL;
CREATE INDEX idx_learning_atoms_source ON learning_atoms(source);
-- One atom per Notion flashcard page: the key a sync upserts on.
CREATE UNIQUE INDEX uq_learning_atoms_notion_page ON learning_atoms(notion_id)
    WHERE source = 'notion';

-- -- Workflow and audit -----------------------------------------------------------------------

CREATE TABLE review_queue (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    atom_type           TEXT NOT NULL DEFAULT 'flashcard'
                        CHECK (atom_type IN ('flashcard', 'cloze', 'mcq', 'true_false',
                                             'matching', 'parsons')),
    front               TEXT NOT NULL,
    back                TEXT,
    concept_id          UUID REFERENCES concepts(id) ON DELETE SET NULL,
    module_id           UUID REFERENCES learning_modules(id) ON DELETE SET NULL,
    original_front      TEXT,
    original_back       TEXT,
    original_atom_id    UUID REFERENCES learning_atoms(id) ON DELETE SET NULL,
    status              TEXT DEFAULT 'pending'
                        CHECK (status IN ('pending', 'approved', 'rejected', 'edited')),
    source              TEXT NOT NULL
                        CHECK (source IN ('gemini', 'vertex', 'notion_ai', 'duplicate_merge')),
    batch_id            TEXT,
    quality_score       DECIMAL(3,2) CHECK (quality_score BETWEEN 0 AND 1),
    ai_confidence       DECIMAL(3,2) CHECK (ai_confidence BETWEEN 0 AND 1),
    rewrite_reason      TEXT,
    approved_at         TIMESTAMPTZ,
    approved_atom_id    UUID REFERENCES learning_atoms(id) ON DELETE SET NULL,
    reviewer_notes      TEXT,
    created_at          TIMESTAMPTZ DEFAULT now(),
    -- extension: the duplicates a duplicate_merge folds into original_atom_id
    merge_atom_ids      UUID[]
);
CREATE INDEX idx_review_queue_status ON review_queue(status);
CREATE INDEX idx_review_queue_batch ON review_queue(batch_id);
CREATE INDEX idx_review_queue_pending ON review_queue(created_at) WHERE status = 'pending';

CREATE TABLE cleaning_log (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    atom_id             UUID REFERENCES learning_atoms(id) ON DELETE SET NULL,
    operation           TEXT NOT NULL
                        CHECK (operation IN ('atomicity_check', 'prefix_normalize', 'ai_rewrite',
                                             'duplicate_merge', 'quality_score')),
    old_value           JSONB,
    new_value           JSONB,
    performed_at        TIMESTAMPTZ DEFAULT now()
);
CREATE INDEX idx_cleaning_log_atom ON cleaning_log(atom_id);
CREATE INDEX idx_cleaning_log_operation ON cleaning_log(operation);

-- sync_log exists (0004, reference sync): its sync types, with seed 003's.
ALTER TABLE sync_log ADD CONSTRAINT sync_log_sync_type_known CHECK (sync_type IN (
    'push', 'pull', 'setup',
    'notion_full', 'notion_incremental', 'anki_push', 'anki_pull', 'cleaning',
    'lms_modules'
));

DO $$
DECLARE name TEXT;
BEGIN
    FOREACH name IN ARRAY ARRAY['clean_concept_areas', 'clean_concept_clusters', 'concepts',
                                'clean_programs', 'clean_tracks', 'learning_modules',
                                'learning_atoms']
    LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION '
                       'learn_touch_updated_at()', name || '_updated_at', name);
    END LOOP;
END;
$$;

-- -- Views -------------------------------------------------------------------------------------

-- Cards due for study today (as of the last `pipeline learn anki pull`).
CREATE VIEW v_due_atoms AS
SELECT
    a.*,
    c.name AS concept_name,
    m.name AS module_name,
    cl.name AS cluster_name,
    ca.name AS area_name
FROM learning_atoms a
LEFT JOIN concepts c ON a.concept_id = c.id
LEFT JOIN learning_modules m ON a.module_id = m.id
LEFT JOIN clean_concept_clusters cl ON c.cluster_id = cl.id
LEFT JOIN clean_concept_areas ca ON ca.id = COALESCE(cl.concept_area_id, c.concept_area_id)
WHERE a.atom_type IN ('flashcard', 'cloze')
  AND a.anki_note_id IS NOT NULL
  AND a.is_atomic = true
  AND a.anki_due_date <= CURRENT_DATE
  AND a.anki_queue >= 0
  AND a.source_removed_at IS NULL
  AND a.merged_into_id IS NULL;

CREATE VIEW v_concept_atom_stats AS
SELECT
    c.id AS concept_id,
    c.name AS concept_name,
    c.status,
    COUNT(a.id) AS total_atoms,
    COUNT(a.id) FILTER (WHERE a.is_atomic = true) AS atomic_count,
    COUNT(a.id) FILTER (WHERE a.atom_type IN ('flashcard', 'cloze')) AS anki_syncable,
    COUNT(a.id) FILTER (WHERE a.anki_note_id IS NOT NULL) AS in_anki_count,
    AVG(a.anki_ease_factor) AS avg_ease,
    AVG(a.anki_interval) AS avg_interval,
    COUNT(a.id) FILTER (WHERE a.needs_review = true) AS needs_review_count
FROM concepts c
LEFT JOIN learning_atoms a
    ON a.concept_id = c.id AND a.source_removed_at IS NULL AND a.merged_into_id IS NULL
GROUP BY c.id, c.name, c.status;

CREATE VIEW v_review_queue_summary AS
SELECT
    source,
    status,
    COUNT(*) AS count,
    MIN(created_at) AS oldest,
    MAX(created_at) AS newest
FROM review_queue
GROUP BY source, status
ORDER BY source, status;
