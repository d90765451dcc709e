// The engine's guards: which service accounts may act on a definition,
// which action fits which step, and quorums that can or cannot be met.

#include "gmock/gmock.h"
#include "harness.h"
#include "workflow/errors.h"

namespace signoff::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The test organisation with a second service account that is not listed
// by the definitions below.
std::string OrganisationWithOtherService() {
  return std::string(kTestOrganisation) +
         "  - {id: svc2, department: root, service: true, roles: [{role: doc-checker}]}\n"
         "  - {id: svc, department: root, service: true, roles: [{role: doc-checker}]}\n";
}

std::vector<std::string> ProblemsWith(const std::string& yaml) {
  auto organisation = workflow::ParseOrganisationYaml(OrganisationWithOtherService());
  EXPECT_OK(organisation);
  workflow::Directory directory(*organisation);
  auto definition = workflow::ParseDefinitionYaml(yaml);
  EXPECT_OK(definition);
  std::vector<std::string> out;
  for (const auto& problem : workflow::ValidateDefinition(*definition, &directory, nullptr)) {
    out.push_back(problem.path() + ": " + problem.message());
  }
  return out;
}

constexpr char kChecked[] = R"(
key: checked
service_accounts: [svc]
steps:
  - id: check
    system: {workers: [{role: {name: doc-checker, department: root, candidate_group: true}}]}
    next: [{to: hold}]
  - id: hold
    wait: {signal: documents_ok}
    next: [{to: done}]
  - {id: done, end: {}}
)";

TEST(ServiceAccountTest, OnlyListedServiceAccountsCompleteSystemSteps) {
  Harness h(kChecked, OrganisationWithOtherService());
  ASSERT_OK(h.Start("ann", "{}"));
  const std::string task = h.state().tasks(0).id();
  absl::Status unlisted = h.Decide("svc2", task, v1::COMPLETE);
  EXPECT_CODE(unlisted, absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(unlisted.message()), HasSubstr("svc2 is not among the service_accounts"));
  // Claiming is acting too.
  v1::Command claim;
  claim.mutable_claim()->set_id(task);
  EXPECT_CODE(h.Run("svc2", claim), absl::StatusCode::kPermissionDenied);
  ASSERT_OK(h.Decide("svc", task, v1::COMPLETE));
  EXPECT_EQ(h.state().tasks(0).assignee(), "svc");
}

