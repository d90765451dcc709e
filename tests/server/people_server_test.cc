// Standing delegations, unclaiming and bulk decisions through the gRPC
// server: permissions, bad input, and what reaches the engine.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "server_fixture.h"
#include "workflow/time_util.h"

namespace signoff::testing {
namespace {

using DS = v1::DirectoryService::Stub;
using TS = v1::TaskService::Stub;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

// ann's manager mia approves; hal and hue share the HR group's task.
constexpr char kManagerThenGroup[] = R"(
key: people
steps:
  - {id: manager, approval: {approvers: [{manager_level: 1}]}, next: [{to: hr}]}
  - id: hr
    approval: {approvers: [{role: {name: hrbp, department: hr, candidate_group: true}}]}
    next: [{to: done}]
  - {id: done, end: {}}
)";

class PeopleServerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_OK(Publish(kManagerThenGroup, "publish-people"));
  }

  v1::SetDelegationRequest Delegation(const std::string& delegator, const std::string& delegate,
                                      absl::Time from, absl::Time until) {
    v1::SetDelegationRequest request;
    request.set_request_id(absl::StrCat("delegation-", ++serial_));
    v1::Delegation& delegation = *request.mutable_delegation();
    delegation.set_delegator(delegator);
    delegation.set_delegate(delegate);
    *delegation.mutable_starts_at() = workflow::ToTimestamp(from);
    *delegation.mutable_ends_at() = workflow::ToTimestamp(until);
    return request;
  }

  absl::StatusOr<v1::SetDelegationResponse> Set(const std::string& caller,
                                                const v1::SetDelegationRequest& request) {
    return client_->Call(caller, *client_->directory, &DS::SetDelegation, request);
  }

  std::vector<std::string> ListedIds(const std::string& caller) {
    auto listed = client_->Call(caller, *client_->directory, &DS::ListDelegations,
                                v1::ListDelegationsRequest());
    EXPECT_OK(listed);
    std::vector<std::string> ids;
    if (listed.ok()) {
      for (const auto& delegation : listed->delegations()) ids.push_back(delegation.id());
    }
    return ids;
  }

  // Starts a request by ann and returns its first task.
  v1::Task StartForAnn() {
    auto started = client_->Start("ann", "people", "{}", absl::StrCat("start-", ++serial_));
    EXPECT_OK(started);
    if (!started.ok() || started->pending_tasks_size() == 0) return v1::Task();
    return started->pending_tasks(0);
  }

  absl::Time Now() const { return now_.load(); }

  int serial_ = 0;
};

TEST_F(PeopleServerTest, ARunningDelegationSendsNewTasksToTheDelegate) {
  ASSERT_OK_AND_ASSIGN(auto set, Set("mia", Delegation("mia", "bo", Now(), Now() + absl::Hours(1))));
  EXPECT_EQ(set.delegation().delegator(), "mia");
  EXPECT_EQ(set.delegation().created_by(), "mia");
  EXPECT_FALSE(set.delegation().id().empty());
  const v1::Task task = StartForAnn();
  EXPECT_EQ(task.assignee(), "bo");
  EXPECT_EQ(task.delegated_from(), "mia");
  // Once it ended, tasks go to mia again.
  now_.Advance(absl::Hours(1));
  EXPECT_EQ(StartForAnn().assignee(), "mia");
}

TEST_F(PeopleServerTest, ARemovedDelegationSendsNothingAnyMore) {
  ASSERT_OK_AND_ASSIGN(auto set, Set("mia", Delegation("mia", "bo", Now(), Now() + absl::Hours(9))));
  v1::RemoveDelegationRequest remove;
  remove.set_request_id("remove-1");
  remove.set_id(set.delegation().id());
  ASSERT_OK_AND_ASSIGN(auto removed, client_->Call("mia", *client_->directory,
                                                   &DS::RemoveDelegation, remove));
  EXPECT_EQ(removed.removed().delegate(), "bo");
  EXPECT_EQ(StartForAnn().assignee(), "mia");
  EXPECT_CODE(client_->Call("mia", *client_->directory, &DS::RemoveDelegation, remove),
              absl::StatusCode::kOk);  // the same request id replays its reply
  remove.set_request_id("remove-2");
  EXPECT_CODE(client_->Call("mia", *client_->directory, &DS::RemoveDelegation, remove),
              absl::StatusCode::kNotFound);
}

