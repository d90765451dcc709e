-- pgbench's approval script: one decision's writes in the shape signoffd
-- makes them, as the SQLite baseline (sqlite_baseline.cc) does for SQLite:
-- the instance read by id, two events appended to its hash chain, the
-- instance updated under its version check with a new state of 1.5 KB (a
-- check that fails returns no row, which fails the transaction), its
-- task updated, and the idempotency record inserted, in one transaction.
-- Bodies are bytea of signoffd's sizes (state 1536, event 320, task and
-- reply 480 bytes), made on the server from the request so that each
-- differs; hashes are SHA-256 in hex, as in signoffd's event chain.
--
-- Run with -D clients=N (the -c count) and -D instances=M (the rows
-- pgbench_baseline.cc loads): each client owns the instances whose number
-- is its client_id modulo N, so that no two clients decide on one instance
-- at once and every version check holds, as every decision of the signoffd
-- workload is on an instance of its own. The idempotency key is the
-- instance and its version, unique across all runs.
\set instance :client_id + :clients * random(0, :instances / :clients - 1)
BEGIN;
SELECT id, version, event_count, chain_head, state FROM instances
  WHERE id = 'i' || lpad(:instance::text, 13, '0') \gset
INSERT INTO events (instance_id, instance_seq, time_us, body, prev_hash, hash)
  VALUES (:id, :event_count::bigint + 1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
          convert_to(rpad('{"decided":"' || :id::text || '-' || :version::text || '"', 320, 'x'), 'UTF8'),
          :chain_head,
          encode(sha256(convert_to(:chain_head::text || :id::text || :version::text || 'decided', 'UTF8')), 'hex'))
  RETURNING hash AS decided_hash \gset
INSERT INTO events (instance_id, instance_seq, time_us, body, prev_hash, hash)
  VALUES (:id, :event_count::bigint + 2, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
          convert_to(rpad('{"step":"' || :id::text || '-' || :version::text || '"', 320, 'x'), 'UTF8'),
          :decided_hash,
          encode(sha256(convert_to(:decided_hash::text || :id::text || :version::text || 'step', 'UTF8')), 'hex'))
  RETURNING hash AS step_hash \gset
UPDATE instances SET version = version + 1, status = 1,
    state = convert_to(rpad('{"state":"' || :id::text || '-' || :version::text || '"', 1536, 'x'), 'UTF8'),
    updated_us = (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
    event_count = event_count + 2, chain_head = :step_hash
  WHERE id = :id AND version = :version
  RETURNING version AS new_version \gset
UPDATE tasks SET status = 2,
    body = convert_to(rpad('{"task":"' || :id::text || '-' || :version::text || '"', 480, 'x'), 'UTF8')
  WHERE id = :id::text || '-t0';
INSERT INTO idempotency (caller, request_id, method, reply, created_us)
  VALUES ('alice.chen', :id::text || '-' || :version::text, 'DecideTask',
          convert_to(rpad('{"reply":"' || :id::text || '-' || :version::text || '"', 480, 'x'), 'UTF8'),
          (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);
END;
