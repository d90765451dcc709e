// Ledger balances and scheduled starts on every backend: a change that
// would take a balance past its limit commits nothing, even when two
// replicas race for the last of it, and a schedule period starts once per
// subject.

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "storage/ledgers.h"
#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using ::testing::IsEmpty;
using ::testing::SizeIs;

v1::LedgerPosition Position(const std::string& key, const std::string& period = "2026-Q2") {
  v1::LedgerPosition position;
  position.set_ledger("budget");
  position.set_key(key);
  position.set_period(period);
  return position;
}

LedgerChange Change(const std::string& key, int64_t reserved, int64_t consumed) {
  LedgerChange change;
  change.definition_key = "loyalty";
  change.position = Position(key);
  change.default_limit_cents = 10000;
  change.reserved_delta_cents = reserved;
  change.consumed_delta_cents = consumed;
  return change;
}

class LedgerStoreTest : public StoreTest {
 protected:
  absl::Status Write(LedgerWrites writes, Store* on = nullptr) {
    Mutation mutation;
    mutation.ledgers = std::move(writes);
    return (on == nullptr ? store() : *on).Commit(std::move(mutation)).status();
  }

  absl::Status Move(const std::string& key, int64_t reserved, int64_t consumed,
                    Store* on = nullptr) {
    LedgerWrites writes;
    writes.changes.push_back(Change(key, reserved, consumed));
    return Write(std::move(writes), on);
  }

  workflow::LedgerBalance Balance(const std::string& key) {
    auto found = store().LoadLedgerBalances("loyalty", {Position(key)});
    EXPECT_TRUE(found.ok()) << found.status();
    if (!found.ok() || found->empty()) return {};
    return found->front().balance;
  }

  ScheduleStart Start(const std::string& period, const std::string& subject,
                      const std::string& instance_id) {
    return ScheduleStart{"quota", period, subject, instance_id,
                         absl::FromUnixSeconds(1775000000), ""};
  }
};

TEST_P(LedgerStoreTest, ChangesAddUpUnderTheDeclaredLimit) {
  EXPECT_THAT(*store().LoadLedgerBalances("loyalty", {Position("")}), IsEmpty());
  ASSERT_OK(Move("", 3000, 0));
  ASSERT_OK(Move("", -3000, 3000));
  const workflow::LedgerBalance balance = Balance("");
  EXPECT_EQ(balance.limit_cents, 10000);
  EXPECT_EQ(balance.reserved_cents, 0);
  EXPECT_EQ(balance.consumed_cents, 3000);
}

TEST_P(LedgerStoreTest, TheLastCentIsTakenAndOneMoreIsRefusedWhole) {
  ASSERT_OK(Move("", 0, 6000));
  // Refused: 40.01 when 40.00 remain; the schedule start riding along is
  // not stored either.
  LedgerWrites over;
  over.changes.push_back(Change("", 0, 4001));
  over.schedule_start = Start("2026-04", "DLR-001", "i1");
  EXPECT_CODE(Write(over), absl::StatusCode::kAborted);
  EXPECT_EQ(Balance("").consumed_cents, 6000);
  EXPECT_THAT(*store().ListScheduleStarts("quota", "2026-04"), IsEmpty());
  ASSERT_OK(Move("", 4000, 0));
  EXPECT_EQ(Balance("").remaining_cents(), 0);
  // Giving back is never refused.
  ASSERT_OK(Move("", -4000, 0));
  EXPECT_EQ(Balance("").remaining_cents(), 4000);
}

TEST_P(LedgerStoreTest, AnAdministratorsLimitReplacesTheDeclaredOne) {
  LedgerWrites limit;
  limit.limit = LedgerLimit{"loyalty", Position("DLR-001"), 500};
  ASSERT_OK(Write(limit));
  EXPECT_CODE(Move("DLR-001", 0, 501), absl::StatusCode::kAborted);
  ASSERT_OK(Move("DLR-001", 0, 500));
  // Lowering a limit below what was used leaves nothing to take.
  limit.limit->limit_cents = 100;
  ASSERT_OK(Write(limit));
  EXPECT_EQ(Balance("DLR-001").remaining_cents(), -400);
  EXPECT_CODE(Move("DLR-001", 1, 0), absl::StatusCode::kAborted);

  ASSERT_OK(Move("DLR-002", 0, 1));
  ASSERT_OK_AND_ASSIGN(auto listed, store().ListLedgerBalances({"loyalty", "budget", "2026-Q2"}));
  ASSERT_THAT(listed, SizeIs(2));
  EXPECT_EQ(listed[0].position.key(), "DLR-001");
  EXPECT_EQ(listed[0].balance.limit_cents, 100);
  EXPECT_EQ(listed[1].position.key(), "DLR-002");
  EXPECT_EQ(listed[1].balance.limit_cents, 10000);
  EXPECT_THAT(*store().ListLedgerBalances({"loyalty", "", "2026-Q3"}), IsEmpty());
  EXPECT_THAT(*store().ListLedgerBalances({"other", "", ""}), IsEmpty());
}

