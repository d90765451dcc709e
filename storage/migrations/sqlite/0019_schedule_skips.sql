-- schedule_starts also records the starts a schedule skipped: a subject
-- whose open instance kept the period's instance from starting gets its
-- row with no instance and the reason, so that the period settles for it
-- instead of being tried again every round.

ALTER TABLE schedule_starts ADD COLUMN skip_reason TEXT NOT NULL DEFAULT '';