TEST_F(PeopleServerTest, OnlyTheDelegatorOrAWorkflowAdminSetsAndRemoves) {
  const auto request = Delegation("mia", "bo", Now(), Now() + absl::Hours(1));
  EXPECT_CODE(Set("bo", request), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Set("sam", request), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(ListedIds("ceo").empty());
  ASSERT_OK_AND_ASSIGN(auto by_admin, Set("ceo", request));
  EXPECT_EQ(by_admin.delegation().created_by(), "ceo");
  v1::RemoveDelegationRequest remove;
  remove.set_request_id("remove-by-bo");
  remove.set_id(by_admin.delegation().id());
  EXPECT_CODE(client_->Call("bo", *client_->directory, &DS::RemoveDelegation, remove),
              absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(ListedIds("ceo"), ElementsAre(by_admin.delegation().id()));
}

TEST_F(PeopleServerTest, PeopleListOnlyTheDelegationsTheyTakePartIn) {
  ASSERT_OK_AND_ASSIGN(auto mias, Set("mia", Delegation("mia", "bo", Now(), Now() + absl::Hours(1))));
  ASSERT_OK_AND_ASSIGN(auto sams, Set("sam", Delegation("sam", "hana", Now(), Now() + absl::Hours(1))));
  EXPECT_THAT(ListedIds("mia"), ElementsAre(mias.delegation().id()));
  EXPECT_THAT(ListedIds("bo"), ElementsAre(mias.delegation().id()));
  EXPECT_TRUE(ListedIds("ann").empty());
  EXPECT_THAT(ListedIds("aud"),
              UnorderedElementsAre(mias.delegation().id(), sams.delegation().id()));
}

TEST_F(PeopleServerTest, ABadDelegationIsRefusedFieldByFieldAndNothingIsStored) {
  auto expect_refused = [&](v1::SetDelegationRequest request, const std::string& field) {
    EXPECT_CODE(Set("ceo", request), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(client_->LastViolationFields(), ::testing::Contains(field));
  };
  expect_refused(Delegation("mia", "ghost", Now(), Now() + absl::Hours(1)),
                 "delegation.delegate");
  expect_refused(Delegation("mia", "mia", Now(), Now() + absl::Hours(1)),
                 "delegation.delegate");
  expect_refused(Delegation("mia", "gone", Now(), Now() + absl::Hours(1)),
                 "delegation.delegate");
  expect_refused(Delegation("mia", "svc", Now(), Now() + absl::Hours(1)),
                 "delegation.delegate");
  expect_refused(Delegation("mia", "bo", Now(), Now()), "delegation.ends_at");
  auto no_start = Delegation("mia", "bo", Now(), Now() + absl::Hours(1));
  no_start.mutable_delegation()->clear_starts_at();
  expect_refused(no_start, "delegation.starts_at");
  auto empty_key = Delegation("mia", "bo", Now(), Now() + absl::Hours(1));
  empty_key.mutable_delegation()->add_definition_keys("");
  expect_refused(empty_key, "delegation.definition_keys[0]");
  EXPECT_TRUE(ListedIds("ceo").empty());
  ASSERT_OK_AND_ASSIGN(auto store_listed, store_->ListDelegations());
  EXPECT_TRUE(store_listed.empty());
  v1::SetDelegationRequest unknown_id = Delegation("mia", "bo", Now(), Now() + absl::Hours(1));
  unknown_id.mutable_delegation()->set_id("no-such");
  EXPECT_CODE(Set("ceo", unknown_id), absl::StatusCode::kNotFound);
  v1::RemoveDelegationRequest no_id;
  no_id.set_request_id("remove-nothing");
  EXPECT_CODE(client_->Call("ceo", *client_->directory, &DS::RemoveDelegation, no_id),
              absl::StatusCode::kInvalidArgument);
}

TEST_F(PeopleServerTest, DelegationChangesAreInTheAdminTrail) {
  ASSERT_OK_AND_ASSIGN(auto set, Set("mia", Delegation("mia", "bo", Now(), Now() + absl::Hours(1))));
  ASSERT_OK_AND_ASSIGN(auto trail, store_->ListAdminEvents(0, 1000));
  ASSERT_FALSE(trail.events.empty());
  const v1::AdminEvent& last = trail.events.back();
  EXPECT_EQ(last.actor(), "mia");
  EXPECT_EQ(last.action(), "delegation_set");
  EXPECT_EQ(last.delegation_set().id(), set.delegation().id());
}

// ------------------------------------------------------------ overlapping delegations

TEST_F(PeopleServerTest, AnOverlappingDelegationOfTheSameScopeIsRefusedNamingTheOther) {
  const absl::Time start = Now() + absl::Hours(24);
  const absl::Time end = start + absl::Hours(48);
  ASSERT_OK_AND_ASSIGN(auto first, Set("mia", Delegation("mia", "bo", start, end)));
  const std::string first_id = first.delegation().id();

  auto overlapping =
      Set("mia", Delegation("mia", "fred", start + absl::Hours(47), end + absl::Hours(24)));
  EXPECT_CODE(overlapping, absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(overlapping.status().message()), HasSubstr(first_id));
  // An administrator setting it for mia is refused alike; a covering range too.
  EXPECT_CODE(Set("ceo", Delegation("mia", "fred", start - absl::Hours(1), end + absl::Hours(1))),
              absl::StatusCode::kFailedPrecondition);
  // One second into the other's range conflicts; ending as it starts does not.
  EXPECT_CODE(
      Set("mia", Delegation("mia", "fred", start - absl::Hours(5), start + absl::Seconds(1))),
      absl::StatusCode::kFailedPrecondition);
  ASSERT_OK(Set("mia", Delegation("mia", "fred", start - absl::Hours(5), start)));
  EXPECT_CODE(Set("mia", Delegation("mia", "fred", end - absl::Seconds(1), end + absl::Hours(5))),
              absl::StatusCode::kFailedPrecondition);
  ASSERT_OK(Set("mia", Delegation("mia", "fred", end, end + absl::Hours(5))));
  // Someone else's delegation at the same time is theirs.
  ASSERT_OK(Set("sam", Delegation("sam", "hana", start, end)));
  EXPECT_THAT(ListedIds("mia"), SizeIs(3));
}

TEST_F(PeopleServerTest, ReplacingADelegationOrRetryingItsRequestIsNoConflict) {
  auto request = Delegation("mia", "bo", Now(), Now() + absl::Hours(10));
  ASSERT_OK_AND_ASSIGN(auto set, Set("mia", request));
  // The same request again gets its first answer.
  ASSERT_OK_AND_ASSIGN(auto again, Set("mia", request));
  EXPECT_EQ(again.delegation().id(), set.delegation().id());
  // Replaced by its id, with a longer range over its own.
  auto longer = Delegation("mia", "fred", Now(), Now() + absl::Hours(20));
  longer.mutable_delegation()->set_id(set.delegation().id());
  ASSERT_OK_AND_ASSIGN(auto replaced, Set("mia", longer));
  EXPECT_EQ(replaced.delegation().delegate(), "fred");
  EXPECT_THAT(ListedIds("mia"), ElementsAre(set.delegation().id()));
}

TEST_F(PeopleServerTest, APerDefinitionDelegationMayOverlapACatchAllAndWins) {
  ASSERT_OK(Set("mia", Delegation("mia", "bo", Now(), Now() + absl::Hours(10))));
  auto named = Delegation("mia", "fred", Now(), Now() + absl::Hours(5));
  named.mutable_delegation()->add_definition_keys("people");
  ASSERT_OK(Set("mia", named));
  // A second one naming the same definition is ambiguous again; one naming
  // another definition is not.
  auto again = Delegation("mia", "hal", Now() + absl::Hours(1), Now() + absl::Hours(2));
  again.mutable_delegation()->add_definition_keys("leave");
  again.mutable_delegation()->add_definition_keys("people");
  EXPECT_CODE(Set("mia", again), absl::StatusCode::kFailedPrecondition);
  again.mutable_delegation()->clear_definition_keys();
  again.mutable_delegation()->add_definition_keys("leave");
  ASSERT_OK(Set("mia", again));

  const v1::Task task = StartForAnn();
  EXPECT_EQ(task.assignee(), "fred");
  EXPECT_EQ(task.delegated_from(), "mia");
}

// ------------------------------------------------------------ unclaim

TEST_F(PeopleServerTest, TheClaimerUnclaimsAndTheGroupSeesTheTaskAgain) {
  const v1::Task first = StartForAnn();
  ASSERT_OK(client_->Decide("mia", first.id(), v1::APPROVE, "approve-1"));
  ASSERT_OK_AND_ASSIGN(auto hue_inbox, client_->Inbox("hue"));
  ASSERT_EQ(hue_inbox.size(), 1u);
  const std::string group_task = hue_inbox[0].id();
  v1::ClaimTaskRequest claim;
  claim.set_request_id("claim-1");
  claim.set_id(group_task);
  ASSERT_OK(client_->Call("hal", *client_->tasks, &TS::ClaimTask, claim));
  ASSERT_OK_AND_ASSIGN(hue_inbox, client_->Inbox("hue"));
  EXPECT_TRUE(hue_inbox.empty());
  v1::UnclaimTaskRequest unclaim;
  unclaim.set_request_id("unclaim-by-hue");
  unclaim.set_id(group_task);
  EXPECT_CODE(client_->Call("hue", *client_->tasks, &TS::UnclaimTask, unclaim),
              absl::StatusCode::kPermissionDenied);
  unclaim.set_request_id("unclaim-by-hal");
  ASSERT_OK_AND_ASSIGN(auto back, client_->Call("hal", *client_->tasks, &TS::UnclaimTask, unclaim));
  EXPECT_EQ(back.task().assignee(), "");
  ASSERT_OK_AND_ASSIGN(hue_inbox, client_->Inbox("hue"));
  ASSERT_EQ(hue_inbox.size(), 1u);
  EXPECT_EQ(hue_inbox[0].id(), group_task);
  unclaim.set_request_id("unclaim-again");
  EXPECT_CODE(client_->Call("hal", *client_->tasks, &TS::UnclaimTask, unclaim),
              absl::StatusCode::kFailedPrecondition);
}

// ------------------------------------------------------------ bulk decisions

v1::DecideTaskRequest Approval(const std::string& task, const std::string& request_id) {
  v1::DecideTaskRequest decision;
  decision.set_request_id(request_id);
  decision.set_task_id(task);
  decision.set_action(v1::APPROVE);
  return decision;
}

TEST_F(PeopleServerTest, EachBulkDecisionIsAnsweredOnItsOwn) {
  const v1::Task one = StartForAnn();
  const v1::Task two = StartForAnn();
  v1::DecideTasksRequest request;
  *request.add_decisions() = Approval(one.id(), "bulk-1");
  *request.add_decisions() = Approval("i-none-t1", "bulk-2");
  *request.add_decisions() = Approval(two.id(), "bulk-3");
  ASSERT_OK_AND_ASSIGN(auto response,
                       client_->Call("mia", *client_->tasks, &TS::DecideTasks, request));
  ASSERT_EQ(response.results_size(), 3);
  EXPECT_EQ(response.results(0).task_id(), one.id());
  EXPECT_EQ(response.results(0).code(), 0);
  EXPECT_EQ(response.results(0).response().task().status(), v1::DONE);
  EXPECT_EQ(response.results(1).code(), static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_FALSE(response.results(1).message().empty());
  EXPECT_FALSE(response.results(1).has_response());
  EXPECT_EQ(response.results(2).code(), 0);
  ASSERT_OK_AND_ASSIGN(auto first, client_->Get("ann", one.instance_id()));
  EXPECT_EQ(first.active_steps(0), "hr");
  // Repeating the call repeats nothing: each decision replays its reply.
  ASSERT_OK_AND_ASSIGN(auto again,
                       client_->Call("mia", *client_->tasks, &TS::DecideTasks, request));
  EXPECT_EQ(again.results(0).code(), 0);
  EXPECT_EQ(again.results(2).code(), 0);
}

TEST_F(PeopleServerTest, SomeoneElsesTaskFailsAloneInABulkCall) {
  const v1::Task mias = StartForAnn();
  v1::DecideTasksRequest request;
  *request.add_decisions() = Approval(mias.id(), "not-yours");
  // ann reads her own request but may not decide her manager's task; bo
  // does not even learn that it exists.
  ASSERT_OK_AND_ASSIGN(auto by_ann,
                       client_->Call("ann", *client_->tasks, &TS::DecideTasks, request));
  EXPECT_EQ(by_ann.results(0).code(), static_cast<int>(absl::StatusCode::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(auto by_bo,
                       client_->Call("bo", *client_->tasks, &TS::DecideTasks, request));
  EXPECT_EQ(by_bo.results(0).code(), static_cast<int>(absl::StatusCode::kNotFound));
}

TEST_F(PeopleServerTest, ABulkCallIsBoundedAndNotEmpty) {
  const v1::Task task = StartForAnn();
  v1::DecideTasksRequest empty;
  EXPECT_CODE(client_->Call("mia", *client_->tasks, &TS::DecideTasks, empty),
              absl::StatusCode::kInvalidArgument);
  v1::DecideTasksRequest too_many;
  for (int i = 0; i <= app::kMaxBulkDecisions; ++i) {
    *too_many.add_decisions() = Approval(task.id(), absl::StrCat("many-", i));
  }
  EXPECT_CODE(client_->Call("mia", *client_->tasks, &TS::DecideTasks, too_many),
              absl::StatusCode::kInvalidArgument);
  // Nothing of the refused call was decided.
  ASSERT_OK_AND_ASSIGN(auto view, client_->Get("ann", task.instance_id()));
  EXPECT_EQ(view.active_steps(0), "manager");
  v1::DecideTasksRequest at_limit;
  for (int i = 0; i < app::kMaxBulkDecisions; ++i) {
    *at_limit.add_decisions() = Approval(task.id(), absl::StrCat("limit-", i));
  }
  ASSERT_OK_AND_ASSIGN(auto response,
                       client_->Call("mia", *client_->tasks, &TS::DecideTasks, at_limit));
  EXPECT_EQ(response.results_size(), app::kMaxBulkDecisions);
  EXPECT_EQ(response.results(0).code(), 0);
  EXPECT_EQ(response.results(1).code(), static_cast<int>(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace signoff::testing
