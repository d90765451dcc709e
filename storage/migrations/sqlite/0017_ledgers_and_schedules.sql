-- ledger_balances: one row per definition, ledger, key and period that a
-- movement touched or an administrator gave a limit. Amounts are in
-- hundredths. A movement that adds to reserved + consumed commits only
-- while the sum stays within limit_cents (a conditional UPDATE), so that
-- concurrent commits never overdraw a ledger.
--
-- schedule_starts: one row per (definition, schedule period, subject) a
-- schedule started, written in the transaction that starts the instance:
-- a second replica or a restart finds it and starts nothing.

CREATE TABLE ledger_balances (
  definition_key TEXT NOT NULL,
  ledger TEXT NOT NULL,
  ledger_key TEXT NOT NULL,
  period TEXT NOT NULL,
  limit_cents BIGINT NOT NULL,
  reserved_cents BIGINT NOT NULL DEFAULT 0,
  consumed_cents BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (definition_key, ledger, ledger_key, period)
);

CREATE TABLE schedule_starts (
  definition_key TEXT NOT NULL,
  period TEXT NOT NULL,
  subject TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  run_us BIGINT NOT NULL,
  PRIMARY KEY (definition_key, period, subject)
);
