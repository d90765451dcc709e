// Jobs in the store: the jobs table written from task events, leases
// claimed by one worker at a time, expiry and backoff at their exact
// boundaries, the lease check of a worker's commit, and incidents.

#include <atomic>
#include <set>
#include <thread>

#include "store_test_base.h"
#include "workflow/jobs.h"
#include "workflow/time_util.h"

namespace signoff::storage::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kStart = 1000;

signoff::v1::Task JobTask(const std::string& id, const std::string& instance_id,
                          const std::string& type = "risk-check") {
  signoff::v1::Task task = MakeTask(id, instance_id, signoff::v1::PENDING, "", kStart);
  task.set_definition_key("dealer");
  task.set_definition_version(1);
  task.set_step_id("check");
  task.mutable_job()->set_type(type);
  task.mutable_job()->set_retries_left(3);
  *task.mutable_job()->mutable_available_at() = At(kStart);
  return task;
}

signoff::v1::Event TaskEvent(const signoff::v1::Task& task, int64_t seconds,
                             const std::string& actor = "svc") {
  signoff::v1::Event event = MakeEvent(task.instance_id(), actor, seconds);
  event.set_task_id(task.id());
  event.set_step_id(task.step_id());
  event.clear_comment();
  return event;
}

// Starts an instance whose tasks are the given jobs.
Mutation StartWithJobs(const std::string& instance_id, const std::vector<signoff::v1::Task>& jobs) {
  Mutation mutation = StartMutation(MakeInstance(instance_id, 1));
  for (const auto& job : jobs) {
    signoff::v1::Event created = TaskEvent(job, kStart);
    *created.mutable_task_created()->mutable_task() = job;
    mutation.events.push_back(created);
    mutation.tasks.push_back(job);
  }
  return mutation;
}

// The next version of an instance, with `event` appended.
Mutation Next(const std::string& instance_id, int64_t version, signoff::v1::Event event) {
  Mutation mutation;
  mutation.instance = MakeInstance(instance_id, version);
  mutation.expected_version = version - 1;
  mutation.events.push_back(std::move(event));
  return mutation;
}

JobClaim ClaimAt(absl::Time now, const std::string& caller, int limit = 10,
                 std::vector<std::string> keys = {"dealer"},
                 const std::string& type = "risk-check") {
  JobClaim claim;
  claim.now = now;
  claim.type = type;
  claim.worker = caller + "-worker";
  claim.caller = caller;
  claim.lease = absl::Seconds(60);
  claim.limit = limit;
  claim.definition_keys = std::move(keys);
  return claim;
}

absl::Time Seconds(int64_t seconds) { return absl::FromUnixSeconds(seconds); }

std::vector<std::string> Keys(const std::vector<ActivatedJob>& jobs) {
  std::vector<std::string> keys;
  for (const auto& job : jobs) keys.push_back(workflow::JobKey(job.task_id, job.attempt));
  return keys;
}

TEST_P(StoreTest, JobsAreLeasedToOneWorkerAtATime) {
  ASSERT_OK(store().Commit(StartWithJobs(
      "i-1", {JobTask("i-1-t1", "i-1"), JobTask("i-1-t2", "i-1"),
              JobTask("i-1-t3", "i-1", "doc-check")})));
  ASSERT_OK_AND_ASSIGN(auto first, store().ActivateJobs(ClaimAt(Seconds(kStart), "a")));
  EXPECT_THAT(Keys(first), ElementsAre("i-1-t1.1", "i-1-t2.1"));
  EXPECT_EQ(first[0].instance_id, "i-1");
  EXPECT_EQ(first[0].lease_until, Seconds(kStart + 60));
  ASSERT_OK_AND_ASSIGN(auto second, store().ActivateJobs(ClaimAt(Seconds(kStart + 59), "b")));
  EXPECT_THAT(Keys(second), IsEmpty());
  // Only the claim's definitions and type are offered.
  ASSERT_OK_AND_ASSIGN(auto other_definition,
                       store().ActivateJobs(ClaimAt(Seconds(kStart), "b", 10, {"claims"},
                                                    "doc-check")));
  EXPECT_THAT(Keys(other_definition), IsEmpty());
  ASSERT_OK_AND_ASSIGN(auto other_type,
                       store().ActivateJobs(ClaimAt(Seconds(kStart), "b", 10, {"dealer"},
                                                    "doc-check")));
  EXPECT_THAT(Keys(other_type), ElementsAre("i-1-t3.1"));
  ASSERT_OK_AND_ASSIGN(JobRecord held, store().GetJob("i-1-t1"));
  EXPECT_EQ(held.attempt, 1);
  EXPECT_EQ(held.lease_owner, "a-worker");
  EXPECT_EQ(held.lease_caller, "a");
  EXPECT_EQ(held.lease_until, Seconds(kStart + 60));
  EXPECT_EQ(held.type, "risk-check");
  EXPECT_EQ(held.definition_key, "dealer");
  EXPECT_CODE(store().GetJob("i-1-t9"), absl::StatusCode::kNotFound);
}

