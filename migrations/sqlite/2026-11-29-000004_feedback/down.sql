DROP INDEX reviews_decision_idx;
DROP TABLE model_suspensions;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
