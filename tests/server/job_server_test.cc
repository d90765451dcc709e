// JobService over gRPC: workers polling one job type, leases that run out,
// retries with backoff into incidents and their resolution, who may call
// each RPC, long polls, and merchant-onboarding routed by a job's result.

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "job_definitions.h"
#include "server_fixture.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;



// svc-a works vetting jobs by its grant; svc-b's grant is for another
// definition.
constexpr char kWorkers[] = R"([
  {id: svc-a, department: root, service: true,
   roles: [{role: complete-system-steps, definitions: [vetting]}]},
  {id: svc-b, department: root, service: true,
   roles: [{role: complete-system-steps, definitions: [leave]}]}])";

class JobServerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_OK(Publish(kVettingDefinition, "publish-vetting"));
    ASSERT_OK(client_->UpsertUsers("ceo", kWorkers, "job-workers"));
  }

  std::string StartVetting(int n) {
    auto view = client_->Start("ann", "vetting", "{amount: 100}", absl::StrCat("start-", n));
    EXPECT_OK(view);
    return view.ok() ? view->id() : "";
  }

  absl::StatusOr<v1::JobResponse> Fail(const std::string& user, const std::string& key,
                                       int retries_left, int backoff_seconds,
                                       const std::string& request_id) {
    v1::FailJobRequest request;
    request.set_request_id(request_id);
    request.set_key(key);
    request.set_retries_left(retries_left);
    request.mutable_backoff()->set_seconds(backoff_seconds);
    request.set_message("bureau unreachable");
    return client_->Call(user, *client_->jobs, &v1::JobService::Stub::FailJob, request);
  }

  absl::StatusOr<v1::JobResponse> Throw(const std::string& user, const std::string& key,
                                        const std::string& code, const std::string& request_id) {
    v1::ThrowErrorRequest request;
    request.set_request_id(request_id);
    request.set_key(key);
    request.set_code(code);
    return client_->Call(user, *client_->jobs, &v1::JobService::Stub::ThrowError, request);
  }

  absl::StatusOr<v1::ListIncidentsResponse> Incidents(const std::string& user,
                                                      bool include_resolved = false) {
    v1::ListIncidentsRequest request;
    request.set_include_resolved(include_resolved);
    return client_->Call(user, *client_->jobs, &v1::JobService::Stub::ListIncidents, request);
  }

  absl::StatusOr<v1::IncidentResponse> Resolve(const std::string& user, const std::string& id,
                                               int retries, const std::string& request_id) {
    v1::ResolveIncidentRequest request;
    request.set_request_id(request_id);
    request.set_id(id);
    if (retries > 0) {
      request.set_retry_with_retries(retries);
    } else {
      request.set_cancel_instance(true);
    }
    return client_->Call(user, *client_->jobs, &v1::JobService::Stub::ResolveIncident, request);
  }

  // The one job `user` can lease now, or a failure.
  std::string LeaseOne(const std::string& user, absl::Duration lease = absl::Seconds(30)) {
    auto activated = client_->Activate(user, "risk-check", 1, lease);
    EXPECT_OK(activated);
    if (!activated.ok() || activated->jobs_size() != 1) {
      ADD_FAILURE() << user << " leased no job";
      return "";
    }
    return activated->jobs(0).key();
  }

  size_t Offered(const std::string& user) {
    auto activated = client_->Activate(user, "risk-check", 10, absl::Seconds(30));
    EXPECT_OK(activated);
    return activated.ok() ? static_cast<size_t>(activated->jobs_size()) : 0;
  }

  std::vector<std::string> ActiveSteps(const std::string& id) {
    auto view = client_->Get("ceo", id);
    EXPECT_OK(view);
    if (!view.ok()) return {};
    return {view->active_steps().begin(), view->active_steps().end()};
  }
};