TEST_P(StoreTest, AnExpiredLeaseOffersTheJobAgainUnderANewKey) {
  ASSERT_OK(store().Commit(StartWithJobs("i-1", {JobTask("i-1-t1", "i-1")})));
  ASSERT_OK_AND_ASSIGN(auto first, store().ActivateJobs(ClaimAt(Seconds(kStart), "a", 1)));
  ASSERT_THAT(Keys(first), ElementsAre("i-1-t1.1"));
  const absl::Time deadline = Seconds(kStart + 60);
  ASSERT_OK_AND_ASSIGN(auto before,
                       store().ActivateJobs(ClaimAt(deadline - absl::Microseconds(1), "b", 1)));
  EXPECT_THAT(Keys(before), IsEmpty());
  ASSERT_OK_AND_ASSIGN(auto at, store().ActivateJobs(ClaimAt(deadline, "b", 1)));
  EXPECT_THAT(Keys(at), ElementsAre("i-1-t1.2"));

  // The first worker's commit under its old key is refused, and writes
  // nothing of itself.
  signoff::v1::Event comment = TaskEvent(JobTask("i-1-t1", "i-1"), kStart + 70, "a");
  comment.mutable_comment_added();
  Mutation stale = Next("i-1", 2, comment);
  stale.job_lease = JobLeaseCheck{"i-1-t1", 1, "a"};
  absl::StatusOr<CommitResult> refused = store().Commit(stale);
  EXPECT_CODE(refused, absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("stale"));
  ASSERT_OK_AND_ASSIGN(auto instance, store().GetInstance("i-1"));
  EXPECT_EQ(instance.version(), 1);
  // Another caller's activation is not this caller's to use.
  Mutation borrowed = Next("i-1", 2, comment);
  borrowed.job_lease = JobLeaseCheck{"i-1-t1", 2, "a"};
  EXPECT_CODE(store().Commit(borrowed), absl::StatusCode::kPermissionDenied);
  Mutation current = Next("i-1", 2, comment);
  current.job_lease = JobLeaseCheck{"i-1-t1", 2, "b"};
  ASSERT_OK(store().Commit(current));
}

TEST_P(StoreTest, AFailedJobIsOfferedWhenItsBackoffEndsAndNotBefore) {
  signoff::v1::Task job = JobTask("i-1-t1", "i-1");
  ASSERT_OK(store().Commit(StartWithJobs("i-1", {job})));
  ASSERT_OK_AND_ASSIGN(auto leased, store().ActivateJobs(ClaimAt(Seconds(kStart), "a", 1)));
  ASSERT_THAT(Keys(leased), ElementsAre("i-1-t1.1"));
  // Failed at kStart + 10 with a 30 s backoff.
  const absl::Time available = Seconds(kStart + 40);
  job.mutable_job()->set_retries_left(2);
  *job.mutable_job()->mutable_available_at() = workflow::ToTimestamp(available);
  signoff::v1::Event failed = TaskEvent(job, kStart + 10, "a");
  *failed.mutable_job_failed()->mutable_task() = job;
  Mutation fail = Next("i-1", 2, failed);
  fail.job_lease = JobLeaseCheck{"i-1-t1", 1, "a"};
  ASSERT_OK(store().Commit(fail));
  ASSERT_OK_AND_ASSIGN(JobRecord waiting, store().GetJob("i-1-t1"));
  EXPECT_EQ(waiting.lease_caller, "");
  EXPECT_FALSE(waiting.lease_until.has_value());
  EXPECT_EQ(waiting.available_at, available);
  // The failure ended the activation: its key does no more.
  Mutation after = Next("i-1", 3, failed);
  after.job_lease = JobLeaseCheck{"i-1-t1", 1, "a"};
  absl::StatusOr<CommitResult> ended = store().Commit(after);
  EXPECT_CODE(ended, absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ended.status().message(), HasSubstr("has ended"));
  ASSERT_OK_AND_ASSIGN(auto early,
                       store().ActivateJobs(ClaimAt(available - absl::Microseconds(1), "b", 1)));
  EXPECT_THAT(Keys(early), IsEmpty());
  ASSERT_OK_AND_ASSIGN(auto on_time, store().ActivateJobs(ClaimAt(available, "b", 1)));
  EXPECT_THAT(Keys(on_time), ElementsAre("i-1-t1.2"));
}

