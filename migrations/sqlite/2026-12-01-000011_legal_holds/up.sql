-- Decisions kept under a legal hold when their subject asked for erasure (GDPR Art. 17(3)(b)).
-- They may be kept for the legal obligation only, not reused: label exports leave them out, and
-- the subject's export says what is kept, why and until when.
CREATE TABLE legal_holds (
    decision_id  TEXT PRIMARY KEY NOT NULL REFERENCES decisions (id),
    subject_id   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    held_until   TIMESTAMP NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

CREATE INDEX legal_holds_subject_idx ON legal_holds (subject_id);
