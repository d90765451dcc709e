-- Projections for the KPI reports (signoff.v1.ReportService), kept by
-- signoffd's report projector from the committed events. None of it is
-- a record: `signoffd rebuild-reports` makes all of it again from the
-- events.
--
-- report_position: how far the event feed has been projected, moved in
-- the transaction that writes what those events added.
--
-- report_instances: per instance, what its later events are counted with
-- (the applicant's department when it started, its returns so far, ...).
--
-- report_tasks: per open task, its step, holder and clock; deleted when
-- the task is decided or cancelled. The backlog reads it.
--
-- report_cells: additive counters per definition, dimension (all, step,
-- approver, subject) and its value, department and day (days since
-- 1970-01-01 in the definition's calendar's zone). Durations add up in
-- total_* (seconds) and in histograms kept as "bucket:count,..." text.

CREATE TABLE report_position (
  id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  after_global_seq BIGINT NOT NULL
);

INSERT INTO report_position (id, after_global_seq) VALUES (1, 0);

CREATE TABLE report_instances (
  instance_id TEXT NOT NULL PRIMARY KEY,
  definition_key TEXT NOT NULL,
  definition_version INTEGER NOT NULL,
  department TEXT NOT NULL,
  subject TEXT NOT NULL,
  started_us BIGINT NOT NULL,
  return_count INTEGER NOT NULL,
  rejection_count INTEGER NOT NULL,
  resubmit_count INTEGER NOT NULL,
  escalation_count INTEGER NOT NULL,
  resolution_decisions INTEGER NOT NULL,
  rating DOUBLE PRECISION,
  end_step TEXT NOT NULL
);

CREATE TABLE report_tasks (
  task_id TEXT NOT NULL PRIMARY KEY,
  instance_id TEXT NOT NULL,
  definition_key TEXT NOT NULL,
  department TEXT NOT NULL,
  subject TEXT NOT NULL,
  step_id TEXT NOT NULL,
  token TEXT NOT NULL,
  approver TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  pending_us BIGINT NOT NULL,
  due_us BIGINT NOT NULL,
  has_sla INTEGER NOT NULL,
  breached INTEGER NOT NULL,
  paused_us BIGINT NOT NULL
);

CREATE INDEX report_tasks_by_instance ON report_tasks (instance_id);
CREATE INDEX report_tasks_by_definition ON report_tasks (definition_key);

CREATE TABLE report_cells (
  definition_key TEXT NOT NULL,
  dim TEXT NOT NULL,
  day INTEGER NOT NULL,
  metric TEXT NOT NULL,
  department TEXT NOT NULL,
  dim_value TEXT NOT NULL,
  count BIGINT NOT NULL,
  total_wall BIGINT NOT NULL,
  total_business BIGINT NOT NULL,
  wall_hist TEXT NOT NULL,
  business_hist TEXT NOT NULL,
  PRIMARY KEY (definition_key, dim, day, metric, department, dim_value)
);
