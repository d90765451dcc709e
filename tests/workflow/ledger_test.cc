#include "gmock/gmock.h"
#include "harness.h"
#include "workflow/ledgers.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Finance reserves the amount on the quarter's budget, the executive
// consumes it; over the budget finance's approval is refused, or routed
// to a review when `on_exceeded` says so.
std::string BudgetDefinition(const std::string& on_exceeded = "") {
  return R"(
key: budget-scheme
form:
  fields:
    - {name: amount, type: MONEY, required: true}
    - {name: dealer, type: STRING, required: true}
ledgers:
  - {name: budget, period: QUARTER, limit: 1000, unit: CNY}
  - {name: quota, period: MONTH, key_field: dealer, limit: 500}
steps:
  - id: finance
    approval: {approvers: [{user: fiona}]}
    ledger_entries: [{ledger: budget, operation: RESERVE, amount_field: amount)" +
         (on_exceeded.empty() ? "" : ", on_exceeded: " + on_exceeded) + R"(}]
    next: [{to: executive}]
  - id: executive
    approval: {approvers: [{user: ceo}]}
    ledger_entries: [{ledger: budget, operation: CONSUME, amount_field: amount}]
    next: [{to: done}]
  - id: done
    end: {}
)" + (on_exceeded.empty() ? "" : R"(
  - id: over-budget
    approval: {approvers: [{user: sam}]}
    next: [{to: rejected}]
  - id: rejected
    end: {rejected: true}
)");
}

v1::LedgerPosition Position(const std::string& ledger, const std::string& key,
                            const std::string& period) {
  v1::LedgerPosition position;
  position.set_ledger(ledger);
  position.set_key(key);
  position.set_period(period);
  return position;
}

const std::string kBudgetQ1 = workflow::PositionKey(Position("budget", "", "2026-Q1"));

workflow::LedgerBalance Balance(int64_t limit, int64_t reserved, int64_t consumed) {
  workflow::LedgerBalance balance;
  balance.limit_cents = limit;
  balance.reserved_cents = reserved;
  balance.consumed_cents = consumed;
  return balance;
}

