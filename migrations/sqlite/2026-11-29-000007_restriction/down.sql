DROP TABLE subject_notices;
DROP TABLE subject_restrictions;
