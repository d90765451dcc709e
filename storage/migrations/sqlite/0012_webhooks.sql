-- Webhook subscriptions and their outbox.
--
-- webhooks: one row per subscription; a deleted one keeps its row
-- (deleted_us) so that its deliveries stay explained. kinds and
-- definition_keys are newline-separated lists (neither may hold a newline).
--
-- webhook_deliveries: one row per feed item matched to a subscription,
-- written in the transaction that moves webhook_dispatch on, so that a
-- restart neither loses nor repeats a match. The id is made from the
-- subscription and the item, so a match written twice is stored once.
-- status: 1 pending, 2 delivered, 3 dead (as signoff.v1.DeliveryStatus).
-- A sender leases a pending row (lease_owner, lease_until_us) while it
-- posts it.
--
-- webhook_dispatch: how far the feed has been matched, and a generation
-- that every created or deleted subscription moves on, so that a match
-- made against an older set of subscriptions cannot be committed.

CREATE TABLE webhooks (
  id TEXT NOT NULL PRIMARY KEY,
  owner TEXT NOT NULL,
  url TEXT NOT NULL,
  kinds TEXT NOT NULL,
  definition_keys TEXT NOT NULL,
  max_attempts INTEGER NOT NULL,
  secret TEXT NOT NULL,
  start_after_global_seq BIGINT NOT NULL,
  created_us BIGINT NOT NULL,
  deleted_us BIGINT
);

CREATE INDEX webhooks_by_owner ON webhooks (owner, created_us);

CREATE TABLE webhook_deliveries (
  id TEXT NOT NULL PRIMARY KEY,
  webhook_id TEXT NOT NULL REFERENCES webhooks (id),
  global_seq BIGINT NOT NULL,
  item_index INTEGER NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  status INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  next_attempt_us BIGINT NOT NULL,
  delivered_us BIGINT,
  created_us BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until_us BIGINT
);

CREATE INDEX webhook_deliveries_in_order
  ON webhook_deliveries (webhook_id, status, global_seq, item_index);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_us);

CREATE TABLE webhook_dispatch (
  id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  after_global_seq BIGINT NOT NULL,
  generation BIGINT NOT NULL
);

-- A database upgraded with events in it starts matching at its head:
-- there are no subscriptions yet for older events.
INSERT INTO webhook_dispatch (id, after_global_seq, generation)
  SELECT 1, COALESCE(MAX(global_seq), 0), 0 FROM events;
