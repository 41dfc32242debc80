-- Seed 004's Phase 3 columns, and what seed 002's scheduled sync keeps: the
-- universities' full name, and an audit log of every field a sync changes.

-- Seed 004, Phase 3 (and module_progress.difficulty_adjustments, its Phase 2
-- adaptive tracking, which the first migration left out).
ALTER TABLE module_assignments
    ADD COLUMN auto_assigned        BOOLEAN DEFAULT FALSE,
    ADD COLUMN assignment_rule      VARCHAR(255);   -- e.g. 'all_incoming_students'
ALTER TABLE module_progress
    ADD COLUMN difficulty_adjustments JSON,         -- when and why difficulty changed
    ADD COLUMN mastery_score        DECIMAL(3,2);   -- 0.00-1.00
ALTER TABLE module_analytics_events
    ADD COLUMN struggle_signal      DECIMAL(3,2),   -- 0.00-1.00
    ADD COLUMN pattern_detected     VARCHAR(100);   -- e.g. 'confusion_loop', 'stuck'
ALTER TABLE module_feedback
    ADD COLUMN engagement_rating    INTEGER,        -- "Was it engaging?" 1-5
    ADD COLUMN clarity_rating       INTEGER,        -- "Was it clear?" 1-5
    ADD COLUMN tags                 JSON;           -- ['too_easy', 'confusing', ...]

-- Seed 002: Universities (code, full_name).
ALTER TABLE universities ADD COLUMN full_name VARCHAR(255);

-- The values both sides agreed on at a row's last sync (not only their hash), so
-- an audit entry can say what a field was before a push changed it in Notion.
ALTER TABLE sync_state ADD COLUMN synced_values JSONB;

-- Seed 002's audit_logs: every field a sync changed, on which side, by which run.
CREATE TABLE audit_logs (
    id              BIGSERIAL PRIMARY KEY,
    sync_log_id     UUID REFERENCES sync_log(id),
    entity          TEXT NOT NULL,
    postgres_id     TEXT NOT NULL,
    field           TEXT NOT NULL,
    old_value       JSONB,
    new_value       JSONB,
    side            TEXT NOT NULL CHECK (side IN ('postgres', 'notion')),
    changed_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_audit_logs_row ON audit_logs(entity, postgres_id, changed_at DESC);
