-- Seed 002: the reference data team leads see and edit in Notion, and what a
-- two-way sync needs to be safe: updated_at on every synced table (kept by a
-- trigger), a sync log (seed 003) and, per row, what was last synced.

CREATE TABLE projects (
    id                  VARCHAR PRIMARY KEY,
    name                VARCHAR(255) NOT NULL,
    description         TEXT,
    status              VARCHAR(50),
    start_date          DATE,
    end_date            DATE,
    created_at          TIMESTAMP DEFAULT NOW()
);

ALTER TABLE teams
    ADD COLUMN team_type  VARCHAR(50),
    ADD COLUMN status     VARCHAR(50),
    ADD COLUMN project_id VARCHAR REFERENCES projects(id);

ALTER TABLE students
    ADD COLUMN status          VARCHAR(50),
    ADD COLUMN terms_remaining INTEGER;

ALTER TABLE faculty
    ADD COLUMN role VARCHAR(100);

ALTER TABLE universities
    ADD COLUMN code VARCHAR(50);

CREATE TABLE interfaces (
    id                  VARCHAR PRIMARY KEY,
    name                VARCHAR(255) NOT NULL,
    from_university     VARCHAR REFERENCES universities(id),
    to_university       VARCHAR REFERENCES universities(id),
    from_team_id        INTEGER REFERENCES teams(id),
    to_team_id          INTEGER REFERENCES teams(id),
    bond_type           VARCHAR(50),
    energy_loss         INTEGER CHECK (energy_loss BETWEEN 0 AND 100),
    is_cross_university BOOLEAN DEFAULT FALSE,
    created_at          TIMESTAMP DEFAULT NOW()
);

CREATE FUNCTION pipeline_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now() AT TIME ZONE 'utc';
    RETURN NEW;
END;
$$;

DO $$
DECLARE name TEXT;
BEGIN
    FOREACH name IN ARRAY ARRAY['universities', 'teams', 'faculty', 'students', 'projects',
                                'interfaces']
    LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN updated_at TIMESTAMP DEFAULT (now() AT '
                       'TIME ZONE ''utc'')', name);
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION '
                       'pipeline_touch_updated_at()', name || '_updated_at', name);
    END LOOP;
END;
$$;

CREATE TABLE sync_log (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    sync_type           TEXT NOT NULL,       -- push, pull, setup
    started_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at        TIMESTAMPTZ,
    status              TEXT NOT NULL DEFAULT 'running',  -- running, completed, failed
    items_processed     INTEGER NOT NULL DEFAULT 0,
    items_added         INTEGER NOT NULL DEFAULT 0,
    items_updated       INTEGER NOT NULL DEFAULT 0,
    items_removed       INTEGER NOT NULL DEFAULT 0,
    items_conflicted    INTEGER NOT NULL DEFAULT 0,
    items_failed        INTEGER NOT NULL DEFAULT 0,
    error_message       TEXT,
    details             JSONB
);

CREATE INDEX idx_sync_log_type ON sync_log(sync_type);
CREATE INDEX idx_sync_log_status ON sync_log(status);
CREATE INDEX idx_sync_log_started ON sync_log(started_at DESC);

-- What both sides agreed on at the last sync of a row: the hash of the synced
-- values, and the Notion page with its last_edited_time then.
CREATE TABLE sync_state (
    entity              TEXT NOT NULL,
    postgres_id         TEXT NOT NULL,
    notion_page_id      TEXT NOT NULL UNIQUE,
    synced_hash         TEXT NOT NULL,
    notion_edited_at    TEXT,
    synced_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (entity, postgres_id)
);
