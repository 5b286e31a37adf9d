-- Appeals workflow: policies per decision type, queues and routing rules, reviewers,
-- appeals with their legal clock and lease, reviews, notices, the outbox and idempotency keys.

CREATE TABLE decision_type_policies (
    decision_type        TEXT PRIMARY KEY NOT NULL,
    filing_window_months INTEGER NOT NULL,
    requires_approval    BOOLEAN NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);

CREATE TABLE queues (
    name         TEXT PRIMARY KEY NOT NULL,
    description  TEXT NOT NULL,
    blind_first  BOOLEAN NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

CREATE TABLE routing_rules (
    id                  TEXT PRIMARY KEY NOT NULL,
    queue               TEXT NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
    position            INTEGER NOT NULL,
    decision_type       TEXT,
    model_name          TEXT,
    significant_effect  BOOLEAN,
    score_min           DOUBLE,
    score_max           DOUBLE,
    priority            INTEGER NOT NULL
);

CREATE INDEX routing_rules_order_idx ON routing_rules (position, queue);

CREATE TABLE reviewers (
    id           TEXT PRIMARY KEY NOT NULL,
    authorities  TEXT NOT NULL,
    capacity     INTEGER NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

CREATE TABLE appeals (
    id                 TEXT PRIMARY KEY NOT NULL,
    decision_id        TEXT NOT NULL REFERENCES decisions (id),
    subject_id         TEXT NOT NULL,
    decision_type      TEXT NOT NULL,
    status             TEXT NOT NULL,
    queue              TEXT NOT NULL,
    priority           INTEGER NOT NULL,
    escalation_level   INTEGER NOT NULL,
    escalate_at        TIMESTAMP,
    filed_by           TEXT NOT NULL,
    filed_by_role      TEXT NOT NULL,
    channel            TEXT NOT NULL,
    identity_check     TEXT,
    grounds            TEXT NOT NULL,
    statement          TEXT NOT NULL,
    corrected_inputs   TEXT,
    requested_outcome  TEXT,
    evidence           TEXT,
    received_at        TIMESTAMP NOT NULL,
    due_at             TIMESTAMP NOT NULL,
    extension_reason   TEXT,
    assigned_to        TEXT,
    assignment_reason  TEXT,
    reviewer_id        TEXT,
    lease_token        TEXT,
    lease_expires_at   TIMESTAMP,
    claimed_at         TIMESTAMP,
    decided_at         TIMESTAMP,
    updated_at         TIMESTAMP NOT NULL
);

-- At most one open appeal per decision, enforced by the database as well as the service.
CREATE UNIQUE INDEX appeals_one_open_per_decision ON appeals (decision_id)
    WHERE status IN ('queued', 'in_review', 'awaiting_approval');
-- The claim reads queued appeals in priority, deadline, arrival order.
CREATE INDEX appeals_claim_idx ON appeals (status, priority DESC, due_at, received_at);
CREATE INDEX appeals_lease_idx ON appeals (status, lease_expires_at);
CREATE INDEX appeals_escalate_idx ON appeals (escalate_at);
CREATE INDEX appeals_decision_idx ON appeals (decision_id);
CREATE INDEX appeals_subject_idx ON appeals (subject_id);

CREATE TABLE reviews (
    id                  TEXT PRIMARY KEY NOT NULL,
    appeal_id           TEXT NOT NULL REFERENCES appeals (id),
    decision_id         TEXT NOT NULL,
    reviewer_id         TEXT NOT NULL,
    outcome             TEXT NOT NULL,
    new_outcome         TEXT,
    rationale           TEXT NOT NULL,
    factors_considered  TEXT NOT NULL,
    rectified_inputs    TEXT,
    status              TEXT NOT NULL,
    approver_id         TEXT,
    approval_note       TEXT,
    seconds_spent       BIGINT,
    created_at          TIMESTAMP NOT NULL,
    resolved_at         TIMESTAMP
);

CREATE INDEX reviews_decision_reviewer_idx ON reviews (decision_id, reviewer_id);
CREATE INDEX reviews_appeal_idx ON reviews (appeal_id);

CREATE TABLE notices (
    id          TEXT PRIMARY KEY NOT NULL,
    appeal_id   TEXT NOT NULL REFERENCES appeals (id),
    subject_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE INDEX notices_appeal_idx ON notices (appeal_id);

CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    event_type   TEXT NOT NULL,
    engine_id    TEXT,
    subject_id   TEXT,
    payload      TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

CREATE INDEX outbox_engine_idx ON outbox (engine_id, seq);

CREATE TABLE idempotency_keys (
    actor            TEXT NOT NULL,
    idem_key         TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    response_status  INTEGER NOT NULL,
    response_body    TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (actor, idem_key)
);
