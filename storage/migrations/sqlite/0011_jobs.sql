-- Jobs: the open tasks of SYSTEM steps that name a job type, one row each,
-- written from the tasks' events in the same transaction. The instance
-- state holds the domain facts (retries, incidents); this table holds
-- what only leasing needs: who holds the job until when, which activation
-- it is on, and from when it may be offered again. Workers lease rows
-- with FOR UPDATE SKIP LOCKED; a row goes when its task ends.
CREATE TABLE jobs (
  task_id TEXT NOT NULL PRIMARY KEY,
  instance_id TEXT NOT NULL,
  type TEXT NOT NULL,
  definition_key TEXT NOT NULL,
  definition_version INTEGER NOT NULL,
  step_id TEXT NOT NULL,
  -- Activations so far; an activation's key ends in its number.
  attempt INTEGER NOT NULL DEFAULT 0,
  -- The worker's name and the service account that activated it; NULL
  -- while no activation holds it (never activated, or failed since).
  lease_owner TEXT NULL,
  lease_caller TEXT NULL,
  lease_until_us INTEGER NULL,
  -- Not offered before this time (a failure's backoff).
  available_us INTEGER NOT NULL,
  -- 1 while an incident is open: not offered until it is resolved.
  incident INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX jobs_offered ON jobs (type, incident, available_us, task_id);

-- Incidents, open and resolved, as ListIncidents pages them (oldest first).
CREATE TABLE incidents (
  id TEXT NOT NULL PRIMARY KEY,
  instance_id TEXT NOT NULL,
  definition_key TEXT NOT NULL,
  step_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  job_type TEXT NOT NULL,
  message TEXT NOT NULL,
  -- signoff.v1.IncidentStatus.
  status INTEGER NOT NULL,
  created_us INTEGER NOT NULL,
  resolved_us INTEGER NULL,
  resolved_by TEXT NULL,
  resolution TEXT NULL
);

CREATE INDEX incidents_by_time ON incidents (created_us, id);
CREATE INDEX incidents_by_task ON incidents (task_id, status);
