-- Assets students can load (issue #16). Deploy publishes every file the modules it
-- writes use to an asset store (an S3-compatible bucket, or a local folder with the
-- embedded Postgres), under a key made of the file's sha256, and the rows hold
-- absolute URLs instead of repository paths.
--
-- modules.asset_urls: {asset path: URL} as the module's rows hold them; a later deploy
-- writes the module again when one of them would change (new bytes, another store).
ALTER TABLE modules ADD COLUMN asset_urls JSON;

-- What was published where, and the sha256 of each git blob ever published: a deploy
-- knows an unchanged file's key from git's index and this table, without reading it,
-- and does not ask a bucket about an object it has already put there.
CREATE TABLE pipeline_assets (
    store               TEXT NOT NULL,          -- s3://host/bucket/prefix or file:///folder
    key                 TEXT NOT NULL,          -- <prefix><sha256><ending>
    sha256              CHAR(64) NOT NULL,
    size                BIGINT NOT NULL,
    blob_id             TEXT NOT NULL,          -- git's id of the same bytes
    deploy_id           BIGINT,                 -- the deploy that published it
    published_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (store, key)
);

CREATE INDEX idx_pipeline_assets_blob ON pipeline_assets(blob_id);
