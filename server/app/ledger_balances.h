#pragma once

// Between the engine's view of ledgers and the store's: the balances a
// command reads, and the changes its movements make.

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "signoff/v1/definition.pb.h"
#include "signoff/v1/instance.pb.h"
#include "storage/store.h"
#include "workflow/calendar.h"
#include "workflow/ledgers.h"

namespace signoff::app {

// The committed balances at the positions an instance with any of `forms`
// reaches now, for the engine's context; empty when the definition
// declares no ledgers.
absl::StatusOr<workflow::LedgerBalances> LoadLedgerBalances(
    storage::Store& store, const signoff::v1::WorkflowDefinition& definition,
    const std::vector<const google::protobuf::Struct*>& forms, absl::Time now,
    const workflow::CalendarSet* calendars);

// A transition's movements, and the movements its `events` routed to
// on_exceeded, as the store applies them: one change per position, in
// position order, so that concurrent commits lock balances in the same
// order.
std::vector<storage::LedgerChange> LedgerChangesOf(
    const signoff::v1::WorkflowDefinition& definition,
    const std::vector<signoff::v1::LedgerMoved>& moves,
    const std::vector<signoff::v1::Event>& events);

}  // namespace signoff::app
