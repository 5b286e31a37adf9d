-- The breach register (GDPR Art. 33/34): every suspected personal-data breach, its 72-hour
-- clock and each step a privacy officer takes, kept as the documentation Art. 33(5) requires.
CREATE TABLE breaches (
    id                    TEXT PRIMARY KEY NOT NULL,
    status                TEXT NOT NULL,
    description           TEXT NOT NULL,
    reported_by           TEXT NOT NULL,
    reported_by_role      TEXT NOT NULL,
    aware_at              TIMESTAMP NOT NULL,
    reported_at           TIMESTAMP NOT NULL,
    authority_notified_at TIMESTAMP,
    authority_reference   TEXT,
    delay_reason          TEXT,
    subjects_notified     BIGINT NOT NULL DEFAULT 0,
    updated_at            TIMESTAMP NOT NULL
);

CREATE INDEX breaches_status_idx ON breaches (status, aware_at);

-- Each step: who moved the breach where, when and why.
CREATE TABLE breach_steps (
    id         TEXT PRIMARY KEY NOT NULL,
    breach_id  TEXT NOT NULL REFERENCES breaches (id),
    from_status TEXT NOT NULL,
    to_status  TEXT NOT NULL,
    note       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         TIMESTAMP NOT NULL
);

CREATE INDEX breach_steps_breach_idx ON breach_steps (breach_id, at);

-- "Whose data did this actor touch between these times" scans one actor's entries.
CREATE INDEX audit_log_actor_idx ON audit_log (actor, at);