TEST_P(StoreTest, AnIncidentHoldsItsJobBackUntilResolved) {
  signoff::v1::Task job = JobTask("i-1-t1", "i-1");
  ASSERT_OK(store().Commit(StartWithJobs("i-1", {job})));
  job.mutable_job()->set_retries_left(0);
  job.mutable_job()->set_incidents(1);
  job.mutable_job()->set_incident_id("i-1-t1.i1");
  job.mutable_job()->set_incident_message("bureau down");
  *job.mutable_job()->mutable_incident_raised_at() = At(kStart + 5);
  signoff::v1::Event raised = TaskEvent(job, kStart + 5, "svc");
  *raised.mutable_incident_raised()->mutable_task() = job;
  ASSERT_OK(store().Commit(Next("i-1", 2, raised)));
  ASSERT_OK_AND_ASSIGN(auto none, store().ActivateJobs(ClaimAt(Seconds(kStart + 100), "a")));
  EXPECT_THAT(Keys(none), IsEmpty());
  ASSERT_OK_AND_ASSIGN(JobRecord held_back, store().GetJob("i-1-t1"));
  EXPECT_TRUE(held_back.incident);

  IncidentFilter open;
  ASSERT_OK_AND_ASSIGN(auto listed, store().ListIncidents(open));
  ASSERT_EQ(listed.items.size(), 1u);
  EXPECT_EQ(listed.items[0].id(), "i-1-t1.i1");
  EXPECT_EQ(listed.items[0].instance_id(), "i-1");
  EXPECT_EQ(listed.items[0].definition_key(), "dealer");
  EXPECT_EQ(listed.items[0].task_id(), "i-1-t1");
  EXPECT_EQ(listed.items[0].job_type(), "risk-check");
  EXPECT_EQ(listed.items[0].message(), "bureau down");
  EXPECT_EQ(listed.items[0].status(), signoff::v1::INCIDENT_OPEN);
  EXPECT_EQ(listed.items[0].created_at().seconds(), kStart + 5);

  job.mutable_job()->clear_incident_id();
  job.mutable_job()->set_retries_left(2);
  *job.mutable_job()->mutable_available_at() = At(kStart + 200);
  signoff::v1::Event resolved = TaskEvent(job, kStart + 200, "ceo");
  resolved.set_reason(workflow::kIncidentRetried);
  *resolved.mutable_incident_resolved()->mutable_task() = job;
  ASSERT_OK(store().Commit(Next("i-1", 3, resolved)));
  ASSERT_OK_AND_ASSIGN(auto now_open, store().ListIncidents(open));
  EXPECT_THAT(now_open.items, IsEmpty());
  IncidentFilter all;
  all.include_resolved = true;
  ASSERT_OK_AND_ASSIGN(auto history, store().ListIncidents(all));
  ASSERT_EQ(history.items.size(), 1u);
  EXPECT_EQ(history.items[0].status(), signoff::v1::INCIDENT_RESOLVED);
  EXPECT_EQ(history.items[0].resolution(), "retried");
  EXPECT_EQ(history.items[0].resolved_by(), "ceo");
  EXPECT_EQ(history.items[0].resolved_at().seconds(), kStart + 200);
  ASSERT_OK_AND_ASSIGN(auto retried, store().ActivateJobs(ClaimAt(Seconds(kStart + 200), "a")));
  EXPECT_THAT(Keys(retried), ElementsAre("i-1-t1.1"));
}

TEST_P(StoreTest, AJobWhoseTaskEndsIsGoneAndItsIncidentClosed) {
  signoff::v1::Task job = JobTask("i-1-t1", "i-1");
  ASSERT_OK(store().Commit(StartWithJobs("i-1", {job})));
  job.mutable_job()->set_incidents(1);
  job.mutable_job()->set_incident_id("i-1-t1.i1");
  signoff::v1::Event raised = TaskEvent(job, kStart + 5);
  *raised.mutable_incident_raised()->mutable_task() = job;
  ASSERT_OK(store().Commit(Next("i-1", 2, raised)));
  job.set_status(signoff::v1::TASK_CANCELLED);
  signoff::v1::Event cancelled = TaskEvent(job, kStart + 6, "system");
  *cancelled.mutable_task_cancelled()->mutable_task() = job;
  ASSERT_OK(store().Commit(Next("i-1", 3, cancelled)));
  EXPECT_CODE(store().GetJob("i-1-t1"), absl::StatusCode::kNotFound);
  IncidentFilter all;
  all.include_resolved = true;
  ASSERT_OK_AND_ASSIGN(auto history, store().ListIncidents(all));
  ASSERT_EQ(history.items.size(), 1u);
  EXPECT_EQ(history.items[0].status(), signoff::v1::INCIDENT_RESOLVED);
  EXPECT_EQ(history.items[0].resolution(), workflow::kIncidentAbandoned);
}

