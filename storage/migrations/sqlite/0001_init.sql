-- The initial schema. Protobuf messages are stored as JSON text, times as
-- INTEGER microseconds since the Unix epoch. Column types are chosen so
-- that the PostgreSQL variant differs only in the identity column.

CREATE TABLE definitions (
  key TEXT NOT NULL,
  version INTEGER NOT NULL,
  body TEXT NOT NULL,
  published_at BIGINT NOT NULL,
  published_by TEXT NOT NULL,
  PRIMARY KEY (key, version)
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
  state TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  updated_us BIGINT NOT NULL
);

CREATE INDEX instances_by_definition ON instances (definition_key, status, id);
CREATE INDEX instances_by_applicant ON instances (applicant, id);
CREATE INDEX instances_by_subject ON instances (subject, id);
CREATE INDEX instances_by_status ON instances (status, id);

CREATE TABLE tasks (
  id TEXT NOT NULL PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances (id),
  step_id TEXT NOT NULL,
  status INTEGER NOT NULL,
  assignee TEXT NOT NULL,
  candidate_role TEXT NOT NULL,
  candidate_department TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  body TEXT NOT NULL
);

CREATE INDEX tasks_by_assignee ON tasks (assignee, status, created_us, id);
CREATE INDEX tasks_by_candidate_group
  ON tasks (candidate_role, candidate_department, status, created_us, id);
CREATE INDEX tasks_by_status ON tasks (status, created_us, id);
CREATE INDEX tasks_by_instance ON tasks (instance_id);

CREATE TABLE events (
  global_seq INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL REFERENCES instances (id),
  instance_seq BIGINT NOT NULL,
  type TEXT NOT NULL,
  time_us BIGINT NOT NULL,
  actor TEXT NOT NULL,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  UNIQUE (instance_id, instance_seq)
);

CREATE TABLE idempotency (
  request_id TEXT NOT NULL PRIMARY KEY,
  method TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  -- base64 of the serialized reply, which is binary.
  reply TEXT NOT NULL,
  created_us BIGINT NOT NULL
);

CREATE TABLE departments (
  id TEXT NOT NULL PRIMARY KEY,
  parent TEXT NOT NULL,
  head TEXT NOT NULL,
  body TEXT NOT NULL
);

CREATE TABLE users (
  id TEXT NOT NULL PRIMARY KEY,
  department TEXT NOT NULL,
  manager TEXT NOT NULL,
  body TEXT NOT NULL
);

CREATE INDEX users_by_department ON users (department, id);

-- Role grants with the department resolved: a grant without one is held in
-- the user's own department.
CREATE TABLE user_roles (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  department TEXT NOT NULL,
  PRIMARY KEY (user_id, role, department)
);

CREATE INDEX user_roles_by_role ON user_roles (role, department);
