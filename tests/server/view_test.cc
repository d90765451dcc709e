// What readers see without fetching the definition: each task's actions
// and what they need, why an instance ended or came back, and when a wait
// runs out.

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "server_fixture.h"
#include "server/app/views.h"
#include "status_matchers.h"
#include "workflow/time_util.h"
#include "workflow/yaml_mapping.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Codes(const google::protobuf::RepeatedPtrField<v1::ReasonCode>& codes) {
  std::vector<std::string> out;
  for (const auto& code : codes) out.push_back(code.code());
  return out;
}

class ViewTest : public ServerTest {};

TEST_F(ViewTest, TasksCarryTheirActionsAndWhatEachNeeds) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "leave", "{employee: ann, days: 2}", "v1"));
  ASSERT_OK_AND_ASSIGN(auto inbox, client_->Inbox("mia"));
  ASSERT_EQ(inbox.size(), 1u);
  const v1::TaskActions& actions = inbox[0].actions();
  EXPECT_THAT(actions.allowed(),
              ElementsAre(v1::APPROVE, v1::REJECT, v1::RETURN, v1::TRANSFER, v1::DELEGATE,
                          v1::ADD_SIGNER, v1::COMMENT, v1::CC, v1::REMIND));
  EXPECT_THAT(actions.comment_required(), ElementsAre(v1::REJECT, v1::RETURN));
  EXPECT_THAT(actions.reason_required(), ElementsAre(v1::REJECT));
  EXPECT_THAT(Codes(actions.reject_reasons()), ElementsAre("staffing", "policy"));
  EXPECT_THAT(actions.return_reasons(), IsEmpty());
  EXPECT_EQ(inbox[0].definition_version(), 1);
  // The instance view shows the same.
  ASSERT_EQ(view.pending_tasks_size(), 1);
  EXPECT_THAT(view.pending_tasks(0).actions().allowed(), ElementsAre(v1::APPROVE, v1::REJECT,
                                                                     v1::RETURN, v1::TRANSFER,
                                                                     v1::DELEGATE, v1::ADD_SIGNER,
                                                                     v1::COMMENT, v1::CC,
                                                                     v1::REMIND));

  // At hr, a return may go back to the manager step.
  ASSERT_OK(client_->Decide("mia", inbox[0].id(), v1::APPROVE, "v2"));
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  ASSERT_EQ(view.pending_tasks_size(), 1);
  EXPECT_THAT(view.pending_tasks(0).actions().return_steps(), ElementsAre("manager"));
  // Defaults where the step lists no actions.
  EXPECT_THAT(view.pending_tasks(0).actions().allowed(),
              ElementsAre(v1::APPROVE, v1::REJECT, v1::RETURN, v1::COMMENT, v1::REMIND));
  v1::GetTaskRequest get;
  get.set_id(view.pending_tasks(0).id());
  ASSERT_OK_AND_ASSIGN(auto task, client_->Call("hal", *client_->tasks,
                                                &v1::TaskService::Stub::GetTask, get));
  EXPECT_THAT(task.task().actions().return_steps(), ElementsAre("manager"));
  get.set_id(absl::StrCat(view.id(), "-t99"));
  EXPECT_CODE(client_->Call("hal", *client_->tasks, &v1::TaskService::Stub::GetTask, get),
              absl::StatusCode::kNotFound);
  get.set_id("not-a-task");
  EXPECT_CODE(client_->Call("hal", *client_->tasks, &v1::TaskService::Stub::GetTask, get),
              absl::StatusCode::kNotFound);
}

TEST_F(ViewTest, ARejectionsReasonAndCommentAreOnTheInstance) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "leave", "{employee: ann, days: 2}", "r1"));
  v1::DecideTaskRequest reject;
  reject.set_task_id(PendingTaskOf(view, "mia"));
  reject.set_action(v1::REJECT);
  reject.set_reason_code("staffing");
  reject.set_comment("two of the team are already away");
  ASSERT_OK(client_->Decide("mia", reject, "r2"));
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  EXPECT_EQ(view.status(), v1::REJECTED);
  EXPECT_EQ(view.outcome_reason(), "staffing");
  EXPECT_EQ(view.outcome_comment(), "two of the team are already away");
  EXPECT_FALSE(view.has_last_return());
}

// A rejection stored with a deadline although its last appeal was used
// (as the engine once recorded) shows none: the appeal would be refused.
TEST(InstanceViewTest, AStoredDeadlineShowsOnlyWhileAnAppealIsLeft) {
  ASSERT_OK_AND_ASSIGN(v1::WorkflowDefinition leave,
                       workflow::ParseDefinitionYaml(kLeaveDefinition));
  v1::InstanceState state;
  state.set_id("i1");
  state.set_status(v1::REJECTED);
  *state.mutable_appeal_until() = workflow::ToTimestamp(absl::FromUnixSeconds(1767657600));
  EXPECT_TRUE(app::ViewOf(state, leave, absl::InfinitePast()).has_appeal_until());
  state.set_appeals(1);
  EXPECT_FALSE(app::ViewOf(state, leave, absl::InfinitePast()).has_appeal_until());
}

