-- The report cells gain dekad rollups (dimensions ending in "@dekad") and
-- daily sums over every department (dimensions ending in "@all" whose day
-- is a day), which periods starting or ending within a month read. Cells
-- projected before lack them, so the projections are emptied here and the
-- report projector makes them all again from the events, as
-- `signoffd rebuild-reports` would.
--
-- An instance's facts keep how it finished, so that an appeal can take
-- its finish back out of the counts until it finishes again.
--
-- A department head's report reads the cells of a few departments; this
-- index finds them without reading every department's.

DELETE FROM report_cells;
DELETE FROM report_tasks;
DELETE FROM report_instances;
UPDATE report_position SET after_global_seq = 0 WHERE id = 1;

CREATE INDEX report_cells_by_department ON report_cells (definition_key, dim, department, day);

ALTER TABLE report_instances ADD COLUMN finished_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_instances ADD COLUMN finished_status TEXT NOT NULL DEFAULT '';
ALTER TABLE report_instances ADD COLUMN finished_outcome TEXT NOT NULL DEFAULT '';
