-- Each instance keeps the number of its events and the hash of the last
-- one, written in the same transaction as the events. A chain that verifies
-- link by link but ends early (its last events deleted) no longer matches.

ALTER TABLE instances ADD COLUMN event_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN chain_head TEXT NOT NULL DEFAULT '';

UPDATE instances SET
  event_count = (SELECT COUNT(*) FROM events WHERE events.instance_id = instances.id),
  chain_head = COALESCE((SELECT hash FROM events WHERE events.instance_id = instances.id
                         ORDER BY instance_seq DESC LIMIT 1), '');
