-- Time: business calendars, timers, due times on tasks and breached SLAs
-- on instances.

CREATE TABLE calendars (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  body TEXT NOT NULL,
  published_at BIGINT NOT NULL,
  published_by TEXT NOT NULL,
  PRIMARY KEY (name, version)
);

-- A copy of every instance's pending timers, indexed by fire time. The
-- instance state is the truth; this table is what the scheduler polls.
-- A lease keeps two schedulers from firing one timer at once.
CREATE TABLE timers (
  id TEXT NOT NULL PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances (id),
  kind INTEGER NOT NULL,
  token TEXT NOT NULL,
  step_id TEXT NOT NULL,
  fire_us BIGINT NOT NULL,
  lease_owner TEXT NULL,
  lease_until_us BIGINT NULL
);

CREATE INDEX timers_by_fire_time ON timers (fire_us, id);
CREATE INDEX timers_by_instance ON timers (instance_id);

ALTER TABLE tasks ADD COLUMN due_us BIGINT NULL;
CREATE INDEX tasks_by_due ON tasks (status, due_us);

ALTER TABLE instances ADD COLUMN sla_breached INTEGER NOT NULL DEFAULT 0;
CREATE INDEX instances_by_sla_breached ON instances (sla_breached, id);
