-- Issue #15: `pipeline status` checks every module for drift (migration 0005), and the
-- view pipeline_live_hashes hashed the text of every section on every run: 0.35 s of
-- the server's time at 10,000 modules (200,000 sections), most of the command.
--
-- Each section row now carries the md5 of its fields as the view joins them, written by
-- Postgres itself whenever the row is inserted or updated: a stored generated column,
-- which no client can set or skip (unlike a trigger, it holds with triggers disabled
-- or session_replication_role = replica). The view aggregates those instead of hashing
-- the text again, and gives the same hash as before for the same rows, so the hashes
-- deploys stored (records.rows_hash) stay valid. Nothing is trusted that the rows do
-- not say: a deleted, added or edited section changes what the view returns.
--
-- The index covers what the view reads of a module's sections, in order, so checking
-- reads the index alone. It leads with module_id, as idx_sections_module did, which it
-- replaces (the UNIQUE (module_id, section_number) index also serves those look-ups).

ALTER TABLE module_sections ADD COLUMN row_md5 TEXT GENERATED ALWAYS AS (md5(
    coalesce(section_number::text, chr(30)) || chr(31)
    || coalesce(section_type::text, chr(30)) || chr(31)
    || coalesce(title::text, chr(30)) || chr(31)
    || coalesce(content::text, chr(30)) || chr(31)
    || coalesce(media_url::text, chr(30)) || chr(31)
    || coalesce(duration_seconds::text, chr(30)) || chr(31)
    || coalesce(section_config::text, chr(30)) || chr(31)
    || coalesce(completion_criteria::text, chr(30)))) STORED;

CREATE INDEX idx_sections_module_hashes ON module_sections (module_id, section_number)
    INCLUDE (row_md5);
DROP INDEX idx_sections_module;

-- As in 0005, with each section's md5 read rather than computed; `sections` (their
-- number) added at the end, for `pipeline status`, which would otherwise read them again.
CREATE OR REPLACE VIEW pipeline_live_hashes AS
SELECT m.id AS module_pk,
       md5(concat_ws(chr(31),
                     coalesce(m.module_id::text, chr(30)),
                     coalesce(m.title::text, chr(30)),
                     coalesce(m.description::text, chr(30)),
                     coalesce(m.category::text, chr(30)),
                     coalesce(m.estimated_minutes::text, chr(30)),
                     coalesce(m.created_by_id::text, chr(30)),
                     coalesce(m.university_id::text, chr(30)),
                     coalesce(m.status::text, chr(30)),
                     coalesce(m.prerequisites::text, chr(30)),
                     coalesce(m.related_modules::text, chr(30)),
                     coalesce(m.tags::text, chr(30)),
                     coalesce(m.target_audience::text, chr(30)),
                     coalesce(m.module_type::text, chr(30)),
                     coalesce(m.interaction_level::text, chr(30)),
                     coalesce(m.required_components::text, chr(30)),
                     coalesce(m.difficulty_level::text, chr(30)),
                     coalesce(m.adaptive_config::text, chr(30)),
                     coalesce(m.learning_objectives::text, chr(30)),
                     coalesce(m.content_source::text, chr(30)),
                     coalesce(m.notion_page_id::text, chr(30)))
           || chr(29)
           || coalesce(s.hashes, '')) AS live_hash,
       coalesce(s.sections, 0) AS sections
FROM modules m
LEFT JOIN LATERAL (SELECT string_agg(row_md5, ',' ORDER BY section_number) AS hashes,
                          count(*) AS sections
                   FROM module_sections WHERE module_id = m.id) s ON true;
