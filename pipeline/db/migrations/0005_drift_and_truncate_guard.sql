-- Two safety nets for students' data and what they read.
--
-- 1. TRUNCATE gets past row triggers: `TRUNCATE modules CASCADE` would empty
--    modules and, through the cascade, every student's progress, assignments,
--    feedback and analytics. A statement-level trigger refuses TRUNCATE of
--    modules and of each student table (a cascade fires it for every table it
--    reaches). The same switch as for DELETE lets a person who really means it
--    through: SET LOCAL pipeline.allow_module_delete = on.
--    Not covered (a database owner can always do these; keep backups):
--    DROP TABLE / DROP SCHEMA, ALTER TABLE ... DISABLE TRIGGER,
--    session_replication_role = replica, deleting students (their rows cascade),
--    and DELETE on the student tables themselves.
--
-- 2. Rows changed behind the pipeline's back: each module row remembers a hash
--    of what the pipeline wrote (the row as students see it and its sections,
--    in order). When the live rows no longer hash the same, the module has
--    drifted: `pipeline status` says so and `pipeline deploy --verify` writes
--    them again from the files.

CREATE FUNCTION pipeline_forbid_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('pipeline.allow_module_delete', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'TRUNCATE % refused: it would delete students'' data', TG_TABLE_NAME
            USING HINT = 'modules are archived, never deleted; to really empty the table, '
                         'SET LOCAL pipeline.allow_module_delete = on';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER modules_no_truncate BEFORE TRUNCATE ON modules
    FOR EACH STATEMENT EXECUTE FUNCTION pipeline_forbid_truncate();
CREATE TRIGGER module_progress_no_truncate BEFORE TRUNCATE ON module_progress
    FOR EACH STATEMENT EXECUTE FUNCTION pipeline_forbid_truncate();
CREATE TRIGGER module_assignments_no_truncate BEFORE TRUNCATE ON module_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION pipeline_forbid_truncate();
CREATE TRIGGER module_feedback_no_truncate BEFORE TRUNCATE ON module_feedback
    FOR EACH STATEMENT EXECUTE FUNCTION pipeline_forbid_truncate();
CREATE TRIGGER module_analytics_events_no_truncate BEFORE TRUNCATE ON module_analytics_events
    FOR EACH STATEMENT EXECUTE FUNCTION pipeline_forbid_truncate();

-- What students read of a module: its row (without the pipeline's bookkeeping
-- and times) and each section, in order: one md5 per section, then one over the
-- row and those. Fields are joined by chr(31), a NULL is chr(30), json columns count
-- as the text they hold. records.rows_hash() computes the same from a module file,
-- so a deploy stores the hash with the row and only checking costs SQL.
CREATE VIEW pipeline_live_hashes AS
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
           || coalesce((SELECT string_agg(md5(concat_ws(chr(31),
                                                       coalesce(s.section_number::text, chr(30)),
                                                       coalesce(s.section_type::text, chr(30)),
                                                       coalesce(s.title::text, chr(30)),
                                                       coalesce(s.content::text, chr(30)),
                                                       coalesce(s.media_url::text, chr(30)),
                                                       coalesce(s.duration_seconds::text, chr(30)),
                                                       coalesce(s.section_config::text, chr(30)),
                                                       coalesce(s.completion_criteria::text, chr(30)))),
                                          ',' ORDER BY s.section_number)
                        FROM module_sections s WHERE s.module_id = m.id), '')) AS live_hash
FROM modules m;

CREATE FUNCTION pipeline_rows_hash(module_pk integer) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT live_hash FROM pipeline_live_hashes WHERE pipeline_live_hashes.module_pk = $1
$$;

ALTER TABLE modules ADD COLUMN rows_hash TEXT;
-- What is there now is taken as what was deployed.
UPDATE modules m SET rows_hash = h.live_hash FROM pipeline_live_hashes h WHERE h.module_pk = m.id;
