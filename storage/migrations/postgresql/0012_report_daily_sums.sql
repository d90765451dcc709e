-- The report cells gain daily sums over every department (dimensions
-- ending in "@all" whose day is a day, not a month's first), which
-- periods starting or ending within a month read. Cells projected before
-- lack them, so the projections are emptied here and the report projector
-- makes them all again from the events, as `signoffd rebuild-reports`
-- would.

DELETE FROM report_cells;
DELETE FROM report_tasks;
DELETE FROM report_instances;
UPDATE report_position SET after_global_seq = 0 WHERE id = 1;
