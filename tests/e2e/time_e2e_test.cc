// End to end with time: the real signoffd runs partner-termination and
// dealer-claim through signals, deadlines that pass while it is down
// (restarted with a later clock), sampled quality checks, appeals and the
// outside document check. Every trail is replayed against the server.
#include "e2e_fixture.h"
#include "workflow/conditions.h"

namespace signoff::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

std::string DateIn(absl::Duration from_now) {
  return absl::FormatTime("%Y-%m-%d", absl::Now() + from_now, absl::UTCTimeZone());
}

class TimeEndToEndTest : public EndToEndTest {
 protected:
  void CompleteWithComment(const std::string& user, const std::string& instance,
                           const std::string& comment, const std::string& result = "{}") {
    v1::DecideTaskRequest request;
    request.set_task_id(TaskFor(user, instance));
    request.set_action(v1::COMPLETE);
    request.set_comment(comment);
    *request.mutable_result() = *workflow::ParseFormYaml(result);
    ASSERT_OK(client_->Decide(user, request, absl::StrCat("complete-", request.task_id())));
  }

  std::string StartPartnerCase(const std::string& deadline) {
    auto view = client_->Start("svc-kpi-monitor", "partner-termination",
                               absl::StrCat("{partner_id: P-2001, partner_name: Swift Couriers,"
                                            " kpi_period: 2026-Q3, on_time_rate: 0.81,"
                                            " cancellation_rate: 0.07,"
                                            " breach_summary: on-time rate below 90% for a quarter,"
                                            " rectification_deadline: '",
                                            deadline, "'}"),
                               absl::StrCat("partner-", deadline));
    EXPECT_OK(view);
    if (!view.ok()) return "";
    CompleteWithComment("helen.qin", view->id(), "warning sent by registered mail");
    EXPECT_THAT(Get(view->id()).active_steps(), ElementsAre("rectification"));
    return view->id();
  }

  std::string StartClaim(const std::string& request_id, const std::string& extra = "") {
    auto view = client_->Start("bob.zhang", "dealer-claim",
                               absl::StrCat("{dealer_id: D-1001, claim_type: warranty,"
                                            " amount: '12800.00', region: sales-east,"
                                            " description: replaced gearbox under warranty",
                                            extra, "}"),
                               request_id);
    EXPECT_OK(view);
    return view.ok() ? view->id() : "";
  }
};

TEST_F(TimeEndToEndTest, PartnerRectifiedBySignal) {
  const std::string id = StartPartnerCase(DateIn(absl::Hours(24 * 30)));
  v1::SignalInstanceRequest signal;
  signal.set_request_id("kpi-recovered-1");
  signal.set_id(id);
  signal.set_name("kpi_recovered");
  (*signal.mutable_payload()->mutable_fields())["on_time_rate"].set_number_value(0.95);
  ASSERT_OK_AND_ASSIGN(auto signalled,
                       client_->Call("svc-kpi-monitor", *client_->instances,
                                     &v1::InstanceService::Stub::SignalInstance, signal));
  EXPECT_EQ(signalled.instance().status(), v1::APPROVED);
  EXPECT_EQ(signalled.instance().outcome(), "KEPT");
  CrashAndRestart();
  auto events = VerifiedHistory(id);
  std::vector<std::string> steps;
  for (const auto& event : events) {
    if (event.has_step_entered()) steps.push_back(event.step_id());
  }
  EXPECT_THAT(steps, ElementsAre("warning-notice", "rectification", "rectified"));
}

TEST_F(TimeEndToEndTest, PartnerTerminatedAfterTheDeadlinePassesWhileDown) {
  const std::string id = StartPartnerCase(DateIn(absl::Hours(24 * 10)));
  CrashAndRestartLater("12d");
  ASSERT_TRUE(Eventually([&] {
    auto steps = Get(id).active_steps();
    return steps.size() == 1 && steps[0] == "interview";
  })) << Get(id).DebugString();
  CompleteWithComment("paul.dai", id, "interviewed; no credible plan",
                      "{interview_verdict: proceed}");
  EXPECT_THAT(Get(id).active_steps(), ::testing::UnorderedElementsAre("legal-risk",
                                                                      "economic-impact"));
  Approve("diana.lu", id);
  CrashAndRestart();
  Approve("nathan.gu", id);
  Approve("frank.bai", id);
  Approve("oscar.ma", id);
  CompleteWithComment("helen.qin", id, "notice served");
  EXPECT_EQ(Get(id).status(), v1::APPROVED);
  EXPECT_EQ(Get(id).outcome(), "TERMINATED");
  auto events = VerifiedHistory(id);
  int wait_fired = 0;
  for (const auto& event : events) {
    if (event.has_timer_fired() && event.timer_fired().kind() == v1::TIMER_WAIT) ++wait_fired;
  }
  EXPECT_EQ(wait_fired, 1);
  EXPECT_EQ(events.back().step_id(), "terminated");
}

