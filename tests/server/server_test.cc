// In-process gRPC tests: every RPC through the real transport, with the
// error codes of DESIGN.md's table.
#include <grpcpp/generic/generic_stub.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "api_client.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/listen_address.h"
#include "server_fixture.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/executor.h"
#include "server/server.h"
#include "status_matchers.h"
#include "storage/store.h"
#include "test_organisation.h"
#include "workflow/engine.h"
#include "workflow/limits.h"

namespace signoff::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using Svc = v1::InstanceService::Stub;

TEST_F(ServerTest, ValidateDefinitionReturnsEveryProblemWithItsPath) {
  v1::ValidateDefinitionRequest request;
  request.mutable_source()->set_yaml(R"(
key: t
steps:
  - {id: a, approval: {approvers: [{user: ghost}]}, next: [{to: nowhere}]}
  - {id: a, end: {}}
)");
  ASSERT_OK_AND_ASSIGN(auto response,
                       client_->Call("ann", *client_->definitions,
                                     &v1::DefinitionService::Stub::ValidateDefinition, request));
  EXPECT_FALSE(response.valid());
  std::vector<std::string> paths;
  for (const auto& problem : response.problems()) paths.push_back(problem.path());
  EXPECT_THAT(paths, Contains("steps[0].approval.approvers[0].user"));
  EXPECT_THAT(paths, Contains("steps[0].next[0].to"));
  EXPECT_THAT(paths, Contains("steps[1].id"));

  request.mutable_source()->set_yaml("key: t\nbogus: 1\n");
  ASSERT_OK_AND_ASSIGN(response, client_->Call("ann", *client_->definitions,
                                               &v1::DefinitionService::Stub::ValidateDefinition,
                                               request));
  ASSERT_EQ(response.problems_size(), 1);
  EXPECT_EQ(response.problems(0).path(), "bogus");

  request.mutable_source()->set_yaml(kLeaveDefinition);
  ASSERT_OK_AND_ASSIGN(response, client_->Call("ann", *client_->definitions,
                                               &v1::DefinitionService::Stub::ValidateDefinition,
                                               request));
  EXPECT_TRUE(response.valid());
}

TEST_F(ServerTest, PublishIsVersionedImmutableAndAdminOnly) {
  std::string changed = kLeaveDefinition;
  changed.replace(changed.find("Leave request"), 13, "Leave request v2");
  ASSERT_OK_AND_ASSIGN(auto second, Publish(changed, "publish-leave-2"));
  EXPECT_EQ(second.published().version(), 2);
  EXPECT_CODE(Publish(changed, "publish-leave-3", "ann"), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Publish("key: t\nsteps: []\n", "publish-bad"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), Contains("definition.steps"));

  v1::GetDefinitionRequest get;
  get.set_key("leave");
  ASSERT_OK_AND_ASSIGN(auto latest, client_->Call("ann", *client_->definitions,
                                                  &v1::DefinitionService::Stub::GetDefinition, get));
  EXPECT_EQ(latest.published().version(), 2);
  EXPECT_EQ(latest.published().definition().name(), "Leave request v2");
  get.set_version(1);
  ASSERT_OK_AND_ASSIGN(auto first, client_->Call("ann", *client_->definitions,
                                                 &v1::DefinitionService::Stub::GetDefinition, get));
  EXPECT_EQ(first.published().definition().name(), "Leave request");
  get.set_version(9);
  EXPECT_CODE(client_->Call("ann", *client_->definitions,
                            &v1::DefinitionService::Stub::GetDefinition, get),
              absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto list, client_->Call("ann", *client_->definitions,
                                                &v1::DefinitionService::Stub::ListDefinitions,
                                                v1::ListDefinitionsRequest()));
  ASSERT_EQ(list.definitions_size(), 1);
  EXPECT_EQ(list.definitions(0).latest_version(), 2);
}

TEST_F(ServerTest, StartsRunTheLatestVersionRightAfterAPublish) {
  ASSERT_OK_AND_ASSIGN(auto before, client_->Start("ann", "leave", "{employee: ann, days: 1}", "r1"));
  EXPECT_EQ(before.definition_version(), 1);
  std::string changed = kLeaveDefinition;
  changed.replace(changed.find("Leave request"), 13, "Leave request v2");
  ASSERT_OK(Publish(changed, "publish-leave-2"));
  ASSERT_OK_AND_ASSIGN(auto after, client_->Start("bo", "leave", "{employee: bo, days: 2}", "r2"));
  EXPECT_EQ(after.definition_version(), 2);
  // Republishing the same content adds no version and keeps the cache right.
  ASSERT_OK(Publish(changed, "publish-leave-2-again"));
  ASSERT_OK_AND_ASSIGN(auto again, client_->Start("mia", "leave", "{employee: mia, days: 3}", "r3"));
  EXPECT_EQ(again.definition_version(), 2);
}

// Another signoffd on the same database (or `signoffd seed`) publishes
// without this one's cache knowing: its starts catch up within the cache's
// lifetime.
TEST_F(ServerTest, StartsCatchUpWithAVersionPublishedByAnotherProcess) {
  ASSERT_OK_AND_ASSIGN(auto before, client_->Start("ann", "leave", "{employee: ann, days: 1}", "r1"));
  EXPECT_EQ(before.definition_version(), 1);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<app::Application> other,
                       app::Application::Create(store_, [this] { return now_.load(); }));
  std::string changed = kLeaveDefinition;
  changed.replace(changed.find("Leave request"), 13, "Leave request v2");
  v1::PublishDefinitionRequest publish;
  publish.set_request_id("publish-elsewhere");
  publish.mutable_source()->set_yaml(changed);
  ASSERT_OK_AND_ASSIGN(auto published,
                       other->definitions().PublishDefinition(app::Caller{"ceo"}, publish));
  ASSERT_EQ(published.published().version(), 2);

  const absl::Time deadline = absl::Now() + app::kLatestDefinitionLifetime + absl::Seconds(5);
  int version = 1;
  for (int i = 0; version == 1 && absl::Now() < deadline; ++i) {
    ASSERT_OK_AND_ASSIGN(auto view, client_->Start(i % 2 == 0 ? "bo" : "mia", "leave",
                                                   absl::StrCat("{employee: ", i % 2 == 0 ? "bo" : "mia",
                                                                ", days: 1}"),
                                                   absl::StrCat("catch-up-", i)));
    version = view.definition_version();
    // Withdrawn again, so that the employee's next start is not refused as
    // a second open instance.
    v1::WithdrawInstanceRequest withdraw;
    withdraw.set_id(view.id());
    withdraw.set_request_id(absl::StrCat("withdraw-", i));
    ASSERT_OK(client_->Call(i % 2 == 0 ? "bo" : "mia", *client_->instances, &Svc::WithdrawInstance,
                            withdraw));
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(version, 2);
}

