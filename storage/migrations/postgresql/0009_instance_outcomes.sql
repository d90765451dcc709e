-- The named business outcome an instance finished with (KEPT,
-- TERMINATED, ...): its END step's, empty for none. Lists filter on it.
ALTER TABLE instances ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
CREATE INDEX instances_by_outcome ON instances (outcome, id);
