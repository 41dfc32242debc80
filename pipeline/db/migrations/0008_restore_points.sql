-- Restore points (issue #16): each deploy that writes records where the database's
-- write-ahead log stood, and the server's clock, just before its first write (under
-- the deploy lock). Restoring to that LSN or time (Neon: a branch from that point in
-- time) gives the database as it was just before the deploy.
ALTER TABLE pipeline_deploys
    ADD COLUMN restore_lsn  PG_LSN,
    ADD COLUMN restore_time TIMESTAMPTZ;