TEST_F(ServerTest, IdentityIsRequired) {
  EXPECT_CODE(client_->Start("", "leave", "{employee: ann, days: 1}", "r1"),
              absl::StatusCode::kUnauthenticated);
  EXPECT_CODE(client_->Start("mallory", "leave", "{employee: ann, days: 1}", "r1"),
              absl::StatusCode::kUnauthenticated);
  EXPECT_CODE(client_->Start("gone", "leave", "{employee: ann, days: 1}", "r1"),
              absl::StatusCode::kUnauthenticated);
}

TEST_F(ServerTest, BadFormGivesFieldViolations) {
  EXPECT_CODE(client_->Start("ann", "leave", "{employee: ghost, days: 99, extra: x}", "r1"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(),
              UnorderedElementsAre("form.employee", "form.days", "form.extra"));
  EXPECT_CODE(client_->Start("ann", "nope", "{employee: ann, days: 1}", "r2"),
              absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto list, client_->Call("ann", *client_->instances, &Svc::ListInstances,
                                                v1::ListInstancesRequest()));
  EXPECT_EQ(list.instances_size(), 0);
}

TEST_F(ServerTest, RequestIdMakesChangesIdempotent) {
  ASSERT_OK_AND_ASSIGN(auto first, client_->Start("ann", "leave", "{employee: ann, days: 1}", "r1"));
  ASSERT_OK_AND_ASSIGN(auto again, client_->Start("ann", "leave", "{employee: ann, days: 1}", "r1"));
  EXPECT_EQ(first.id(), again.id());
  EXPECT_EQ(first.version(), again.version());
  EXPECT_CODE(client_->Start("ann", "leave", "{employee: ann, days: 2}", "r1"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("request_id"));
  EXPECT_CODE(client_->Start("ann", "leave", "{employee: bo, days: 2}", ""),
              absl::StatusCode::kInvalidArgument);

  const std::string task = PendingTaskOf(first, "mia");
  // A comment still applies when sent again: the repeat must meet its
  // record in the commit and add nothing.
  ASSERT_OK_AND_ASSIGN(auto commented, client_->Decide("mia", task, v1::COMMENT, "c1", "noted"));
  ASSERT_OK_AND_ASSIGN(auto recommented, client_->Decide("mia", task, v1::COMMENT, "c1", "noted"));
  EXPECT_EQ(commented.instance().version(), recommented.instance().version());
  ASSERT_OK_AND_ASSIGN(auto decided, client_->Decide("mia", task, v1::APPROVE, "d1"));
  ASSERT_OK_AND_ASSIGN(auto repeated, client_->Decide("mia", task, v1::APPROVE, "d1"));
  EXPECT_EQ(decided.instance().version(), repeated.instance().version());
  // The same request_id for another request fails as a reuse, not with
  // the error the other request would meet (the task is done).
  EXPECT_CODE(client_->Decide("mia", task, v1::REJECT, "d1", "no"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("request_id"));

  ASSERT_OK_AND_ASSIGN(auto history, client_->History("ann", first.id()));
  int completions = 0;
  int comments = 0;
  for (const auto& event : history.events()) {
    completions += event.has_task_completed();
    comments += event.has_comment_added();
  }
  EXPECT_EQ(completions, 1);
  EXPECT_EQ(comments, 1);
  ASSERT_OK_AND_ASSIGN(auto list, client_->Call("ann", *client_->instances, &Svc::ListInstances,
                                                v1::ListInstancesRequest()));
  EXPECT_EQ(list.instances_size(), 1);
}

TEST_F(ServerTest, OneOpenInstancePerSubject) {
  ASSERT_OK_AND_ASSIGN(auto first, client_->Start("ann", "leave", "{employee: ann, days: 1}", "r1"));
  EXPECT_CODE(client_->Start("bo", "leave", "{employee: ann, days: 2}", "r2"),
              absl::StatusCode::kAlreadyExists);
  ASSERT_OK(client_->Start("bo", "leave", "{employee: bo, days: 2}", "r3"));
  v1::WithdrawInstanceRequest withdraw;
  withdraw.set_request_id("w1");
  withdraw.set_id(first.id());
  ASSERT_OK(client_->Call("ann", *client_->instances, &Svc::WithdrawInstance, withdraw));
  ASSERT_OK(client_->Start("bo", "leave", "{employee: ann, days: 2}", "r4"));
}

TEST_F(ServerTest, DecisionsCheckTheCallerAndTheState) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "leave", "{employee: ann, days: 1}", "r1"));
  const std::string task = PendingTaskOf(view, "mia");
  // bo reads nothing of ann's instance; ann reads it but the task is mia's.
  EXPECT_CODE(client_->Decide("bo", task, v1::APPROVE, "d1"), absl::StatusCode::kNotFound);
  EXPECT_CODE(client_->Decide("ann", task, v1::APPROVE, "d1"),
              absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(client_->Decide("mia", "no-such-task", v1::APPROVE, "d2"),
              absl::StatusCode::kNotFound);
  EXPECT_CODE(client_->Decide("mia", task, v1::ACTION_UNSPECIFIED, "d3"),
              absl::StatusCode::kInvalidArgument);
  ASSERT_OK(client_->Decide("mia", task, v1::APPROVE, "d4"));
  EXPECT_CODE(client_->Decide("mia", task, v1::APPROVE, "d5"),
              absl::StatusCode::kFailedPrecondition);
  v1::CancelInstanceRequest cancel;
  cancel.set_request_id("c1");
  cancel.set_id(view.id());
  cancel.set_comment("test");
  EXPECT_CODE(client_->Call("ann", *client_->instances, &Svc::CancelInstance, cancel),
              absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(auto cancelled,
                       client_->Call("ceo", *client_->instances, &Svc::CancelInstance, cancel));
  EXPECT_EQ(cancelled.instance().status(), v1::CANCELLED);
  cancel.set_request_id("c2");
  EXPECT_CODE(client_->Call("ceo", *client_->instances, &Svc::CancelInstance, cancel),
              absl::StatusCode::kFailedPrecondition);
  ExpectReplayMatchesStore(view.id());
}

TEST_F(ServerTest, ReturnResubmitRejectAndAppeal) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "leave", "{employee: ann, days: 8}", "r1"));
  ASSERT_OK_AND_ASSIGN(auto decided, client_->Decide("mia", PendingTaskOf(view, "mia"), v1::RETURN,
                                                     "d1", "fewer days, please"));
  EXPECT_EQ(decided.instance().status(), v1::RETURNED);

  v1::ResubmitInstanceRequest resubmit;
  resubmit.set_request_id("s1");
  resubmit.set_id(view.id());
  *resubmit.mutable_form() = *workflow::ParseFormYaml("{employee: ann, days: 6}");
  // bo reads nothing of it; mia reads it, but only the applicant resubmits.
  EXPECT_CODE(client_->Call("bo", *client_->instances, &Svc::ResubmitInstance, resubmit),
              absl::StatusCode::kNotFound);
  EXPECT_CODE(client_->Call("mia", *client_->instances, &Svc::ResubmitInstance, resubmit),
              absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(auto resubmitted,
                       client_->Call("ann", *client_->instances, &Svc::ResubmitInstance, resubmit));
  EXPECT_EQ(resubmitted.instance().form_revision(), 2);
  ASSERT_OK(client_->Decide("mia", PendingTaskOf(resubmitted.instance(), "mia"), v1::APPROVE, "d2"));
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  EXPECT_THAT(view.active_steps(), ElementsAre("finance"));

  v1::DecideTaskRequest reject;
  reject.set_task_id(PendingTaskOf(view, "fred"));
  reject.set_action(v1::REJECT);
  reject.set_comment("budget");
  reject.set_reason_code("nope");
  EXPECT_CODE(client_->Decide("fred", reject, "d3"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("reason_code"));
  reject.set_reason_code("staffing");
  ASSERT_OK_AND_ASSIGN(decided, client_->Decide("fred", reject, "d4"));
  EXPECT_EQ(decided.instance().status(), v1::REJECTED);

  v1::AppealInstanceRequest appeal;
  appeal.set_request_id("a1");
  appeal.set_id(view.id());
  appeal.set_comment("cover is arranged");
  now_.Advance(absl::Hours(24));
  ASSERT_OK_AND_ASSIGN(auto appealed,
                       client_->Call("ann", *client_->instances, &Svc::AppealInstance, appeal));
  EXPECT_EQ(appealed.instance().status(), v1::RUNNING);

  ASSERT_OK_AND_ASSIGN(auto history, client_->History("ann", view.id()));
  EXPECT_TRUE(history.chain_verified());
  bool diff_recorded = false;
  for (const auto& event : history.events()) {
    if (event.has_instance_resubmitted()) {
      diff_recorded = event.instance_resubmitted().changes_size() == 1 &&
                      event.instance_resubmitted().changes(0).field() == "days";
    }
  }
  EXPECT_TRUE(diff_recorded);
  ExpectReplayMatchesStore(view.id());
}

TEST_F(ServerTest, NoAppealIsOfferedOrTakenOnceTheOnlyAppealIsUsed) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "leave", "{employee: ann, days: 8}", "r1"));
  ASSERT_OK(client_->Decide("mia", PendingTaskOf(view, "mia"), v1::APPROVE, "d1"));
  v1::DecideTaskRequest reject;
  reject.set_action(v1::REJECT);
  reject.set_comment("budget");
  reject.set_reason_code("staffing");
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  reject.set_task_id(PendingTaskOf(view, "fred"));
  ASSERT_OK_AND_ASSIGN(auto decided, client_->Decide("fred", reject, "d2"));
  EXPECT_EQ(decided.instance().status(), v1::REJECTED);
  EXPECT_TRUE(decided.instance().has_appeal_until());

  v1::AppealInstanceRequest appeal;
  appeal.set_request_id("a1");
  appeal.set_id(view.id());
  appeal.set_comment("cover is arranged");
  ASSERT_OK_AND_ASSIGN(auto appealed,
                       client_->Call("ann", *client_->instances, &Svc::AppealInstance, appeal));
  // mia approved this same form: her approval carries, and finance decides
  // again.
  EXPECT_THAT(appealed.instance().active_steps(), ElementsAre("finance"));
  reject.set_task_id(PendingTaskOf(appealed.instance(), "fred"));
  ASSERT_OK_AND_ASSIGN(decided, client_->Decide("fred", reject, "d3"));
  EXPECT_EQ(decided.instance().status(), v1::REJECTED);
  // The leave definition allows one appeal, and it is used.
  EXPECT_FALSE(decided.instance().has_appeal_until());
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  EXPECT_FALSE(view.has_appeal_until());
  appeal.set_request_id("a2");
  EXPECT_CODE(client_->Call("ann", *client_->instances, &Svc::AppealInstance, appeal),
              absl::StatusCode::kFailedPrecondition);
  ExpectReplayMatchesStore(view.id());
}