TEST(LedgerTest, ApprovalReservesAndTheLastApprovalConvertsTheReservation) {
  Harness h(BudgetDefinition());
  ASSERT_OK(h.Start("ann", "{amount: 400, dealer: d1}"));
  ASSERT_OK(h.Approve("fiona"));
  ASSERT_EQ(h.state().ledger_holds_size(), 1);
  EXPECT_EQ(h.state().ledger_holds(0).amount_cents(), 40000);
  EXPECT_EQ(h.state().ledger_holds(0).position().period(), "2026-Q1");
  EXPECT_EQ(h.ledgers[kBudgetQ1].reserved_cents, 40000);
  EXPECT_EQ(h.ledgers[kBudgetQ1].remaining_cents(), 60000);

  ASSERT_OK(h.Approve("ceo"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
  EXPECT_THAT(h.state().ledger_holds(), IsEmpty());
  EXPECT_EQ(h.ledgers[kBudgetQ1].reserved_cents, 0);
  EXPECT_EQ(h.ledgers[kBudgetQ1].consumed_cents, 40000);
  EXPECT_EQ(h.EventsOfType("ledger_moved").size(), 2u);
}

TEST(LedgerTest, AnAmountEqualToWhatRemainsIsTakenAndOneCentMoreIsRefused) {
  Harness exact(BudgetDefinition());
  exact.ledgers[kBudgetQ1] = Balance(100000, 0, 60000);
  ASSERT_OK(exact.Start("ann", "{amount: 400, dealer: d1}"));
  ASSERT_OK(exact.Approve("fiona"));
  EXPECT_EQ(exact.ledgers[kBudgetQ1].remaining_cents(), 0);

  Harness over(BudgetDefinition());
  over.ledgers[kBudgetQ1] = Balance(100000, 0, 60000);
  ASSERT_OK(over.Start("ann", "{amount: 400.01, dealer: d1}"));
  const size_t events_before = over.events().size();
  absl::Status refused = over.Approve("fiona");
  EXPECT_CODE(refused, absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("ledger budget has 400.00 CNY remaining"));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("needs 400.01"));
  EXPECT_EQ(over.events().size(), events_before);
  EXPECT_NE(over.PendingTaskOf("fiona"), nullptr);
  EXPECT_EQ(over.ledgers[kBudgetQ1].reserved_cents, 0);
}

TEST(LedgerTest, ConsumingOnlyNeedsWhatTheReservationDoesNotCover) {
  Harness h(BudgetDefinition());
  ASSERT_OK(h.Start("ann", "{amount: 1000, dealer: d1}"));
  ASSERT_OK(h.Approve("fiona"));
  EXPECT_EQ(h.ledgers[kBudgetQ1].remaining_cents(), 0);
  // Nothing remains, yet the executive consumes what finance reserved.
  ASSERT_OK(h.Approve("ceo"));
  EXPECT_EQ(h.ledgers[kBudgetQ1].consumed_cents, 100000);
  EXPECT_EQ(h.ledgers[kBudgetQ1].reserved_cents, 0);
}

TEST(LedgerTest, AnExceededLedgerRoutesToOnExceededAndMovesNothing) {
  Harness h(BudgetDefinition("over-budget"));
  h.ledgers[kBudgetQ1] = Balance(100000, 0, 60000);
  ASSERT_OK(h.Start("ann", "{amount: 400.01, dealer: d1}"));
  ASSERT_OK(h.Approve("fiona"));
  EXPECT_THAT(h.ActiveSteps(), ElementsAre("over-budget"));
  ASSERT_EQ(h.EventsOfType("ledger_exceeded").size(), 1u);
  const v1::LedgerExceeded& exceeded = h.EventsOfType("ledger_exceeded")[0]->ledger_exceeded();
  EXPECT_EQ(exceeded.amount_cents(), 40001);
  EXPECT_EQ(exceeded.remaining_cents(), 40000);
  EXPECT_THAT(h.EventsOfType("ledger_moved"), IsEmpty());
  EXPECT_EQ(h.ledgers[kBudgetQ1].reserved_cents, 0);
}

TEST(LedgerTest, RejectionReleasesTheReservation) {
  Harness h(BudgetDefinition());
  ASSERT_OK(h.Start("ann", "{amount: 300, dealer: d1}"));
  ASSERT_OK(h.Approve("fiona"));
  v1::DecideTaskRequest reject;
  reject.set_task_id(h.PendingTaskOf("ceo")->id());
  reject.set_action(v1::REJECT);
  reject.set_comment("not now");
  ASSERT_OK(h.Decide("ceo", reject));
  EXPECT_EQ(h.state().status(), v1::REJECTED);
  EXPECT_THAT(h.state().ledger_holds(), IsEmpty());
  EXPECT_EQ(h.ledgers[kBudgetQ1].reserved_cents, 0);
  EXPECT_EQ(h.ledgers[kBudgetQ1].consumed_cents, 0);
  const auto moves = h.EventsOfType("ledger_moved");
  ASSERT_EQ(moves.size(), 2u);
  EXPECT_EQ(moves[1]->ledger_moved().operation(), v1::RELEASE);
  EXPECT_EQ(moves[1]->ledger_moved().reserved_delta_cents(), -30000);
}

TEST(LedgerTest, WithdrawalAndCancellationReleaseTheReservation) {
  Harness withdrawn(BudgetDefinition());
  ASSERT_OK(withdrawn.Start("ann", "{amount: 300, dealer: d1}"));
  ASSERT_OK(withdrawn.Approve("fiona"));
  v1::Command withdraw;
  withdraw.mutable_withdraw()->set_comment("changed my mind");
  ASSERT_OK(withdrawn.Run("ann", withdraw));
  EXPECT_EQ(withdrawn.state().status(), v1::WITHDRAWN);
  EXPECT_EQ(withdrawn.ledgers[kBudgetQ1].reserved_cents, 0);

  Harness cancelled(BudgetDefinition());
  ASSERT_OK(cancelled.Start("ann", "{amount: 300, dealer: d1}"));
  ASSERT_OK(cancelled.Approve("fiona"));
  v1::Command cancel;
  cancel.mutable_cancel()->set_comment("duplicate");
  ASSERT_OK(cancelled.Run("ceo", cancel));
  EXPECT_EQ(cancelled.state().status(), v1::CANCELLED);
  EXPECT_EQ(cancelled.ledgers[kBudgetQ1].reserved_cents, 0);
  EXPECT_THAT(cancelled.state().ledger_holds(), IsEmpty());
}

// Routes on the dealer's quota: at least 100 left goes the fast way.
std::string QuotaDefinition() {
  return R"(
key: quota-check
form:
  fields:
    - {name: dealer, type: STRING, required: true}
    - {name: units, type: NUMBER, required: true}
ledgers:
  - {name: quota, period: MONTH, key_field: dealer, limit: 500}
steps:
  - id: check
    task: {assignees: [{user: mia}]}
    ledger_entries: [{ledger: quota, operation: CONSUME, amount_field: units}]
    next:
      - {when: {field: ledger.quota.remaining, op: GE, value: 100}, to: fast}
      - {to: slow}
  - id: fast
    end: {}
  - id: slow
    approval: {approvers: [{user: sam}]}
    next: [{to: fast}]
)";
}

