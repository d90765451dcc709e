#include "storage/ledger_store.h"

#include <soci/soci.h>

#include "absl/strings/str_cat.h"
#include "workflow/time_util.h"

namespace signoff::storage {
namespace {

constexpr char kBalanceColumns[] =
    "SELECT definition_key, ledger, ledger_key, period, limit_cents, reserved_cents,"
    " consumed_cents, exceeded_count FROM ledger_balances";

struct BalanceRow {
  std::string definition_key, ledger, key, period;
  int64_t limit = 0, reserved = 0, consumed = 0, exceeded = 0;

  template <typename Statement>
  void Bind(Statement& statement) {
    statement.exchange(soci::into(definition_key));
    statement.exchange(soci::into(ledger));
    statement.exchange(soci::into(key));
    statement.exchange(soci::into(period));
    statement.exchange(soci::into(limit));
    statement.exchange(soci::into(reserved));
    statement.exchange(soci::into(consumed));
    statement.exchange(soci::into(exceeded));
  }

  StoredLedgerBalance Stored() const {
    StoredLedgerBalance stored;
    stored.definition_key = definition_key;
    stored.position.set_ledger(ledger);
    stored.position.set_key(key);
    stored.position.set_period(period);
    stored.balance.limit_cents = limit;
    stored.balance.reserved_cents = reserved;
    stored.balance.consumed_cents = consumed;
    stored.exceeded_count = exceeded;
    return stored;
  }
};

// Runs a balance query whose parameters `bind` adds, and collects its rows.
template <typename BindParameters>
std::vector<StoredLedgerBalance> CollectBalances(soci::session& session, const std::string& sql,
                                                 BindParameters bind) {
  BalanceRow row;
  soci::statement statement(session);
  statement.alloc();
  statement.prepare(sql);
  row.Bind(statement);
  bind(statement);
  statement.define_and_bind();
  std::vector<StoredLedgerBalance> found;
  if (statement.execute(true)) {
    do {
      found.push_back(row.Stored());
    } while (statement.fetch());
  }
  return found;
}

absl::Status ApplyChange(soci::session& session, const LedgerChange& change) {
  const auto& position = change.position;
  session << "INSERT INTO ledger_balances (definition_key, ledger, ledger_key, period,"
             " limit_cents) VALUES (:d, :l, :k, :p, :lim) ON CONFLICT DO NOTHING",
      soci::use(change.definition_key), soci::use(position.ledger()), soci::use(position.key()),
      soci::use(position.period()), soci::use(change.default_limit_cents);
  const int64_t added = change.reserved_delta_cents + change.consumed_delta_cents;
  const int grows = added > 0 ? 1 : 0;
  soci::statement update =
      (session.prepare << "UPDATE ledger_balances SET reserved_cents = reserved_cents + :r,"
                          " consumed_cents = consumed_cents + :c,"
                          " exceeded_count = exceeded_count + :e"
                          " WHERE definition_key = :d AND ledger = :l AND ledger_key = :k"
                          " AND period = :p AND (:g = 0 OR"
                          " limit_cents - reserved_cents - consumed_cents >= :a)",
       soci::use(change.reserved_delta_cents), soci::use(change.consumed_delta_cents),
       soci::use(change.exceeded_delta), soci::use(change.definition_key),
       soci::use(position.ledger()), soci::use(position.key()), soci::use(position.period()),
       soci::use(grows), soci::use(added));
  update.execute(true);
  if (update.get_affected_rows() == 1) return absl::OkStatus();
  return absl::AbortedError(absl::StrCat("ledger ", position.ledger(), " of ",
                                         change.definition_key, " for '", position.key(), "' in ",
                                         position.period(), " changed concurrently"));
}

}  // namespace

absl::StatusOr<std::vector<StoredLedgerBalance>> QueryLedgerBalances(soci::session& session,
                                                                     const LedgerFilter& filter) {
  const std::string sql = absl::StrCat(
      kBalanceColumns,
      " WHERE definition_key = :d AND (CAST(:l1 AS TEXT) = '' OR ledger = :l2)"
      " AND (CAST(:p1 AS TEXT) = '' OR period = :p2)"
      " ORDER BY ledger, period, ledger_key");
  return CollectBalances(session, sql, [&](soci::statement& statement) {
    statement.exchange(soci::use(filter.definition_key));
    statement.exchange(soci::use(filter.ledger));
    statement.exchange(soci::use(filter.ledger));
    statement.exchange(soci::use(filter.period));
    statement.exchange(soci::use(filter.period));
  });
}

absl::StatusOr<std::vector<StoredLedgerBalance>> QueryLedgerBalancesAt(
    soci::session& session, const std::string& definition_key,
    const std::vector<signoff::v1::LedgerPosition>& positions) {
  const std::string sql = absl::StrCat(
      kBalanceColumns,
      " WHERE definition_key = :d AND ledger = :l AND ledger_key = :k AND period = :p");
  std::vector<StoredLedgerBalance> found;
  for (const auto& position : positions) {
    for (auto& stored : CollectBalances(session, sql, [&](soci::statement& statement) {
           statement.exchange(soci::use(definition_key));
           statement.exchange(soci::use(position.ledger()));
           statement.exchange(soci::use(position.key()));
           statement.exchange(soci::use(position.period()));
         })) {
      found.push_back(std::move(stored));
    }
  }
  return found;
}

absl::StatusOr<std::optional<absl::Time>> QueryLastScheduledRun(
    soci::session& session, const std::string& definition_key) {
  int64_t run_us = 0;
  soci::indicator indicator = soci::i_null;
  session << "SELECT MAX(run_us) FROM schedule_starts WHERE definition_key = :d",
      soci::use(definition_key), soci::into(run_us, indicator);
  if (indicator != soci::i_ok) return std::nullopt;
  return absl::FromUnixMicros(run_us);
}

absl::StatusOr<std::vector<ScheduleStart>> QueryScheduleStarts(soci::session& session,
                                                               const std::string& definition_key,
                                                               const std::string& period) {
  ScheduleStart row;
  int64_t run_us = 0;
  soci::statement statement =
      (session.prepare << "SELECT definition_key, period, subject, instance_id, run_us,"
                          " skip_reason FROM schedule_starts"
                          " WHERE definition_key = :d AND period = :p ORDER BY subject",
       soci::use(definition_key), soci::use(period), soci::into(row.definition_key), soci::into(row.period),
       soci::into(row.subject), soci::into(row.instance_id), soci::into(run_us),
       soci::into(row.skip_reason));
  std::vector<ScheduleStart> found;
  if (statement.execute(true)) {
    do {
      row.run_at = absl::FromUnixMicros(run_us);
      found.push_back(row);
    } while (statement.fetch());
  }
  return found;
}

absl::Status ApplyLedgerWrites(soci::session& session, const LedgerWrites& writes) {
  if (writes.schedule_start) {
    const ScheduleStart& start = *writes.schedule_start;
    const int64_t run_us = absl::ToUnixMicros(start.run_at);
    soci::statement insert =
        (session.prepare << "INSERT INTO schedule_starts (definition_key, period, subject,"
                            " instance_id, run_us, skip_reason) VALUES (:d, :p, :s, :i, :r, :k)"
                            " ON CONFLICT DO NOTHING",
         soci::use(start.definition_key), soci::use(start.period), soci::use(start.subject),
         soci::use(start.instance_id), soci::use(run_us), soci::use(start.skip_reason));
    insert.execute(true);
    if (insert.get_affected_rows() == 0) {
      return absl::AlreadyExistsError(absl::StrCat("the schedule of ", start.definition_key,
                                                   " already ran ", start.period, " for ",
                                                   start.subject));
    }
  }
  if (writes.limit) {
    const LedgerLimit& limit = *writes.limit;
    session << "INSERT INTO ledger_balances (definition_key, ledger, ledger_key, period,"
               " limit_cents) VALUES (:d, :l, :k, :p, :lim) ON CONFLICT (definition_key,"
               " ledger, ledger_key, period) DO UPDATE SET limit_cents = excluded.limit_cents",
        soci::use(limit.definition_key), soci::use(limit.position.ledger()),
        soci::use(limit.position.key()), soci::use(limit.position.period()),
        soci::use(limit.limit_cents);
  }
  for (const LedgerChange& change : writes.changes) {
    absl::Status applied = ApplyChange(session, change);
    if (!applied.ok()) return applied;
  }
  return absl::OkStatus();
}

}  // namespace signoff::storage
