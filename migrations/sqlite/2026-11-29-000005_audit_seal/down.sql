DROP INDEX audit_log_checkpoint_idx;
ALTER TABLE audit_log DROP COLUMN checkpoint_id;
DROP TABLE audit_checkpoints;
