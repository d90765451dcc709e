#pragma once

// What the store keeps for ledgers and scheduled starts: balances per
// definition, ledger, key and period, and the (definition, period,
// subject) triples that schedules have started or skipped.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "signoff/v1/instance.pb.h"
#include "workflow/ledgers.h"

namespace signoff::storage {

struct StoredLedgerBalance {
  std::string definition_key;
  signoff::v1::LedgerPosition position;
  workflow::LedgerBalance balance;
  // Movements routed to on_exceeded instead of overdrawing it.
  int64_t exceeded_count = 0;
};

// A change to one balance. The row is created with `default_limit_cents`
// when missing. A change that adds to reserved + consumed commits only
// while the sum stays within the limit; ABORTED otherwise.
struct LedgerChange {
  std::string definition_key;
  signoff::v1::LedgerPosition position;
  int64_t default_limit_cents = 0;
  int64_t reserved_delta_cents = 0;
  int64_t consumed_delta_cents = 0;
  // Movements the commit routed to on_exceeded at this position.
  int64_t exceeded_delta = 0;
};

struct LedgerLimit {
  std::string definition_key;
  signoff::v1::LedgerPosition position;
  int64_t limit_cents = 0;
};

// One instance a schedule started, or the start it skipped: a subject
// whose open instance kept the period's from starting. A second record for
// the same definition, period and subject is refused with ALREADY_EXISTS.
struct ScheduleStart {
  std::string definition_key;
  std::string period;
  std::string subject;
  // Empty for a skip.
  std::string instance_id;
  absl::Time run_at;
  // Why the run started nothing for the subject; empty for a start.
  std::string skip_reason;
};

struct LedgerWrites {
  std::vector<LedgerChange> changes;
  std::optional<LedgerLimit> limit;
  std::optional<ScheduleStart> schedule_start;

  bool empty() const { return changes.empty() && !limit && !schedule_start; }
};

struct LedgerFilter {
  std::string definition_key;
  // Empty: every ledger, every period.
  std::string ledger;
  std::string period;
};

}  // namespace signoff::storage
