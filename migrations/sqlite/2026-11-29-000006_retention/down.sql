ALTER TABLE decision_type_policies DROP COLUMN retention_months;
