-- Standing delegations (out of office): while one runs, new tasks of its
-- delegator go to its delegate. The engine reads them with the directory.
CREATE TABLE delegations (
  id TEXT NOT NULL PRIMARY KEY,
  delegator TEXT NOT NULL,
  delegate TEXT NOT NULL,
  starts_us BIGINT NOT NULL,
  ends_us BIGINT NOT NULL,
  body BYTEA NOT NULL
);

CREATE INDEX delegations_by_delegator ON delegations (delegator, starts_us, id);
