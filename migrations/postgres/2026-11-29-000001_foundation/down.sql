DROP TABLE audit_log;
DROP TABLE decisions;
DROP TABLE engines;
