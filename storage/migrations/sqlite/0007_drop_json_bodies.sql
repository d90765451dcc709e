-- The binary bodies that 0006 filled take the JSON columns' names.

ALTER TABLE instances DROP COLUMN state;
ALTER TABLE instances RENAME COLUMN state_pb TO state;
ALTER TABLE tasks DROP COLUMN body;
ALTER TABLE tasks RENAME COLUMN body_pb TO body;
ALTER TABLE events DROP COLUMN body;
ALTER TABLE events RENAME COLUMN body_pb TO body;
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