TEST_F(JobServerTest, TwoWorkersPollingOneTypeCompleteEachJobOnce) {
  constexpr int kInstances = 12;
  std::set<std::string> instances;
  for (int i = 0; i < kInstances; ++i) instances.insert(StartVetting(i));
  std::mutex mutex;
  std::map<std::string, int> completions;
  std::atomic<int> refused{0};
  auto work = [&](const std::string& worker) {
    ApiClient client(server_->InProcessChannel());
    for (int idle = 0, n = 0; idle < 3; ++n) {
      auto activated = client.Activate(worker, "risk-check", 2, absl::Seconds(60));
      if (!activated.ok() || activated->jobs_size() == 0) {
        ++idle;
        continue;
      }
      idle = 0;
      for (const auto& job : activated->jobs()) {
        auto done = client.CompleteJob(worker, job.key(), "{risk_level: low}",
                                       absl::StrCat(worker, "-", job.key()));
        if (!done.ok()) {
          ++refused;
          continue;
        }
        std::lock_guard<std::mutex> lock(mutex);
        ++completions[job.task_id()];
      }
    }
  };
  std::thread first(work, "svc");
  std::thread second(work, "svc-a");
  first.join();
  second.join();
  EXPECT_EQ(refused.load(), 0);
  ASSERT_EQ(completions.size(), static_cast<size_t>(kInstances));
  for (const auto& [task, count] : completions) EXPECT_EQ(count, 1) << task;
  for (const auto& id : instances) {
    EXPECT_THAT(ActiveSteps(id), ElementsAre("ops")) << id;
    ExpectReplayMatchesStore(id);
  }
}

TEST_F(JobServerTest, ALeaseThatRunsOutGoesToTheOtherWorkerAndTheFirstIsRefused) {
  const std::string id = StartVetting(1);
  const std::string first_key = LeaseOne("svc");
  EXPECT_EQ(Offered("svc-a"), 0u);
  now_.Advance(absl::Seconds(29));
  EXPECT_EQ(Offered("svc-a"), 0u);
  now_.Advance(absl::Seconds(1));
  const std::string second_key = LeaseOne("svc-a");
  EXPECT_NE(second_key, first_key);
  EXPECT_EQ(second_key.substr(second_key.rfind('.')), ".2");
  auto late = client_->CompleteJob("svc", first_key, "{risk_level: high}", "late");
  EXPECT_CODE(late, absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(late.status().message(), HasSubstr("stale"));
  EXPECT_THAT(ActiveSteps(id), ElementsAre("check"));
  ASSERT_OK(client_->CompleteJob("svc-a", second_key, "{risk_level: high}", "on-time"));
  EXPECT_THAT(ActiveSteps(id), ElementsAre("committee"));
  // A repeat of the completion gives its first reply; the stale one stays
  // refused.
  ASSERT_OK(client_->CompleteJob("svc-a", second_key, "{risk_level: high}", "on-time"));
  EXPECT_CODE(client_->CompleteJob("svc", first_key, "{risk_level: high}", "late-again"),
              absl::StatusCode::kFailedPrecondition);
  ExpectReplayMatchesStore(id);
}

// One JSON line per job event, naming its instance, task and type.
TEST_F(JobServerTest, JobEventsAreLogged) {
  ::testing::internal::CaptureStderr();
  const std::string id = StartVetting(1);
  ASSERT_OK_AND_ASSIGN(auto failed, Fail("svc", LeaseOne("svc"), 1, 10, "fail-1"));
  now_.Advance(absl::Seconds(10));
  ASSERT_OK_AND_ASSIGN(auto stuck, Fail("svc", LeaseOne("svc"), 1, 0, "fail-2"));
  ASSERT_TRUE(stuck.has_incident());
  const std::string log = ::testing::internal::GetCapturedStderr();
  std::vector<std::string> job_lines;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (absl::StrContains(line, R"("component":"jobs")")) job_lines.emplace_back(line);
  }
  ASSERT_EQ(job_lines.size(), 4u) << log;
  const char* expected[] = {"job_created", "job_failed", "job_failed", "incident_raised"};
  for (size_t i = 0; i < job_lines.size(); ++i) {
    EXPECT_THAT(job_lines[i], HasSubstr(absl::StrCat(R"("event":")", expected[i], R"(")")));
    EXPECT_THAT(job_lines[i], HasSubstr(absl::StrCat(R"("instance":")", id, R"(")")));
    EXPECT_THAT(job_lines[i], HasSubstr(R"("job_type":"risk-check")"));
  }
  EXPECT_THAT(job_lines[1], HasSubstr(R"("level":"warn")"));
  EXPECT_THAT(job_lines[1], HasSubstr(R"("retries_left":1)"));
  EXPECT_THAT(job_lines[3], HasSubstr(R"("message":"bureau unreachable")"));
}

