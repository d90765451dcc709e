#pragma once

// Ledgers (signoff.v1.Ledger): where a movement lands (key and period),
// balances in hundredths, and what conditions read of them. Pure: the
// balances are loaded by the caller and handed to the engine.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "signoff/v1/definition.pb.h"
#include "signoff/v1/instance.pb.h"
#include "workflow/calendar.h"

namespace signoff::workflow {

// Amounts travel as decimals with at most two fraction digits and are kept
// as whole hundredths.
int64_t ToCents(double amount);
double FromCents(int64_t cents);
std::string FormatCents(int64_t cents);

struct LedgerBalance {
  int64_t limit_cents = 0;
  int64_t reserved_cents = 0;
  int64_t consumed_cents = 0;
  int64_t remaining_cents() const { return limit_cents - reserved_cents - consumed_cents; }
};

// One text per position, for maps.
std::string PositionKey(const signoff::v1::LedgerPosition& position);

// The balances an engine call sees, by PositionKey. A balance not listed
// is untouched: its declared limit, nothing used.
using LedgerBalances = std::map<std::string, LedgerBalance>;

// The period that holds at `now` in `zone`: "2026-04", "2026-Q2", "2026".
std::string PeriodAt(signoff::v1::LedgerPeriod period, absl::Time now, absl::TimeZone zone);
// The periods of this kind that have a day in [from, to], oldest first;
// none when `to` is before `from`.
std::vector<std::string> PeriodsBetween(signoff::v1::LedgerPeriod period, absl::CivilDay from,
                                        absl::CivilDay to);
// INVALID_ARGUMENT unless `text` names a period of this kind.
absl::Status CheckPeriod(signoff::v1::LedgerPeriod period, const std::string& text);

// The zone ledger periods and schedules follow: the definition's
// calendar's, UTC without one. FAILED_PRECONDITION for a calendar that is
// not published.
absl::StatusOr<absl::TimeZone> DefinitionZone(const signoff::v1::WorkflowDefinition& definition,
                                              const CalendarSet* calendars);

const signoff::v1::Ledger* FindLedger(const signoff::v1::WorkflowDefinition& definition,
                                      const std::string& name);

// The key a form files under on a ledger: its key field's value, or the
// constant key.
std::string LedgerKeyOf(const signoff::v1::Ledger& ledger, const google::protobuf::Struct& form);

// Where a movement made now by an instance with this form lands.
signoff::v1::LedgerPosition PositionOf(const signoff::v1::Ledger& ledger,
                                       const google::protobuf::Struct& form, absl::Time now,
                                       absl::TimeZone zone);

// The balances an engine call on an instance with this form may read or
// move: one per declared ledger.
std::vector<signoff::v1::LedgerPosition> PositionsFor(
    const signoff::v1::WorkflowDefinition& definition, const google::protobuf::Struct& form,
    absl::Time now, absl::TimeZone zone);

// The balance at `position`, or the ledger's declared limit when none is
// listed.
LedgerBalance BalanceAt(const LedgerBalances& balances, const signoff::v1::Ledger& ledger,
                        const signoff::v1::LedgerPosition& position);

// The condition operands of the definition's ledgers, as a condition
// reads them: "ledger.<name>.remaining", ".limit", ".reserved",
// ".consumed", added to a copy of the form.
google::protobuf::Struct WithLedgerOperands(const signoff::v1::WorkflowDefinition& definition,
                                            const google::protobuf::Struct& form,
                                            const LedgerBalances& balances, absl::Time now,
                                            absl::TimeZone zone);

// True for a condition field naming a ledger operand of the definition.
bool IsLedgerOperand(const signoff::v1::WorkflowDefinition& definition, const std::string& field);

// Folds a movement into a balance.
void ApplyMovement(LedgerBalance& balance, const signoff::v1::LedgerMoved& moved);

}  // namespace signoff::workflow
