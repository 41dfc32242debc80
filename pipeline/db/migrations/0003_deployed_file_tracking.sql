-- Per module, what a deploy last wrote from: the git blob id of the file's bytes,
-- the fingerprint of the validator that passed them, and the asset paths the
-- file uses. A later deploy trusts a file with the same bytes and validator
-- instead of parsing it again; archiving clears file_hash.
ALTER TABLE modules
    ADD COLUMN file_hash      TEXT,
    ADD COLUMN validated_with TEXT,
    ADD COLUMN asset_paths    JSON DEFAULT '[]';
