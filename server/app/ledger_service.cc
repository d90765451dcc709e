#include "server/app/ledger_service.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "server/app/admin_events.h"
#include "workflow/errors.h"
#include "workflow/ledgers.h"
#include "workflow/limits.h"
#include "workflow/roles.h"
#include "workflow/status_macros.h"

namespace signoff::app {

namespace {

absl::Status BadField(const std::string& field, const std::string& problem) {
  return workflow::InvalidArgumentWithViolations(absl::StrCat(field, " ", problem),
                                                 {{field, problem}});
}

v1::LedgerBalance BalanceMessage(const std::string& definition_key, const v1::Ledger& ledger,
                                 const v1::LedgerPosition& position,
                                 const workflow::LedgerBalance& balance) {
  v1::LedgerBalance message;
  message.set_definition_key(definition_key);
  message.set_ledger(position.ledger());
  message.set_key(position.key());
  message.set_period(position.period());
  message.set_unit(ledger.unit());
  message.set_limit(workflow::FromCents(balance.limit_cents));
  message.set_reserved(workflow::FromCents(balance.reserved_cents));
  message.set_consumed(workflow::FromCents(balance.consumed_cents));
  message.set_remaining(workflow::FromCents(balance.remaining_cents()));
  return message;
}

}  // namespace

struct LedgerService::Target {
  std::shared_ptr<const v1::PublishedDefinition> published;
  // Null when the request names no single ledger.
  const v1::Ledger* ledger = nullptr;

  const v1::WorkflowDefinition& definition() const { return published->definition(); }
};

absl::StatusOr<LedgerService::Target> LedgerService::Resolve(const Caller& caller,
                                                             const std::string& definition_key,
                                                             const std::string& ledger,
                                                             bool to_set) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  if (definition_key.empty()) return BadField("definition_key", "is required");
  Target target;
  absl::StatusOr<std::shared_ptr<const v1::PublishedDefinition>> published =
      context_.Definition(definition_key, 0);
  if (absl::IsNotFound(published.status())) {
    return BadField("definition_key", absl::StrCat("names no definition '",
                                                   workflow::ShortForMessage(definition_key), "'"));
  }
  SIGNOFF_ASSIGN_OR_RETURN(target.published, std::move(published));
  const EngineContext engine = context_.ContextFor(caller);
  const bool admin =
      engine.directory->HoldsRoleFor(caller.user, workflow::kProcessAdminRole, definition_key);
  const bool auditor = engine.directory->HoldsRole(caller.user, workflow::kAuditorRole);
  if (!admin && !(auditor && !to_set)) {
    return absl::PermissionDeniedError(absl::StrCat(
        to_set ? "setting" : "reading", " ledgers of ", definition_key, " needs the ",
        workflow::kProcessAdminRole, " role for it", to_set ? "" : ", or the auditor role"));
  }
  if (!ledger.empty()) {
    target.ledger = workflow::FindLedger(target.definition(), ledger);
    if (target.ledger == nullptr) {
      return BadField("ledger", absl::StrCat("names no ledger of ", definition_key));
    }
  }
  return target;
}

absl::StatusOr<v1::LedgerPosition> LedgerService::PositionOf(const Target& target,
                                                             const std::string& key,
                                                             const std::string& period) {
  if (target.ledger == nullptr) return BadField("ledger", "is required");
  if (key.size() > workflow::kMaxIdBytes) {
    return BadField("key", absl::StrCat("must be at most ", workflow::kMaxIdBytes, " bytes"));
  }
  v1::LedgerPosition position;
  position.set_ledger(target.ledger->name());
  position.set_key(key);
  if (period.empty()) {
    const EngineContext engine = context_.ContextFor(Caller{});
    SIGNOFF_ASSIGN_OR_RETURN(absl::TimeZone zone, workflow::DefinitionZone(
                                                      target.definition(), engine.calendars.get()));
    position.set_period(workflow::PeriodAt(target.ledger->period(), context_.Now(), zone));
  } else {
    absl::Status valid = workflow::CheckPeriod(target.ledger->period(), period);
    if (!valid.ok()) return BadField("period", std::string(valid.message()));
    position.set_period(period);
  }
  return position;
}

