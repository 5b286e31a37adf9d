-- Objection (GDPR Art. 21). A profiling objection stops new automated decisions about the subject
-- until a privacy officer records compelling legitimate grounds; a direct-marketing objection is
-- absolute and can never be overridden.
CREATE TABLE subject_objections (
    subject_id          TEXT NOT NULL,
    scope               TEXT NOT NULL,
    grounds             TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    compelling_grounds  TEXT,
    overridden_by       TEXT,
    overridden_at       TIMESTAMP,
    PRIMARY KEY (subject_id, scope)
);