TEST_P(StoreTest, IncidentsAreFilteredByDefinitionAndPagedOldestFirst) {
  for (int i = 1; i <= 3; ++i) {
    const std::string instance = "i-" + std::to_string(i);
    signoff::v1::Task job = JobTask(instance + "-t1", instance);
    if (i == 3) job.set_definition_key("claims");
    Mutation start = StartWithJobs(instance, {job});
    job.mutable_job()->set_incidents(1);
    job.mutable_job()->set_incident_id(instance + "-t1.i1");
    *job.mutable_job()->mutable_incident_raised_at() = At(kStart + 10 - i);
    signoff::v1::Event raised = TaskEvent(job, kStart + 10 - i);
    *raised.mutable_incident_raised()->mutable_task() = job;
    start.events.push_back(raised);
    ASSERT_OK(store().Commit(start));
  }
  IncidentFilter page;
  page.page_size = 2;
  ASSERT_OK_AND_ASSIGN(auto first, store().ListIncidents(page));
  ASSERT_EQ(first.items.size(), 2u);
  EXPECT_EQ(first.items[0].id(), "i-3-t1.i1");
  EXPECT_EQ(first.items[1].id(), "i-2-t1.i1");
  ASSERT_FALSE(first.next_page_token.empty());
  page.page_token = first.next_page_token;
  ASSERT_OK_AND_ASSIGN(auto second, store().ListIncidents(page));
  ASSERT_EQ(second.items.size(), 1u);
  EXPECT_EQ(second.items[0].id(), "i-1-t1.i1");
  EXPECT_TRUE(second.next_page_token.empty());
  IncidentFilter dealer_only;
  dealer_only.definition_keys = std::vector<std::string>{"dealer"};
  ASSERT_OK_AND_ASSIGN(auto dealer, store().ListIncidents(dealer_only));
  EXPECT_EQ(dealer.items.size(), 2u);
  IncidentFilter nothing;
  nothing.definition_keys = std::vector<std::string>{};
  ASSERT_OK_AND_ASSIGN(auto none, store().ListIncidents(nothing));
  EXPECT_THAT(none.items, IsEmpty());
  IncidentFilter one_instance;
  one_instance.instance_id = "i-2";
  ASSERT_OK_AND_ASSIGN(auto of_instance, store().ListIncidents(one_instance));
  ASSERT_EQ(of_instance.items.size(), 1u);
  EXPECT_EQ(of_instance.items[0].instance_id(), "i-2");
  IncidentFilter bad_token;
  bad_token.page_token = "nonsense";
  EXPECT_CODE(store().ListIncidents(bad_token), absl::StatusCode::kInvalidArgument);
}

// Two stores on one database, as two replicas hold them: on PostgreSQL
// their claims are concurrent transactions, which SKIP LOCKED keeps apart.
TEST_P(StoreTest, ConcurrentClaimsOfTwoReplicasNeverLeaseAJobTwice) {
  constexpr int kJobs = 40;
  std::vector<signoff::v1::Task> jobs;
  for (int i = 1; i <= kJobs; ++i) jobs.push_back(JobTask("i-1-t" + std::to_string(i), "i-1"));
  ASSERT_OK(store().Commit(StartWithJobs("i-1", jobs)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> other, backend().Open());
  std::mutex mutex;
  std::vector<std::string> leased;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      for (int round = 0; round < kJobs; ++round) {
        Store& replica = w % 2 == 0 ? store() : *other;
        auto claimed = replica.ActivateJobs(ClaimAt(Seconds(kStart), "w" + std::to_string(w), 3));
        if (!claimed.ok()) {
          ++failures;
          continue;
        }
        std::lock_guard<std::mutex> lock(mutex);
        for (const auto& job : *claimed) leased.push_back(job.task_id);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<std::string> distinct(leased.begin(), leased.end());
  EXPECT_EQ(leased.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kJobs));
}

}  // namespace
}  // namespace signoff::storage::testing
