// Jobs in the engine: SYSTEM steps with a job_type, completed with a result
// that steers the route, failed into retries and incidents, thrown into
// error routes, and resolved by administrators. Every harness checks on
// destruction that folding the events rebuilds the state.

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "job_definitions.h"
#include "workflow/errors.h"
#include "workflow/jobs.h"

namespace signoff::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;



class JobEngineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(harness_.Start("ann", "{amount: 100}")); }

  const v1::Task* OpenJob() const {
    for (const auto& task : harness_.state().tasks()) {
      if (workflow::IsJob(task) && task.status() == v1::PENDING) return &task;
    }
    return nullptr;
  }

  std::string OpenJobId() const {
    const v1::Task* job = OpenJob();
    return job == nullptr ? "" : job->id();
  }

  absl::Status Complete(const std::string& actor, const std::string& result_yaml) {
    v1::Command command;
    command.mutable_complete_job()->set_task_id(OpenJobId());
    auto result = workflow::ParseFormYaml(result_yaml);
    if (!result.ok()) return result.status();
    *command.mutable_complete_job()->mutable_result() = *result;
    return harness_.Run(actor, command);
  }

  absl::Status Fail(const std::string& actor, int retries_left, absl::Duration backoff,
                    const std::string& message = "engine down") {
    v1::Command command;
    auto* fail = command.mutable_fail_job();
    fail->set_task_id(OpenJobId());
    fail->set_retries_left(retries_left);
    fail->mutable_backoff()->set_seconds(absl::ToInt64Seconds(backoff));
    fail->set_message(message);
    return harness_.Run(actor, command);
  }

  absl::Status Throw(const std::string& actor, const std::string& code) {
    v1::Command command;
    command.mutable_throw_job_error()->set_task_id(OpenJobId());
    command.mutable_throw_job_error()->set_code(code);
    command.mutable_throw_job_error()->set_message("no licence on file");
    return harness_.Run(actor, command);
  }

  absl::Status Resolve(const std::string& actor, const std::string& incident_id,
                       int retries) {
    v1::Command command;
    command.mutable_resolve_incident()->set_id(incident_id);
    if (retries > 0) {
      command.mutable_resolve_incident()->set_retry_with_retries(retries);
    } else {
      command.mutable_resolve_incident()->set_cancel_instance(true);
    }
    return harness_.Run(actor, command);
  }

  std::vector<std::string> ViolatedFields(const absl::Status& status) {
    std::vector<std::string> fields;
    for (const auto& violation : workflow::ViolationsOf(status)) fields.push_back(violation.field);
    return fields;
  }

  Harness harness_{kVettingDefinition};
};

TEST_F(JobEngineTest, AJobStepMakesOneUnassignedJobWithTheStepsRetries) {
  const v1::Task* job = OpenJob();
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->step_id(), "check");
  EXPECT_EQ(job->kind(), v1::STEP_SYSTEM);
  EXPECT_EQ(job->assignee(), "");
  EXPECT_EQ(job->job().type(), "risk-check");
  EXPECT_EQ(job->job().retries_left(), 2);
  EXPECT_EQ(Harness::TimeOf(job->job().available_at()), harness_.now);
  EXPECT_EQ(harness_.state().tasks_size(), 1);
}

TEST_F(JobEngineTest, AHighRiskResultIsMergedAndRoutesToTheCommittee) {
  ASSERT_OK(Complete("svc", "{risk_level: high, score: 80}"));
  EXPECT_THAT(harness_.ActiveSteps(), ElementsAre("committee"));
  EXPECT_THAT(harness_.PendingAssignees(), UnorderedElementsAre("fiona", "fred", "hal"));
  const auto& form = harness_.state().form().fields();
  EXPECT_EQ(form.at("risk_level").string_value(), "high");
  EXPECT_EQ(form.at("score").number_value(), 80);
  EXPECT_EQ(form.at("amount").number_value(), 100);
  // The result is part of the audit trail.
  auto completed = harness_.EventsOfType("task_completed");
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0]->actor(), "svc");
  EXPECT_EQ(completed[0]->task_completed().task().result().fields().at("risk_level").string_value(),
            "high");
  EXPECT_EQ(completed[0]->task_completed().task().decision(), v1::COMPLETE);
  // Two of the three decide the quorum.
  ASSERT_OK(harness_.Approve("fiona"));
  EXPECT_EQ(harness_.state().status(), v1::RUNNING);
  ASSERT_OK(harness_.Approve("hal"));
  EXPECT_EQ(harness_.state().status(), v1::APPROVED);
}

