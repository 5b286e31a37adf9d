-- Foundation: scoring engines, their decisions, and the append-only audit log.
-- Ids and JSON are TEXT and times are UTC TIMESTAMPs so that one diesel schema serves both backends.

CREATE TABLE engines (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    created_by  TEXT NOT NULL
);

CREATE TABLE decisions (
    id                  TEXT PRIMARY KEY NOT NULL,
    engine_id           TEXT NOT NULL REFERENCES engines (id),
    external_id         TEXT NOT NULL,
    subject_id          TEXT NOT NULL,
    decision_type       TEXT NOT NULL,
    outcome             TEXT NOT NULL,
    score               DOUBLE,
    threshold           DOUBLE,
    model_name          TEXT NOT NULL,
    model_version       TEXT NOT NULL,
    significant_effect  BOOLEAN NOT NULL,
    decided_at          TIMESTAMP NOT NULL,
    explanation         TEXT NOT NULL,
    payload_hash        TEXT NOT NULL,
    status              TEXT NOT NULL,
    effective_outcome   TEXT NOT NULL,
    received_at         TIMESTAMP NOT NULL,
    UNIQUE (engine_id, external_id)
);

CREATE INDEX decisions_subject_idx ON decisions (subject_id, id);
CREATE INDEX decisions_model_idx ON decisions (model_name, model_version, decided_at);

CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TIMESTAMP NOT NULL,
    actor        TEXT NOT NULL,
    actor_role   TEXT NOT NULL,
    action       TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    request_id   TEXT,
    details      TEXT NOT NULL,
    entry_hash   TEXT NOT NULL
);

CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id);