// The shipped definitions on the demo organisation.
class ShippedDefinitionsTest : public ServerTest {
 protected:
  bool StartsWithOrganisation() const override { return false; }

  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_OK(SeedShipped(*app_));
  }
};

TEST_F(ShippedDefinitionsTest, AReturnToTheEndorsementAsksTheManagerAgain) {
  ASSERT_OK_AND_ASSIGN(auto view,
                       client_->Start("bob.zhang", "dealer-application",
                                      "{dealer_id: D-2006, application_type: account, "
                                      "region: sales-east, description: 'Add a second showroom'}",
                                      "start"));
  ASSERT_OK_AND_ASSIGN(auto endorsed, client_->Decide("alice.chen",
                                                      PendingTaskOf(view, "alice.chen"),
                                                      v1::APPROVE, "endorse"));
  ASSERT_OK_AND_ASSIGN(view, client_->Get("bob.zhang", view.id()));
  ASSERT_THAT(view.active_steps(), ElementsAre("account-review"));

  v1::DecideTaskRequest request;
  request.set_task_id(PendingTaskOf(view, "sam.qian"));
  request.set_action(v1::RETURN);
  request.set_return_to_step("manager-endorsement");
  request.set_comment("The second showroom's address is not in the endorsement");
  ASSERT_OK_AND_ASSIGN(auto returned, client_->Decide("sam.qian", request, "return"));
  EXPECT_EQ(returned.instance().status(), v1::RUNNING);
  EXPECT_THAT(returned.instance().active_steps(), ElementsAre("manager-endorsement"));
  const std::string again = PendingTaskOf(returned.instance(), "alice.chen");
  ASSERT_FALSE(again.empty()) << "alice.chen is not asked again";
  EXPECT_NE(again, endorsed.task().id());

  ASSERT_OK_AND_ASSIGN(auto reendorsed, client_->Decide("alice.chen", again, v1::APPROVE,
                                                        "endorse-again"));
  EXPECT_THAT(reendorsed.instance().active_steps(), ElementsAre("account-review"));
  ASSERT_OK(client_->Decide("sam.qian", PendingTaskOf(reendorsed.instance(), "sam.qian"),
                            v1::APPROVE, "review"));
  ASSERT_OK_AND_ASSIGN(view, client_->Get("bob.zhang", view.id()));
  EXPECT_EQ(view.status(), v1::APPROVED);
  ExpectReplayMatchesStore(view.id());
}

