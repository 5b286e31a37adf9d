DROP TABLE decision_reason_codes;
DROP INDEX decisions_stats_idx;
DROP INDEX reviews_decision_idx;
DROP TABLE model_suspensions;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
