-- Audit sealing: checkpoints fold committed entries into a Merkle root, chained by hash.

CREATE TABLE audit_checkpoints (
    id               BIGINT PRIMARY KEY NOT NULL,
    prev_hash        TEXT NOT NULL,
    merkle_root      TEXT NOT NULL,
    entry_count      BIGINT NOT NULL,
    first_seq        BIGINT NOT NULL,
    last_seq         BIGINT NOT NULL,
    sealed_at        TIMESTAMP NOT NULL,
    checkpoint_hash  TEXT NOT NULL
);

-- Which checkpoint sealed the entry. A checkpoint is the set of entries marked with its id, not
-- a range of seq: a transaction that commits late with a lower seq is sealed by a later
-- checkpoint, so out-of-order commits can never be skipped.
ALTER TABLE audit_log ADD COLUMN checkpoint_id BIGINT;
CREATE INDEX audit_log_checkpoint_idx ON audit_log (checkpoint_id, seq);