absl::StatusOr<workflow::LedgerBalance> LedgerService::Read(const Target& target,
                                                            const v1::LedgerPosition& position) {
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<storage::StoredLedgerBalance> stored,
                           context_.store().LoadLedgerBalances(target.definition().key(),
                                                               {position}));
  workflow::LedgerBalances balances;
  for (const auto& found : stored) balances[workflow::PositionKey(found.position)] = found.balance;
  return workflow::BalanceAt(balances, *target.ledger, position);
}

absl::StatusOr<v1::ListLedgersResponse> LedgerService::ListLedgers(
    const Caller& caller, const v1::ListLedgersRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(Target target,
                           Resolve(caller, request.definition_key(), request.ledger(), false));
  if (!request.period().empty() && target.ledger != nullptr) {
    absl::Status valid = workflow::CheckPeriod(target.ledger->period(), request.period());
    if (!valid.ok()) return BadField("period", std::string(valid.message()));
  }
  storage::LedgerFilter filter{request.definition_key(), request.ledger(), request.period()};
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<storage::StoredLedgerBalance> stored,
                           context_.store().ListLedgerBalances(filter));
  v1::ListLedgersResponse response;
  for (const auto& found : stored) {
    const v1::Ledger* ledger = workflow::FindLedger(target.definition(), found.position.ledger());
    // A ledger the latest version no longer declares keeps its balances,
    // shown without a unit.
    static const v1::Ledger kUndeclared;
    *response.add_balances() = BalanceMessage(request.definition_key(),
                                              ledger == nullptr ? kUndeclared : *ledger,
                                              found.position, found.balance);
  }
  return response;
}

absl::StatusOr<v1::GetLedgerResponse> LedgerService::GetLedger(
    const Caller& caller, const v1::GetLedgerRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(Target target,
                           Resolve(caller, request.definition_key(), request.ledger(), false));
  SIGNOFF_ASSIGN_OR_RETURN(v1::LedgerPosition position,
                           PositionOf(target, request.key(), request.period()));
  SIGNOFF_ASSIGN_OR_RETURN(workflow::LedgerBalance balance, Read(target, position));
  v1::GetLedgerResponse response;
  *response.mutable_balance() =
      BalanceMessage(request.definition_key(), *target.ledger, position, balance);
  return response;
}

absl::StatusOr<v1::GetLedgerResponse> LedgerService::SetLedgerLimit(
    const Caller& caller, const v1::SetLedgerLimitRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(Target target,
                           Resolve(caller, request.definition_key(), request.ledger(), true));
  SIGNOFF_ASSIGN_OR_RETURN(v1::LedgerPosition position,
                           PositionOf(target, request.key(), request.period()));
  const double limit = request.limit();
  if (!std::isfinite(limit) || limit < 0 || limit > 1e13 ||
      std::fabs(limit * 100 - std::round(limit * 100)) > 1e-6) {
    return BadField("limit", "must be a non-negative amount with at most two decimals");
  }
  PlainChange change;
  change.method = "SetLedgerLimit";
  change.request = &request;
  change.request_id = request.request_id();
  change.build = [&](google::protobuf::Message& out) -> absl::StatusOr<storage::Mutation> {
    storage::Mutation mutation;
    mutation.ledgers.limit =
        storage::LedgerLimit{request.definition_key(), position, workflow::ToCents(limit)};
    SIGNOFF_ASSIGN_OR_RETURN(workflow::LedgerBalance balance, Read(target, position));
    v1::LedgerLimitSet& recorded =
        *mutation.admin_events
             .emplace_back(
                 AdminEventOf(caller, context_.Now(),
                              absl::StrCat(request.definition_key(), "/", position.ledger())))
             .mutable_ledger_limit_set();
    recorded.set_definition_key(request.definition_key());
    recorded.set_ledger(position.ledger());
    recorded.set_key(position.key());
    recorded.set_period(position.period());
    recorded.set_unit(target.ledger->unit());
    recorded.set_previous_limit(workflow::FromCents(balance.limit_cents));
    recorded.set_limit(workflow::FromCents(workflow::ToCents(limit)));
    balance.limit_cents = workflow::ToCents(limit);
    *static_cast<v1::GetLedgerResponse&>(out).mutable_balance() =
        BalanceMessage(request.definition_key(), *target.ledger, position, balance);
    return mutation;
  };
  v1::GetLedgerResponse reply;
  SIGNOFF_RETURN_IF_ERROR(pipeline_.Run(caller, change, reply));
  return reply;
}

}  // namespace signoff::app
