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
-- and times) and each section, in order. One md5 per section, then one over them.
CREATE FUNCTION pipeline_rows_hash(module_pk integer) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT md5(
        (SELECT row(m.module_id, m.title, m.description, m.category, m.estimated_minutes,
                    m.created_by_id, m.university_id, m.status, m.prerequisites::text,
                    m.related_modules::text, m.tags::text, m.target_audience, m.module_type,
                    m.interaction_level, m.required_components::text, m.difficulty_level,
                    m.adaptive_config::text, m.learning_objectives::text, m.content_source,
                    m.notion_page_id)::text
         FROM modules m WHERE m.id = module_pk)
        || '|' ||
        coalesce((SELECT string_agg(md5(row(s.section_number, s.section_type, s.title,
                                            s.content, s.media_url, s.duration_seconds,
                                            s.section_config::text,
                                            s.completion_criteria::text)::text),
                                    ',' ORDER BY s.section_number)
                  FROM module_sections s WHERE s.module_id = module_pk), '')
    )
$$;

ALTER TABLE modules ADD COLUMN rows_hash TEXT;
-- What is there now is taken as what was deployed.
UPDATE modules SET rows_hash = pipeline_rows_hash(id);
