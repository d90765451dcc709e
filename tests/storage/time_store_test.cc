// Time in the store: calendars, the timers table with its leased claims,
// due-time task queries and the breached-SLA instance filter.

#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using ::signoff::v1::PENDING;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TimerClaim ClaimAt(int64_t seconds, const std::string& owner, int limit = 10) {
  TimerClaim claim;
  claim.now = absl::FromUnixSeconds(seconds);
  claim.owner = owner;
  claim.lease = absl::Seconds(60);
  claim.limit = limit;
  return claim;
}

std::vector<std::string> Ids(const std::vector<ClaimedTimer>& claimed) {
  std::vector<std::string> ids;
  for (const auto& timer : claimed) ids.push_back(timer.timer.id());
  return ids;
}

Mutation CalendarMutation(const signoff::v1::PublishedCalendar& published) {
  Mutation mutation;
  mutation.calendar = published;
  return mutation;
}

TEST_P(StoreTest, CalendarsAreVersionedByName) {
  signoff::v1::PublishedCalendar published;
  published.mutable_calendar()->set_name("work");
  published.mutable_calendar()->set_time_zone("UTC");
  ASSERT_OK_AND_ASSIGN(CommitResult first, store().Commit(CalendarMutation(published)));
  EXPECT_EQ(first.calendar_version, 1);
  published.mutable_calendar()->set_time_zone("Asia/Shanghai");
  ASSERT_OK_AND_ASSIGN(CommitResult second, store().Commit(CalendarMutation(published)));
  EXPECT_EQ(second.calendar_version, 2);
  published.set_version(2);
  EXPECT_CODE(store().Commit(CalendarMutation(published)), absl::StatusCode::kAborted);
  ASSERT_OK_AND_ASSIGN(auto latest, store().GetCalendar("work", 0));
  EXPECT_EQ(latest.version(), 2);
  EXPECT_EQ(latest.calendar().time_zone(), "Asia/Shanghai");
  ASSERT_OK_AND_ASSIGN(auto older, store().GetCalendar("work", 1));
  EXPECT_EQ(older.calendar().time_zone(), "UTC");
  EXPECT_CODE(store().GetCalendar("work", 3), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto all, store().ListCalendars());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].version(), 2);
}

TEST_P(StoreTest, DueTimersAreLeasedToOneOwnerAtATime) {
  Mutation start = StartMutation(MakeInstance("i-1", 1));
  start.timers_set = {MakeTimer("m1", 100), MakeTimer("m2", 200), MakeTimer("m3", 300)};
  ASSERT_OK(store().Commit(start));
  ASSERT_OK_AND_ASSIGN(auto first, store().ClaimDueTimers(ClaimAt(250, "a")));
  EXPECT_THAT(Ids(first), ElementsAre("m1", "m2"));
  EXPECT_EQ(first[0].instance_id, "i-1");
  ASSERT_OK_AND_ASSIGN(auto other, store().ClaimDueTimers(ClaimAt(260, "b")));
  EXPECT_THAT(Ids(other), IsEmpty());
  // A lease that ran out lets another owner take the timer over.
  ASSERT_OK_AND_ASSIGN(auto taken_over, store().ClaimDueTimers(ClaimAt(400, "b")));
  EXPECT_THAT(Ids(taken_over), ElementsAre("m1", "m2", "m3"));
}

TEST_P(StoreTest, TimersRemovedOrMovedByACommitAreNotClaimed) {
  Mutation start = StartMutation(MakeInstance("i-1", 1));
  start.timers_set = {MakeTimer("m1", 100), MakeTimer("m2", 100)};
  ASSERT_OK(store().Commit(start));
  Mutation next;
  next.instance = MakeInstance("i-1", 2);
  next.expected_version = 1;
  next.timers_removed = {"m1"};
  next.timers_set = {MakeTimer("m2", 900)};
  ASSERT_OK(store().Commit(next));
  ASSERT_OK_AND_ASSIGN(auto due, store().ClaimDueTimers(ClaimAt(500, "a")));
  EXPECT_THAT(Ids(due), IsEmpty());
  Reopen();
  ASSERT_OK_AND_ASSIGN(due, store().ClaimDueTimers(ClaimAt(1000, "a")));
  EXPECT_THAT(Ids(due), ElementsAre("m2"));
}

TEST_P(StoreTest, AFailedCommitLeavesTimersAsTheyWere) {
  Mutation start = StartMutation(MakeInstance("i-1", 1));
  start.timers_set = {MakeTimer("m1", 100)};
  ASSERT_OK(store().Commit(start));
  Mutation stale;
  stale.instance = MakeInstance("i-1", 2);
  stale.expected_version = 5;
  stale.instance->set_version(6);
  stale.timers_removed = {"m1"};
  EXPECT_CODE(store().Commit(stale), absl::StatusCode::kAborted);
  ASSERT_OK_AND_ASSIGN(auto due, store().ClaimDueTimers(ClaimAt(500, "a")));
  EXPECT_THAT(Ids(due), ElementsAre("m1"));
}

TEST_P(StoreTest, TasksAreListedByDueTimeAndInstancesByBreach) {
  Mutation start = StartMutation(MakeInstance("i-1", 1));
  signoff::v1::Task soon = MakeTask("t-1", "i-1", PENDING, "bob", 10);
  *soon.mutable_due_at() = At(100);
  signoff::v1::Task later = MakeTask("t-2", "i-1", PENDING, "bob", 20);
  *later.mutable_due_at() = At(500);
  signoff::v1::Task done = MakeTask("t-3", "i-1", signoff::v1::DONE, "bob", 30);
  *done.mutable_due_at() = At(50);
  start.tasks = {soon, later, done, MakeTask("t-4", "i-1", PENDING, "bob", 40)};
  ASSERT_OK(store().Commit(start));
  TaskFilter filter;
  filter.due_before = absl::FromUnixSeconds(200);
  ASSERT_OK_AND_ASSIGN(auto overdue, store().ListTasks(filter));
  ASSERT_EQ(overdue.items.size(), 1u);
  EXPECT_EQ(overdue.items[0].id(), "t-1");

  signoff::v1::InstanceState breached = MakeInstance("i-2", 1, "dealer", "alice", "dealer-2");
  breached.set_sla_breached(true);
  ASSERT_OK(store().Commit(StartMutation(breached)));
  InstanceFilter breach_filter;
  breach_filter.sla_breached = true;
  ASSERT_OK_AND_ASSIGN(auto instances, store().ListInstances(breach_filter));
  ASSERT_EQ(instances.items.size(), 1u);
  EXPECT_EQ(instances.items[0].id(), "i-2");
}

}  // namespace
}  // namespace signoff::storage::testing
