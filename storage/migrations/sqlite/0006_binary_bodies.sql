-- Bodies become binary protobuf instead of JSON text: several times
-- cheaper to write and to read, and smaller. Each body gets a BLOB column
-- beside its JSON one; signoffd's own code fills it in this same migration
-- (ConvertJsonBodiesToBinary), and 0007 drops the JSON columns.
--
-- The stored replies of idempotency records were base64 text of binary
-- messages; they become the bytes themselves.

ALTER TABLE instances ADD COLUMN state_pb BLOB NULL;
ALTER TABLE tasks ADD COLUMN body_pb BLOB NULL;
ALTER TABLE events ADD COLUMN body_pb BLOB NULL;
ALTER TABLE definitions ADD COLUMN body_pb BLOB NULL;
ALTER TABLE calendars ADD COLUMN body_pb BLOB NULL;
ALTER TABLE users ADD COLUMN body_pb BLOB NULL;
ALTER TABLE departments ADD COLUMN body_pb BLOB NULL;
ALTER TABLE idempotency ADD COLUMN reply_pb BLOB NULL;
