DROP INDEX outbox_personal_data_of_idx;
ALTER TABLE outbox DROP COLUMN personal_data_of;
