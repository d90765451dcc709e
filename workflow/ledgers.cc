#include "workflow/ledgers.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "workflow/form.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;

namespace {

constexpr char kOperandPrefix[] = "ledger.";

int Quarter(const absl::CivilMonth& month) { return (month.month() - 1) / 3 + 1; }

std::string PeriodOfMonth(v1::LedgerPeriod period, const absl::CivilMonth& month) {
  switch (period) {
    case v1::QUARTER:
      return absl::StrFormat("%04d-Q%d", month.year(), Quarter(month));
    case v1::YEAR:
      return absl::StrFormat("%04d", month.year());
    default:
      return absl::StrFormat("%04d-%02d", month.year(), month.month());
  }
}

google::protobuf::Value NumberValue(int64_t cents) {
  google::protobuf::Value value;
  value.set_number_value(FromCents(cents));
  return value;
}

}  // namespace

int64_t ToCents(double amount) { return std::llround(amount * 100.0); }

double FromCents(int64_t cents) { return static_cast<double>(cents) / 100.0; }

std::string FormatCents(int64_t cents) {
  const char* sign = cents < 0 ? "-" : "";
  const int64_t magnitude = std::llabs(cents);
  return absl::StrFormat("%s%d.%02d", sign, magnitude / 100, magnitude % 100);
}

std::string PositionKey(const v1::LedgerPosition& position) {
  return absl::StrCat(position.ledger(), "\x1f", position.key(), "\x1f", position.period());
}

std::string PeriodAt(v1::LedgerPeriod period, absl::Time now, absl::TimeZone zone) {
  return PeriodOfMonth(period, absl::CivilMonth(absl::ToCivilDay(now, zone)));
}

std::vector<std::string> PeriodsBetween(v1::LedgerPeriod period, absl::CivilDay from,
                                        absl::CivilDay to) {
  std::vector<std::string> periods;
  for (absl::CivilMonth month(from); month <= absl::CivilMonth(to); ++month) {
    std::string label = PeriodOfMonth(period, month);
    if (periods.empty() || periods.back() != label) periods.push_back(std::move(label));
  }
  return periods;
}

absl::Status CheckPeriod(v1::LedgerPeriod period, const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, '-');
  int year = 0;
  const bool year_ok = !parts.empty() && parts[0].size() == 4 && absl::SimpleAtoi(parts[0], &year);
  bool ok = false;
  switch (period) {
    case v1::QUARTER:
      ok = year_ok && parts.size() == 2 && parts[1].size() == 2 && parts[1][0] == 'Q' &&
           parts[1][1] >= '1' && parts[1][1] <= '4';
      break;
    case v1::YEAR:
      ok = year_ok && parts.size() == 1;
      break;
    default: {
      int month = 0;
      ok = year_ok && parts.size() == 2 && parts[1].size() == 2 &&
           absl::SimpleAtoi(parts[1], &month) && month >= 1 && month <= 12;
    }
  }
  if (ok) return absl::OkStatus();
  const char* shape = period == v1::QUARTER ? "YYYY-Qn" : period == v1::YEAR ? "YYYY" : "YYYY-MM";
  return absl::InvalidArgumentError(
      absl::StrCat("period '", text, "' is not of the form ", shape));
}

absl::StatusOr<absl::TimeZone> DefinitionZone(const v1::WorkflowDefinition& definition,
                                              const CalendarSet* calendars) {
  if (definition.calendar().empty()) return absl::UTCTimeZone();
  const BusinessCalendar* calendar =
      calendars == nullptr ? nullptr : calendars->Find(definition.calendar());
  if (calendar == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("business calendar ", definition.calendar(), " is not published"));
  }
  return calendar->zone();
}

const v1::Ledger* FindLedger(const v1::WorkflowDefinition& definition, const std::string& name) {
  for (const auto& ledger : definition.ledgers()) {
    if (ledger.name() == name) return &ledger;
  }
  return nullptr;
}

std::string LedgerKeyOf(const v1::Ledger& ledger, const google::protobuf::Struct& form) {
  if (ledger.key_field().empty()) return ledger.key();
  auto it = form.fields().find(ledger.key_field());
  return it == form.fields().end() ? "" : AsText(it->second);
}

v1::LedgerPosition PositionOf(const v1::Ledger& ledger, const google::protobuf::Struct& form,
                              absl::Time now, absl::TimeZone zone) {
  v1::LedgerPosition position;
  position.set_ledger(ledger.name());
  position.set_key(LedgerKeyOf(ledger, form));
  position.set_period(PeriodAt(ledger.period(), now, zone));
  return position;
}

std::vector<v1::LedgerPosition> PositionsFor(const v1::WorkflowDefinition& definition,
                                             const google::protobuf::Struct& form, absl::Time now,
                                             absl::TimeZone zone) {
  std::vector<v1::LedgerPosition> positions;
  for (const auto& ledger : definition.ledgers()) {
    positions.push_back(PositionOf(ledger, form, now, zone));
  }
  return positions;
}

LedgerBalance BalanceAt(const LedgerBalances& balances, const v1::Ledger& ledger,
                        const v1::LedgerPosition& position) {
  auto it = balances.find(PositionKey(position));
  if (it != balances.end()) return it->second;
  LedgerBalance untouched;
  untouched.limit_cents = ToCents(ledger.limit());
  return untouched;
}

google::protobuf::Struct WithLedgerOperands(const v1::WorkflowDefinition& definition,
                                            const google::protobuf::Struct& form,
                                            const LedgerBalances& balances, absl::Time now,
                                            absl::TimeZone zone) {
  google::protobuf::Struct data = form;
  auto& fields = *data.mutable_fields();
  for (const auto& ledger : definition.ledgers()) {
    const LedgerBalance balance = BalanceAt(balances, ledger, PositionOf(ledger, form, now, zone));
    const std::string prefix = absl::StrCat(kOperandPrefix, ledger.name(), ".");
    fields[prefix + "remaining"] = NumberValue(balance.remaining_cents());
    fields[prefix + "limit"] = NumberValue(balance.limit_cents);
    fields[prefix + "reserved"] = NumberValue(balance.reserved_cents);
    fields[prefix + "consumed"] = NumberValue(balance.consumed_cents);
  }
  return data;
}

bool IsLedgerOperand(const v1::WorkflowDefinition& definition, const std::string& field) {
  for (const auto& ledger : definition.ledgers()) {
    const std::string prefix = absl::StrCat(kOperandPrefix, ledger.name(), ".");
    for (const char* which : {"remaining", "limit", "reserved", "consumed"}) {
      if (field == prefix + which) return true;
    }
  }
  return false;
}

void ApplyMovement(LedgerBalance& balance, const v1::LedgerMoved& moved) {
  balance.reserved_cents += moved.reserved_delta_cents();
  balance.consumed_cents += moved.consumed_delta_cents();
}

}  // namespace signoff::workflow
