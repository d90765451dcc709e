// Ledger movements made by steps, and the ledger operands conditions read.

#include "absl/strings/str_cat.h"
#include "workflow/conditions.h"
#include "workflow/form.h"
#include "workflow/machine.h"

namespace signoff::workflow::internal {

absl::StatusOr<google::protobuf::Struct> Machine::ConditionData() const {
  if (definition_.ledgers().empty()) return state_.form();
  SIGNOFF_ASSIGN_OR_RETURN(absl::TimeZone zone, DefinitionZone(definition_, context_.calendars));
  return WithLedgerOperands(definition_, state_.form(), balances_, context_.now, zone);
}

absl::StatusOr<bool> Machine::Holds(const v1::Condition& condition) const {
  SIGNOFF_ASSIGN_OR_RETURN(google::protobuf::Struct data, ConditionData());
  return Evaluate(condition, data, state_.id());
}

int64_t Machine::HeldAt(const v1::LedgerPosition& position) const {
  const std::string key = PositionKey(position);
  for (const auto& hold : state_.ledger_holds()) {
    if (PositionKey(hold.position()) == key) return hold.amount_cents();
  }
  return 0;
}

absl::StatusOr<std::optional<std::string>> Machine::MoveLedgers(const v1::Step& step) {
  if (step.ledger_entries().empty()) return std::nullopt;
  SIGNOFF_ASSIGN_OR_RETURN(absl::TimeZone zone, DefinitionZone(definition_, context_.calendars));
  for (const auto& entry : step.ledger_entries()) {
    SIGNOFF_ASSIGN_OR_RETURN(std::optional<std::string> exceeded_to,
                             MoveLedger(step, entry, zone));
    if (exceeded_to) return exceeded_to;
  }
  return std::nullopt;
}

absl::StatusOr<int64_t> Machine::EntryAmount(const v1::LedgerEntry& entry) const {
  if (entry.amount_field().empty()) return ToCents(entry.amount());
  auto it = state_.form().fields().find(entry.amount_field());
  std::optional<double> amount;
  if (it != state_.form().fields().end()) amount = AsNumber(it->second);
  if (!amount || *amount < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "form field ", entry.amount_field(), " holds no amount for ledger ", entry.ledger()));
  }
  return ToCents(*amount);
}

absl::StatusOr<std::optional<std::string>> Machine::MoveLedger(const v1::Step& step,
                                                               const v1::LedgerEntry& entry,
                                                               absl::TimeZone zone) {
  const v1::Ledger* ledger = FindLedger(definition_, entry.ledger());
  if (ledger == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("step ", step.id(), " names ledger ", entry.ledger(), ", which is not declared"));
  }
  SIGNOFF_ASSIGN_OR_RETURN(int64_t amount, EntryAmount(entry));
  if (entry.operation() == v1::RELEASE) {
    SIGNOFF_RETURN_IF_ERROR(ReleaseHolds(ledger->name(), amount, step.id()));
    return std::nullopt;
  }
  const v1::LedgerPosition position = PositionOf(*ledger, state_.form(), context_.now, zone);
  if (!ledger->key_field().empty() && position.key().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "form field ", ledger->key_field(), " holds no key for ledger ", ledger->name()));
  }
  const bool consume = entry.operation() == v1::CONSUME;
  // Consuming converts what the instance holds here: that part is
  // already counted against the limit.
  const int64_t needed = amount - (consume ? HeldAt(position) : 0);
  const LedgerBalance balance = BalanceAt(balances_, *ledger, position);
  if (needed > 0 && needed > balance.remaining_cents()) {
    if (entry.on_exceeded().empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "ledger ", ledger->name(), " has ", FormatCents(balance.remaining_cents()), " ",
          ledger->unit(), " remaining",
          position.key().empty() ? "" : absl::StrCat(" for ", position.key()), " in ",
          position.period(),
          "; step ", step.id(), " needs ", FormatCents(needed)));
    }
    v1::Event event = NewEvent(step.id());
    event.set_reason(absl::StrCat("ledger ", ledger->name(), " would be exceeded"));
    v1::LedgerExceeded* exceeded = event.mutable_ledger_exceeded();
    *exceeded->mutable_position() = position;
    exceeded->set_amount_cents(amount);
    exceeded->set_remaining_cents(balance.remaining_cents());
    exceeded->set_to_step(entry.on_exceeded());
    SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
    return entry.on_exceeded();
  }
  if (consume) {
    // Holds in other periods or keys are given back rather than moved.
    SIGNOFF_RETURN_IF_ERROR(ReleaseHolds(ledger->name(), 0, step.id(), PositionKey(position)));
  }
  v1::Event event = NewEvent(step.id());
  v1::LedgerMoved* moved = event.mutable_ledger_moved();
  *moved->mutable_position() = position;
  moved->set_operation(entry.operation());
  moved->set_amount_cents(amount);
  moved->set_limit_cents(balance.limit_cents);
  moved->set_reserved_delta_cents(consume ? -HeldAt(position) : amount);
  moved->set_consumed_delta_cents(consume ? amount : 0);
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  return std::nullopt;
}

absl::Status Machine::ReleaseHolds(const std::string& ledger, int64_t at_most,
                                   const std::string& step_id, const std::string& keep) {
  // Copied first: each release changes the holds.
  const std::vector<v1::LedgerHold> holds(state_.ledger_holds().begin(),
                                          state_.ledger_holds().end());
  int64_t left = at_most;
  for (const auto& hold : holds) {
    if (!ledger.empty() && hold.position().ledger() != ledger) continue;
    if (!keep.empty() && PositionKey(hold.position()) == keep) continue;
    int64_t amount = hold.amount_cents();
    if (at_most > 0) {
      amount = std::min(amount, left);
      left -= amount;
    }
    if (amount <= 0) continue;
    v1::Event event = NewEvent(step_id);
    v1::LedgerMoved* moved = event.mutable_ledger_moved();
    *moved->mutable_position() = hold.position();
    moved->set_operation(v1::RELEASE);
    moved->set_amount_cents(amount);
    moved->set_reserved_delta_cents(-amount);
    SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  }
  return absl::OkStatus();
}

}  // namespace signoff::workflow::internal
