-- ledger_balances.exceeded_count: how many reservations and consumptions
-- would have overdrawn the balance and were routed to their step's
-- on_exceeded step instead, counted in the transaction that records the
-- routing, for the ledger report. Routings committed before this column
-- existed are not counted.

ALTER TABLE ledger_balances ADD COLUMN exceeded_count BIGINT NOT NULL DEFAULT 0;