TEST_F(TimeEndToEndTest, DealerClaimsAreSampledForQualityCheckReproducibly) {
  int sampled = 0, skipped = 0;
  for (int i = 0; i < 40 && (sampled == 0 || skipped == 0); ++i) {
    const std::string id = StartClaim(absl::StrCat("qc-", i));
    Approve("tina.luo", id);
    auto events = VerifiedHistory(id);
    const v1::Event* drawn = nullptr;
    for (const auto& event : events) {
      if (event.has_sample_drawn()) drawn = &event;
    }
    ASSERT_NE(drawn, nullptr);
    // Anyone holding the id and the recorded seed gets the same draw.
    EXPECT_EQ(drawn->sample_drawn().draw(),
              workflow::SampleDraw(drawn->sample_drawn().seed(), id));
    if (drawn->sample_drawn().selected()) {
      ++sampled;
      EXPECT_THAT(Get(id).active_steps(), ElementsAre("quality-check"));
      CompleteWithComment("uma.deng", id, "documents and amounts match",
                          "{qc_result: pass, checked_items: 4}");
    } else {
      ++skipped;
    }
    EXPECT_EQ(Get(id).status(), v1::APPROVED);
  }
  EXPECT_GT(sampled, 0);
  EXPECT_GT(skipped, 0);
}

TEST_F(TimeEndToEndTest, DealerClaimThirdPartyCheckThenRejectionAndAppeal) {
  const std::string checked = StartClaim("third-party", ", third_party_check: true");
  Approve("tony.hu", checked);
  EXPECT_THAT(Get(checked).active_steps(), ElementsAre("third-party-check"));
  Complete("svc-doc-check", checked, "{verdict: genuine, reference: DC-7731}");
  if (Get(checked).status() == v1::RUNNING) {
    CompleteWithComment("vera.cheng", checked, "sampled and fine", "{qc_result: pass}");
  }
  EXPECT_EQ(Get(checked).status(), v1::APPROVED);
  VerifiedHistory(checked);

  const std::string rejected = StartClaim("appealed");
  v1::DecideTaskRequest reject;
  reject.set_task_id(TaskFor("tina.luo", rejected));
  reject.set_action(v1::REJECT);
  reject.set_reason_code("amount_not_supported");
  reject.set_comment("invoice total differs");
  ASSERT_OK(client_->Decide("tina.luo", reject, "reject-appealed"));
  v1::InstanceView view = Get(rejected);
  EXPECT_EQ(view.status(), v1::REJECTED);
  ASSERT_TRUE(view.has_appeal_until());
  CrashAndRestart();
  v1::AppealInstanceRequest appeal;
  appeal.set_request_id("appeal-1");
  appeal.set_id(rejected);
  appeal.set_comment("the second invoice covers the difference");
  ASSERT_OK(client_->Call("bob.zhang", *client_->instances,
                          &v1::InstanceService::Stub::AppealInstance, appeal));
  EXPECT_THAT(Get(rejected).active_steps(),
              ::testing::UnorderedElementsAre("finance-verification", "legal-verification"));
  Approve("victor.fang", rejected);
  Approve("diana.lu", rejected);
  Approve("henry.zhao", rejected);
  EXPECT_EQ(Get(rejected).status(), v1::APPROVED);
  VerifiedHistory(rejected);
}

TEST_F(TimeEndToEndTest, InvoiceReissueIsRemindedUntilDone) {
  const std::string id = StartClaim("reissue", ", invoice_reissue: true");
  Approve("tina.luo", id);
  if (Get(id).active_steps(0) == "quality-check") {
    CompleteWithComment("uma.deng", id, "sampled and fine", "{qc_result: pass}");
  }
  ASSERT_THAT(Get(id).active_steps(), ElementsAre("invoice-reissue"));
  // Over a week later; a reminder every working day, without an end.
  CrashAndRestartLater("9d");
  ASSERT_TRUE(Eventually([&] { return Get(id).pending_tasks(0).reminders() > 0; }));
  const int reminded = Get(id).pending_tasks(0).reminders();
  CompleteWithComment("bob.zhang", id, "new invoice INV-88120 issued");
  EXPECT_EQ(Get(id).status(), v1::APPROVED);
  auto events = VerifiedHistory(id);
  int reminders = 0;
  for (const auto& event : events) {
    if (event.has_task_reminded() && event.actor() == workflow::kSystemActor) ++reminders;
  }
  EXPECT_EQ(reminders, reminded);
}

TEST_F(TimeEndToEndTest, AnOverdueClaimReviewEscalatesAfterARestart) {
  const std::string id = StartClaim("late");
  ASSERT_TRUE(Get(id).pending_tasks(0).has_due_at());
  CrashAndRestartLater("9d");
  ASSERT_TRUE(Eventually([&] { return Get(id).sla_breached(); }));
  v1::ListInstancesRequest breached;
  breached.set_sla_breached(true);
  ASSERT_OK_AND_ASSIGN(auto listed, client_->Call(kObserver, *client_->instances,
                                                  &v1::InstanceService::Stub::ListInstances,
                                                  breached));
  ASSERT_EQ(listed.instances_size(), 1);
  v1::ListTasksRequest overdue;
  overdue.set_overdue(true);
  ASSERT_OK_AND_ASSIGN(auto tasks, client_->Call("henry.zhao", *client_->tasks,
                                                 &v1::TaskService::Stub::ListTasks, overdue));
  ASSERT_EQ(tasks.tasks_size(), 1);
  EXPECT_EQ(tasks.tasks(0).assignee(), "henry.zhao");
  EXPECT_TRUE(tasks.tasks(0).overdue());
  Approve("henry.zhao", id);
  VerifiedHistory(id);
}

}  // namespace
}  // namespace signoff::testing
