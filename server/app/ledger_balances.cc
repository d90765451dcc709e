#include "server/app/ledger_balances.h"

#include <map>

#include "workflow/status_macros.h"

namespace signoff::app {

absl::StatusOr<workflow::LedgerBalances> LoadLedgerBalances(
    storage::Store& store, const v1::WorkflowDefinition& definition,
    const std::vector<const google::protobuf::Struct*>& forms, absl::Time now,
    const workflow::CalendarSet* calendars) {
  workflow::LedgerBalances balances;
  if (definition.ledgers().empty()) return balances;
  SIGNOFF_ASSIGN_OR_RETURN(absl::TimeZone zone, workflow::DefinitionZone(definition, calendars));
  std::vector<v1::LedgerPosition> positions;
  for (const google::protobuf::Struct* form : forms) {
    for (auto& position : workflow::PositionsFor(definition, *form, now, zone)) {
      positions.push_back(std::move(position));
    }
  }
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<storage::StoredLedgerBalance> stored,
                           store.LoadLedgerBalances(definition.key(), positions));
  for (const auto& found : stored) {
    balances[workflow::PositionKey(found.position)] = found.balance;
  }
  return balances;
}

std::vector<storage::LedgerChange> LedgerChangesOf(const v1::WorkflowDefinition& definition,
                                                   const std::vector<v1::LedgerMoved>& moves,
                                                   const std::vector<v1::Event>& events) {
  std::map<std::string, storage::LedgerChange> by_position;
  auto change_at = [&](const v1::LedgerPosition& position) -> storage::LedgerChange& {
    storage::LedgerChange& change = by_position[workflow::PositionKey(position)];
    if (change.definition_key.empty()) {
      change.definition_key = definition.key();
      change.position = position;
      const v1::Ledger* ledger = workflow::FindLedger(definition, position.ledger());
      if (ledger != nullptr) change.default_limit_cents = workflow::ToCents(ledger->limit());
    }
    return change;
  };
  for (const auto& moved : moves) {
    storage::LedgerChange& change = change_at(moved.position());
    change.reserved_delta_cents += moved.reserved_delta_cents();
    change.consumed_delta_cents += moved.consumed_delta_cents();
  }
  for (const auto& event : events) {
    if (event.has_ledger_exceeded()) ++change_at(event.ledger_exceeded().position()).exceeded_delta;
  }
  std::vector<storage::LedgerChange> changes;
  for (auto& [key, change] : by_position) changes.push_back(std::move(change));
  return changes;
}

}  // namespace signoff::app
