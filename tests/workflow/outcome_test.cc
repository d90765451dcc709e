// Named business outcomes on END steps, and declared results of TASK steps.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "workflow/errors.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// A warning case: HR checks the partner and reports a verdict with a
// reason code; the verdict routes to one of two named outcomes.
constexpr char kReviewDefinition[] = R"(
key: review
outcomes:
  - {code: KEPT, label: Partner kept}
  - {code: TERMINATED, label: Partner terminated}
form:
  fields:
    - {name: partner, type: STRING, required: true}
steps:
  - id: check
    task:
      assignees: [{user: hal}]
      result_fields:
        - {name: verdict, type: ENUM, required: true, values: [keep, terminate]}
        - {name: reason, type: ENUM, values: [late, fraud, other]}
        - {name: score, type: NUMBER, min: 0, max: 10}
    next:
      - when: {field: verdict, op: EQ, value: terminate}
        to: terminated
      - to: kept
  - {id: kept, end: {outcome: KEPT}}
  - {id: terminated, end: {outcome: TERMINATED, rejected: true}}
)";

class OutcomeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(harness_.Start("ann", "{partner: P-1}")); }

  absl::Status CompleteWith(const std::string& result_yaml) {
    v1::DecideTaskRequest request;
    request.set_task_id(harness_.PendingTaskOf("hal")->id());
    request.set_action(v1::COMPLETE);
    auto result = workflow::ParseFormYaml(result_yaml);
    if (!result.ok()) return result.status();
    *request.mutable_result() = *result;
    return harness_.Decide("hal", request);
  }

  static std::vector<std::string> ViolatedFields(const absl::Status& status) {
    std::vector<std::string> fields;
    for (const auto& violation : workflow::ViolationsOf(status)) fields.push_back(violation.field);
    return fields;
  }

  const v1::Event* FinishedEvent() const {
    auto finished = harness_.EventsOfType("instance_finished");
    return finished.size() == 1 ? finished[0] : nullptr;
  }

  Harness harness_{kReviewDefinition};
};

TEST_F(OutcomeTest, TheEndStepsOutcomeIsOnTheStateAndTheFinishedEvent) {
  ASSERT_OK(CompleteWith("{verdict: keep, score: 7}"));
  EXPECT_EQ(harness_.state().status(), v1::APPROVED);
  EXPECT_EQ(harness_.state().outcome(), "KEPT");
  const v1::Event* finished = FinishedEvent();
  ASSERT_NE(finished, nullptr);
  EXPECT_EQ(finished->instance_finished().outcome(), "KEPT");
  EXPECT_EQ(finished->step_id(), "kept");
}

TEST_F(OutcomeTest, ARejectingEndStepCarriesItsOutcomeToo) {
  ASSERT_OK(CompleteWith("{verdict: terminate, reason: fraud}"));
  EXPECT_EQ(harness_.state().status(), v1::REJECTED);
  EXPECT_EQ(harness_.state().outcome(), "TERMINATED");
  ASSERT_NE(FinishedEvent(), nullptr);
  EXPECT_EQ(FinishedEvent()->instance_finished().outcome(), "TERMINATED");
}

TEST_F(OutcomeTest, ATaskResultIsMergedIntoTheDataAndRecordedInTheEvent) {
  ASSERT_OK(CompleteWith("{verdict: terminate, reason: late, score: 2}"));
  const auto& data = harness_.state().form().fields();
  EXPECT_EQ(data.at("verdict").string_value(), "terminate");
  EXPECT_EQ(data.at("reason").string_value(), "late");
  EXPECT_EQ(data.at("score").number_value(), 2);
  EXPECT_EQ(data.at("partner").string_value(), "P-1");
  // A result is not the applicant changing the form.
  EXPECT_EQ(harness_.state().form_revision(), 1);
  auto completed = harness_.EventsOfType("task_completed");
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0]->task_completed().task().result().fields().at("reason").string_value(),
            "late");
}