TEST_F(JobEngineTest, ALowRiskResultRoutesToOneOpsApproval) {
  ASSERT_OK(Complete("svc", "{risk_level: low}"));
  EXPECT_THAT(harness_.ActiveSteps(), ElementsAre("ops"));
  EXPECT_THAT(harness_.PendingAssignees(), ElementsAre("sam"));
  ASSERT_OK(harness_.Approve("sam"));
  EXPECT_EQ(harness_.state().status(), v1::APPROVED);
}

TEST_F(JobEngineTest, AResultIsCheckedAgainstTheResultFieldsLikeAForm) {
  const size_t events_before = harness_.events().size();
  absl::Status unknown = Complete("svc", "{risk_level: low, colour: red}");
  EXPECT_CODE(unknown, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(unknown), ElementsAre("result.colour"));
  absl::Status bad_enum = Complete("svc", "{risk_level: extreme}");
  EXPECT_THAT(ViolatedFields(bad_enum), ElementsAre("result.risk_level"));
  absl::Status missing = Complete("svc", "{score: 10}");
  EXPECT_THAT(ViolatedFields(missing), ElementsAre("result.risk_level"));
  EXPECT_THAT(workflow::ViolationsOf(missing)[0].description, HasSubstr("required"));
  // The bounds hold exactly: 100 is in, 100.5 out.
  EXPECT_THAT(ViolatedFields(Complete("svc", "{risk_level: low, score: 100.5}")),
              ElementsAre("result.score"));
  EXPECT_THAT(ViolatedFields(Complete("svc", "{risk_level: low, score: -1}")),
              ElementsAre("result.score"));
  EXPECT_EQ(harness_.events().size(), events_before);
  EXPECT_THAT(harness_.ActiveSteps(), ElementsAre("check"));
  ASSERT_OK(Complete("svc", "{risk_level: low, score: 100}"));
}

TEST_F(JobEngineTest, OnlyTheStepsServiceAccountsWorkTheJob) {
  // A person, even the administrator, and a service account the step does
  // not name.
  EXPECT_CODE(Complete("ann", "{risk_level: low}"), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Complete("ceo", "{risk_level: low}"), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Complete("watcher", "{risk_level: low}"), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Fail("watcher", 1, absl::ZeroDuration()), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Throw("watcher", "needs-review"), absl::StatusCode::kPermissionDenied);
  // A job is not decided as a task.
  EXPECT_CODE(harness_.Decide("svc", OpenJobId(), v1::COMPLETE),
              absl::StatusCode::kFailedPrecondition);
  v1::Command claim;
  claim.mutable_claim()->set_id(OpenJobId());
  EXPECT_CODE(harness_.Run("svc", claim), absl::StatusCode::kFailedPrecondition);
  v1::Command unknown;
  unknown.mutable_complete_job()->set_task_id("i1-t99");
  EXPECT_CODE(harness_.Run("svc", unknown), absl::StatusCode::kNotFound);
  EXPECT_THAT(harness_.ActiveSteps(), ElementsAre("check"));
}