TEST_F(JobServerTest, RetriesWithBackoffThenAnIncidentResolvedByRetryAndByCancel) {
  const std::string id = StartVetting(1);
  ASSERT_OK_AND_ASSIGN(auto failed, Fail("svc", LeaseOne("svc"), 1, 10, "fail-1"));
  EXPECT_FALSE(failed.has_incident());
  EXPECT_EQ(Offered("svc"), 0u);
  now_.Advance(absl::Seconds(9));
  EXPECT_EQ(Offered("svc"), 0u);
  now_.Advance(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(auto again, client_->Activate("svc", "risk-check", 1, absl::Seconds(30)));
  ASSERT_EQ(again.jobs_size(), 1);
  EXPECT_EQ(again.jobs(0).attempt(), 2);
  EXPECT_EQ(again.jobs(0).retries_left(), 1);
  EXPECT_EQ(again.jobs(0).last_error(), "bureau unreachable");
  EXPECT_EQ(again.jobs(0).variables().fields().at("amount").number_value(), 100);

  ASSERT_OK_AND_ASSIGN(auto stuck, Fail("svc", again.jobs(0).key(), 1, 0, "fail-2"));
  ASSERT_TRUE(stuck.has_incident());
  const std::string incident = stuck.incident().id();
  EXPECT_EQ(stuck.incident().status(), v1::INCIDENT_OPEN);
  EXPECT_EQ(stuck.incident().instance_id(), id);
  EXPECT_EQ(stuck.incident().job_type(), "risk-check");
  // The instance view shows the incident on its job.
  ASSERT_OK_AND_ASSIGN(auto view, client_->Get("ann", id));
  ASSERT_EQ(view.pending_tasks_size(), 1);
  EXPECT_EQ(view.pending_tasks(0).job().incident_id(), incident);
  EXPECT_EQ(view.pending_tasks(0).job().incident_message(), "bureau unreachable");
  // The definition's process administrators are told.
  v1::ListNotificationsRequest mine;
  ASSERT_OK_AND_ASSIGN(auto told, client_->Call("ceo", *client_->notifications,
                                                &v1::NotificationService::Stub::ListNotifications,
                                                mine));
  ASSERT_GE(told.notifications_size(), 1);
  EXPECT_EQ(told.notifications(0).kind(), v1::INCIDENT_RAISED);
  EXPECT_EQ(told.notifications(0).instance_id(), id);
  EXPECT_EQ(told.notifications(0).detail(), "bureau unreachable");
  now_.Advance(absl::Hours(1));
  EXPECT_EQ(Offered("svc"), 0u);
  ASSERT_OK_AND_ASSIGN(auto listed, Incidents("aud"));
  ASSERT_EQ(listed.incidents_size(), 1);
  EXPECT_EQ(listed.incidents(0).id(), incident);

  ASSERT_OK_AND_ASSIGN(auto retried, Resolve("ceo", incident, 2, "retry"));
  EXPECT_EQ(retried.incident().status(), v1::INCIDENT_RESOLVED);
  EXPECT_EQ(retried.incident().resolution(), "retried");
  EXPECT_EQ(retried.incident().resolved_by(), "ceo");
  EXPECT_EQ(retried.incident().message(), "bureau unreachable");
  ASSERT_OK_AND_ASSIGN(auto third, client_->Activate("svc", "risk-check", 1, absl::Seconds(30)));
  ASSERT_EQ(third.jobs_size(), 1);
  EXPECT_EQ(third.jobs(0).retries_left(), 2);
  ASSERT_OK(client_->CompleteJob("svc", third.jobs(0).key(), "{risk_level: low}", "done"));
  EXPECT_THAT(ActiveSteps(id), ElementsAre("ops"));

  // A second instance's incident is resolved by cancelling it.
  const std::string other = StartVetting(2);
  ASSERT_OK_AND_ASSIGN(auto hopeless, Fail("svc", LeaseOne("svc"), 0, 0, "fail-3"));
  ASSERT_OK_AND_ASSIGN(auto cancelled, Resolve("ceo", hopeless.incident().id(), 0, "cancel"));
  EXPECT_EQ(cancelled.incident().resolution(), "cancelled");
  EXPECT_EQ(cancelled.instance().status(), v1::CANCELLED);
  ASSERT_OK_AND_ASSIGN(auto open, Incidents("ceo"));
  EXPECT_THAT(open.incidents(), IsEmpty());
  ASSERT_OK_AND_ASSIGN(auto all, Incidents("ceo", true));
  ASSERT_EQ(all.incidents_size(), 2);
  EXPECT_EQ(all.incidents(0).resolution(), "retried");
  EXPECT_EQ(all.incidents(1).resolution(), "cancelled");
  EXPECT_EQ(all.incidents(1).instance_id(), other);
  ExpectReplayMatchesStore(id);
  ExpectReplayMatchesStore(other);
}

TEST_F(JobServerTest, WhoMayActivateCompleteFailAndThrow) {
  const std::string id = StartVetting(1);
  // People are not workers; a service account that may not do the
  // definition is offered nothing.
  EXPECT_CODE(client_->Activate("ann", "risk-check", 1, absl::Seconds(30)),
              absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(client_->Activate("ceo", "risk-check", 1, absl::Seconds(30)),
              absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Offered("watcher"), 0u);
  EXPECT_EQ(Offered("svc-b"), 0u);
  const std::string key = LeaseOne("svc");
  for (const char* outsider : {"watcher", "svc-b", "hal"}) {
    EXPECT_CODE(client_->CompleteJob(outsider, key, "{risk_level: low}", "c-outsider"),
                absl::StatusCode::kNotFound)
        << outsider;
    EXPECT_CODE(Fail(outsider, key, 1, 0, "f-outsider"), absl::StatusCode::kNotFound) << outsider;
    EXPECT_CODE(Throw(outsider, key, "needs-review", "t-outsider"), absl::StatusCode::kNotFound)
        << outsider;
  }
  // The applicant reads the instance but is no worker.
  EXPECT_CODE(client_->CompleteJob("ann", key, "{risk_level: low}", "c-ann"),
              absl::StatusCode::kPermissionDenied);
  // svc-a may work vetting jobs, but this activation is svc's.
  EXPECT_CODE(client_->CompleteJob("svc-a", key, "{risk_level: low}", "c-a"),
              absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Fail("svc-a", key, 1, 0, "f-a"), absl::StatusCode::kPermissionDenied);
  // Unknown keys.
  const std::string task = key.substr(0, key.rfind('.'));
  for (const std::string& unknown : {std::string("nope"), task + ".9", task + ".0",
                                     std::string("i0-t1.1")}) {
    EXPECT_CODE(client_->CompleteJob("svc", unknown, "{risk_level: low}", "c-unknown"),
                absl::StatusCode::kNotFound)
        << unknown;
  }
  EXPECT_THAT(ActiveSteps(id), ElementsAre("check"));
  ASSERT_OK_AND_ASSIGN(auto thrown, Throw("svc", key, "needs-review", "t-svc"));
  EXPECT_THAT(thrown.instance().active_steps(), ElementsAre("review"));
  EXPECT_FALSE(thrown.has_incident());
  ExpectReplayMatchesStore(id);
}

TEST_F(JobServerTest, WhoMayListAndResolveIncidents) {
  const std::string id = StartVetting(1);
  ASSERT_OK_AND_ASSIGN(auto raised, Throw("svc", LeaseOne("svc"), "no-such-code", "t-1"));
  ASSERT_TRUE(raised.has_incident());
  EXPECT_THAT(raised.incident().message(), HasSubstr("'no-such-code' has no route"));
  const std::string incident = raised.incident().id();
  for (const char* reader : {"aud", "ceo"}) {
    ASSERT_OK_AND_ASSIGN(auto listed, Incidents(reader));
    EXPECT_EQ(listed.incidents_size(), 1) << reader;
  }
  for (const char* other : {"ann", "svc", "sam", "hal"}) {
    EXPECT_CODE(Incidents(other), absl::StatusCode::kPermissionDenied) << other;
  }
  // The applicant reads the instance but does not administer it; the
  // auditor reads but changes nothing; others do not see it.
  EXPECT_CODE(Resolve("ann", incident, 1, "r-ann"), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Resolve("aud", incident, 1, "r-aud"), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Resolve("svc", incident, 1, "r-svc"), absl::StatusCode::kNotFound);
  EXPECT_CODE(Resolve("hal", incident, 1, "r-hal"), absl::StatusCode::kNotFound);
  EXPECT_CODE(Resolve("ceo", "nonsense", 1, "r-bad"), absl::StatusCode::kNotFound);
  v1::ResolveIncidentRequest no_retries;
  no_retries.set_request_id("r-zero");
  no_retries.set_id(incident);
  no_retries.set_retry_with_retries(0);
  EXPECT_CODE(client_->Call("ceo", *client_->jobs, &v1::JobService::Stub::ResolveIncident,
                            no_retries),
              absl::StatusCode::kInvalidArgument);
  v1::ResolveIncidentRequest neither;
  neither.set_request_id("r-neither");
  neither.set_id(incident);
  EXPECT_CODE(client_->Call("ceo", *client_->jobs, &v1::JobService::Stub::ResolveIncident,
                            neither),
              absl::StatusCode::kInvalidArgument);
  ASSERT_OK(Resolve("ceo", incident, 1, "r-ceo"));
  EXPECT_EQ(Offered("svc"), 1u);
  ExpectReplayMatchesStore(id);
}

TEST_F(JobServerTest, BadRequestsAreInvalidArguments) {
  StartVetting(1);
  v1::ActivateJobsRequest request;
  request.set_type("risk-check");
  request.set_worker("w");
  request.set_max_jobs(0);
  request.mutable_lease()->set_seconds(0);
  request.mutable_request_timeout()->set_seconds(61);
  EXPECT_CODE(client_->Call("svc", *client_->jobs, &v1::JobService::Stub::ActivateJobs, request),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(),
              UnorderedElementsAre("max_jobs", "lease", "request_timeout"));
  request.set_max_jobs(101);
  request.mutable_lease()->set_seconds(3601);
  request.mutable_request_timeout()->set_seconds(-1);
  EXPECT_CODE(client_->Call("svc", *client_->jobs, &v1::JobService::Stub::ActivateJobs, request),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(),
              UnorderedElementsAre("max_jobs", "lease", "request_timeout"));
  const std::string key = LeaseOne("svc");
  EXPECT_CODE(client_->CompleteJob("svc", key, "{risk_level: low, colour: red}", "c-1"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("result.colour"));
  EXPECT_CODE(client_->CompleteJob("svc", key, "{risk_level: extreme}", "c-2"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("result.risk_level"));
  EXPECT_CODE(Fail("svc", key, 1, 24 * 3600 + 1, "f-1"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("backoff"));
  // Nothing of the refused calls was kept: the job is as leased.
  ASSERT_OK(client_->CompleteJob("svc", key, "{risk_level: low}", "c-3"));
}

TEST_F(JobServerTest, ALongPollReturnsPromptlyWhenAJobAppears) {
  // With nothing to do, a poll waits out its timeout.
  const auto before_empty = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(auto empty,
                       client_->Activate("svc", "risk-check", 1, absl::Seconds(30), absl::Seconds(1)));
  EXPECT_EQ(empty.jobs_size(), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - before_empty, std::chrono::milliseconds(900));

  absl::StatusOr<v1::ActivateJobsResponse> polled;
  std::chrono::steady_clock::duration waited{};
  std::thread poller([&] {
    ApiClient client(server_->InProcessChannel());
    const auto started = std::chrono::steady_clock::now();
    polled = client.Activate("svc", "risk-check", 1, absl::Seconds(30), absl::Seconds(20));
    waited = std::chrono::steady_clock::now() - started;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  const std::string id = StartVetting(1);
  poller.join();
  ASSERT_OK(polled);
  ASSERT_EQ(polled->jobs_size(), 1);
  EXPECT_EQ(polled->jobs(0).instance_id(), id);
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  // Woken by the commit, not by its one-second recheck.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(700));
}

// The shipped merchant-onboarding definition on the demo organisation.
class MerchantOnboardingTest : public ServerTest {
 protected:
  bool StartsWithOrganisation() const override { return false; }

  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_OK(SeedShipped(*app_));
  }

  // Starts an onboarding and has the document check pass.
  std::string StartWithDocumentsChecked(const std::string& merchant) {
    auto view = client_->Start("kevin.du", "merchant-onboarding",
                               absl::StrCat("{merchant_id: ", merchant,
                                            ", merchant_name: Tea House, business_type: retail,"
                                            " expected_monthly_volume: 250000}"),
                               "start-" + merchant);
    EXPECT_OK(view);
    if (!view.ok()) return "";
    auto checks = client_->Activate("svc-doc-check", "doc-check", 1, absl::Seconds(60));
    EXPECT_OK(checks);
    if (!checks.ok() || checks->jobs_size() != 1) return "";
    EXPECT_EQ(checks->jobs(0).instance_id(), view->id());
    EXPECT_OK(client_->CompleteJob("svc-doc-check", checks->jobs(0).key(),
                                   "{documents_verified: true}", "docs-" + merchant));
    return view->id();
  }

  absl::StatusOr<v1::JobResponse> RateRisk(const std::string& result, const std::string& merchant) {
    auto rated = client_->Activate("svc-risk-engine", "risk-check", 1, absl::Seconds(60));
    if (!rated.ok()) return rated.status();
    if (rated->jobs_size() != 1) return absl::NotFoundError("no risk-check job");
    return client_->CompleteJob("svc-risk-engine", rated->jobs(0).key(), result,
                                "risk-" + merchant);
  }

  std::vector<std::string> Assignees(const v1::InstanceView& view) {
    std::vector<std::string> users;
    for (const auto& task : view.pending_tasks()) {
      users.push_back(task.assignee().empty() ? task.candidate_group().role() : task.assignee());
    }
    return users;
  }
};

TEST_F(MerchantOnboardingTest, HighRiskGoesToTwoOfThreeOfTheRiskCommittee) {
  const std::string id = StartWithDocumentsChecked("M-HIGH-1");
  ASSERT_OK_AND_ASSIGN(auto rated, RateRisk("{risk_level: high, score: 91}", "M-HIGH-1"));
  EXPECT_THAT(rated.instance().active_steps(), ElementsAre("risk-committee"));
  EXPECT_THAT(Assignees(rated.instance()),
              UnorderedElementsAre("ruby.tian", "simon.wei", "tracy.gao"));
  EXPECT_EQ(rated.instance().form().fields().at("risk_level").string_value(), "high");
  for (const char* member : {"ruby.tian", "tracy.gao"}) {
    ASSERT_OK_AND_ASSIGN(auto view, client_->Get(member, id));
    ASSERT_OK(client_->Decide(member, PendingTaskOf(view, member), v1::APPROVE,
                              absl::StrCat("approve-", member)));
  }
  // The committee's approval passes the merchant on to Compliance.
  ASSERT_OK_AND_ASSIGN(auto approved, client_->Get("kevin.du", id));
  EXPECT_EQ(approved.status(), v1::RUNNING);
  EXPECT_THAT(approved.active_steps(), ElementsAre("compliance-review"));
  // The result is in the audit trail.
  ASSERT_OK_AND_ASSIGN(auto history, client_->History("kevin.du", id));
  bool recorded = false;
  for (const auto& event : history.events()) {
    if (event.has_task_completed() && event.actor() == "svc-risk-engine") {
      recorded = event.task_completed().task().result().fields().at("score").number_value() == 91;
    }
  }
  EXPECT_TRUE(recorded);
  ExpectReplayMatchesStore(id);
}

TEST_F(MerchantOnboardingTest, LowRiskGoesToOneMerchantOpsApproval) {
  const std::string id = StartWithDocumentsChecked("M-LOW-1");
  ASSERT_OK_AND_ASSIGN(auto rated, RateRisk("{risk_level: low, score: 12}", "M-LOW-1"));
  EXPECT_THAT(rated.instance().active_steps(), ElementsAre("ops-approval"));
  EXPECT_THAT(Assignees(rated.instance()), ElementsAre("merchant-ops"));
  ASSERT_OK(client_->Decide("mia.xu", rated.instance().pending_tasks(0).id(), v1::APPROVE,
                            "approve-mia"));
  ASSERT_OK_AND_ASSIGN(auto approved, client_->Get("kevin.du", id));
  EXPECT_THAT(approved.active_steps(), ElementsAre("compliance-review"));
  ExpectReplayMatchesStore(id);
}

TEST_F(MerchantOnboardingTest, MissingDocumentsGoToMerchantOps) {
  ASSERT_OK(client_->Start("kevin.du", "merchant-onboarding",
                           "{merchant_id: M-DOCS-1, merchant_name: Noodle Bar,"
                           " business_type: services, expected_monthly_volume: 1000}",
                           "start-docs"));
  ASSERT_OK_AND_ASSIGN(auto checks,
                       client_->Activate("svc-doc-check", "doc-check", 1, absl::Seconds(60)));
  ASSERT_EQ(checks.jobs_size(), 1);
  // The risk engine is no worker of the document check.
  EXPECT_CODE(client_->CompleteJob("svc-risk-engine", checks.jobs(0).key(),
                                   "{documents_verified: true}", "wrong-worker"),
              absl::StatusCode::kPermissionDenied);
  v1::ThrowErrorRequest thrown;
  thrown.set_request_id("docs-missing");
  thrown.set_key(checks.jobs(0).key());
  thrown.set_code("documents-missing");
  ASSERT_OK_AND_ASSIGN(auto routed, client_->Call("svc-doc-check", *client_->jobs,
                                                  &v1::JobService::Stub::ThrowError, thrown));
  EXPECT_THAT(routed.instance().active_steps(), ElementsAre("document-chase"));
  EXPECT_THAT(Assignees(routed.instance()), ElementsAre("merchant-ops"));
}

}  // namespace
}  // namespace signoff::testing
