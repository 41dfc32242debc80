-- What the pipeline itself needs to deploy safely: a log of deploys, and per
-- module what was deployed (content hash, source file, Notion page).

CREATE TABLE pipeline_deploys (
    id                  BIGSERIAL PRIMARY KEY,
    started_at          TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    git_sha             TEXT,
    actor               TEXT,
    inserted            INTEGER NOT NULL,
    updated             INTEGER NOT NULL,
    unchanged           INTEGER NOT NULL,
    archived            INTEGER NOT NULL,
    sections_written    INTEGER NOT NULL,
    sections_removed    INTEGER NOT NULL,
    duration_ms         INTEGER NOT NULL
);

ALTER TABLE modules
    ADD COLUMN learning_objectives JSON DEFAULT '[]',
    ADD COLUMN content_source      VARCHAR(50),
    ADD COLUMN notion_page_id      VARCHAR(64),
    ADD COLUMN content_hash        CHAR(71),
    -- Deferred: a deploy writes its log row last, after the modules that name it.
    ADD COLUMN last_deploy_id      BIGINT REFERENCES pipeline_deploys(id)
        DEFERRABLE INITIALLY DEFERRED;

-- Students' rows must survive every deploy: the pipeline archives modules and
-- never deletes them. This makes a mistaken DELETE fail loudly instead of
-- cascading into progress, assignments, feedback and analytics.
CREATE FUNCTION pipeline_forbid_module_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('pipeline.allow_module_delete', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'modules are archived, never deleted (module %)', OLD.module_id
            USING HINT = 'set status to archived; to really delete, SET LOCAL pipeline.allow_module_delete = on';
    END IF;
    RETURN OLD;
END;
$$;

CREATE TRIGGER modules_no_delete BEFORE DELETE ON modules
    FOR EACH ROW EXECUTE FUNCTION pipeline_forbid_module_delete();