TEST_F(ServerTest, TaskListsClaimAndRemind) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "leave", "{employee: ann, days: 1}", "r1"));
  ASSERT_OK_AND_ASSIGN(auto inbox, client_->Inbox("mia"));
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].definition_key(), "leave");
  EXPECT_EQ(inbox[0].applicant(), "ann");

  v1::RemindTaskRequest remind;
  remind.set_request_id("m1");
  remind.set_id(inbox[0].id());
  ASSERT_OK_AND_ASSIGN(auto reminded,
                       client_->Call("ann", *client_->tasks, &v1::TaskService::Stub::RemindTask, remind));
  EXPECT_EQ(reminded.task().reminders(), 1);
  // The inbox index keeps the count too.
  v1::GetTaskRequest reread;
  reread.set_id(inbox[0].id());
  ASSERT_OK_AND_ASSIGN(auto stored,
                       client_->Call("ann", *client_->tasks, &v1::TaskService::Stub::GetTask, reread));
  EXPECT_EQ(stored.task().reminders(), 1);

  ASSERT_OK(client_->Decide("mia", inbox[0].id(), v1::APPROVE, "d1"));
  // The HR step goes to the hrbp group: both members see it.
  ASSERT_OK_AND_ASSIGN(auto hal_inbox, client_->Inbox("hal"));
  ASSERT_OK_AND_ASSIGN(auto hue_inbox, client_->Inbox("hue"));
  ASSERT_EQ(hal_inbox.size(), 1u);
  ASSERT_EQ(hue_inbox.size(), 1u);
  v1::ListTasksRequest by_group;
  by_group.set_role("hrbp");
  by_group.set_department("hr");
  ASSERT_OK_AND_ASSIGN(auto group, client_->Call("ceo", *client_->tasks,
                                                 &v1::TaskService::Stub::ListTasks, by_group));
  ASSERT_EQ(group.tasks_size(), 1);

  v1::ClaimTaskRequest claim;
  claim.set_request_id("c1");
  claim.set_id(hal_inbox[0].id());
  // fred is in none of the instance's groups, so does not see the task.
  EXPECT_CODE(client_->Call("fred", *client_->tasks, &v1::TaskService::Stub::ClaimTask, claim),
              absl::StatusCode::kNotFound);
  claim.set_request_id("c2");
  ASSERT_OK_AND_ASSIGN(auto claimed,
                       client_->Call("hal", *client_->tasks, &v1::TaskService::Stub::ClaimTask, claim));
  EXPECT_EQ(claimed.task().assignee(), "hal");
  ASSERT_OK_AND_ASSIGN(hue_inbox, client_->Inbox("hue"));
  EXPECT_TRUE(hue_inbox.empty());

  v1::ListTasksRequest by_assignee;
  by_assignee.set_assignee("mia");
  by_assignee.set_status(v1::DONE);
  ASSERT_OK_AND_ASSIGN(auto done, client_->Call("ceo", *client_->tasks,
                                                &v1::TaskService::Stub::ListTasks, by_assignee));
  ASSERT_EQ(done.tasks_size(), 1);
  v1::GetTaskRequest get;
  get.set_id(done.tasks(0).id());
  ASSERT_OK_AND_ASSIGN(auto fetched,
                       client_->Call("ceo", *client_->tasks, &v1::TaskService::Stub::GetTask, get));
  EXPECT_EQ(fetched.task().decision(), v1::APPROVE);
  ASSERT_OK(client_->Decide("hal", claimed.task().id(), v1::APPROVE, "d2"));
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  EXPECT_EQ(view.status(), v1::APPROVED);
  ExpectReplayMatchesStore(view.id());
}

