-- The admin audit trail: every published definition and calendar and
-- every directory change, numbered 1, 2, 3, ... and hash-chained like an
-- instance's events. Bodies are binary protobuf (signoff.v1.AdminEvent
-- without seq, prev_hash and hash, which the columns hold).
--
-- admin_chain_head keeps the trail's length and last hash, written in the
-- same transaction as the events: a trail whose last events were removed
-- no longer ends there. Appending writers lock its one row, so that
-- replicas take turns and the trail stays one chain.

CREATE TABLE admin_events (
  seq INTEGER NOT NULL PRIMARY KEY,
  time_us BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  body BLOB NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);

CREATE TABLE admin_chain_head (
  id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);

INSERT INTO admin_chain_head (id, seq, hash) VALUES (1, 0, '');
