-- Whose personal data an event carries, so that erasure finds every one of them (issue 13).
-- `subject_id` keeps its meaning: the subject whose restriction holds the event back. Rights
-- announcements to engines (Art. 19) are delivered even while the subject is restricted, so they
-- have no `subject_id`, but they do have `personal_data_of`.
ALTER TABLE outbox ADD COLUMN personal_data_of TEXT;

UPDATE outbox SET personal_data_of = subject_id WHERE subject_id IS NOT NULL;

-- Announcements written before this migration named no subject: find it through the decisions
-- the payload refers to.
UPDATE outbox
   SET personal_data_of = (SELECT d.subject_id FROM decisions d
                            WHERE outbox.payload LIKE '%"' || d.id || '"%'
                            LIMIT 1)
 WHERE personal_data_of IS NULL
   AND event_type IN ('decision.rectification_requested', 'decision.rectified', 'subject.restricted',
                      'subject.restriction_lifted', 'subject.objected', 'subject.objection_overridden');

CREATE INDEX outbox_personal_data_of_idx ON outbox (personal_data_of);