TEST(ServiceAccountTest, OnlyListedServiceAccountsAndAdministratorsSignal) {
  Harness h(kChecked, OrganisationWithOtherService());
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Decide("svc", h.state().tasks(0).id(), v1::COMPLETE));
  v1::Command signal;
  signal.mutable_signal()->set_name("documents_ok");
  EXPECT_CODE(h.Run("svc2", signal), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(h.Run("ann", signal), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(h.state().status(), v1::RUNNING);
  ASSERT_OK(h.Run("svc", signal));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(ServiceAccountTest, AnAdministratorMaySignalWithoutBeingListed) {
  Harness h(kChecked, OrganisationWithOtherService());
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Decide("svc", h.state().tasks(0).id(), v1::COMPLETE));
  v1::Command signal;
  signal.mutable_signal()->set_name("documents_ok");
  ASSERT_OK(h.Run("ceo", signal));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(ServiceAccountTest, TheListIsCheckedAtPublish) {
  EXPECT_THAT(ProblemsWith(R"(
key: bad
service_accounts: [svc, ann, nobody, svc]
steps:
  - {id: a, system: {workers: [{user: svc2}]}, next: [{to: b}]}
  - {id: b, end: {}}
)"),
              ElementsAre("service_accounts[1]: 'ann' is a person, not a service account",
                          "service_accounts[2]: unknown user 'nobody'",
                          "service_accounts[3]: duplicate 'svc'",
                          "steps[0].system.workers[0].user: service account 'svc2' may "
                          "complete this step only if service_accounts lists it"));
  EXPECT_THAT(ProblemsWith(kChecked), IsEmpty());
}

TEST(ActionFitTest, ApprovalsAreApprovedAndWorkIsCompleted) {
  Harness h(R"(
key: fit
steps:
  - {id: sign, approval: {approvers: [{user: mia}]}, next: [{to: work}]}
  - {id: work, task: {assignees: [{user: hal}]}, next: [{to: done}]}
  - {id: done, end: {}}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  absl::Status completed = h.Decide("mia", h.PendingTaskOf("mia")->id(), v1::COMPLETE);
  EXPECT_CODE(completed, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(workflow::ViolationsOf(completed).front().field, "action");
  ASSERT_OK(h.Decide("mia", h.PendingTaskOf("mia")->id(), v1::APPROVE));
  absl::Status approved = h.Decide("hal", h.PendingTaskOf("hal")->id(), v1::APPROVE);
  EXPECT_CODE(approved, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(workflow::ViolationsOf(approved).front().field, "action");
  EXPECT_EQ(h.state().status(), v1::RUNNING);
  ASSERT_OK(h.Decide("hal", h.PendingTaskOf("hal")->id(), v1::COMPLETE));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(QuorumTest, AQuorumAboveWhatTheRulesCanResolveIsRefusedAtPublish) {
  const std::string two_named = R"(
key: q
steps:
  - id: vote
    approval:
      approvers: [{user: mia}, {user: sam}]
      policy: QUORUM
      quorum: )";
  const std::string rest = R"(
    next: [{to: done}]
  - {id: done, end: {}}
)";
  EXPECT_THAT(ProblemsWith(two_named + "2" + rest), IsEmpty());
  EXPECT_THAT(ProblemsWith(two_named + "3" + rest),
              ElementsAre("steps[0].approval.quorum: a quorum of 3 can never be met: the "
                          "approver rules resolve at most 2 approver(s)"));
  // Two hrbp holders, and a candidate group counts once.
  EXPECT_THAT(ProblemsWith(R"(
key: q
steps:
  - id: vote
    approval:
      approvers: [{role: {name: hrbp, department: hr}}, {role: {name: finance-reviewer, department: fin, candidate_group: true}}]
      policy: QUORUM
      quorum: 4
    next: [{to: done}]
  - {id: done, end: {}}
)"),
              Contains(HasSubstr("resolve at most 3 approver(s)")));
}

std::string ShortQuorum(const std::string& on_empty) {
  return R"(
key: short
form:
  fields:
    - {name: reviewers, type: LIST, item_type: USER}
steps:
  - id: vote
    approval:
      approvers: [{manager_level: 1}, {form_field: reviewers}]
      policy: QUORUM
      quorum: 2
    on_empty: )" + on_empty + R"(
    next: [{to: done}]
  - {id: done, end: {}}
)";
}

TEST(QuorumTest, AShortQuorumAtRunTimeFollowsTheEmptyApproverRuleAndIsRecorded) {
  {
    Harness h(ShortQuorum("AUTO_APPROVE"));
    ASSERT_OK(h.Start("ann", "{reviewers: []}"));
    EXPECT_EQ(h.state().status(), v1::APPROVED);
    ASSERT_EQ(h.EventsOfType("quorum_short").size(), 1u);
    const v1::Event& recorded = *h.EventsOfType("quorum_short").front();
    EXPECT_EQ(recorded.actor(), "system");
    EXPECT_EQ(recorded.quorum_short().quorum(), 2u);
    EXPECT_EQ(recorded.quorum_short().resolved(), 1);
    EXPECT_THAT(recorded.reason(), HasSubstr("quorum of 2 cannot be met"));
  }
  {
    Harness h(ShortQuorum("FAIL"));
    EXPECT_CODE(h.Start("ann", "{reviewers: []}"), absl::StatusCode::kFailedPrecondition);
  }
  {
    Harness h(ShortQuorum("TO_ADMIN_ROLE"));
    ASSERT_OK(h.Start("ann", "{reviewers: []}"));
    EXPECT_EQ(h.EventsOfType("quorum_short").size(), 1u);
    ASSERT_EQ(h.state().tasks_size(), 1);
    EXPECT_EQ(h.state().tasks(0).candidate_group().role(), "workflow-admin");
  }
  {
    // Exactly the quorum: people decide.
    Harness h(ShortQuorum("AUTO_APPROVE"));
    ASSERT_OK(h.Start("ann", "{reviewers: [bo]}"));
    EXPECT_TRUE(h.EventsOfType("quorum_short").empty());
    EXPECT_THAT(h.PendingAssignees(), ElementsAre("mia", "bo"));
  }
}

}  // namespace
}  // namespace signoff::testing
