-- The PostgreSQL schema: the same tables and columns as the SQLite schema
-- at its version 7, so that one set of statements serves both. Bodies are
-- binary protobuf in bytea; times are BIGINT microseconds since the Unix
-- epoch.

CREATE TABLE definitions (
  key TEXT NOT NULL,
  version INTEGER NOT NULL,
  body BYTEA NOT NULL,
  published_at BIGINT NOT NULL,
  published_by TEXT NOT NULL,
  origin TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (key, version)
);

CREATE TABLE calendars (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  body BYTEA NOT NULL,
  published_at BIGINT NOT NULL,
  published_by TEXT NOT NULL,
  origin TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (name, version)
);

CREATE TABLE instances (
  id TEXT NOT NULL PRIMARY KEY,
  definition_key TEXT NOT NULL,
  definition_version INTEGER NOT NULL,
  status INTEGER NOT NULL,
  applicant TEXT NOT NULL,
  subject TEXT NOT NULL,
  -- NULL once the instance no longer holds its subject; UNIQUE ignores NULLs.
  open_subject TEXT NULL UNIQUE,
  version BIGINT NOT NULL,
  state BYTEA NOT NULL,
  created_us BIGINT NOT NULL,
  updated_us BIGINT NOT NULL,
  sla_breached INTEGER NOT NULL DEFAULT 0,
  event_count BIGINT NOT NULL DEFAULT 0,
  chain_head TEXT NOT NULL DEFAULT ''
);

CREATE INDEX instances_by_definition ON instances (definition_key, status, id);
CREATE INDEX instances_by_applicant ON instances (applicant, id);
CREATE INDEX instances_by_subject ON instances (subject, id);
CREATE INDEX instances_by_status ON instances (status, id);
CREATE INDEX instances_by_sla_breached ON instances (sla_breached, id);

CREATE TABLE tasks (
  id TEXT NOT NULL PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances (id),
  step_id TEXT NOT NULL,
  status INTEGER NOT NULL,
  assignee TEXT NOT NULL,
  candidate_role TEXT NOT NULL,
  candidate_department TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  body BYTEA NOT NULL,
  due_us BIGINT NULL
);

CREATE INDEX tasks_by_assignee ON tasks (assignee, status, created_us, id);
CREATE INDEX tasks_by_candidate_group
  ON tasks (candidate_role, candidate_department, status, created_us, id);
CREATE INDEX tasks_by_status ON tasks (status, created_us, id);
CREATE INDEX tasks_by_instance ON tasks (instance_id);
CREATE INDEX tasks_by_due ON tasks (status, due_us);

-- global_seq comes from a sequence. Transactions that append events take
-- one lock until they commit, so numbers become visible in the order they
-- were given out and a reader resuming after the last number it saw misses
-- nothing. A rolled-back transaction leaves a hole in the numbering, never
-- in what readers see.
CREATE TABLE events (
  global_seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances (id),
  instance_seq BIGINT NOT NULL,
  type TEXT NOT NULL,
  time_us BIGINT NOT NULL,
  actor TEXT NOT NULL,
  body BYTEA NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  UNIQUE (instance_id, instance_seq)
);

CREATE TABLE idempotency (
  caller TEXT NOT NULL,
  request_id TEXT NOT NULL,
  method TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  reply BYTEA NOT NULL,
  created_us BIGINT NOT NULL,
  PRIMARY KEY (caller, request_id)
);

CREATE TABLE departments (
  id TEXT NOT NULL PRIMARY KEY,
  parent TEXT NOT NULL,
  head TEXT NOT NULL,
  body BYTEA NOT NULL
);

CREATE TABLE users (
  id TEXT NOT NULL PRIMARY KEY,
  department TEXT NOT NULL,
  manager TEXT NOT NULL,
  body BYTEA NOT NULL
);

CREATE INDEX users_by_department ON users (department, id);

CREATE TABLE user_roles (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  department TEXT NOT NULL,
  PRIMARY KEY (user_id, role, department)
);

CREATE INDEX user_roles_by_role ON user_roles (role, department);

-- A copy of every instance's pending timers, indexed by fire time; the
-- instance state is the truth. Replicas claim due rows with FOR UPDATE SKIP
-- LOCKED and a lease.
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

CREATE TABLE catalog_versions (
  name TEXT NOT NULL PRIMARY KEY,
  generation BIGINT NOT NULL
);

INSERT INTO catalog_versions (name, generation)
  VALUES ('directory', 0), ('calendars', 0), ('definitions', 0);
