-- Restriction of processing (GDPR Art. 18): while a row exists, the subject's data is stored
-- only: their appeals are not claimable, and no webhook, feed item or label carries their data.
CREATE TABLE subject_restrictions (
    subject_id     TEXT PRIMARY KEY NOT NULL,
    reason         TEXT NOT NULL,
    restricted_by  TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL
);

-- Notices to a subject that belong to no appeal (e.g. before a restriction is lifted).
CREATE TABLE subject_notices (
    id          TEXT PRIMARY KEY NOT NULL,
    subject_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE INDEX subject_notices_subject_idx ON subject_notices (subject_id, created_at);