TEST_F(ServerTest, ListInstancesFiltersAndPages) {
  for (const char* user : {"ann", "bo"}) {
    ASSERT_OK(client_->Start(user, "leave", std::string("{employee: ") + user + ", days: 1}",
                             std::string("start-") + user));
  }
  ASSERT_OK(client_->Start("ann", "leave", "{employee: hal, days: 1}", "start-hal"));
  v1::ListInstancesRequest request;
  request.set_applicant("ann");
  ASSERT_OK_AND_ASSIGN(auto by_applicant,
                       client_->Call("ceo", *client_->instances, &Svc::ListInstances, request));
  EXPECT_EQ(by_applicant.instances_size(), 2);
  request.Clear();
  request.set_subject("bo");
  ASSERT_OK_AND_ASSIGN(auto by_subject,
                       client_->Call("ceo", *client_->instances, &Svc::ListInstances, request));
  ASSERT_EQ(by_subject.instances_size(), 1);
  EXPECT_EQ(by_subject.instances(0).applicant(), "bo");

  request.Clear();
  request.set_definition_key("leave");
  request.set_status(v1::RUNNING);
  constexpr int kRunning = 3;
  constexpr int kPageSize = 2;
  request.set_page_size(kPageSize);
  // The pages the instances fill, with room for an empty last page when they
  // fill them exactly: a token after that means paging does not end.
  constexpr int kMaxPages = kRunning / kPageSize + 1;
  std::vector<std::string> seen;
  bool ended = false;
  for (int page = 0; page < kMaxPages && !ended; ++page) {
    ASSERT_OK_AND_ASSIGN(auto response,
                         client_->Call("ceo", *client_->instances, &Svc::ListInstances, request));
    for (const auto& instance : response.instances()) seen.push_back(instance.id());
    ended = response.next_page_token().empty();
    request.set_page_token(response.next_page_token());
  }
  ASSERT_TRUE(ended) << "ListInstances still had a next page after " << kMaxPages << " pages";
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRunning));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size())
      << "an instance came on two pages";
  request.set_page_token("%%garbage%%");
  EXPECT_CODE(client_->Call("ceo", *client_->instances, &Svc::ListInstances, request),
              absl::StatusCode::kInvalidArgument);
}

TEST_F(ServerTest, RacingDecisionsHaveExactlyOneWinner) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "leave", "{employee: ann, days: 9}", "r1"));
  ASSERT_OK(client_->Decide("mia", PendingTaskOf(view, "mia"), v1::APPROVE, "d0"));
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  const std::string fiona_task = PendingTaskOf(view, "fiona");
  const std::string fred_task = PendingTaskOf(view, "fred");
  ASSERT_FALSE(fiona_task.empty());
  ASSERT_FALSE(fred_task.empty());
  absl::Status results[2];
  std::thread fiona([&] {
    ApiClient client(server_->InProcessChannel());
    results[0] = client.Decide("fiona", fiona_task, v1::APPROVE, "race-fiona").status();
  });
  std::thread fred([&] {
    ApiClient client(server_->InProcessChannel());
    results[1] = client.Decide("fred", fred_task, v1::APPROVE, "race-fred").status();
  });
  fiona.join();
  fred.join();
  const int winners = results[0].ok() + results[1].ok();
  EXPECT_EQ(winners, 1) << results[0] << " / " << results[1];
  for (const auto& result : results) {
    if (!result.ok()) {
      EXPECT_TRUE(absl::IsFailedPrecondition(result) || absl::IsAborted(result)) << result;
    }
  }
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  EXPECT_THAT(view.active_steps(), ElementsAre("hr"));
  ExpectReplayMatchesStore(view.id());
}

TEST_F(ServerTest, PreviewRouteShowsApproversWithoutStarting) {
  v1::PreviewRouteRequest request;
  request.set_definition_key("leave");
  *request.mutable_form() = *workflow::ParseFormYaml("{employee: ann, days: 8}");
  ASSERT_OK_AND_ASSIGN(auto preview, client_->Call("ann", *client_->instances,
                                                   &Svc::PreviewRoute, request));
  std::vector<std::string> steps;
  for (const auto& step : preview.steps()) steps.push_back(step.step_id());
  EXPECT_THAT(steps, ElementsAre("manager", "finance", "hr", "done"));
  EXPECT_EQ(preview.steps(0).approvers(0).user(), "mia");
  EXPECT_EQ(preview.steps(0).approvers(0).chosen_by(), "manager_level:1");
  EXPECT_EQ(preview.final_status(), v1::APPROVED);
  request.set_applicant("ghost");
  EXPECT_CODE(client_->Call("ann", *client_->instances, &Svc::PreviewRoute, request),
              absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto list, client_->Call("ann", *client_->instances, &Svc::ListInstances,
                                                v1::ListInstancesRequest()));
  EXPECT_EQ(list.instances_size(), 0);
}

TEST_F(ServerTest, DirectoryUpsertsAreCheckedAndAdminOnly) {
  using Dir = v1::DirectoryService::Stub;
  v1::UpsertDepartmentsRequest departments;
  departments.set_request_id("d1");
  auto* legal = departments.add_departments();
  legal->set_id("legal");
  legal->set_parent("root");
  legal->set_head("lea");
  EXPECT_CODE(client_->Call("ceo", *client_->directory, &Dir::UpsertDepartments, departments),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("departments[legal].head"));

  v1::UpsertUsersRequest users;
  users.set_request_id("u1");
  auto* lea = users.add_users();
  lea->set_id("lea");
  lea->set_department("root");
  lea->set_manager("ceo");
  auto* grant = lea->add_roles();
  grant->set_role("legal-reviewer");
  EXPECT_CODE(client_->Call("ann", *client_->directory, &Dir::UpsertUsers, users),
              absl::StatusCode::kPermissionDenied);
  ASSERT_OK(client_->Call("ceo", *client_->directory, &Dir::UpsertUsers, users));
  departments.set_request_id("d2");
  ASSERT_OK(client_->Call("ceo", *client_->directory, &Dir::UpsertDepartments, departments));

  v1::GetUserRequest get;
  get.set_id("ann");
  ASSERT_OK_AND_ASSIGN(auto ann, client_->Call("lea", *client_->directory, &Dir::GetUser, get));
  EXPECT_THAT(ann.manager_chain(), ElementsAre("mia", "sam", "ceo"));
  EXPECT_EQ(ann.department().head(), "sam");
  get.set_id("nobody");
  EXPECT_CODE(client_->Call("lea", *client_->directory, &Dir::GetUser, get),
              absl::StatusCode::kNotFound);

  v1::ListUsersRequest list;
  list.set_role("hrbp");
  ASSERT_OK_AND_ASSIGN(auto hrbps, client_->Call("lea", *client_->directory, &Dir::ListUsers, list));
  std::vector<std::string> ids;
  for (const auto& user : hrbps.users()) ids.push_back(user.id());
  EXPECT_THAT(ids, UnorderedElementsAre("hal", "hue"));
  list.Clear();
  list.set_department("fin");
  ASSERT_OK_AND_ASSIGN(auto finance, client_->Call("lea", *client_->directory, &Dir::ListUsers, list));
  EXPECT_EQ(finance.users_size(), 2);
}

