-- The binary bodies that 0006 filled take the JSON columns' names.
--
-- Events are copied into a new table instead: global_seq loses
-- AUTOINCREMENT, which cost a write to sqlite_sequence on every event.
-- Without it a new row still takes one more than the largest global_seq,
-- and events are never deleted, so global_seq still only grows.

ALTER TABLE instances DROP COLUMN state;
ALTER TABLE instances RENAME COLUMN state_pb TO state;
ALTER TABLE tasks DROP COLUMN body;
ALTER TABLE tasks RENAME COLUMN body_pb TO body;
CREATE TABLE events_binary (
  global_seq INTEGER PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances (id),
  instance_seq BIGINT NOT NULL,
  type TEXT NOT NULL,
  time_us BIGINT NOT NULL,
  actor TEXT NOT NULL,
  body BLOB NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  UNIQUE (instance_id, instance_seq)
);
INSERT INTO events_binary (global_seq, instance_id, instance_seq, type, time_us, actor, body,
                           prev_hash, hash)
  SELECT global_seq, instance_id, instance_seq, type, time_us, actor, body_pb, prev_hash, hash
  FROM events;
DROP TABLE events;
ALTER TABLE events_binary RENAME TO events;
ALTER TABLE definitions DROP COLUMN body;
ALTER TABLE definitions RENAME COLUMN body_pb TO body;
ALTER TABLE calendars DROP COLUMN body;
ALTER TABLE calendars RENAME COLUMN body_pb TO body;
ALTER TABLE users DROP COLUMN body;
ALTER TABLE users RENAME COLUMN body_pb TO body;
ALTER TABLE departments DROP COLUMN body;
ALTER TABLE departments RENAME COLUMN body_pb TO body;
ALTER TABLE idempotency DROP COLUMN reply;
ALTER TABLE idempotency RENAME COLUMN reply_pb TO reply;
