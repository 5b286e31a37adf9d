-- Legal hold: how long decisions of a type must be kept despite an erasure request
-- (e.g. 25 months under ECOA / Reg B 1002.12). NULL means no hold.
ALTER TABLE decision_type_policies ADD COLUMN retention_months INTEGER;
