-- The audit tables are append-only (issue 13, finding 5). Whoever connects with the
-- application's role can add entries and checkpoints but not change or remove them; the one
-- permitted change is the sealer marking an unsealed entry with its checkpoint. Only the
-- tables' owner can switch these triggers off (ALTER TABLE ... DISABLE TRIGGER), so run the
-- service as a role that does not own them (docs/SECURITY.md, "Database roles").

-- Refuses whatever it guards: an UPDATE or DELETE of a checkpoint, a TRUNCATE of either table,
-- or an entry inserted already claiming a checkpoint.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'only the sealer may mark an unsealed audit entry with a new checkpoint';
END
$$;

-- An UPDATE of an entry passes only as the sealer's marking: the checkpoint goes from unset to
-- one not sealed yet (the sealer marks entries before it inserts their checkpoint), and every
-- other column, present or added later, is unchanged.
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.checkpoint_id IS NULL
       AND NEW.checkpoint_id IS NOT NULL
       AND NEW.checkpoint_id > (SELECT COALESCE(max(id), 0) FROM audit_checkpoints)
       AND (to_jsonb(NEW) - 'checkpoint_id') = (to_jsonb(OLD) - 'checkpoint_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'only the sealer may mark an unsealed audit entry with a new checkpoint';
END
$$;

CREATE TRIGGER audit_log_insert_unsealed
    BEFORE INSERT ON audit_log
    FOR EACH ROW WHEN (NEW.checkpoint_id IS NOT NULL) EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE TRIGGER audit_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate
    BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