TEST_F(ViewTest, AReturnShowsOnTheInstanceUntilResubmitted) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "leave", "{employee: ann, days: 2}", "t1"));
  ASSERT_OK(client_->Decide("mia", PendingTaskOf(view, "mia"), v1::RETURN, "t2",
                            "attach the handover plan"));
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  EXPECT_EQ(view.status(), v1::RETURNED);
  ASSERT_TRUE(view.has_last_return());
  EXPECT_EQ(view.last_return().from_step(), "manager");
  EXPECT_EQ(view.last_return().to_step(), "");
  EXPECT_EQ(view.last_return().comment(), "attach the handover plan");
  EXPECT_EQ(view.last_return().by(), "mia");
  EXPECT_EQ(workflow::FromTimestamp(view.last_return().at()), now_.load());

  v1::ResubmitInstanceRequest resubmit;
  resubmit.set_request_id("t3");
  resubmit.set_id(view.id());
  (*resubmit.mutable_form()->mutable_fields())["employee"].set_string_value("ann");
  (*resubmit.mutable_form()->mutable_fields())["days"].set_number_value(2);
  (*resubmit.mutable_form()->mutable_fields())["reason"].set_string_value("plan attached");
  ASSERT_OK(client_->Call("ann", *client_->instances,
                          &v1::InstanceService::Stub::ResubmitInstance, resubmit));
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  EXPECT_EQ(view.status(), v1::RUNNING);
  EXPECT_FALSE(view.has_last_return());
  ExpectReplayMatchesStore(view.id());
}

constexpr char kWatch[] = R"(
key: watch
service_accounts: [svc]
steps:
  - id: hold
    wait: {signal: kpi_recovered, duration: {days: 30}, on_timeout: fallback}
    actions: {allowed: [PAUSE_CLOCK, EXTEND_DEADLINE]}
    next: [{to: done}]
  - id: fallback
    task: {assignees: [{user: hal}]}
    next: [{to: done}]
  - {id: done, end: {}}
)";

TEST_F(ViewTest, AWaitShowsWhenItRunsOut) {
  ASSERT_OK(Publish(kWatch, "publish-watch"));
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "watch", "{}", "w1"));
  ASSERT_EQ(view.waits_size(), 1);
  EXPECT_EQ(view.waits(0).step_id(), "hold");
  EXPECT_EQ(view.waits(0).signal(), "kpi_recovered");
  EXPECT_EQ(workflow::FromTimestamp(view.waits(0).due_at()), now_.load() + absl::Hours(24 * 30));
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  ASSERT_EQ(view.waits_size(), 1);
  EXPECT_EQ(workflow::FromTimestamp(view.waits(0).due_at()), now_.load() + absl::Hours(24 * 30));
}

TEST_F(ViewTest, AWaitIsPausedResumedAndExtendedThroughTheApi) {
  ASSERT_OK(Publish(kWatch, "publish-watch"));
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "watch", "{}", "p1"));
  const absl::Time due = now_.load() + absl::Hours(24 * 30);
  v1::ClockRequest pause;
  pause.set_request_id("p2");
  pause.mutable_wait()->set_instance_id(view.id());
  pause.mutable_wait()->set_step_id("hold");
  EXPECT_CODE(client_->Call("ann", *client_->tasks, &v1::TaskService::Stub::PauseClock, pause),
              absl::StatusCode::kPermissionDenied);
  now_.Advance(absl::Hours(24));
  pause.set_request_id("p3");
  ASSERT_OK_AND_ASSIGN(auto paused, client_->Call("ceo", *client_->tasks,
                                                  &v1::TaskService::Stub::PauseClock, pause));
  EXPECT_TRUE(paused.wait().paused());
  EXPECT_EQ(paused.wait().remaining_seconds(), 29 * 24 * 3600);
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  ASSERT_EQ(view.waits_size(), 1);
  EXPECT_TRUE(view.waits(0).paused());
  EXPECT_FALSE(view.waits(0).has_due_at());

  now_.Advance(absl::Hours(24 * 5));
  v1::ClockRequest resume = pause;
  resume.set_request_id("p4");
  ASSERT_OK_AND_ASSIGN(auto resumed, client_->Call("ceo", *client_->tasks,
                                                   &v1::TaskService::Stub::ResumeClock, resume));
  EXPECT_FALSE(resumed.wait().paused());
  EXPECT_EQ(workflow::FromTimestamp(resumed.wait().due_at()), due + absl::Hours(24 * 5));

  v1::ExtendDeadlineRequest extend;
  extend.set_request_id("p5");
  *extend.mutable_wait() = pause.wait();
  extend.mutable_by()->set_days(3);
  ASSERT_OK_AND_ASSIGN(auto extended, client_->Call("ceo", *client_->tasks,
                                                    &v1::TaskService::Stub::ExtendDeadline,
                                                    extend));
  EXPECT_EQ(workflow::FromTimestamp(extended.wait().due_at()), due + absl::Hours(24 * 8));
  ExpectReplayMatchesStore(view.id());
}

}  // namespace
}  // namespace signoff::testing
