// Approvers found from the subject of an instance, filing on someone's
// behalf, standing delegations, disabled approvers and unclaiming.

#include "gmock/gmock.h"
#include "harness.h"
#include "workflow/access.h"
#include "workflow/directory.h"
#include "workflow/errors.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// hal (an HR business partner, managed by hana) files about an employee;
// ann's manager is mia, mia's is sam, and sam heads ann's department.
std::string SubjectDefinition(const std::string& approvers, const std::string& subject_type = "USER") {
  return R"(
key: review
form:
  fields:
    - {name: employee, type: )" + subject_type + R"(}
subject: {field: employee, type: employee}
steps:
  - id: review
    approval:
      approvers: )" + approvers + R"(
    next: [{to: done}]
  - id: done
    end: {}
)";
}

std::string ApproversOf(const std::string& approvers, const std::string& on_empty = "") {
  return R"(
key: t
steps:
  - id: review
    approval:
      approvers: )" + approvers + R"(
)" + (on_empty.empty() ? "" : "    on_empty: " + on_empty + "\n") + R"(    next: [{to: done}]
  - id: done
    end: {}
)";
}

const v1::Task& OnlyTask(const Harness& h) {
  EXPECT_EQ(h.state().tasks_size(), 1);
  return h.state().tasks(0);
}