TEST_F(OutcomeTest, AResultIsCheckedAtItsBoundsAndNothingIsRecordedWhenItFails) {
  const size_t events_before = harness_.events().size();
  absl::Status missing = CompleteWith("{reason: late}");
  EXPECT_CODE(missing, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(missing), ElementsAre("result.verdict"));
  EXPECT_THAT(workflow::ViolationsOf(missing)[0].description, HasSubstr("required"));
  EXPECT_THAT(ViolatedFields(CompleteWith("{verdict: maybe}")), ElementsAre("result.verdict"));
  EXPECT_THAT(ViolatedFields(CompleteWith("{verdict: keep, colour: red}")),
              ElementsAre("result.colour"));
  EXPECT_THAT(ViolatedFields(CompleteWith("{verdict: keep, score: 10.5}")),
              ElementsAre("result.score"));
  EXPECT_THAT(ViolatedFields(CompleteWith("{verdict: keep, score: -0.5}")),
              ElementsAre("result.score"));
  // One violation per field.
  EXPECT_THAT(ViolatedFields(CompleteWith("{verdict: maybe, score: 11}")),
              UnorderedElementsAre("result.score", "result.verdict"));
  EXPECT_EQ(harness_.events().size(), events_before);
  EXPECT_THAT(harness_.ActiveSteps(), ElementsAre("check"));
  // The bounds themselves are in.
  ASSERT_OK(CompleteWith("{verdict: keep, score: 10}"));
  EXPECT_EQ(harness_.state().outcome(), "KEPT");
}

TEST_F(OutcomeTest, TheLowerBoundIsIn) {
  ASSERT_OK(CompleteWith("{verdict: terminate, score: 0}"));
  EXPECT_EQ(harness_.state().outcome(), "TERMINATED");
}