TEST(LedgerTest, AConditionReadsWhatRemainsAfterTheStepsOwnMovement) {
  const std::string d1 = workflow::PositionKey(Position("quota", "d1", "2026-01"));
  Harness at_boundary(QuotaDefinition());
  ASSERT_OK(at_boundary.Start("ann", "{dealer: d1, units: 400}"));
  ASSERT_OK(at_boundary.Approve("mia"));
  EXPECT_EQ(at_boundary.ledgers[d1].remaining_cents(), 10000);
  EXPECT_EQ(at_boundary.state().status(), v1::APPROVED);

  Harness below(QuotaDefinition());
  ASSERT_OK(below.Start("ann", "{dealer: d1, units: 400.01}"));
  ASSERT_OK(below.Approve("mia"));
  EXPECT_THAT(below.ActiveSteps(), ElementsAre("slow"));
}

TEST(LedgerTest, KeysKeepSeparateBalances) {
  Harness h(QuotaDefinition());
  h.ledgers[workflow::PositionKey(Position("quota", "d2", "2026-01"))] = Balance(50000, 0, 50000);
  ASSERT_OK(h.Start("ann", "{dealer: d1, units: 500}"));
  ASSERT_OK(h.Approve("mia"));
  EXPECT_EQ(h.ledgers[workflow::PositionKey(Position("quota", "d1", "2026-01"))].consumed_cents,
            50000);
}

TEST(LedgerTest, PeriodsFollowTheTimeZone) {
  const absl::Time new_year_utc = absl::FromUnixSeconds(1767225600);  // 2026-01-01 00:00Z
  absl::TimeZone shanghai;
  ASSERT_TRUE(absl::LoadTimeZone("Asia/Shanghai", &shanghai));
  const absl::Time before = new_year_utc - absl::Hours(9);  // 2025-12-31 23:00 in Shanghai
  EXPECT_EQ(workflow::PeriodAt(v1::QUARTER, before, shanghai), "2025-Q4");
  EXPECT_EQ(workflow::PeriodAt(v1::QUARTER, before + absl::Hours(1), shanghai), "2026-Q1");
  EXPECT_EQ(workflow::PeriodAt(v1::MONTH, before, absl::UTCTimeZone()), "2025-12");
  EXPECT_EQ(workflow::PeriodAt(v1::YEAR, new_year_utc, absl::UTCTimeZone()), "2026");
  EXPECT_OK(workflow::CheckPeriod(v1::QUARTER, "2026-Q4"));
  EXPECT_CODE(workflow::CheckPeriod(v1::QUARTER, "2026-Q5"), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(workflow::CheckPeriod(v1::MONTH, "2026-13"), absl::StatusCode::kInvalidArgument);
}

TEST(LedgerTest, PeriodsBetweenListEveryPeriodWithADayInTheRange) {
  const absl::CivilDay april_15(2026, 4, 15);
  const absl::CivilDay may_31(2026, 5, 31);
  EXPECT_THAT(workflow::PeriodsBetween(v1::MONTH, april_15, may_31),
              ElementsAre("2026-04", "2026-05"));
  EXPECT_THAT(workflow::PeriodsBetween(v1::QUARTER, april_15, may_31), ElementsAre("2026-Q2"));
  EXPECT_THAT(workflow::PeriodsBetween(v1::YEAR, april_15, may_31), ElementsAre("2026"));
  // One day on each side of a quarter's and a year's boundary.
  EXPECT_THAT(workflow::PeriodsBetween(v1::QUARTER, absl::CivilDay(2025, 12, 31),
                                       absl::CivilDay(2026, 1, 1)),
              ElementsAre("2025-Q4", "2026-Q1"));
  EXPECT_THAT(
      workflow::PeriodsBetween(v1::YEAR, absl::CivilDay(2025, 12, 31), absl::CivilDay(2026, 1, 1)),
      ElementsAre("2025", "2026"));
  EXPECT_THAT(workflow::PeriodsBetween(v1::MONTH, may_31, may_31), ElementsAre("2026-05"));
  EXPECT_THAT(workflow::PeriodsBetween(v1::MONTH, may_31, april_15), IsEmpty());
}

TEST(LedgerTest, ValidationNamesUnknownLedgersAndOperands) {
  auto definition = workflow::ParseDefinitionYaml(R"(
key: bad
form: {fields: [{name: amount, type: MONEY}]}
ledgers: [{name: budget, limit: 10.001}]
steps:
  - id: a
    approval: {approvers: [{user: fiona}]}
    ledger_entries: [{ledger: missing, operation: RESERVE, amount_field: amount}]
    next:
      - {when: {field: ledger.other.remaining, op: GE, value: 1}, to: b}
      - {to: b}
  - id: b
    end: {}
)");
  ASSERT_OK(definition);
  std::vector<std::string> paths;
  for (const auto& problem : workflow::ValidateDefinition(*definition, nullptr, nullptr)) {
    paths.push_back(problem.path());
  }
  EXPECT_THAT(paths, ::testing::UnorderedElementsAre(
                         "ledgers[0].limit", "steps[0].ledger_entries[0].ledger",
                         "steps[0].ledger_entries[0].amount_field", "steps[0].next[0].when.field"));
}

}  // namespace
}  // namespace signoff::testing