TEST_F(JobEngineTest, FailuresUseUpRetriesWithBackoffThenRaiseAnIncident) {
  const std::string job = OpenJobId();
  // The worker asks for more retries than are left: a failure still uses
  // one up.
  ASSERT_OK(Fail("svc", 5, absl::Seconds(30), "timeout calling the bureau"));
  const v1::Task* failed = OpenJob();
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->job().retries_left(), 1);
  EXPECT_EQ(failed->job().failures(), 1);
  EXPECT_EQ(failed->job().last_error(), "timeout calling the bureau");
  EXPECT_EQ(Harness::TimeOf(failed->job().available_at()), harness_.now + absl::Seconds(30));
  EXPECT_EQ(failed->job().incident_id(), "");
  EXPECT_THAT(harness_.EventsOfType("incident_raised"), IsEmpty());

  harness_.now += absl::Seconds(30);
  ASSERT_OK(Fail("svc", 1, absl::Seconds(5), "bureau still down"));
  const v1::Task* stuck = OpenJob();
  ASSERT_NE(stuck, nullptr);
  EXPECT_EQ(stuck->id(), job);
  EXPECT_EQ(stuck->job().retries_left(), 0);
  EXPECT_EQ(stuck->job().incident_id(), job + ".i1");
  EXPECT_EQ(stuck->job().incident_message(), "bureau still down");
  auto raised = harness_.EventsOfType("incident_raised");
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0]->reason(), "bureau still down");
  EXPECT_EQ(harness_.EventsOfType("job_failed").size(), 2u);
  // While the incident is open the job is not worked.
  EXPECT_CODE(Complete("svc", "{risk_level: low}"), absl::StatusCode::kFailedPrecondition);
  EXPECT_CODE(Fail("svc", 1, absl::ZeroDuration()), absl::StatusCode::kFailedPrecondition);
}

TEST_F(JobEngineTest, AnAdministratorRetriesAnIncidentWithFreshRetries) {
  ASSERT_OK(Fail("svc", 0, absl::ZeroDuration()));
  const std::string incident = OpenJob()->job().incident_id();
  ASSERT_FALSE(incident.empty());
  EXPECT_EQ(OpenJob()->job().incident_message(), "engine down");
  // Only the definition's administrators resolve it.
  EXPECT_CODE(Resolve("ann", incident, 3), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Resolve("svc", incident, 3), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Resolve("ceo", incident + "x", 3), absl::StatusCode::kNotFound);
  EXPECT_CODE(Resolve("ceo", incident, 101), absl::StatusCode::kInvalidArgument);
  harness_.now += absl::Minutes(10);
  ASSERT_OK(Resolve("ceo", incident, 3));
  const v1::Task* retried = OpenJob();
  ASSERT_NE(retried, nullptr);
  EXPECT_EQ(retried->job().retries_left(), 3);
  EXPECT_EQ(retried->job().incident_id(), "");
  EXPECT_EQ(Harness::TimeOf(retried->job().available_at()), harness_.now);
  auto resolved = harness_.EventsOfType("incident_resolved");
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0]->reason(), "retried");
  EXPECT_EQ(resolved[0]->actor(), "ceo");
  // Resolved once is resolved.
  EXPECT_CODE(Resolve("ceo", incident, 3), absl::StatusCode::kNotFound);
  // A second incident on the job is numbered on.
  ASSERT_OK(Fail("svc", 0, absl::ZeroDuration()));
  EXPECT_EQ(OpenJob()->job().incident_id(), OpenJobId() + ".i2");
  ASSERT_OK(Resolve("ceo", OpenJob()->job().incident_id(), 1));
  ASSERT_OK(Complete("svc", "{risk_level: low}"));
  EXPECT_THAT(harness_.ActiveSteps(), ElementsAre("ops"));
}

TEST_F(JobEngineTest, AnAdministratorCancelsTheInstanceOfAnIncident) {
  ASSERT_OK(Fail("svc", 0, absl::ZeroDuration()));
  const std::string job = OpenJobId();
  ASSERT_OK(Resolve("ceo", OpenJob()->job().incident_id(), 0));
  EXPECT_EQ(harness_.state().status(), v1::CANCELLED);
  EXPECT_EQ(harness_.state().tasks(0).id(), job);
  EXPECT_EQ(harness_.state().tasks(0).status(), v1::TASK_CANCELLED);
  auto resolved = harness_.EventsOfType("incident_resolved");
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0]->reason(), "cancelled");
}

