-- Web UI: server-side browser sessions, spent one-time login links, and the initial views that
-- reviewers record before a blind-first queue reveals the model's outcome and score.

-- A browser session. The cookie holds a random value; only its SHA-256 is stored, so a copy of
-- the database does not hand out live sessions.
CREATE TABLE web_sessions (
    id_hash     TEXT PRIMARY KEY NOT NULL,
    actor_id    TEXT NOT NULL,
    role        TEXT NOT NULL,
    csrf_token  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);

CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);

-- One row per login link that has been exchanged for a session. The primary key makes the
-- exchange one-time across every instance sharing the database.
CREATE TABLE login_links_used (
    link_id     TEXT PRIMARY KEY NOT NULL,
    used_at     TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);

CREATE INDEX login_links_used_expires_idx ON login_links_used (expires_at);

-- What a reviewer thought of a case before seeing the model's outcome and score.
CREATE TABLE initial_views (
    appeal_id    TEXT NOT NULL REFERENCES appeals (id),
    reviewer_id  TEXT NOT NULL,
    leaning      TEXT NOT NULL,
    note         TEXT,
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (appeal_id, reviewer_id)
);
