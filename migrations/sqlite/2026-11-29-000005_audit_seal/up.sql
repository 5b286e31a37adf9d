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

-- Which checkpoint sealed the entry (a set, not a seq range; see the Postgres migration).
ALTER TABLE audit_log ADD COLUMN checkpoint_id BIGINT;
CREATE INDEX audit_log_checkpoint_idx ON audit_log (checkpoint_id, seq);