TEST(SubjectRulesTest, ManagerLevelOneIsTheSubjectsManagerNotTheApplicants) {
  Harness h(SubjectDefinition("[{subject_manager_level: 1}]"));
  ASSERT_OK(h.Start("hal", "{employee: ann}"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("mia"));
  EXPECT_EQ(OnlyTask(h).chosen_by(), "subject_manager_level:1 of subject ann");
}

TEST(SubjectRulesTest, ManagerLevelTwoClimbsFromTheSubject) {
  Harness h(SubjectDefinition("[{subject_manager_level: 2}]"));
  ASSERT_OK(h.Start("hal", "{employee: ann}"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("sam"));
  EXPECT_EQ(OnlyTask(h).chosen_by(), "subject_manager_level:2 of subject ann");
}

TEST(SubjectRulesTest, ApplicantManagerRuleStillResolvesFromTheApplicant) {
  Harness h(SubjectDefinition("[{manager_level: 1}]"));
  ASSERT_OK(h.Start("hal", "{employee: ann}"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("hana"));
}

TEST(SubjectRulesTest, DepartmentHeadOfTheSubject) {
  Harness h(SubjectDefinition("[{subject_department_head: true}]"));
  ASSERT_OK(h.Start("hal", "{employee: fred}"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("fiona"));
  EXPECT_EQ(OnlyTask(h).chosen_by(), "subject_department_head of subject fred");
}

TEST(SubjectRulesTest, TheSubjectThemselves) {
  Harness h(SubjectDefinition("[{subject: true}]"));
  ASSERT_OK(h.Start("hal", "{employee: bo}"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("bo"));
}

TEST(SubjectRulesTest, ManagerLevelAboveTheTopResolvesNobody) {
  Harness h(SubjectDefinition("[{subject_manager_level: 4}]"));
  // ann -> mia -> sam -> ceo: there is no fourth level, and the default
  // empty-approver policy refuses to start.
  EXPECT_CODE(h.Start("hal", "{employee: ann}"), absl::StatusCode::kFailedPrecondition);
}

std::vector<std::string> ProblemsOf(const std::string& yaml) {
  auto definition = workflow::ParseDefinitionYaml(yaml);
  EXPECT_OK(definition);
  std::vector<std::string> problems;
  for (const auto& problem : workflow::ValidateDefinition(*definition)) {
    problems.push_back(problem.path() + ": " + problem.message());
  }
  return problems;
}

TEST(SubjectRulesTest, ASubjectThatIsNoUserIsRefusedAtValidation) {
  EXPECT_THAT(ProblemsOf(SubjectDefinition("[{subject_manager_level: 1}]", "STRING")),
              ElementsAre("steps[0].approval.approvers[0].subject_manager_level: resolves from "
                          "the subject, which must then be a USER field; 'employee' is STRING"));
  EXPECT_THAT(ProblemsOf(ApproversOf("[{subject_department_head: true}]")),
              ElementsAre("steps[0].approval.approvers[0].subject_department_head: resolves "
                          "from the subject, but the definition names no subject"));
  EXPECT_THAT(ProblemsOf(SubjectDefinition("[{subject_manager_level: 0}]")),
              ElementsAre(HasSubstr("subject_manager_level: must be between 1 and 10")));
  EXPECT_THAT(ProblemsOf(SubjectDefinition("[{subject: false}]")),
              ElementsAre(HasSubstr("subject: names no one unless true")));
}

TEST(SubjectRulesTest, AStartWithoutTheSubjectIsRefusedWithItsField) {
  Harness h(SubjectDefinition("[{subject_manager_level: 1}]"));
  absl::Status started = h.Start("hal", "{}");
  EXPECT_CODE(started, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(workflow::ViolationsOf(started),
              ElementsAre(::testing::Field(&workflow::FieldViolation::field, "form.employee")));
  EXPECT_TRUE(h.events().empty());
}

TEST(FiledOnBehalfTest, TheStartRecordsWhoFiledAboutWhom) {
  Harness h(SubjectDefinition("[{subject_manager_level: 1}]"));
  ASSERT_OK(h.Start("hal", "{employee: ann}"));
  const v1::Event& started = h.events().front();
  EXPECT_EQ(started.instance_started().applicant(), "hal");
  EXPECT_EQ(started.instance_started().filed_for(), "ann");
  EXPECT_EQ(started.reason(), "filed by hal on behalf of subject ann");
  EXPECT_EQ(h.state().filed_for(), "ann");
  EXPECT_EQ(h.state().subject_user(), "ann");
  // The subject reads the instance filed about them.
  bool subject_reads = false;
  for (const auto& grant : workflow::AccessGrantsOf(started)) {
    subject_reads |= grant.principal == workflow::UserPrincipal("ann");
  }
  EXPECT_TRUE(subject_reads);
}

TEST(FiledOnBehalfTest, FilingAboutOneselfIsNotOnBehalf) {
  Harness h(SubjectDefinition("[{subject_manager_level: 1}]"));
  ASSERT_OK(h.Start("ann", "{employee: ann}"));
  EXPECT_EQ(h.events().front().instance_started().filed_for(), "");
  EXPECT_EQ(h.events().front().reason(), "");
  EXPECT_EQ(h.state().filed_for(), "");
}

// ------------------------------------------------------------ disabled

std::string WithUsers(const std::string& extra) {
  return std::string(kTestOrganisation) + extra;
}

TEST(DisabledApproverTest, TheTaskGoesToTheDisabledApproversManager) {
  Harness h(ApproversOf("[{user: gone}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("mia"));
  EXPECT_EQ(OnlyTask(h).chosen_by(), "user:gone (up the chain for disabled gone)");
  auto skipped = h.EventsOfType("approver_skipped");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0]->approver_skipped().user(), "gone");
  EXPECT_EQ(skipped[0]->reason(), "gone is disabled; the task goes up the chain to mia");
}

TEST(DisabledApproverTest, SeveralDisabledManagersAreClimbedPast) {
  Harness h(ApproversOf("[{user: gone2}]"),
            WithUsers("  - {id: gone2, department: sales, manager: gone, disabled: true}\n"));
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("mia"));
}

TEST(DisabledApproverTest, AManagerRuleFallsBackToo) {
  Harness h(ApproversOf("[{manager_level: 1}]"),
            WithUsers("  - {id: kid, department: sales, manager: gone}\n"));
  ASSERT_OK(h.Start("kid", "{}"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("mia"));
}

TEST(DisabledApproverTest, AnExhaustedChainLetsTheEmptyPolicyDecide) {
  const std::string lone = "  - {id: lone, department: sales, disabled: true}\n";
  {
    Harness h(ApproversOf("[{user: lone}]", "AUTO_APPROVE"), WithUsers(lone));
    ASSERT_OK(h.Start("ann", "{}"));
    EXPECT_EQ(h.state().status(), v1::APPROVED);
    auto skipped = h.EventsOfType("approver_skipped");
    ASSERT_EQ(skipped.size(), 1u);
    EXPECT_EQ(skipped[0]->reason(), "lone is disabled and no enabled manager is above them");
  }
  {
    Harness h(ApproversOf("[{user: lone}]"), WithUsers(lone));
    EXPECT_CODE(h.Start("ann", "{}"), absl::StatusCode::kFailedPrecondition);
  }
}

// ------------------------------------------------------------ delegations

const absl::Time kAwayFrom = absl::FromUnixSeconds(1767225600);  // 2026-01-01
const absl::Time kAwayUntil = kAwayFrom + absl::Hours(72);

v1::Delegation Away(const std::string& id, const std::string& delegator,
                    const std::string& delegate, std::vector<std::string> keys = {}) {
  v1::Delegation delegation;
  delegation.set_id(id);
  delegation.set_delegator(delegator);
  delegation.set_delegate(delegate);
  *delegation.mutable_starts_at() = workflow::ToTimestamp(kAwayFrom);
  *delegation.mutable_ends_at() = workflow::ToTimestamp(kAwayUntil);
  for (auto& key : keys) delegation.add_definition_keys(std::move(key));
  return delegation;
}

// The assignee of the task ann's request gives her manager mia, who is away
// with `delegations` at `now`.
std::string AssigneeAt(absl::Time now, std::vector<v1::Delegation> delegations) {
  Harness h(ApproversOf("[{manager_level: 1}]"));
  h.SetDelegations(std::move(delegations));
  h.now = now;
  EXPECT_OK(h.Start("ann", "{}"));
  return h.state().tasks_size() == 1 ? h.state().tasks(0).assignee() : "";
}

TEST(DelegationTest, RunsFromItsStartIncludedToItsEndExcluded) {
  const std::vector<v1::Delegation> away = {Away("d1", "mia", "fiona")};
  EXPECT_EQ(AssigneeAt(kAwayFrom - absl::Microseconds(1), away), "mia");
  EXPECT_EQ(AssigneeAt(kAwayFrom, away), "fiona");
  EXPECT_EQ(AssigneeAt(kAwayUntil - absl::Microseconds(1), away), "fiona");
  EXPECT_EQ(AssigneeAt(kAwayUntil, away), "mia");
}

TEST(DelegationTest, TheTaskAndItsEventShowBothPeople) {
  Harness h(ApproversOf("[{manager_level: 1}]"));
  h.SetDelegations({Away("d1", "mia", "fiona")});
  ASSERT_OK(h.Start("ann", "{}"));
  const v1::Task& task = OnlyTask(h);
  EXPECT_EQ(task.assignee(), "fiona");
  EXPECT_EQ(task.delegated_from(), "mia");
  EXPECT_EQ(task.chosen_by(), "manager_level:1 (standing delegation d1 of mia to fiona)");
  auto created = h.EventsOfType("task_created");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0]->reason(), "standing delegation: fiona acts on behalf of mia");
  ASSERT_OK(h.Approve("fiona"));
  auto completed = h.EventsOfType("task_completed");
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0]->actor(), "fiona");
  EXPECT_EQ(completed[0]->on_behalf_of(), "mia");
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(DelegationTest, AppliesOnlyToTheDefinitionsItNames) {
  EXPECT_EQ(AssigneeAt(kAwayFrom, {Away("d1", "mia", "fiona", {"other"})}), "mia");
  EXPECT_EQ(AssigneeAt(kAwayFrom, {Away("d1", "mia", "fiona", {"other", "t"})}), "fiona");
}

TEST(DelegationTest, OneNamingTheDefinitionWinsOverACatchAll) {
  EXPECT_EQ(AssigneeAt(kAwayFrom, {Away("d1", "mia", "fiona"), Away("d2", "mia", "fred", {"t"})}),
            "fred");
}

TEST(DelegationTest, IsNotUsedWhenTheDelegateIsTheApplicant) {
  EXPECT_EQ(AssigneeAt(kAwayFrom, {Away("d1", "mia", "ann")}), "mia");
}

TEST(DelegationTest, IsNotUsedWhenTheDelegateIsDisabled) {
  EXPECT_EQ(AssigneeAt(kAwayFrom, {Away("d1", "mia", "gone")}), "mia");
}

TEST(DelegationTest, OtherPeoplesDelegationsChangeNothing) {
  EXPECT_EQ(AssigneeAt(kAwayFrom, {Away("d1", "sam", "fiona")}), "mia");
}

// Mia's delegation `id` to fiona from `from` for `length`, for `keys`.
v1::Delegation AwayFor(const std::string& id, absl::Time from, absl::Duration length,
                       std::vector<std::string> keys = {}) {
  v1::Delegation delegation = Away(id, "mia", "fiona", std::move(keys));
  *delegation.mutable_starts_at() = workflow::ToTimestamp(from);
  *delegation.mutable_ends_at() = workflow::ToTimestamp(from + length);
  return delegation;
}

std::string ConflictOf(const std::vector<v1::Delegation>& set, const v1::Delegation& candidate) {
  const v1::Delegation* conflict = workflow::ConflictingDelegation(set, candidate);
  return conflict == nullptr ? "" : conflict->id();
}

TEST(DelegationConflictTest, OverlappingRangesOfTheSameScopeConflict) {
  const std::vector<v1::Delegation> set = {Away("d1", "mia", "fiona")};
  const absl::Duration day = absl::Hours(24);
  EXPECT_EQ(ConflictOf(set, AwayFor("new", kAwayFrom + day, day)), "d1");
  EXPECT_EQ(ConflictOf(set, AwayFor("new", kAwayFrom - day, 10 * day)), "d1");
  // Ranges exclude their end: one ending as the other starts is no
  // overlap, one a microsecond longer is.
  EXPECT_EQ(ConflictOf(set, AwayFor("new", kAwayFrom - day, day)), "");
  EXPECT_EQ(ConflictOf(set, AwayFor("new", kAwayFrom - day, day + absl::Microseconds(1))), "d1");
  EXPECT_EQ(ConflictOf(set, AwayFor("new", kAwayUntil, day)), "");
  EXPECT_EQ(ConflictOf(set, AwayFor("new", kAwayUntil - absl::Microseconds(1), day)), "d1");
}

TEST(DelegationConflictTest, ReplacingADelegationDoesNotConflictWithItself) {
  const std::vector<v1::Delegation> set = {Away("d1", "mia", "fiona")};
  EXPECT_EQ(ConflictOf(set, AwayFor("d1", kAwayFrom + absl::Hours(1), absl::Hours(100))), "");
}

TEST(DelegationConflictTest, OnlyTheSameDelegatorAndAScopeInCommonConflict) {
  const std::vector<v1::Delegation> set = {Away("d1", "mia", "fiona", {"t", "u"}),
                                           Away("d2", "sam", "fiona")};
  EXPECT_EQ(ConflictOf(set, AwayFor("new", kAwayFrom, absl::Hours(1), {"u"})), "d1");
  EXPECT_EQ(ConflictOf(set, AwayFor("new", kAwayFrom, absl::Hours(1), {"v"})), "");
  // A catch-all next to one naming definitions: the named one wins.
  EXPECT_EQ(ConflictOf(set, AwayFor("new", kAwayFrom, absl::Hours(1))), "");
  EXPECT_EQ(ConflictOf({Away("d3", "mia", "fred")}, AwayFor("new", kAwayFrom, absl::Hours(1))),
            "d3");
  EXPECT_EQ(
      ConflictOf({Away("d3", "mia", "fred")}, AwayFor("new", kAwayFrom, absl::Hours(1), {"t"})),
      "");
}

// ------------------------------------------------------------ unclaim

v1::Command ClaimOf(const std::string& task_id) {
  v1::Command command;
  command.mutable_claim()->set_id(task_id);
  return command;
}

v1::Command UnclaimOf(const std::string& task_id) {
  v1::Command command;
  command.mutable_unclaim()->set_id(task_id);
  return command;
}

class UnclaimTest : public ::testing::Test {
 protected:
  UnclaimTest()
      : h_(ApproversOf("[{role: {name: hrbp, department: hr, candidate_group: true}}]")) {}

  void SetUp() override {
    ASSERT_OK(h_.Start("ann", "{}"));
    task_ = h_.state().tasks(0).id();
  }

  Harness h_;
  std::string task_;
};

TEST_F(UnclaimTest, TheClaimerGivesTheTaskBackToTheGroup) {
  ASSERT_OK(h_.Run("hal", ClaimOf(task_)));
  EXPECT_EQ(h_.state().tasks(0).assignee(), "hal");
  ASSERT_OK(h_.Run("hal", UnclaimOf(task_)));
  EXPECT_EQ(h_.state().tasks(0).assignee(), "");
  EXPECT_EQ(h_.state().tasks(0).candidate_group().role(), "hrbp");
  EXPECT_EQ(h_.EventsOfType("task_updated").back()->reason(),
            "unclaimed: back to the group from hal");
  // Another member may claim it now.
  ASSERT_OK(h_.Run("hue", ClaimOf(task_)));
  EXPECT_EQ(h_.state().tasks(0).assignee(), "hue");
}

TEST_F(UnclaimTest, OnlyTheClaimerOrAnAdministratorMay) {
  ASSERT_OK(h_.Run("hal", ClaimOf(task_)));
  EXPECT_CODE(h_.Run("hue", UnclaimOf(task_)), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(h_.state().tasks(0).assignee(), "hal");
  ASSERT_OK(h_.Run("ceo", UnclaimOf(task_)));
  EXPECT_EQ(h_.state().tasks(0).assignee(), "");
}

TEST_F(UnclaimTest, AnUnclaimedTaskCannotBeUnclaimed) {
  EXPECT_CODE(h_.Run("hal", UnclaimOf(task_)), absl::StatusCode::kFailedPrecondition);
  EXPECT_CODE(h_.Run("hal", UnclaimOf("i1-t99")), absl::StatusCode::kNotFound);
}

TEST(UnclaimDirectTaskTest, ATaskOfOnePersonIsNotUnclaimed) {
  Harness h(ApproversOf("[{user: fiona}]"));
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_CODE(h.Run("fiona", UnclaimOf(h.state().tasks(0).id())),
              absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace signoff::testing
