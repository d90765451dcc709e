#pragma once

// The SQL behind ledgers and scheduled starts (storage/ledgers.h).

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/ledgers.h"

namespace soci {
class session;
}

namespace signoff::storage {

absl::StatusOr<std::vector<StoredLedgerBalance>> QueryLedgerBalances(
    soci::session& session, const LedgerFilter& filter);
// The stored balances among `positions`; missing ones are left out.
absl::StatusOr<std::vector<StoredLedgerBalance>> QueryLedgerBalancesAt(
    soci::session& session, const std::string& definition_key,
    const std::vector<signoff::v1::LedgerPosition>& positions);
// When the latest run a definition's schedule started was due; nullopt
// before the first.
absl::StatusOr<std::optional<absl::Time>> QueryLastScheduledRun(soci::session& session,
                                                                const std::string& definition_key);
absl::StatusOr<std::vector<ScheduleStart>> QueryScheduleStarts(soci::session& session,
                                                               const std::string& definition_key,
                                                               const std::string& period);

// Applies a mutation's ledger writes inside the writer's transaction:
// ABORTED for a change that would take a balance past its limit,
// ALREADY_EXISTS for a schedule period and subject already started.
absl::Status ApplyLedgerWrites(soci::session& session, const LedgerWrites& writes);

}  // namespace signoff::storage
