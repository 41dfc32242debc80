-- Emergency (issue #16, seed 000's "Module Breaking Production"): a person hides a
-- module from students at once, with a reason, and it stays hidden through every later
-- deploy until a person republishes it. Each row is one unpublish and, once it ends,
-- its republish: who, when, why. While a row is in force (republished_at IS NULL) the
-- module's status is 'draft' whatever its file says; status_before is what the file
-- says (published or draft), kept up to date by deploys, and what republish restores.
CREATE TABLE pipeline_unpublished (
    id                  BIGSERIAL PRIMARY KEY,
    module_id           VARCHAR(100) NOT NULL,
    reason              TEXT NOT NULL CHECK (btrim(reason) <> ''),
    unpublished_by      TEXT NOT NULL,
    unpublished_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    status_before       VARCHAR(50) NOT NULL,
    republished_by      TEXT,
    republished_at      TIMESTAMPTZ,
    republish_reason    TEXT
);

CREATE UNIQUE INDEX idx_pipeline_unpublished_in_force ON pipeline_unpublished(module_id)
    WHERE republished_at IS NULL;