TEST_F(ServerTest, OversizedRequestsAreRefused) {
  v1::StartInstanceRequest request;
  request.set_request_id("big");
  request.set_definition_key("leave");
  (*request.mutable_form()->mutable_fields())["reason"].set_string_value(std::string(512 << 10, 'x'));
  EXPECT_CODE(client_->Call("ann", *client_->instances, &Svc::StartInstance, request),
              absl::StatusCode::kResourceExhausted);
}

TEST_F(ServerTest, HealthReportsLivenessAndReadiness) {
  grpc::GenericStub stub(server_->InProcessChannel());
  for (const std::string service : {"liveness", "readiness"}) {
    // grpc.health.v1.HealthCheckRequest{service}: field 1, length-delimited.
    std::string request_bytes = std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
    grpc::Slice slice(request_bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                   &response, [&](grpc::Status status) { done.set_value(status); });
    grpc::Status status = done.get_future().get();
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::vector<grpc::Slice> slices;
    ASSERT_TRUE(response.Dump(&slices).ok());
    std::string bytes;
    for (const auto& part : slices) bytes.append(reinterpret_cast<const char*>(part.begin()), part.size());
    // HealthCheckResponse{status: SERVING (1)}.
    EXPECT_EQ(bytes, std::string("\x08\x01", 2)) << service;
  }
}

