-- Rollback of 0011_learning_sync.sql: drops everything it created and forgets that it
-- was applied, so `pipeline db migrate` applies it again. Every learning table's rows are
-- lost (staging can be rebuilt from Notion; Anki keeps its notes and reviews).
--
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 --single-transaction \
--        -f pipeline/db/migrations/rollback/0011_learning_sync.down.sql

DROP VIEW IF EXISTS v_review_queue_summary;
DROP VIEW IF EXISTS v_concept_atom_stats;
DROP VIEW IF EXISTS v_due_atoms;

ALTER TABLE sync_log DROP CONSTRAINT IF EXISTS sync_log_sync_type_known;

DROP TABLE IF EXISTS cleaning_log;
DROP TABLE IF EXISTS review_queue;
DROP TABLE IF EXISTS learning_atoms;
DROP TABLE IF EXISTS learning_modules;
DROP TABLE IF EXISTS clean_tracks;
DROP TABLE IF EXISTS clean_programs;
DROP TABLE IF EXISTS concepts;
DROP TABLE IF EXISTS clean_concept_clusters;
DROP TABLE IF EXISTS clean_concept_areas;
DROP TABLE IF EXISTS stg_notion_programs;
DROP TABLE IF EXISTS stg_notion_tracks;
DROP TABLE IF EXISTS stg_notion_modules;
DROP TABLE IF EXISTS stg_notion_concept_clusters;
DROP TABLE IF EXISTS stg_notion_concept_areas;
DROP TABLE IF EXISTS stg_notion_concepts;
DROP TABLE IF EXISTS stg_notion_flashcards;

DROP FUNCTION IF EXISTS learn_touch_updated_at();
DROP FUNCTION IF EXISTS learn_slim_properties(jsonb);
DROP FUNCTION IF EXISTS learn_plain_text(jsonb);

DELETE FROM pipeline_migrations WHERE version = 11;
