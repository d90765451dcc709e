-- People's notifications: one row per recipient per event that concerns
-- them (a task that became theirs, a reminder, an escalation, a CC, a
-- delegation, an outcome), written in the transaction of the event that
-- made it. Ids follow commit order. The body is binary protobuf
-- (signoff.v1.Notification without id, global_seq, read and read_at,
-- which the columns hold); read_us is NULL while unread.

CREATE TABLE notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  global_seq BIGINT NOT NULL,
  recipient TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  created_us BIGINT NOT NULL,
  body BLOB NOT NULL,
  read_us BIGINT NULL
);

CREATE INDEX notifications_by_recipient ON notifications (recipient, id);
CREATE INDEX notifications_unread ON notifications (recipient, id) WHERE read_us IS NULL;
CREATE INDEX notifications_by_event ON notifications (global_seq);
