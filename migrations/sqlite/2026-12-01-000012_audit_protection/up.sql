-- The audit tables are append-only (issue 13, finding 5): entries and checkpoints can be added
-- but not changed or removed; the one permitted change is the sealer marking an unsealed entry
-- with its checkpoint. (SQLite has no TRUNCATE: DELETE without WHERE runs these triggers too,
-- since a table with a DELETE trigger is not truncated by the shortcut.)

CREATE TRIGGER audit_log_insert_unsealed BEFORE INSERT ON audit_log
WHEN NEW.checkpoint_id IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: a new entry cannot claim a checkpoint; the sealer marks it');
END;

CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
WHEN NOT (
    OLD.checkpoint_id IS NULL
    AND NEW.checkpoint_id IS NOT NULL
    AND NEW.checkpoint_id > (SELECT COALESCE(max(id), 0) FROM audit_checkpoints)
    AND NEW.seq IS OLD.seq
    AND NEW.at IS OLD.at
    AND NEW.actor IS OLD.actor
    AND NEW.actor_role IS OLD.actor_role
    AND NEW.action IS OLD.action
    AND NEW.object_type IS OLD.object_type
    AND NEW.object_id IS OLD.object_id
    AND NEW.request_id IS OLD.request_id
    AND NEW.details IS OLD.details
    AND NEW.entry_hash IS OLD.entry_hash
)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused (only the sealer''s marking of an unsealed entry is allowed)');
END;

CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;

CREATE TRIGGER audit_checkpoints_append_only_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_checkpoints_append_only_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE refused');
END;
