DROP TABLE subject_objections;