TEST(OutcomeEngineTest, AnEndWithoutAnOutcomeLeavesItEmpty) {
  Harness h(R"(
key: plain
steps:
  - {id: ok, approval: {approvers: [{user: mia}]}, next: [{to: done}]}
  - {id: done, end: {}}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Approve("mia"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
  EXPECT_THAT(h.state().outcome(), IsEmpty());
}

TEST(OutcomeEngineTest, AWithdrawalHasNoNamedOutcome) {
  Harness h(kReviewDefinition);
  ASSERT_OK(h.Start("ann", "{partner: P-2}"));
  v1::Command withdraw;
  withdraw.mutable_withdraw()->set_id("i1");
  withdraw.mutable_withdraw()->set_comment("filed by mistake");
  ASSERT_OK(h.Run("ann", withdraw));
  EXPECT_EQ(h.state().status(), v1::WITHDRAWN);
  EXPECT_THAT(h.state().outcome(), IsEmpty());
}

TEST(OutcomeEngineTest, ATaskWithoutResultFieldsTakesNoResult) {
  Harness h(R"(
key: plain
steps:
  - {id: work, task: {assignees: [{user: mia}]}, next: [{to: done}]}
  - {id: done, end: {}}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  v1::DecideTaskRequest request;
  request.set_task_id(h.PendingTaskOf("mia")->id());
  request.set_action(v1::COMPLETE);
  (*request.mutable_result()->mutable_fields())["note"].set_string_value("x");
  absl::Status refused = h.Decide("mia", request);
  EXPECT_CODE(refused, absl::StatusCode::kInvalidArgument);
  request.clear_result();
  ASSERT_OK(h.Decide("mia", request));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(OutcomeEngineTest, ARejectionLeadingToAnEndKeepsItsReasonAndTheOutcome) {
  Harness h(R"(
key: onboarding
outcomes: [{code: ONBOARDED}, {code: DECLINED}]
reject_reasons: [{code: risk_too_high}]
steps:
  - id: review
    approval: {approvers: [{user: mia}]}
    on_reject: declined
    next: [{to: onboarded}]
  - {id: onboarded, end: {outcome: ONBOARDED}}
  - {id: declined, end: {rejected: true, outcome: DECLINED}}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  v1::DecideTaskRequest reject;
  reject.set_task_id(h.PendingTaskOf("mia")->id());
  reject.set_action(v1::REJECT);
  reject.set_reason_code("risk_too_high");
  reject.set_comment("chargebacks above the limit");
  ASSERT_OK(h.Decide("mia", reject));
  EXPECT_EQ(h.state().status(), v1::REJECTED);
  EXPECT_EQ(h.state().outcome(), "DECLINED");
  EXPECT_EQ(h.state().outcome_reason(), "risk_too_high");
  EXPECT_EQ(h.state().outcome_comment(), "chargebacks above the limit");
}

TEST(OutcomeEngineTest, AnAppealClearsTheOutcomeUntilTheInstanceFinishesAgain) {
  Harness h(R"(
key: onboarding
appeal: {allowed: true, window_days: 7}
outcomes: [{code: ONBOARDED}, {code: DECLINED}]
steps:
  - {id: review, approval: {approvers: [{user: fred}]}, on_reject: declined, next: [{to: done}]}
  - {id: done, end: {outcome: ONBOARDED}}
  - {id: declined, end: {rejected: true, outcome: DECLINED}}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Decide("fred", h.PendingTaskOf("fred")->id(), v1::REJECT, "no"));
  EXPECT_EQ(h.state().outcome(), "DECLINED");
  v1::Command appeal;
  appeal.mutable_appeal()->set_comment("the documents were attached");
  ASSERT_OK(h.Run("ann", appeal));
  EXPECT_EQ(h.state().status(), v1::RUNNING);
  EXPECT_THAT(h.state().outcome(), IsEmpty());
  ASSERT_OK(h.Approve("fred"));
  EXPECT_EQ(h.state().outcome(), "ONBOARDED");
}

TEST(OutcomeEngineTest, APreviewStopsAtATaskWhoseResultPicksTheRoute) {
  Harness h(kReviewDefinition);
  workflow::Context context;
  context.now = h.now;
  context.directory = &h.directory();
  google::protobuf::Struct form;
  (*form.mutable_fields())["partner"].set_string_value("P-7");
  ASSERT_OK_AND_ASSIGN(auto preview, workflow::PreviewRoute(h.definition(), form, "ann", context));
  ASSERT_EQ(preview.steps_size(), 1);
  EXPECT_EQ(preview.steps(0).step_id(), "check");
  EXPECT_EQ(preview.final_status(), v1::RUNNING);
}

std::vector<std::string> ProblemPaths(const std::string& yaml) {
  auto definition = workflow::ParseDefinitionYaml(yaml);
  EXPECT_TRUE(definition.ok()) << definition.status();
  std::vector<std::string> paths;
  if (!definition.ok()) return paths;
  for (const auto& problem : workflow::ValidateDefinition(*definition)) {
    paths.push_back(problem.path() + ": " + problem.message());
  }
  return paths;
}

TEST(OutcomeValidationTest, AnOutcomeIsAnUpperCaseIdentifier) {
  EXPECT_THAT(ProblemPaths(R"(
key: t
steps:
  - {id: a, end: {outcome: kept}}
)"),
              ElementsAre(HasSubstr("steps[0].end.outcome: must be an upper-case identifier")));
  EXPECT_THAT(ProblemPaths(R"(
key: t
steps:
  - {id: a, end: {outcome: KEPT_2}}
)"),
              IsEmpty());
  EXPECT_THAT(ProblemPaths(R"(
key: t
outcomes: [{code: KEPT}, {code: KEPT}, {code: 2ND}]
steps:
  - {id: a, end: {outcome: KEPT}}
)"),
              ElementsAre(HasSubstr("outcomes[1].code: duplicate outcome 'KEPT'"),
                          HasSubstr("outcomes[2].code: must be an upper-case identifier")));
}

TEST(OutcomeValidationTest, ListedOutcomesBindEveryEndStep) {
  EXPECT_THAT(ProblemPaths(R"(
key: t
outcomes: [{code: KEPT}, {code: TERMINATED}]
steps:
  - id: a
    approval: {approvers: [{user: mia}]}
    next: [{when: {field: x, op: EQ, value: 1}, to: b}, {to: c}]
  - {id: b, end: {outcome: FIRED}}
  - {id: c, end: {}}
form: {fields: [{name: x, type: NUMBER}]}
)"),
              ElementsAre(HasSubstr("steps[1].end.outcome: 'FIRED' is not one of the "
                                    "definition's outcomes: KEPT, TERMINATED"),
                          HasSubstr("steps[2].end.outcome: the definition lists outcomes")));
}

TEST(OutcomeValidationTest, TaskResultFieldsAreCheckedLikeJobResults) {
  EXPECT_THAT(ProblemPaths(R"(
key: t
form: {fields: [{name: verdict, type: STRING}]}
steps:
  - id: a
    task:
      assignees: [{user: mia}]
      result_fields:
        - {name: verdict, type: ENUM, values: [pass]}
        - {name: code, type: ENUM}
        - {name: secret, type: STRING, confidential: true}
    next: [{to: b}]
  - {id: b, end: {}}
)"),
              UnorderedElementsAre(HasSubstr("steps[0].task.result_fields[0].name: 'verdict' is "
                                             "already a form field"),
                                   HasSubstr("steps[0].task.result_fields[1].values"),
                                   HasSubstr("steps[0].task.result_fields[2].confidential")));
  // A route may read a task's result field.
  EXPECT_THAT(ProblemPaths(R"(
key: t
steps:
  - id: a
    task:
      assignees: [{user: mia}]
      result_fields: [{name: verdict, type: ENUM, values: [pass, fail]}]
    next: [{when: {field: verdict, op: EQ, value: fail}, to: b}, {to: b}]
  - {id: b, end: {}}
)"),
              IsEmpty());
}

}  // namespace
}  // namespace signoff::testing
