-- Feedback to engines: webhook endpoints and deliveries, model suspensions, and the
-- transaction id on each outbox row that makes the pull feed gap-free (see src/feedback/feed.rs).
CREATE TABLE webhook_endpoints (
    id                          TEXT PRIMARY KEY NOT NULL,
    engine_id                   TEXT NOT NULL REFERENCES engines (id),
    url                         TEXT NOT NULL,
    secret                      TEXT NOT NULL,
    previous_secret             TEXT,
    previous_secret_expires_at  TIMESTAMP,
    status                      TEXT NOT NULL,
    disabled_reason             TEXT,
    created_at                  TIMESTAMP NOT NULL,
    updated_at                  TIMESTAMP NOT NULL
);

CREATE INDEX webhook_endpoints_engine_idx ON webhook_endpoints (engine_id, status);

-- One row per (event, endpoint), written in the transaction that writes the event.
-- A claim pushes next_attempt_at forward by the lease and stamps lease_token; a worker that
-- dies mid-send simply lets the lease run out and another instance retries.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY NOT NULL,
    event_id         TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id),
    engine_id        TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TIMESTAMP NOT NULL,
    window_start     TIMESTAMP NOT NULL,
    lease_token      TEXT,
    last_attempt_at  TIMESTAMP,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       TIMESTAMP NOT NULL,
    delivered_at     TIMESTAMP,
    UNIQUE (event_id, endpoint_id)
);

CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_engine_idx ON webhook_deliveries (engine_id, created_at);

-- Kill switch (AI Act Art. 26(5)): while a row exists, new decisions of the model are
-- queued for mandatory human review (an appeal filed by system:kill-switch).
CREATE TABLE model_suspensions (
    model_name    TEXT PRIMARY KEY NOT NULL,
    reason        TEXT NOT NULL,
    suspended_by  TEXT NOT NULL,
    suspended_at  TIMESTAMP NOT NULL
);


-- Statistics (src/models/stats.rs). Decisions are counted from a covering index, so a window of
-- a million decisions is an index-only range scan; appeals and reviews are reached from the
-- (much smaller) appeals side. Reason codes live in the explanation JSON; a narrow copy, written
-- at ingestion, lets them be counted without parsing every explanation.
CREATE INDEX decisions_stats_idx ON decisions (model_name, decided_at, model_version, engine_id);
CREATE INDEX reviews_decision_idx ON reviews (decision_id, status);

CREATE TABLE decision_reason_codes (
    decision_id    TEXT NOT NULL REFERENCES decisions (id),
    code           TEXT NOT NULL,
    model_name     TEXT NOT NULL,
    model_version  TEXT NOT NULL,
    engine_id      TEXT NOT NULL,
    decided_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (decision_id, code)
);

CREATE INDEX decision_reason_codes_stats_idx
    ON decision_reason_codes (model_name, decided_at, code, model_version, engine_id);

INSERT INTO decision_reason_codes (decision_id, code, model_name, model_version, engine_id, decided_at)
SELECT DISTINCT d.id, rc ->> 'code', d.model_name, d.model_version, d.engine_id, d.decided_at
  FROM decisions d CROSS JOIN LATERAL jsonb_array_elements(d.explanation::jsonb -> 'reason_codes') rc
 WHERE rc ->> 'code' IS NOT NULL;

-- The writing transaction's id. A reader serves only rows whose writer finished before the
-- oldest transaction still running (pg_snapshot_xmin), ordered by (txid, seq).
ALTER TABLE outbox ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX outbox_feed_idx ON outbox (engine_id, txid, seq);
