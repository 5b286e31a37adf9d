-- Rectification (GDPR Art. 16): a subject's claim that inputs were wrong, pending until a privacy
-- officer accepts or rejects it. While pending, processing is restricted (Art. 18(1)(a)).
CREATE TABLE rectifications (
    id                TEXT PRIMARY KEY NOT NULL,
    subject_id        TEXT NOT NULL,
    decision_id       TEXT NOT NULL REFERENCES decisions (id),
    corrected_inputs  TEXT NOT NULL,
    note              TEXT NOT NULL,
    status            TEXT NOT NULL,
    restricted        BOOLEAN NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    resolved_at       TIMESTAMP,
    resolution_note   TEXT
);

CREATE INDEX rectifications_subject_idx ON rectifications (subject_id, status);