// The readiness status as a probe sees it.
grpc::health::v1::HealthCheckResponse::ServingStatus Readiness(grpc::Channel& channel) {
  auto health = grpc::health::v1::Health::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("readiness");
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  grpc::Status status = health->Check(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

// Polls readiness until it is `wanted`, for at most five seconds.
bool ReadinessBecomes(grpc::Channel& channel,
                      grpc::health::v1::HealthCheckResponse::ServingStatus wanted) {
  for (int i = 0; i < 100; ++i) {
    if (Readiness(channel) == wanted) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST_F(ServerTest, ReadinessFollowsWhetherTheDatabaseCanBeWritten) {
  if (database_->is_postgresql()) {
    GTEST_SKIP() << "moves the SQLite file; the replica test stops PostgreSQL instead";
  }
  using Status = grpc::health::v1::HealthCheckResponse;
  auto channel = server_->InProcessChannel();
  EXPECT_TRUE(ReadinessBecomes(*channel, Status::SERVING));
  const auto db = database_->sqlite_file();
  std::filesystem::rename(db, dir_ / "moved.db");
  EXPECT_TRUE(ReadinessBecomes(*channel, Status::NOT_SERVING));
  std::filesystem::rename(dir_ / "moved.db", db);
  EXPECT_TRUE(ReadinessBecomes(*channel, Status::SERVING));
}

TEST_F(ServerTest, DocumentWorkIsQueuedApartFromOtherCalls) {
  // A server whose document queue takes nothing: validations and publishes
  // are refused as overload, and every other call still runs.
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.log_calls = false;
  options.timer_poll = absl::ZeroDuration();
  options.max_queued_documents = 0;
  ASSERT_OK_AND_ASSIGN(auto busy, server::SignoffServer::Start(app_, options));
  ApiClient client(busy->InProcessChannel());
  v1::ValidateDefinitionRequest validate;
  validate.mutable_source()->set_yaml(kLeaveDefinition);
  EXPECT_CODE(client.Call("ann", *client.definitions,
                          &v1::DefinitionService::Stub::ValidateDefinition, validate),
              absl::StatusCode::kResourceExhausted);
  v1::PublishDefinitionRequest publish;
  publish.set_request_id("busy-publish");
  publish.mutable_source()->set_yaml(kLeaveDefinition);
  EXPECT_CODE(client.Call("ceo", *client.definitions,
                          &v1::DefinitionService::Stub::PublishDefinition, publish),
              absl::StatusCode::kResourceExhausted);
  v1::GetDefinitionRequest get;
  get.set_key("leave");
  EXPECT_OK(client.Call("ann", *client.definitions, &v1::DefinitionService::Stub::GetDefinition,
                        get));
  EXPECT_OK(client.Start("ann", "leave", "{employee: ann, days: 1}", "busy-start"));
}

TEST_F(ServerTest, AnOversizedDefinitionIsRefusedQuickly) {
  std::string yaml = "key: huge\nsteps:\n";
  for (int i = 0; i <= workflow::kMaxSteps; ++i) {
    yaml += absl::StrCat("  - {id: s", i, ", approval: {approvers: [{user: mia}]}, next: [{to: s",
                         i + 1, "}]}\n");
  }
  yaml += absl::StrCat("  - {id: s", workflow::kMaxSteps + 1, ", end: {}}\n");
  v1::ValidateDefinitionRequest validate;
  validate.mutable_source()->set_yaml(yaml);
  ASSERT_OK_AND_ASSIGN(auto checked, client_->Call("ann", *client_->definitions,
                                                   &v1::DefinitionService::Stub::ValidateDefinition,
                                                   validate));
  EXPECT_FALSE(checked.valid());
  ASSERT_EQ(checked.problems_size(), 1);
  EXPECT_EQ(checked.problems(0).path(), "steps");
  v1::PublishDefinitionRequest publish;
  publish.set_request_id("huge");
  publish.mutable_source()->set_yaml(yaml);
  EXPECT_CODE(client_->Call("ceo", *client_->definitions,
                            &v1::DefinitionService::Stub::PublishDefinition, publish),
              absl::StatusCode::kInvalidArgument);
  // At the bound, it is checked as any other.
  std::string at_bound = "key: bound\nsteps:\n";
  for (int i = 0; i < workflow::kMaxSteps - 1; ++i) {
    at_bound += absl::StrCat("  - {id: s", i, ", approval: {approvers: [{user: mia}]}, next: [{to: s",
                             i + 1, "}]}\n");
  }
  at_bound += absl::StrCat("  - {id: s", workflow::kMaxSteps - 1, ", end: {}}\n");
  validate.mutable_source()->set_yaml(at_bound);
  ASSERT_OK_AND_ASSIGN(checked, client_->Call("ann", *client_->definitions,
                                              &v1::DefinitionService::Stub::ValidateDefinition,
                                              validate));
  EXPECT_TRUE(checked.valid()) << (checked.problems_size() ? checked.problems(0).message() : "");
}

TEST_F(ServerTest, AFileThatCaughtUpWithTheApiAndMovedOnIsPublished) {
  auto named = [](const std::string& name) {
    std::string yaml = kLeaveDefinition;
    yaml.replace(yaml.find("key: leave\nname: Leave request"),
                 std::string("key: leave\nname: Leave request").size(),
                 "key: seeded\nname: " + name);
    return *workflow::ParseDefinitionYaml(yaml);
  };
  const std::string origin = "file:seeded.yaml";
  ASSERT_OK_AND_ASSIGN(auto first, app_->definitions().PublishFromFile(named("A"), origin));
  EXPECT_EQ(first.version, 1);
  EXPECT_TRUE(first.published);
  v1::PublishDefinitionRequest api;
  api.set_request_id("api-b");
  *api.mutable_source()->mutable_definition() = named("B");
  ASSERT_OK(client_->Call("ceo", *client_->definitions,
                          &v1::DefinitionService::Stub::PublishDefinition, api));
  // The file catches up with what the API published: nothing new.
  ASSERT_OK_AND_ASSIGN(auto caught_up, app_->definitions().PublishFromFile(named("B"), origin));
  EXPECT_EQ(caught_up.version, 2);
  EXPECT_FALSE(caught_up.published);
  // Then it moves on: a new version, not a clash with the earlier record.
  ASSERT_OK_AND_ASSIGN(auto moved_on, app_->definitions().PublishFromFile(named("C"), origin));
  EXPECT_EQ(moved_on.version, 3);
  EXPECT_TRUE(moved_on.published);
}

TEST_F(ServerTest, ConcurrentChangesCannotRemoveEveryAdministrator) {
  auto upsert = [this](const std::string& caller, const std::string& yaml,
                       const std::string& request_id) {
    auto organisation = workflow::ParseOrganisationYaml(absl::StrCat("users: ", yaml));
    v1::UpsertUsersRequest request;
    request.set_request_id(request_id);
    *request.mutable_users() = organisation->users();
    return client_->Call(caller, *client_->directory, &v1::DirectoryService::Stub::UpsertUsers,
                         request);
  };
  const std::string ceo = "{id: ceo, department: root, roles: [{role: workflow-admin}]";
  const std::string hana = "{id: hana, department: hr, manager: ceo, roles: [{role: workflow-admin}]";
  std::string admin = "ceo";
  for (int round = 0; round < 10; ++round) {
    ASSERT_OK(upsert(admin, absl::StrCat("[", ceo, "}, ", hana, "}]"),
                     absl::StrCat("both-", round)));
    // Each change alone keeps an administrator; both together would not.
    std::atomic<int> succeeded{0};
    std::thread first([&] {
      succeeded += upsert("ceo", absl::StrCat("[", ceo, ", disabled: true}]"),
                          absl::StrCat("off-ceo-", round)).ok();
    });
    std::thread second([&] {
      succeeded += upsert("hana", absl::StrCat("[", hana, ", disabled: true}]"),
                          absl::StrCat("off-hana-", round)).ok();
    });
    first.join();
    second.join();
    EXPECT_EQ(succeeded.load(), 1) << "round " << round;
    ASSERT_OK_AND_ASSIGN(auto directory, store_->LoadDirectory());
    std::vector<std::string> enabled_admins;
    for (const auto& user : directory.users()) {
      for (const auto& grant : user.roles()) {
        if (!user.disabled() && grant.role() == "workflow-admin") enabled_admins.push_back(user.id());
      }
    }
    ASSERT_EQ(enabled_admins.size(), 1u) << "round " << round;
    admin = enabled_admins.front();
  }
}

TEST(BoundedExecutorTest, RefusesWorkBeyondItsQueue) {
  server::BoundedExecutor executor(1, 1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> running;
  ASSERT_TRUE(executor.TrySubmit([&] {
    running.set_value();
    released.wait();
  }));
  running.get_future().wait();
  EXPECT_TRUE(executor.TrySubmit([] {}));
  EXPECT_FALSE(executor.TrySubmit([] {}));
  release.set_value();
  executor.Stop();
  EXPECT_FALSE(executor.TrySubmit([] {}));
}

TEST(ListenAddressTest, LoopbackIsDecidedByWhatTheHostResolvesTo) {
  ASSERT_OK_AND_ASSIGN(auto v4, server::ParseListenAddress("127.0.0.1:50051"));
  EXPECT_TRUE(v4.loopback);
  EXPECT_EQ(v4.port, 50051);
  ASSERT_OK_AND_ASSIGN(auto v4_elsewhere, server::ParseListenAddress("127.8.9.10:1"));
  EXPECT_TRUE(v4_elsewhere.loopback);
  ASSERT_OK_AND_ASSIGN(auto v6, server::ParseListenAddress("[::1]:50051"));
  EXPECT_TRUE(v6.loopback);
  ASSERT_OK_AND_ASSIGN(auto named, server::ParseListenAddress("localhost:1"));
  EXPECT_TRUE(named.loopback);
  ASSERT_OK_AND_ASSIGN(auto unix_socket, server::ParseListenAddress("unix:/tmp/signoff.sock"));
  EXPECT_TRUE(unix_socket.loopback);
  ASSERT_OK_AND_ASSIGN(auto any, server::ParseListenAddress("0.0.0.0:50051"));
  EXPECT_FALSE(any.loopback);
  ASSERT_OK_AND_ASSIGN(auto any_v6, server::ParseListenAddress("[::]:50051"));
  EXPECT_FALSE(any_v6.loopback);
  ASSERT_OK_AND_ASSIGN(auto private_net, server::ParseListenAddress("10.1.2.3:50051"));
  EXPECT_FALSE(private_net.loopback);
  // Starts with "127." but is a name, not an address: it must resolve, and
  // here it does not.
  EXPECT_CODE(server::ParseListenAddress("127.0.0.1.example.invalid:50051"),
              absl::StatusCode::kInvalidArgument);
}

TEST(ListenAddressTest, PortsAreCheckedNotDefaulted) {
  EXPECT_CODE(server::ParseListenAddress("127.0.0.1"), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(server::ParseListenAddress("127.0.0.1:"), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(server::ParseListenAddress("127.0.0.1:abc"), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(server::ParseListenAddress("127.0.0.1:99999"), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(server::ParseListenAddress("127.0.0.1:65536"), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(server::ParseListenAddress("127.0.0.1:-1"), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(server::ParseListenAddress(":50051"), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(server::ParseListenAddress("[::1]50051"), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(server::ParseListenAddress("unix:"), absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto highest, server::ParseListenAddress("127.0.0.1:65535"));
  EXPECT_EQ(highest.port, 65535);
  ASSERT_OK_AND_ASSIGN(auto any_port, server::ParseListenAddress("127.0.0.1:0"));
  EXPECT_EQ(any_port.port, 0);
}

TEST_F(ServerTest, DevAuthRefusesToListenBeyondLoopback) {
  server::ServerOptions options;
  options.listen = "0.0.0.0:0";
  options.timer_poll = absl::ZeroDuration();
  EXPECT_CODE(server::SignoffServer::Start(app_, options), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ServerTest, AnAddressThatCannotBeListenedOnIsAnErrorNotACrash) {
  server::ServerOptions options;
  options.log_calls = false;
  options.timer_poll = absl::ZeroDuration();
  options.listen = "unix:" + (dir_ / "missing" / "folder" / "signoff.sock").string();
  EXPECT_CODE(server::SignoffServer::Start(app_, options), absl::StatusCode::kUnavailable);
  // A port another server holds.
  auto holder = server::SignoffServer::Start(app_, [] {
    server::ServerOptions held;
    held.listen = "127.0.0.1:0";
    held.log_calls = false;
    held.timer_poll = absl::ZeroDuration();
    return held;
  }());
  ASSERT_OK(holder);
  options.listen = absl::StrCat("127.0.0.1:", (*holder)->port());
  EXPECT_CODE(server::SignoffServer::Start(app_, options), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace signoff::testing

namespace signoff::testing {
namespace {

class EventFeedTest : public ServerTest {
 protected:
  absl::StatusOr<v1::ListEventsResponse> ListEvents(const std::string& user, int64_t after,
                                                    int page_size) {
    v1::ListEventsRequest request;
    request.set_after_global_seq(after);
    request.set_page_size(page_size);
    return client_->Call(user, *client_->instances, &v1::InstanceService::Stub::ListEvents,
                         request);
  }
};

TEST_F(EventFeedTest, PagesThroughEveryEventInCommitOrderAndResumes) {
  ASSERT_OK_AND_ASSIGN(auto first, client_->Start("ann", "leave", "{employee: ann, days: 2}",
                                                  "feed-1"));
  ASSERT_OK_AND_ASSIGN(auto second, client_->Start("bo", "leave", "{employee: bo, days: 1}",
                                                   "feed-2"));
  ASSERT_OK_AND_ASSIGN(auto first_history, client_->History("aud", first.id()));
  ASSERT_OK_AND_ASSIGN(auto second_history, client_->History("aud", second.id()));
  const int total = first_history.events_size() + second_history.events_size();

  std::vector<v1::Event> read;
  int64_t after = 0;
  for (int page = 0; page < 100; ++page) {
    ASSERT_OK_AND_ASSIGN(auto response, ListEvents("aud", after, 2));
    EXPECT_LE(response.events_size(), 2);
    for (const auto& event : response.events()) {
      EXPECT_GT(event.global_seq(), after);
      after = event.global_seq();
      read.push_back(event);
    }
    EXPECT_EQ(response.next_after_global_seq(), after);
    if (response.events().empty()) break;
  }
  ASSERT_EQ(static_cast<int>(read.size()), total);
  EXPECT_EQ(read.front().instance_id(), first.id());
  EXPECT_EQ(read.back().instance_id(), second.id());

  ASSERT_OK_AND_ASSIGN(auto third, client_->Start("mia", "leave", "{employee: mia, days: 1}",
                                                  "feed-3"));
  ASSERT_OK_AND_ASSIGN(auto resumed, ListEvents("aud", after, 0));
  ASSERT_GT(resumed.events_size(), 0);
  for (const auto& event : resumed.events()) EXPECT_EQ(event.instance_id(), third.id());
}

TEST_F(EventFeedTest, OnlyAuditorsAndWatchingServiceAccountsReadTheFeed) {
  ASSERT_OK(client_->Start("ann", "leave", "{employee: ann, days: 2}", "feed-1").status());
  EXPECT_CODE(ListEvents("ann", 0, 10), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(ListEvents("fiona", 0, 10), absl::StatusCode::kPermissionDenied);
  // A workflow admin runs the catalog, not the cases.
  EXPECT_CODE(ListEvents("ceo", 0, 10), absl::StatusCode::kPermissionDenied);
  // A service account without the watch permission.
  EXPECT_CODE(ListEvents("svc", 0, 10), absl::StatusCode::kPermissionDenied);
  EXPECT_OK(ListEvents("watcher", 0, 10));
  EXPECT_CODE(ListEvents("nobody", 0, 10), absl::StatusCode::kUnauthenticated);
  EXPECT_CODE(ListEvents("", 0, 10), absl::StatusCode::kUnauthenticated);
  EXPECT_OK(ListEvents("aud", 0, 10));
}

TEST_F(EventFeedTest, PageSizeAndCursorAreCheckedAtTheirBounds) {
  EXPECT_OK(ListEvents("aud", 0, 1000));
  EXPECT_OK(ListEvents("aud", 0, 1));
  EXPECT_OK(ListEvents("aud", 0, 0));
  EXPECT_CODE(ListEvents("aud", 0, 1001), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ::testing::ElementsAre("page_size"));
  EXPECT_CODE(ListEvents("aud", 0, -1), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(ListEvents("aud", -1, 10), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ::testing::ElementsAre("after_global_seq"));
}

}  // namespace
}  // namespace signoff::testing
