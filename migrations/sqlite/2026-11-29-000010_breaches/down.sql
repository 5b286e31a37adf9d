DROP INDEX audit_log_actor_idx;
DROP TABLE breach_steps;
DROP TABLE breaches;