TEST_P(LedgerStoreTest, TwoReplicasRacingForTheRestNeverOverdraw) {
  auto other = backend().Open();
  ASSERT_OK(other);
  ASSERT_OK(Move("", 0, 4000));
  // Six consumers, three per replica, each wanting 20.00 of the 60.00 left:
  // exactly three get it.
  std::atomic<int> taken{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    Store* on = i % 2 == 0 ? &store() : other->get();
    threads.emplace_back([&, on] {
      absl::Status status = Move("", 0, 2000, on);
      if (status.ok()) {
        ++taken;
      } else if (absl::IsAborted(status)) {
        ++refused;
      } else {
        ADD_FAILURE() << status;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(taken.load(), 3);
  EXPECT_EQ(refused.load(), 3);
  EXPECT_EQ(Balance("").consumed_cents, 10000);
}

TEST_P(LedgerStoreTest, RoutingsPastTheLimitAreCountedEvenWhenNothingRemains) {
  ASSERT_OK(Move("DLR-001", 0, 10000));
  // A routing moves nothing, so it is counted on a full balance, and on
  // one that no movement touched before (created with its declared limit).
  LedgerWrites routed;
  LedgerChange full = Change("DLR-001", 0, 0);
  full.exceeded_delta = 2;
  LedgerChange untouched = Change("DLR-002", 0, 0);
  untouched.exceeded_delta = 1;
  routed.changes = {full, untouched};
  ASSERT_OK(Write(routed));
  ASSERT_OK(Move("DLR-002", 500, 0));
  ASSERT_OK_AND_ASSIGN(auto listed, store().ListLedgerBalances({"loyalty", "budget", "2026-Q2"}));
  ASSERT_THAT(listed, SizeIs(2));
  EXPECT_EQ(listed[0].exceeded_count, 2);
  EXPECT_EQ(listed[0].balance.consumed_cents, 10000);
  EXPECT_EQ(listed[1].exceeded_count, 1);
  EXPECT_EQ(listed[1].balance.limit_cents, 10000);
  EXPECT_EQ(listed[1].balance.reserved_cents, 500);
  ASSERT_OK_AND_ASSIGN(auto loaded, store().LoadLedgerBalances("loyalty", {Position("DLR-001")}));
  ASSERT_THAT(loaded, SizeIs(1));
  EXPECT_EQ(loaded[0].exceeded_count, 2);
}

TEST_P(LedgerStoreTest, AScheduledPeriodStartsOncePerSubject) {
  EXPECT_EQ(*store().LastScheduledRun("quota"), std::nullopt);
  LedgerWrites first;
  first.schedule_start = Start("2026-04", "DLR-001", "i1");
  ASSERT_OK(Write(first));
  LedgerWrites again;
  again.schedule_start = Start("2026-04", "DLR-001", "i2");
  EXPECT_CODE(Write(again), absl::StatusCode::kAlreadyExists);
  LedgerWrites other_subject;
  other_subject.schedule_start = Start("2026-04", "DLR-002", "i3");
  ASSERT_OK(Write(other_subject));
  ASSERT_OK_AND_ASSIGN(auto started, store().ListScheduleStarts("quota", "2026-04"));
  ASSERT_THAT(started, SizeIs(2));
  EXPECT_EQ(started[0].subject, "DLR-001");
  EXPECT_EQ(started[0].instance_id, "i1");
  EXPECT_EQ(started[1].instance_id, "i3");
  EXPECT_EQ(*store().LastScheduledRun("quota"), absl::FromUnixSeconds(1775000000));
}

TEST_P(LedgerStoreTest, ASkippedRunSettlesItsDayForTheSubject) {
  ScheduleStart skip = Start("2026-04-15", "DLR-001", "");
  skip.skip_reason = "subject quota/DLR-001 already has an open instance (instance i0)";
  LedgerWrites skipped;
  skipped.schedule_start = skip;
  ASSERT_OK(Write(skipped));
  // Neither a start nor a second skip of that day and subject is taken.
  LedgerWrites start;
  start.schedule_start = Start("2026-04-15", "DLR-001", "i1");
  EXPECT_CODE(Write(start), absl::StatusCode::kAlreadyExists);
  EXPECT_CODE(Write(skipped), absl::StatusCode::kAlreadyExists);
  LedgerWrites next_day;
  next_day.schedule_start = Start("2026-04-16", "DLR-001", "i2");
  ASSERT_OK(Write(next_day));
  ASSERT_OK_AND_ASSIGN(auto recorded, store().ListScheduleStarts("quota", "2026-04-15"));
  ASSERT_THAT(recorded, SizeIs(1));
  EXPECT_EQ(recorded[0].instance_id, "");
  EXPECT_EQ(recorded[0].skip_reason, skip.skip_reason);
  ASSERT_OK_AND_ASSIGN(auto started, store().ListScheduleStarts("quota", "2026-04-16"));
  ASSERT_THAT(started, SizeIs(1));
  EXPECT_EQ(started[0].instance_id, "i2");
  EXPECT_EQ(started[0].skip_reason, "");
}

INSTANTIATE_TEST_SUITE_P(Backends, LedgerStoreTest,
                         ::testing::Values(BackendParam{"sqlite", &MakeSqliteBackend},
                                           BackendParam{"postgresql", &MakePostgresqlBackend}),
                         BackendName);

}  // namespace
}  // namespace signoff::storage::testing
