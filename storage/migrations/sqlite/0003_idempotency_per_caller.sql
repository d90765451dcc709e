-- request_ids are unique per caller, not globally: another caller who
-- resends your request_id must not receive your reply. Records kept from
-- before carry the empty caller, the scope of signoffd's own changes, so
-- that a timer firing or a seed publish is still recognised as done.

CREATE TABLE idempotency_per_caller (
  caller TEXT NOT NULL,
  request_id TEXT NOT NULL,
  method TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  -- base64 of the serialized reply, which is binary.
  reply TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  PRIMARY KEY (caller, request_id)
);

INSERT INTO idempotency_per_caller (caller, request_id, method, fingerprint, reply, created_us)
  SELECT '', request_id, method, fingerprint, reply, created_us FROM idempotency;

DROP TABLE idempotency;
ALTER TABLE idempotency_per_caller RENAME TO idempotency;