TEST_F(JobEngineTest, AThrownErrorTakesTheStepsRouteForItsCode) {
  const std::string job = OpenJobId();
  ASSERT_OK(Throw("svc", "needs-review"));
  EXPECT_THAT(harness_.ActiveSteps(), ElementsAre("review"));
  EXPECT_THAT(harness_.PendingAssignees(), ElementsAre("hal"));
  auto thrown = harness_.EventsOfType("job_error_thrown");
  ASSERT_EQ(thrown.size(), 1u);
  EXPECT_EQ(thrown[0]->reason(), "needs-review");
  EXPECT_EQ(thrown[0]->job_error_thrown().task().status(), v1::DONE);
  EXPECT_EQ(thrown[0]->job_error_thrown().task().job().error_code(), "needs-review");
  // The review sends it back to the check: a new job, with fresh retries.
  ASSERT_OK(harness_.Approve("hal"));
  EXPECT_THAT(harness_.ActiveSteps(), ElementsAre("check"));
  ASSERT_NE(OpenJob(), nullptr);
  EXPECT_NE(OpenJobId(), job);
  EXPECT_EQ(OpenJob()->job().retries_left(), 2);
}

TEST_F(JobEngineTest, AnErrorCodeWithNoRouteRaisesAnIncident) {
  EXPECT_CODE(Throw("svc", ""), absl::StatusCode::kInvalidArgument);
  ASSERT_OK(Throw("svc", "blacklisted"));
  EXPECT_THAT(harness_.ActiveSteps(), ElementsAre("check"));
  const v1::Task* job = OpenJob();
  ASSERT_NE(job, nullptr);
  EXPECT_THAT(job->job().incident_message(), HasSubstr("'blacklisted' has no route"));
  EXPECT_EQ(harness_.EventsOfType("incident_raised").size(), 1u);
}

