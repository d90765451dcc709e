#include <algorithm>

#include "gmock/gmock.h"
#include "harness.h"
#include "workflow/errors.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::string ApprovalDefinition(const std::string& policy, const std::string& approvers,
                               const std::string& extra_step = "") {
  return R"(
key: t
form:
  fields:
    - {name: amount, type: MONEY}
    - {name: reviewer, type: USER}
    - {name: departments, type: LIST, item_type: STRING}
reject_reasons: [{code: incomplete}, {code: policy}]
steps:
  - id: review
    approval:
      policy: )" + policy + R"(
      approvers: )" + approvers + R"(
    actions:
      allowed: [APPROVE, REJECT, RETURN, TRANSFER, DELEGATE, ADD_SIGNER, COMMENT, CC, REMIND]
    next: [{to: done}]
)" + extra_step + R"(
  - id: done
    end: {}
)";
}

TEST(EngineTest, AnyPolicyFirstApprovalDecidesAndCancelsTheRest) {
  Harness h(ApprovalDefinition("ANY", "[{user: fiona}, {user: fred}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_THAT(h.PendingAssignees(), UnorderedElementsAre("fiona", "fred"));
  ASSERT_OK(h.Approve("fred"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
  EXPECT_THAT(h.PendingAssignees(), IsEmpty());
  EXPECT_EQ(h.EventsOfType("task_cancelled").size(), 1u);
}

TEST(EngineTest, AllPolicyNeedsEveryoneAndOneRejectRejects) {
  Harness h(ApprovalDefinition("ALL", "[{user: fiona}, {user: fred}, {user: hal}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Approve("fiona"));
  ASSERT_OK(h.Approve("fred"));
  EXPECT_EQ(h.state().status(), v1::RUNNING);
  v1::DecideTaskRequest reject;
  reject.set_task_id(h.PendingTaskOf("hal")->id());
  reject.set_action(v1::REJECT);
  reject.set_reason_code("policy");
  reject.set_comment("not this quarter");
  ASSERT_OK(h.Decide("hal", reject));
  EXPECT_EQ(h.state().status(), v1::REJECTED);
}

TEST(EngineTest, QuorumApprovesAtNAndRejectsWhenUnreachable) {
  const std::string approvers = "[{user: fiona}, {user: fred}, {user: hal}]";
  {
    Harness h(ApprovalDefinition("QUORUM\n      quorum: 2", approvers));
    ASSERT_OK(h.Start("ann", "{}"));
    ASSERT_OK(h.Approve("fiona"));
    EXPECT_EQ(h.state().status(), v1::RUNNING);
    ASSERT_OK(h.Approve("hal"));
    EXPECT_EQ(h.state().status(), v1::APPROVED);
  }
  {
    Harness h(ApprovalDefinition("QUORUM\n      quorum: 2", approvers));
    ASSERT_OK(h.Start("ann", "{}"));
    v1::DecideTaskRequest reject;
    reject.set_action(v1::REJECT);
    reject.set_reason_code("policy");
    reject.set_comment("no");
    reject.set_task_id(h.PendingTaskOf("fiona")->id());
    ASSERT_OK(h.Decide("fiona", reject));
    EXPECT_EQ(h.state().status(), v1::RUNNING);
    reject.set_task_id(h.PendingTaskOf("fred")->id());
    ASSERT_OK(h.Decide("fred", reject));
    EXPECT_EQ(h.state().status(), v1::REJECTED);
  }
}

TEST(EngineTest, SequentialPolicyGoesInRuleOrder) {
  Harness h(ApprovalDefinition("SEQUENTIAL", "[{user: fred}, {user: fiona}, {user: hal}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("fred"));
  const std::string waiting = h.state().tasks(1).id();
  EXPECT_CODE(h.Decide("fiona", waiting, v1::APPROVE), absl::StatusCode::kFailedPrecondition);
  ASSERT_OK(h.Approve("fred"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("fiona"));
  ASSERT_OK(h.Approve("fiona"));
  ASSERT_OK(h.Approve("hal"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(EngineTest, ApproverRulesResolveAndRecordTheChoosingRule) {
  Harness h(ApprovalDefinition(
      "ALL",
      "[{manager_level: 1}, {manager_level: 2}, {department_head: {}}, "
      "{department_head: {department: hr}}, {role: {name: finance-reviewer, department: fin}}, "
      "{form_field: reviewer}, {department_head: {from_field: departments}}]"));
  ASSERT_OK(h.Start("ann", "{reviewer: hal, departments: [fin, hr]}"));
  std::map<std::string, std::string> chosen_by;
  for (const auto& task : h.state().tasks()) chosen_by[task.assignee()] = task.chosen_by();
  EXPECT_EQ(chosen_by["mia"], "manager_level:1");
  EXPECT_EQ(chosen_by["sam"], "manager_level:2");
  EXPECT_EQ(chosen_by["hana"], "department_head:hr");
  EXPECT_EQ(chosen_by["fiona"], "role:finance-reviewer@fin");
  EXPECT_EQ(chosen_by["fred"], "role:finance-reviewer@fin");
  EXPECT_EQ(chosen_by["hal"], "form_field:reviewer");
  // sam is both manager level 2 and head of sales: one task, first rule.
  EXPECT_EQ(h.state().tasks_size(), 6);
}

TEST(EngineTest, SelfApprovalIsSkippedAndRecorded) {
  Harness h(ApprovalDefinition("ANY", "[{applicant: true}, {user: fred}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("fred"));
  auto skipped = h.EventsOfType("approver_skipped");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0]->approver_skipped().user(), "ann");
  EXPECT_EQ(skipped[0]->actor(), workflow::kSystemActor);
}

TEST(EngineTest, EmptyApproverSetFailsByDefault) {
  Harness h(ApprovalDefinition("ANY", "[{form_field: reviewer}]"));
  EXPECT_CODE(h.Start("ann", "{}"), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(h.events().empty());
}

TEST(EngineTest, EmptyApproverSetCanAutoApproveOrGoToAdmins) {
  {
    Harness h(R"(
key: t
form: {fields: [{name: reviewer, type: USER}]}
steps:
  - {id: review, on_empty: AUTO_APPROVE, approval: {approvers: [{form_field: reviewer}]}, next: [{to: done}]}
  - {id: done, end: {}}
)");
    ASSERT_OK(h.Start("ann", "{}"));
    EXPECT_EQ(h.state().status(), v1::APPROVED);
    EXPECT_EQ(h.EventsOfType("step_completed")[0]->actor(), workflow::kSystemActor);
  }
  {
    Harness h(R"(
key: t
form: {fields: [{name: reviewer, type: USER}]}
steps:
  - {id: review, on_empty: TO_ADMIN_ROLE, approval: {approvers: [{form_field: reviewer}]}, next: [{to: done}]}
  - {id: done, end: {}}
)");
    ASSERT_OK(h.Start("ann", "{}"));
    ASSERT_EQ(h.state().tasks_size(), 1);
    EXPECT_EQ(h.state().tasks(0).candidate_group().role(), "workflow-admin");
    ASSERT_OK(h.Decide("ceo", h.state().tasks(0).id(), v1::APPROVE));
    EXPECT_EQ(h.state().status(), v1::APPROVED);
  }
}

constexpr char kTwoStepDefinition[] = R"(
key: t
form:
  fields:
    - {name: amount, type: MONEY, required: true}
steps:
  - id: first
    approval: {approvers: [{user: fred}]}
    next: [{to: second}]
  - id: second
    approval: {approvers: [{user: hal}, {user: fred}], policy: ALL}
    next: [{to: done}]
  - {id: done, end: {}}
)";

TEST(EngineTest, DedupeAutoApprovesAnApproverWhoAlreadyApproved) {
  Harness h(kTwoStepDefinition);
  ASSERT_OK(h.Start("ann", "{amount: 10}"));
  ASSERT_OK(h.Approve("fred"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("hal"));
  ASSERT_OK(h.Approve("hal"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
  bool auto_approved = false;
  for (const auto* event : h.EventsOfType("task_completed")) {
    auto_approved = auto_approved || (event->actor() == workflow::kSystemActor &&
                                      event->task_completed().task().assignee() == "fred");
  }
  EXPECT_TRUE(auto_approved);
}

TEST(EngineTest, DedupeDoesNotApplyAfterTheFormChanged) {
  Harness h(R"(
key: t
form: {fields: [{name: amount, type: MONEY, required: true}]}
steps:
  - id: first
    approval: {approvers: [{user: fred}]}
    next: [{to: second}]
  - id: second
    approval: {approvers: [{user: hal}]}
    next: [{to: done}]
  - {id: done, end: {}}
)");
  ASSERT_OK(h.Start("ann", "{amount: 10}"));
  ASSERT_OK(h.Approve("fred"));
  ASSERT_OK(h.Decide("hal", h.PendingTaskOf("hal")->id(), v1::RETURN, "amount is wrong"));
  EXPECT_EQ(h.state().status(), v1::RETURNED);

  v1::Command resubmit;
  resubmit.mutable_resubmit()->mutable_form()->mutable_fields()->operator[]("amount")
      .set_number_value(12);
  ASSERT_OK(h.Run("ann", resubmit));
  auto resubmitted = h.EventsOfType("instance_resubmitted");
  ASSERT_EQ(resubmitted.size(), 1u);
  ASSERT_EQ(resubmitted[0]->instance_resubmitted().changes_size(), 1);
  EXPECT_EQ(resubmitted[0]->instance_resubmitted().changes(0).field(), "amount");
  EXPECT_EQ(h.state().form_revision(), 2);
  // fred approved revision 1, so he must look again.
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("fred"));
}

TEST(EngineTest, ResubmitWithTheSameFormKeepsEarlierApprovals) {
  Harness h(kTwoStepDefinition);
  ASSERT_OK(h.Start("ann", "{amount: 10}"));
  ASSERT_OK(h.Approve("fred"));
  ASSERT_OK(h.Decide("hal", h.PendingTaskOf("hal")->id(), v1::RETURN, "attach the invoice"));
  v1::Command resubmit;
  *resubmit.mutable_resubmit()->mutable_form() = h.state().form();
  ASSERT_OK(h.Run("ann", resubmit));
  EXPECT_EQ(h.state().form_revision(), 1);
  EXPECT_THAT(h.ActiveSteps(), ElementsAre("second"));
}

TEST(EngineTest, ReturnToAnEarlierStepReentersIt) {
  Harness h(kTwoStepDefinition);
  ASSERT_OK(h.Start("ann", "{amount: 10}"));
  ASSERT_OK(h.Approve("fred"));
  v1::DecideTaskRequest request;
  request.set_task_id(h.PendingTaskOf("hal")->id());
  request.set_action(v1::RETURN);
  request.set_comment("fred should check again");
  request.set_return_to_step("done");
  EXPECT_CODE(h.Decide("hal", request), absl::StatusCode::kFailedPrecondition);
  request.set_return_to_step("first");
  ASSERT_OK(h.Decide("hal", request));
  EXPECT_EQ(h.state().status(), v1::RUNNING);
  EXPECT_EQ(h.EventsOfType("step_entered").back()->step_id(), "first");
  // hal asked fred to look again: the form is the same, but fred's approval
  // from before the return does not decide the step for him.
  EXPECT_THAT(h.ActiveSteps(), ElementsAre("first"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("fred"));
  // Nothing has been completed since the return.
  EXPECT_EQ(h.events().back().type(), "task_created");
  EXPECT_EQ(h.events().back().task_created().task().assignee(), "fred");
  ASSERT_OK(h.Approve("fred"));
  // fred's new approval is one of this pass, so at the second step, where
  // he appears again, dedupe approves for him and only hal is asked.
  EXPECT_THAT(h.ActiveSteps(), ElementsAre("second"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("hal"));
  const v1::Event* carried = h.EventsOfType("task_completed").back();
  EXPECT_EQ(carried->actor(), workflow::kSystemActor);
  EXPECT_EQ(carried->task_completed().task().assignee(), "fred");
  EXPECT_EQ(carried->task_completed().task().step_id(), "second");
  ASSERT_OK(h.Approve("hal"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

// A return to an earlier step sends the instance through the steps after it
// again, and each asks its approvers: approvals from before the return do
// not count, while one given after it still spares an approver who appears
// twice.
TEST(EngineTest, AfterAReturnToAnEarlierStepTheStepsAfterItAskAgain) {
  Harness h(R"(
key: t
form: {fields: [{name: amount, type: MONEY, required: true}]}
steps:
  - id: endorse
    approval: {approvers: [{user: fred}]}
    next: [{to: check}]
  - id: check
    approval: {approvers: [{user: fiona}]}
    next: [{to: decide}]
  - id: decide
    approval: {approvers: [{user: hal}, {user: fiona}], policy: ALL}
    next: [{to: done}]
  - {id: done, end: {}}
)");
  ASSERT_OK(h.Start("ann", "{amount: 10}"));
  ASSERT_OK(h.Approve("fred"));
  ASSERT_OK(h.Approve("fiona"));
  // Before any return, fiona's approval at check carries to decide.
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("hal"));
  v1::DecideTaskRequest request;
  request.set_task_id(h.PendingTaskOf("hal")->id());
  request.set_action(v1::RETURN);
  request.set_comment("the endorsement does not cover the amount");
  request.set_return_to_step("endorse");
  ASSERT_OK(h.Decide("hal", request));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("fred"));
  ASSERT_OK(h.Approve("fred"));
  EXPECT_THAT(h.ActiveSteps(), ElementsAre("check"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("fiona"));
  ASSERT_OK(h.Approve("fiona"));
  EXPECT_THAT(h.ActiveSteps(), ElementsAre("decide"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("hal"));
  ASSERT_OK(h.Approve("hal"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

// A return to the applicant is different: an unchanged resubmission
// questions no one's approval, even after an earlier return to a step.
TEST(EngineTest, ApprovalsGivenAfterAReturnToAStepCarryAcrossAnUnchangedResubmission) {
  Harness h(kTwoStepDefinition);
  ASSERT_OK(h.Start("ann", "{amount: 10}"));
  ASSERT_OK(h.Approve("fred"));
  v1::DecideTaskRequest request;
  request.set_task_id(h.PendingTaskOf("hal")->id());
  request.set_action(v1::RETURN);
  request.set_comment("fred should check again");
  request.set_return_to_step("first");
  ASSERT_OK(h.Decide("hal", request));
  ASSERT_OK(h.Approve("fred"));
  ASSERT_OK(h.Decide("hal", h.PendingTaskOf("hal")->id(), v1::RETURN, "attach the invoice"));
  EXPECT_EQ(h.state().status(), v1::RETURNED);
  v1::Command resubmit;
  *resubmit.mutable_resubmit()->mutable_form() = h.state().form();
  ASSERT_OK(h.Run("ann", resubmit));
  EXPECT_THAT(h.ActiveSteps(), ElementsAre("second"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("hal"));
}

TEST(EngineTest, RejectNeedsAKnownReasonCodeAndAComment) {
  Harness h(ApprovalDefinition("ANY", "[{user: fred}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  const std::string task = h.PendingTaskOf("fred")->id();
  v1::DecideTaskRequest reject;
  reject.set_task_id(task);
  reject.set_action(v1::REJECT);
  auto status = h.Decide("fred", reject);
  EXPECT_CODE(status, absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(workflow::ViolationsOf(status).size(), 1u);
  EXPECT_EQ(workflow::ViolationsOf(status)[0].field, "comment");
  reject.set_comment("missing documents");
  reject.set_reason_code("bogus");
  status = h.Decide("fred", reject);
  EXPECT_CODE(status, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(workflow::ViolationsOf(status)[0].field, "reason_code");
  reject.set_reason_code("incomplete");
  ASSERT_OK(h.Decide("fred", reject));
  EXPECT_EQ(h.state().status(), v1::REJECTED);
  EXPECT_EQ(h.EventsOfType("task_completed").back()->reason(), "incomplete");
}

TEST(EngineTest, OnlyTheAssigneeMayDecide) {
  Harness h(ApprovalDefinition("ANY", "[{user: fred}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_CODE(h.Decide("hal", h.PendingTaskOf("fred")->id(), v1::APPROVE),
              absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(h.Decide("fred", "nope", v1::APPROVE), absl::StatusCode::kNotFound);
}

TEST(EngineTest, ActionsNotAllowedByTheStepAreRefused) {
  Harness h(R"(
key: t
steps:
  - {id: review, approval: {approvers: [{user: fred}]}, actions: {allowed: [APPROVE]}, next: [{to: done}]}
  - {id: done, end: {}}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_CODE(h.Decide("fred", h.PendingTaskOf("fred")->id(), v1::REJECT, "no"),
              absl::StatusCode::kFailedPrecondition);
}

TEST(EngineTest, TransferHandsTheTaskOver) {
  Harness h(ApprovalDefinition("ANY", "[{user: fred}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  v1::DecideTaskRequest transfer;
  transfer.set_task_id(h.PendingTaskOf("fred")->id());
  transfer.set_action(v1::TRANSFER);
  transfer.add_users("ann");
  EXPECT_CODE(h.Decide("fred", transfer), absl::StatusCode::kFailedPrecondition);
  transfer.set_users(0, "nobody");
  EXPECT_CODE(h.Decide("fred", transfer), absl::StatusCode::kInvalidArgument);
  transfer.set_users(0, "fiona");
  ASSERT_OK(h.Decide("fred", transfer));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("fiona"));
  ASSERT_OK(h.Approve("fiona"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(EngineTest, DelegateDecidesOnBehalfOfTheOriginalAssignee) {
  Harness h(ApprovalDefinition("ANY", "[{user: fred}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  v1::DecideTaskRequest delegate;
  delegate.set_task_id(h.PendingTaskOf("fred")->id());
  delegate.set_action(v1::DELEGATE);
  delegate.add_users("fiona");
  ASSERT_OK(h.Decide("fred", delegate));
  ASSERT_OK(h.Approve("fiona"));
  const v1::Event* completed = h.EventsOfType("task_completed").back();
  EXPECT_EQ(completed->actor(), "fiona");
  EXPECT_EQ(completed->on_behalf_of(), "fred");
}

TEST(EngineTest, AddSignerBeforeAfterAndInParallel) {
  {
    Harness h(ApprovalDefinition("ANY", "[{user: fred}]"));
    ASSERT_OK(h.Start("ann", "{}"));
    v1::DecideTaskRequest add;
    add.set_task_id(h.PendingTaskOf("fred")->id());
    add.set_action(v1::ADD_SIGNER);
    add.add_users("hal");
    EXPECT_CODE(h.Decide("fred", add), absl::StatusCode::kInvalidArgument);
    add.set_signer_position(v1::BEFORE);
    ASSERT_OK(h.Decide("fred", add));
    EXPECT_THAT(h.PendingAssignees(), ElementsAre("hal"));
    ASSERT_OK(h.Approve("hal"));
    EXPECT_THAT(h.PendingAssignees(), ElementsAre("fred"));
    ASSERT_OK(h.Approve("fred"));
    EXPECT_EQ(h.state().status(), v1::APPROVED);
  }
  {
    Harness h(ApprovalDefinition("ANY", "[{user: fred}]"));
    ASSERT_OK(h.Start("ann", "{}"));
    v1::DecideTaskRequest add;
    add.set_task_id(h.PendingTaskOf("fred")->id());
    add.set_action(v1::ADD_SIGNER);
    add.add_users("hal");
    add.set_signer_position(v1::AFTER);
    ASSERT_OK(h.Decide("fred", add));
    ASSERT_OK(h.Approve("fred"));
    EXPECT_EQ(h.state().status(), v1::RUNNING);
    EXPECT_THAT(h.PendingAssignees(), ElementsAre("hal"));
    ASSERT_OK(h.Approve("hal"));
    EXPECT_EQ(h.state().status(), v1::APPROVED);
  }
  {
    Harness h(ApprovalDefinition("ANY", "[{user: fred}]"));
    ASSERT_OK(h.Start("ann", "{}"));
    v1::DecideTaskRequest add;
    add.set_task_id(h.PendingTaskOf("fred")->id());
    add.set_action(v1::ADD_SIGNER);
    add.add_users("hal");
    add.set_signer_position(v1::PARALLEL);
    ASSERT_OK(h.Decide("fred", add));
    EXPECT_THAT(h.PendingAssignees(), UnorderedElementsAre("fred", "hal"));
    ASSERT_OK(h.Approve("hal"));
    EXPECT_EQ(h.state().status(), v1::RUNNING);
    ASSERT_OK(h.Approve("fred"));
    EXPECT_EQ(h.state().status(), v1::APPROVED);
  }
}

TEST(EngineTest, CommentAndCcAreRecorded) {
  Harness h(ApprovalDefinition("ANY", "[{user: fred}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  const std::string task = h.PendingTaskOf("fred")->id();
  EXPECT_CODE(h.Decide("fred", task, v1::COMMENT), absl::StatusCode::kInvalidArgument);
  ASSERT_OK(h.Decide("fred", task, v1::COMMENT, "looking into it"));
  v1::DecideTaskRequest cc;
  cc.set_task_id(task);
  cc.set_action(v1::CC);
  cc.add_users("hana");
  ASSERT_OK(h.Decide("fred", cc));
  EXPECT_EQ(h.EventsOfType("comment_added").size(), 1u);
  ASSERT_EQ(h.EventsOfType("cc_sent").size(), 1u);
  EXPECT_EQ(h.EventsOfType("cc_sent")[0]->cc_sent().users(0), "hana");
}

TEST(EngineTest, StepCcGoesOutWhenTheStepCompletes) {
  Harness h(R"(
key: t
steps:
  - {id: review, approval: {approvers: [{user: fred}]}, cc: [{department_head: {department: hr}}], next: [{to: done}]}
  - {id: done, end: {}}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_TRUE(h.EventsOfType("cc_sent").empty());
  ASSERT_OK(h.Approve("fred"));
  ASSERT_EQ(h.EventsOfType("cc_sent").size(), 1u);
  EXPECT_EQ(h.EventsOfType("cc_sent")[0]->cc_sent().users(0), "hana");
}

TEST(EngineTest, RoutingFollowsConditionsOnTheForm) {
  const std::string definition = R"(
key: t
form:
  fields:
    - {name: amount, type: MONEY, required: true}
    - {name: region, type: ENUM, values: [east, west, north]}
steps:
  - id: intake
    approval: {approvers: [{user: mia}]}
    next:
      - {when: {field: amount, op: GT, value: 100000}, to: finance}
      - {when: {all: [{field: region, op: IN, value: [east, west]}, {not: {field: amount, op: LT, value: 10}}]}, to: regional}
      - {to: done}
  - {id: finance, approval: {approvers: [{user: fiona}]}, next: [{to: done}]}
  - {id: regional, approval: {approvers: [{user: sam}]}, next: [{to: done}]}
  - {id: done, end: {}}
)";
  struct Case {
    std::string form;
    std::string next_assignee;
  };
  for (const auto& c : std::vector<Case>{{"{amount: '250000.00', region: north}", "fiona"},
                                         {"{amount: 500, region: east}", "sam"},
                                         {"{amount: 5, region: east}", ""},
                                         {"{amount: 500, region: north}", ""}}) {
    Harness h(definition);
    ASSERT_OK(h.Start("ann", c.form));
    ASSERT_OK(h.Approve("mia"));
    if (c.next_assignee.empty()) {
      EXPECT_EQ(h.state().status(), v1::APPROVED) << c.form;
    } else {
      EXPECT_THAT(h.PendingAssignees(), ElementsAre(c.next_assignee)) << c.form;
    }
  }
}

std::string ParallelDefinition(const std::string& join) {
  return R"(
key: t
form: {fields: [{name: legal, type: BOOL}]}
steps:
  - id: assess
    parallel:
      join: )" + join + R"(
      branches:
        - {id: finance, start: finance-check}
        - {id: hr, start: hr-check}
        - {id: legal, start: legal-check, when: {field: legal, op: EQ, value: true}}
    next: [{to: sign-off}]
  - {id: finance-check, approval: {approvers: [{user: fiona}]}, next: [{to: finance-second}]}
  - {id: finance-second, approval: {approvers: [{user: fred}]}}
  - {id: hr-check, approval: {approvers: [{user: hal}]}}
  - {id: legal-check, approval: {approvers: [{user: hana}]}}
  - {id: sign-off, approval: {approvers: [{user: ceo}]}, next: [{to: done}]}
  - {id: done, end: {}}
)";
}

TEST(EngineTest, ParallelJoinAllWaitsForEveryStartedBranch) {
  Harness h(ParallelDefinition("JOIN_ALL"));
  ASSERT_OK(h.Start("ann", "{legal: false}"));
  EXPECT_THAT(h.PendingAssignees(), UnorderedElementsAre("fiona", "hal"));
  ASSERT_OK(h.Approve("fiona"));
  EXPECT_THAT(h.PendingAssignees(), UnorderedElementsAre("fred", "hal"));
  ASSERT_OK(h.Approve("hal"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("fred"));
  ASSERT_OK(h.Approve("fred"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("ceo"));
  ASSERT_OK(h.Approve("ceo"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
  EXPECT_THAT(h.state().completed_steps(), ElementsAre("assess", "sign-off", "done"));
}

TEST(EngineTest, ParallelJoinAnyCancelsTheOtherBranches) {
  Harness h(ParallelDefinition("JOIN_ANY"));
  ASSERT_OK(h.Start("ann", "{legal: true}"));
  EXPECT_THAT(h.PendingAssignees(), UnorderedElementsAre("fiona", "hal", "hana"));
  ASSERT_OK(h.Approve("hal"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("ceo"));
  EXPECT_TRUE(h.state().active_parallels().empty());
}

TEST(EngineTest, ParallelJoinNAndRejectionInsideABranch) {
  {
    Harness h(ParallelDefinition("JOIN_N\n      n: 2"));
    ASSERT_OK(h.Start("ann", "{legal: true}"));
    ASSERT_OK(h.Approve("hana"));
    EXPECT_EQ(h.ActiveSteps().size(), 2u);
    ASSERT_OK(h.Approve("hal"));
    EXPECT_THAT(h.PendingAssignees(), ElementsAre("ceo"));
  }
  {
    Harness h(ParallelDefinition("JOIN_ALL"));
    ASSERT_OK(h.Start("ann", "{legal: false}"));
    ASSERT_OK(h.Decide("hal", h.PendingTaskOf("hal")->id(), v1::REJECT, "no"));
    EXPECT_EQ(h.state().status(), v1::REJECTED);
    EXPECT_THAT(h.PendingAssignees(), IsEmpty());
  }
}

TEST(EngineTest, TaskAndSystemStepsCompleteWithAResult) {
  Harness h(R"(
key: t
service_accounts: [svc]
steps:
  - {id: adjust, system: {workers: [{user: svc}]}, next: [{to: confirm}]}
  - {id: confirm, task: {assignees: [{applicant: true}]}, next: [{to: done}]}
  - {id: done, end: {}}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  v1::DecideTaskRequest complete;
  complete.set_task_id(h.PendingTaskOf("svc")->id());
  complete.set_action(v1::COMPLETE);
  (*complete.mutable_result()->mutable_fields())["ticket"].set_string_value("IT-42");
  ASSERT_OK(h.Decide("svc", complete));
  EXPECT_EQ(h.state().tasks(0).result().fields().at("ticket").string_value(), "IT-42");
  // TASK steps may go to the applicant; separation of duties is for approvals.
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("ann"));
  ASSERT_OK(h.Approve("ann"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(EngineTest, CandidateGroupTaskIsClaimedByAMember) {
  Harness h(R"(
key: t
steps:
  - {id: review, approval: {approvers: [{role: {name: hrbp, department: hr, candidate_group: true}}]}, next: [{to: done}]}
  - {id: done, end: {}}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_EQ(h.state().tasks_size(), 1);
  const std::string task = h.state().tasks(0).id();
  v1::Command claim;
  claim.mutable_claim()->set_id(task);
  EXPECT_CODE(h.Run("fred", claim), absl::StatusCode::kPermissionDenied);
  ASSERT_OK(h.Run("hue", claim));
  EXPECT_EQ(h.state().tasks(0).assignee(), "hue");
  EXPECT_CODE(h.Run("hal", claim), absl::StatusCode::kFailedPrecondition);
  EXPECT_CODE(h.Decide("hal", task, v1::APPROVE), absl::StatusCode::kPermissionDenied);
  ASSERT_OK(h.Decide("hue", task, v1::APPROVE));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(EngineTest, WithdrawCancelAndRemindCheckWhoAsks) {
  Harness h(ApprovalDefinition("ANY", "[{user: fred}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  v1::Command remind;
  remind.mutable_remind()->set_id(h.PendingTaskOf("fred")->id());
  EXPECT_CODE(h.Run("bo", remind), absl::StatusCode::kPermissionDenied);
  ASSERT_OK(h.Run("ann", remind));
  EXPECT_EQ(h.PendingTaskOf("fred")->reminders(), 1);

  v1::Command withdraw;
  withdraw.mutable_withdraw()->set_id("i1");
  EXPECT_CODE(h.Run("bo", withdraw), absl::StatusCode::kPermissionDenied);
  v1::Command cancel;
  cancel.mutable_cancel()->set_id("i1");
  EXPECT_CODE(h.Run("ann", cancel), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(h.Run("ceo", cancel), absl::StatusCode::kInvalidArgument);
  ASSERT_OK(h.Run("ann", withdraw));
  EXPECT_EQ(h.state().status(), v1::WITHDRAWN);
  EXPECT_THAT(h.PendingAssignees(), IsEmpty());
  EXPECT_CODE(h.Run("ann", withdraw), absl::StatusCode::kFailedPrecondition);
}

TEST(EngineTest, AdministratorCancelsWithAComment) {
  Harness h(ApprovalDefinition("ANY", "[{user: fred}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  v1::Command cancel;
  cancel.mutable_cancel()->set_id("i1");
  cancel.mutable_cancel()->set_comment("duplicate of another request");
  ASSERT_OK(h.Run("ceo", cancel));
  EXPECT_EQ(h.state().status(), v1::CANCELLED);
}

TEST(EngineTest, AppealReopensARejectionWithinItsWindow) {
  const std::string definition = R"(
key: t
appeal: {allowed: true, window_days: 7}
steps:
  - {id: review, approval: {approvers: [{user: fred}]}, next: [{to: done}]}
  - {id: done, end: {}}
)";
  Harness h(definition);
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Decide("fred", h.PendingTaskOf("fred")->id(), v1::REJECT, "no"));
  v1::Command appeal;
  appeal.mutable_appeal()->set_comment("the documents were attached");
  EXPECT_CODE(h.Run("bo", appeal), absl::StatusCode::kPermissionDenied);
  h.now += absl::Hours(24 * 3);
  ASSERT_OK(h.Run("ann", appeal));
  EXPECT_EQ(h.state().status(), v1::RUNNING);
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("fred"));
  ASSERT_OK(h.Decide("fred", h.PendingTaskOf("fred")->id(), v1::REJECT, "still no"));
  EXPECT_CODE(h.Run("ann", appeal), absl::StatusCode::kFailedPrecondition);

  Harness late(definition);
  ASSERT_OK(late.Start("ann", "{}"));
  ASSERT_OK(late.Decide("fred", late.PendingTaskOf("fred")->id(), v1::REJECT, "no"));
  late.now += absl::Hours(24 * 8);
  EXPECT_CODE(late.Run("ann", appeal), absl::StatusCode::kFailedPrecondition);
}

TEST(EngineTest, OnRejectRoutesToANotificationStep) {
  Harness h(R"(
key: t
steps:
  - {id: review, approval: {approvers: [{user: fred}]}, on_reject: notify, next: [{to: done}]}
  - {id: notify, task: {assignees: [{user: hal}]}, next: [{to: rejected}]}
  - {id: done, end: {}}
  - {id: rejected, end: {rejected: true}}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Decide("fred", h.PendingTaskOf("fred")->id(), v1::REJECT, "no"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("hal"));
  ASSERT_OK(h.Approve("hal"));
  EXPECT_EQ(h.state().status(), v1::REJECTED);
}

TEST(EngineTest, BadFormGivesOneViolationPerField) {
  Harness h(R"(
key: t
form:
  fields:
    - {name: amount, type: MONEY, required: true, min: 1}
    - {name: code, type: STRING, pattern: "[A-Z]{3}"}
    - {name: when, type: DATE}
    - {name: kind, type: ENUM, values: [a, b]}
    - {name: who, type: USER}
    - {name: tags, type: LIST, item_type: STRING, max: 2}
    - {name: ok, type: BOOL}
steps:
  - {id: review, approval: {approvers: [{user: fred}]}, next: [{to: done}]}
  - {id: done, end: {}}
)");
  auto status = h.Start(
      "ann", "{amount: '12.345', code: abcd, when: 2026-02-30, kind: c, who: ghost, "
             "tags: [x, y, z], ok: 'yes', extra: 1}");
  EXPECT_CODE(status, absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& violation : workflow::ViolationsOf(status)) fields.push_back(violation.field);
  EXPECT_THAT(fields, UnorderedElementsAre("form.amount", "form.code", "form.when", "form.kind",
                                           "form.who", "form.tags", "form.ok", "form.extra"));
  EXPECT_CODE(h.Start("ann", "{}"), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(h.events().empty());
}

TEST(EngineTest, EventsCarryActorTimeAndType) {
  Harness h(ApprovalDefinition("ANY", "[{user: fred}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_FALSE(h.events().empty());
  EXPECT_EQ(h.events()[0].type(), "instance_started");
  EXPECT_EQ(h.events()[0].actor(), "ann");
  EXPECT_EQ(h.events()[0].time().seconds(), absl::ToUnixSeconds(h.now));
  for (const auto& event : h.events()) EXPECT_FALSE(event.type().empty());
}

TEST(EngineTest, ApplyIsDeterministic) {
  Harness a(kTwoStepDefinition);
  Harness b(kTwoStepDefinition);
  for (Harness* h : {&a, &b}) {
    ASSERT_OK(h->Start("ann", "{amount: 10}"));
    ASSERT_OK(h->Approve("fred"));
  }
  ASSERT_EQ(a.events().size(), b.events().size());
  for (size_t i = 0; i < a.events().size(); ++i) {
    EXPECT_EQ(a.events()[i].SerializeAsString(), b.events()[i].SerializeAsString());
  }
}

TEST(EngineTest, PreviewShowsWhoWouldApproveEachStep) {
  Harness h(R"(
key: t
form: {fields: [{name: amount, type: MONEY, required: true}]}
steps:
  - {id: manager, approval: {approvers: [{manager_level: 1}]}, next: [{when: {field: amount, op: GT, value: 1000}, to: finance}, {to: done}]}
  - {id: finance, approval: {approvers: [{role: {name: finance-reviewer, department: fin}}], policy: ALL}, next: [{to: done}]}
  - {id: done, end: {}}
)");
  workflow::Context context;
  context.now = h.now;
  context.directory = &h.directory();
  google::protobuf::Struct form;
  (*form.mutable_fields())["amount"].set_number_value(5000);
  ASSERT_OK_AND_ASSIGN(auto preview, workflow::PreviewRoute(h.definition(), form, "ann", context));
  ASSERT_EQ(preview.steps_size(), 3);
  EXPECT_EQ(preview.steps(0).step_id(), "manager");
  EXPECT_EQ(preview.steps(0).approvers(0).user(), "mia");
  EXPECT_EQ(preview.steps(1).approvers_size(), 2);
  EXPECT_EQ(preview.steps(1).policy(), v1::ALL);
  EXPECT_EQ(preview.final_status(), v1::APPROVED);
}

TEST(EngineTest, PreviewPassesStepsThatRequireAComment) {
  Harness h(R"(
key: t
form: {fields: [{name: amount, type: MONEY, required: true}]}
steps:
  - {id: manager, approval: {approvers: [{manager_level: 1}]}, actions: {require_comment: [APPROVE]}, next: [{to: check}]}
  - {id: check, task: {assignees: [{manager_level: 1}]}, actions: {require_comment: [COMPLETE]}, next: [{to: done}]}
  - {id: done, end: {}}
)");
  workflow::Context context;
  context.now = h.now;
  context.directory = &h.directory();
  google::protobuf::Struct form;
  (*form.mutable_fields())["amount"].set_number_value(5000);
  ASSERT_OK_AND_ASSIGN(auto preview, workflow::PreviewRoute(h.definition(), form, "ann", context));
  ASSERT_EQ(preview.steps_size(), 3);
  EXPECT_EQ(preview.steps(1).step_id(), "check");
  EXPECT_EQ(preview.final_status(), v1::APPROVED);
}

}  // namespace
}  // namespace signoff::testing