TEST_F(JobEngineTest, AFailureNeedsRetriesAndABackoffInBounds) {
  EXPECT_CODE(Fail("svc", -1, absl::ZeroDuration()), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(Fail("svc", 101, absl::ZeroDuration()), absl::StatusCode::kInvalidArgument);
  absl::Status too_long = Fail("svc", 1, absl::Hours(24) + absl::Seconds(1));
  EXPECT_THAT(ViolatedFields(too_long), ElementsAre("backoff"));
  EXPECT_CODE(Fail("svc", 1, absl::Seconds(-1)), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(harness_.EventsOfType("job_failed"), IsEmpty());
  ASSERT_OK(Fail("svc", 100, absl::Hours(24)));
  EXPECT_EQ(Harness::TimeOf(OpenJob()->job().available_at()), harness_.now + absl::Hours(24));
}

TEST_F(JobEngineTest, WithdrawingEndsTheJob) {
  const std::string job = OpenJobId();
  v1::Command withdraw;
  withdraw.mutable_withdraw()->set_id("i1");
  ASSERT_OK(harness_.Run("ann", withdraw));
  EXPECT_EQ(OpenJob(), nullptr);
  v1::Command complete;
  complete.mutable_complete_job()->set_task_id(job);
  (*complete.mutable_complete_job()->mutable_result()->mutable_fields())["risk_level"]
      .set_string_value("low");
  EXPECT_CODE(harness_.Run("svc", complete), absl::StatusCode::kFailedPrecondition);
}

std::vector<std::string> ProblemsOf(const std::string& yaml) {
  auto definition = workflow::ParseDefinitionYaml(yaml);
  EXPECT_TRUE(definition.ok()) << definition.status();
  std::vector<std::string> problems;
  if (!definition.ok()) return problems;
  for (const auto& problem : workflow::ValidateDefinition(*definition)) {
    problems.push_back(problem.path() + ": " + problem.message());
  }
  return problems;
}

TEST(JobDefinitionTest, TheVettingDefinitionIsValid) {
  EXPECT_THAT(ProblemsOf(kVettingDefinition), IsEmpty());
}

TEST(JobDefinitionTest, BadJobsAreProblemsWithPaths) {
  auto problems = ProblemsOf(R"(
key: bad
name: Bad
form:
  fields: [{name: amount, type: NUMBER}]
steps:
  - id: check
    system:
      job_type: "Risk Check"
      workers: [{user: svc}]
      result_fields:
        - {name: amount, type: NUMBER}
        - {name: level, type: ENUM}
        - {name: secret, type: STRING, confidential: true}
        - {name: scan, type: ATTACHMENT}
        - {name: scans, type: LIST, item_type: ATTACHMENT}
        - {name: note, type: LIST, item_type: STRING}
      retries: 101
      errors: [{code: gone, to: nowhere}, {code: gone, to: done}]
    next:
      - when: {field: level, op: EQ, value: x}
        to: done
      - when: {field: mystery, op: EQ, value: x}
        to: done
      - to: done
  - id: plain
    system:
      workers: [{user: svc}]
      result_fields: [{name: out, type: STRING}]
      retries: 2
      errors: [{code: e, to: done}]
    next: [{to: done}]
  - {id: done, end: {}}
)");
  EXPECT_THAT(problems, Contains(HasSubstr("steps[0].system.job_type: must be 1-64 lower-case")));
  EXPECT_THAT(problems,
              Contains(HasSubstr("steps[0].system.result_fields[0].name: 'amount' is already a "
                                 "form field")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[0].system.result_fields[1].values: an enum "
                                           "needs values")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[0].system.result_fields[2].confidential: a "
                                           "result field cannot be confidential")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[0].system.result_fields[3].type: a result "
                                           "field cannot hold attachments")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[0].system.result_fields[4].type: a result "
                                           "field cannot hold attachments")));
  for (const auto& problem : problems) {
    EXPECT_THAT(problem, ::testing::Not(HasSubstr("result_fields[5]")));
  }
  EXPECT_THAT(problems, Contains("steps[0].system.retries: must be at most 100"));
  EXPECT_THAT(problems, Contains("steps[0].system.errors[0].to: unknown step 'nowhere'"));
  EXPECT_THAT(problems,
              Contains("steps[0].system.errors[1].code: duplicate error code 'gone'"));
  // A condition may read a result field, not an unknown one.
  EXPECT_THAT(problems, Contains(HasSubstr("next[1].when.field: unknown form field 'mystery'")));
  for (const auto& problem : problems) EXPECT_THAT(problem, ::testing::Not(HasSubstr("'level'")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[1].system.result_fields: only a job")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[1].system.retries: only a job")));
  EXPECT_THAT(problems, Contains(HasSubstr("steps[1].system.errors: only a job")));
}

TEST(JobDefinitionTest, RetriesBoundIsExact) {
  std::string at_bound = kVettingDefinition;
  at_bound.replace(at_bound.find("retries: 2"), 10, "retries: 100");
  EXPECT_THAT(ProblemsOf(at_bound), IsEmpty());
}

TEST(JobKeyTest, KeysAndIncidentIdsNameTheirTask) {
  EXPECT_EQ(workflow::JobKey("i1-t3", 2), "i1-t3.2");
  auto parsed = workflow::ParseJobKey("i1-t3.2");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->first, "i1-t3");
  EXPECT_EQ(parsed->second, 2);
  for (const char* bad : {"", "i1-t3", "i1-t3.", "i1-t3.0", "i1-t3.-1", "i1-t3.x", "nope.1",
                          "i1-t3.99999999999999999999"}) {
    EXPECT_FALSE(workflow::ParseJobKey(bad).has_value()) << bad;
  }
  EXPECT_EQ(workflow::TaskOfIncident("i1-t3.i2"), "i1-t3");
  EXPECT_EQ(workflow::TaskOfIncident("i1-t3.i0"), "");
  EXPECT_EQ(workflow::TaskOfIncident("i1-t3"), "");
}

}  // namespace
}  // namespace signoff::testing
