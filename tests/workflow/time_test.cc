// The engine's handling of time: SLA clocks, reminders, escalation
// ladders, timeout actions, pausing and extending, WAIT steps and signals,
// sampled routes and appeal windows. Every Harness checks on destruction
// that folding the events rebuilds the state.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "harness.h"
#include "workflow/conditions.h"
#include "workflow/errors.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// 2026-01-01 is a Thursday; the harness starts there at 00:00 UTC.
absl::Time At(int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilMinute(2026, 1, day, hour, minute), absl::UTCTimeZone());
}

std::string SlaDefinition(const std::string& sla,
                          const std::string& actions = "[APPROVE, REJECT, COMMENT]",
                          const std::string& more_steps = "") {
  return R"(
key: t
calendar: work
form:
  fields:
    - {name: amount, type: MONEY}
reject_reasons: [{code: late}, {code: other}]
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    sla: )" + sla + R"(
    actions: {allowed: )" + actions + R"(}
    next: [{to: done}]
)" + more_steps + R"(
  - id: done
    end: {}
)";
}

const v1::Task& OnlyTask(const Harness& h) {
  static const v1::Task kNone;
  for (const auto& task : h.state().tasks()) {
    if (task.status() == v1::PENDING || task.status() == v1::WAITING) return task;
  }
  ADD_FAILURE() << "no open task";
  return kNone;
}

v1::ClockRequest ClockOf(const Harness& h) {
  v1::ClockRequest request;
  request.set_task_id(OnlyTask(h).id());
  request.set_comment("waiting for the dealer's invoice");
  return request;
}

absl::Status Pause(Harness& h, const std::string& actor) {
  v1::Command command;
  *command.mutable_pause_clock() = ClockOf(h);
  return h.Run(actor, command);
}

absl::Status Resume(Harness& h, const std::string& actor) {
  v1::Command command;
  *command.mutable_resume_clock() = ClockOf(h);
  return h.Run(actor, command);
}

absl::Status ExtendBy(Harness& h, const std::string& actor, int hours) {
  v1::Command command;
  auto* extend = command.mutable_extend_deadline();
  extend->set_task_id(OnlyTask(h).id());
  extend->mutable_by()->set_hours(hours);
  return h.Run(actor, command);
}

absl::Status Signal(Harness& h, const std::string& actor, const std::string& name) {
  v1::Command command;
  command.mutable_signal()->set_name(name);
  (*command.mutable_signal()->mutable_payload()->mutable_fields())["on_time_rate"]
      .set_number_value(0.97);
  return h.Run(actor, command);
}

// ------------------------------------------------------------ deadlines

TEST(SlaTest, DueTimeCountsWorkingDaysAndShowsOnTheTask) {
  Harness h(SlaDefinition("{due: {days: 2, business: true}}"));
  ASSERT_OK(h.Start("ann", "{}"));
  // Thursday and Friday, 09:00-17:00 each.
  EXPECT_EQ(Harness::TimeOf(OnlyTask(h).due_at()), At(2, 17));
  ASSERT_EQ(h.state().clocks_size(), 1);
  EXPECT_EQ(h.state().clocks(0).calendar(), "work");
  ASSERT_EQ(h.state().timers_size(), 1);
  EXPECT_EQ(Harness::TimeOf(h.state().timers(0).fire_at()), At(2, 17));
}

TEST(SlaTest, DueTimeSkipsWeekendsAndHolidays) {
  Harness h(SlaDefinition("{due: {days: 3, business: true}}"));
  ASSERT_OK(h.Start("ann", "{}"));
  // Thu 1, Fri 2, then the weekend and Monday the 5th (a holiday): Tue 6.
  EXPECT_EQ(Harness::TimeOf(OnlyTask(h).due_at()), At(6, 17));
}

TEST(SlaTest, ElapsedTimeDueIgnoresTheCalendar) {
  Harness h(SlaDefinition("{due: {hours: 30}}"));
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_EQ(Harness::TimeOf(OnlyTask(h).due_at()), At(2, 6));
}

TEST(SlaTest, MissedDeadlineWithoutActionIsRecordedAndTheTaskStays) {
  Harness h(SlaDefinition("{due: {hours: 4}}"));
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Advance(absl::Hours(3)));
  EXPECT_FALSE(h.state().sla_breached());
  ASSERT_OK(h.Advance(absl::Hours(2)));
  EXPECT_TRUE(h.state().sla_breached());
  ASSERT_EQ(h.EventsOfType("sla_breached").size(), 1u);
  const v1::Event& breach = *h.EventsOfType("sla_breached").front();
  EXPECT_EQ(breach.actor(), workflow::kSystemActor);
  EXPECT_THAT(breach.reason(), HasSubstr("deadline of step review"));
  EXPECT_TRUE(OnlyTask(h).sla_breached());
  EXPECT_EQ(OnlyTask(h).assignee(), "fred");
  EXPECT_THAT(h.state().timers(), IsEmpty());
  ASSERT_OK(h.Approve("fred"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(SlaTest, TimeoutAutoApproveFinishesTheStepAsTheSystem) {
  Harness h(SlaDefinition("{due: {hours: 4}, on_timeout: {action: TIMEOUT_AUTO_APPROVE}}"));
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Advance(absl::Hours(4)));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
  ASSERT_EQ(h.EventsOfType("step_completed").size(), 2u);
  const v1::Event& completed = *h.EventsOfType("step_completed").front();
  EXPECT_EQ(completed.actor(), workflow::kSystemActor);
  EXPECT_THAT(completed.reason(), HasSubstr("TIMEOUT_AUTO_APPROVE"));
  EXPECT_EQ(h.EventsOfType("task_cancelled").size(), 1u);
}

TEST(SlaTest, TimeoutAutoRejectRecordsTheReasonCode) {
  Harness h(SlaDefinition(
      "{due: {hours: 4}, on_timeout: {action: TIMEOUT_AUTO_REJECT, reason_code: late}}"));
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Advance(absl::Hours(5)));
  EXPECT_EQ(h.state().status(), v1::REJECTED);
  EXPECT_THAT(h.state().outcome_reason(), HasSubstr("(late)"));
}

TEST(SlaTest, TimeoutEscalateReassignsToTheAssigneesManager) {
  Harness h(SlaDefinition(
      "{due: {hours: 4}, on_timeout: {action: TIMEOUT_ESCALATE, escalate_to: {manager_level: 1}}}"));
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Advance(absl::Hours(4)));
  EXPECT_EQ(h.state().status(), v1::RUNNING);
  EXPECT_EQ(OnlyTask(h).assignee(), "fiona");
  EXPECT_TRUE(OnlyTask(h).sla_breached());
  ASSERT_EQ(h.EventsOfType("task_escalated").size(), 1u);
  EXPECT_EQ(h.EventsOfType("task_escalated").front()->task_escalated().rung(), -1);
  ASSERT_OK(h.Approve("fiona"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(SlaTest, TimeoutGoToLeavesTheStepForAnother) {
  Harness h(SlaDefinition("{due: {hours: 4}, on_timeout: {action: TIMEOUT_GO_TO, to_step: backup}}",
                          "[APPROVE, REJECT, COMMENT]", R"(
  - id: backup
    approval: {approvers: [{user: hal}]}
    next: [{to: done}]
)"));
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Advance(absl::Hours(4)));
  EXPECT_THAT(h.ActiveSteps(), ElementsAre("backup"));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("hal"));
  EXPECT_EQ(h.EventsOfType("step_cancelled").size(), 1u);
}

// ------------------------------------------------------------ reminders and escalation

TEST(SlaTest, RemindersComeEveryIntervalUpToTheMaximum) {
  Harness h(SlaDefinition("{reminders: {every: {hours: 1}, max: 3}}"));
  ASSERT_OK(h.Start("ann", "{}"));
  for (int hour = 1; hour <= 5; ++hour) ASSERT_OK(h.Advance(absl::Hours(1)));
  const auto reminders = h.EventsOfType("task_reminded");
  ASSERT_EQ(reminders.size(), 3u);
  EXPECT_EQ(reminders.back()->actor(), workflow::kSystemActor);
  EXPECT_EQ(reminders.back()->reason(), "reminder interval 3 of 3 reached");
  EXPECT_EQ(OnlyTask(h).reminders(), 3);
  EXPECT_THAT(h.state().timers(), IsEmpty());
}

TEST(SlaTest, RemindersAfterDowntimeComeOnceNotInABurst) {
  Harness h(SlaDefinition("{reminders: {every: {hours: 1}}}"));
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Advance(absl::Hours(10)));
  EXPECT_EQ(h.EventsOfType("task_reminded").size(), 1u);
  EXPECT_EQ(h.state().clocks(0).reminders_sent(), 10);
  // Unlimited: the next one is an hour on.
  ASSERT_EQ(h.state().timers_size(), 1);
  EXPECT_EQ(Harness::TimeOf(h.state().timers(0).fire_at()), At(1, 11));
}

TEST(SlaTest, EscalationLadderNotifiesThenReassignsToACandidateGroup) {
  Harness h(SlaDefinition(R"({escalations: [
      {after: {hours: 2}, kind: ESCALATE_NOTIFY, to: {manager_level: 1}},
      {after: {hours: 4}, kind: ESCALATE_REASSIGN,
       to: {role: {name: hrbp, department: hr, candidate_group: true}}}]})"));
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Advance(absl::Hours(2)));
  auto escalations = h.EventsOfType("task_escalated");
  ASSERT_EQ(escalations.size(), 1u);
  EXPECT_EQ(escalations[0]->task_escalated().kind(), v1::ESCALATE_NOTIFY);
  EXPECT_THAT(escalations[0]->task_escalated().users(), ElementsAre("fiona"));
  EXPECT_EQ(OnlyTask(h).assignee(), "fred");
  ASSERT_OK(h.Advance(absl::Hours(2)));
  escalations = h.EventsOfType("task_escalated");
  ASSERT_EQ(escalations.size(), 2u);
  EXPECT_EQ(escalations[1]->task_escalated().rung(), 1);
  EXPECT_TRUE(OnlyTask(h).assignee().empty());
  EXPECT_EQ(OnlyTask(h).candidate_group().role(), "hrbp");
  EXPECT_EQ(h.state().clocks(0).escalations_done(), 2);
  EXPECT_THAT(h.state().timers(), IsEmpty());
  ASSERT_OK(h.Decide("hue", OnlyTask(h).id(), v1::APPROVE));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(SlaTest, EscalatingSeveralTasksToOnePersonLeavesThemOne) {
  Harness h(R"(
key: two
steps:
  - id: review
    approval: {approvers: [{user: fred}, {user: hal}], policy: ANY}
    sla: {due: {hours: 1}, on_timeout: {action: TIMEOUT_ESCALATE, escalate_to: {user: ceo}}}
    next: [{to: done}]
  - {id: done, end: {}}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Advance(absl::Hours(1)));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("ceo"));
  ASSERT_OK(h.Approve("ceo"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(SlaTest, EscalationNeverHandsTheApplicantTheirOwnApproval) {
  Harness h(SlaDefinition(
      "{due: {hours: 1}, on_timeout: {action: TIMEOUT_ESCALATE, escalate_to: {user: ann}}}"));
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Advance(absl::Hours(1)));
  EXPECT_EQ(OnlyTask(h).assignee(), "fred");
  EXPECT_THAT(h.EventsOfType("task_escalated").front()->reason(), HasSubstr("applicant"));
}

// ------------------------------------------------------------ clock operations

TEST(ClockTest, PauseStopsTheClockAndResumeMovesTheDeadline) {
  Harness h(SlaDefinition("{due: {hours: 4}}", "[APPROVE, COMMENT, PAUSE_CLOCK]"));
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Advance(absl::Hours(1)));
  ASSERT_OK(Pause(h, "fred"));
  EXPECT_TRUE(OnlyTask(h).clock_paused());
  EXPECT_FALSE(OnlyTask(h).has_due_at());
  EXPECT_THAT(h.state().timers(), IsEmpty());
  ASSERT_OK(h.Advance(absl::Hours(10)));
  EXPECT_FALSE(h.state().sla_breached());
  ASSERT_OK(Resume(h, "fred"));
  // Three of the four hours were left.
  EXPECT_EQ(Harness::TimeOf(OnlyTask(h).due_at()), At(1, 14));
  EXPECT_FALSE(OnlyTask(h).clock_paused());
  ASSERT_EQ(h.state().timers_size(), 1);
  EXPECT_EQ(Harness::TimeOf(h.state().timers(0).fire_at()), At(1, 14));
  EXPECT_EQ(h.EventsOfType("clock_paused").front()->comment(), "waiting for the dealer's invoice");
  EXPECT_THAT(h.EventsOfType("clock_resumed").front()->reason(), HasSubstr("resumed after 10h"));
}

TEST(ClockTest, ExtendingReschedulesThePendingTimer) {
  Harness h(SlaDefinition("{due: {hours: 4}}", "[APPROVE, COMMENT, EXTEND_DEADLINE]"));
  ASSERT_OK(h.Start("ann", "{}"));
  const std::string old_timer = h.state().timers(0).id();
  ASSERT_OK(ExtendBy(h, "fred", 2));
  EXPECT_EQ(Harness::TimeOf(OnlyTask(h).due_at()), At(1, 6));
  ASSERT_EQ(h.state().timers_size(), 1);
  EXPECT_NE(h.state().timers(0).id(), old_timer);
  EXPECT_EQ(Harness::TimeOf(h.state().timers(0).fire_at()), At(1, 6));
  ASSERT_OK(h.Advance(absl::Hours(5)));
  EXPECT_FALSE(h.state().sla_breached());
  EXPECT_CODE(h.Fire(old_timer), absl::StatusCode::kFailedPrecondition);
  ASSERT_OK(h.Advance(absl::Hours(1)));
  EXPECT_TRUE(h.state().sla_breached());
}

TEST(ClockTest, ExtendingAMissedDeadlineSetsANewOne) {
  Harness h(SlaDefinition("{due: {hours: 1}}", "[APPROVE, COMMENT, EXTEND_DEADLINE]"));
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Advance(absl::Hours(2)));
  ASSERT_TRUE(h.state().clocks(0).breached());
  ASSERT_OK(ExtendBy(h, "ceo", 3));
  EXPECT_FALSE(h.state().clocks(0).breached());
  EXPECT_EQ(Harness::TimeOf(OnlyTask(h).due_at()), At(1, 4));
  ASSERT_OK(h.Advance(absl::Hours(2)));
  EXPECT_EQ(h.EventsOfType("sla_breached").size(), 2u);
}

TEST(ClockTest, ExtendingToAnEarlierTimeIsInvalid) {
  Harness h(SlaDefinition("{due: {hours: 4}}", "[APPROVE, COMMENT, EXTEND_DEADLINE]"));
  ASSERT_OK(h.Start("ann", "{}"));
  v1::Command command;
  command.mutable_extend_deadline()->set_task_id(OnlyTask(h).id());
  command.mutable_extend_deadline()->mutable_new_due_at()->set_seconds(
      absl::ToUnixSeconds(At(1, 3)));
  absl::Status earlier = h.Run("fred", command);
  EXPECT_CODE(earlier, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(workflow::ViolationsOf(earlier).front().field, "new_due_at");
  EXPECT_CODE(ExtendBy(h, "fred", 0), absl::StatusCode::kInvalidArgument);
  command.mutable_extend_deadline()->mutable_new_due_at()->set_seconds(
      absl::ToUnixSeconds(At(1, 7)));
  ASSERT_OK(h.Run("fred", command));
  EXPECT_EQ(Harness::TimeOf(OnlyTask(h).due_at()), At(1, 7));
}

TEST(ClockTest, ExtendingToATimeLandsOnThatTimeExactly) {
  Harness h(SlaDefinition("{due: {days: 1, business: true}}", "[APPROVE, EXTEND_DEADLINE]"));
  h.now = At(1, 10) + absl::Milliseconds(716);
  ASSERT_OK(h.Start("ann", "{}"));
  h.now += absl::Minutes(5) + absl::Milliseconds(300);
  v1::Command command;
  command.mutable_extend_deadline()->set_task_id(OnlyTask(h).id());
  command.mutable_extend_deadline()->mutable_new_due_at()->set_seconds(
      absl::ToUnixSeconds(At(6, 15)));
  ASSERT_OK(h.Run("fred", command));
  EXPECT_EQ(Harness::TimeOf(OnlyTask(h).due_at()), At(6, 15));
}

TEST(ClockTest, ExtensionsBeyondAThousandDaysAreRefused) {
  Harness h(SlaDefinition("{due: {hours: 4}}", "[APPROVE, EXTEND_DEADLINE]"));
  ASSERT_OK(h.Start("ann", "{}"));
  absl::Status by = ExtendBy(h, "fred", 24 * 1001);
  EXPECT_CODE(by, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(workflow::ViolationsOf(by).front().field, "by");
  v1::Command command;
  command.mutable_extend_deadline()->set_task_id(OnlyTask(h).id());
  // Far past what nanoseconds since 1970 can hold in 64 bits.
  command.mutable_extend_deadline()->mutable_new_due_at()->set_seconds(
      absl::ToUnixSeconds(absl::FromCivil(absl::CivilDay(2700, 1, 1), absl::UTCTimeZone())));
  absl::Status until = h.Run("fred", command);
  EXPECT_CODE(until, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(workflow::ViolationsOf(until).front().field, "new_due_at");
  EXPECT_EQ(Harness::TimeOf(OnlyTask(h).due_at()), At(1, 4));
}

TEST(ClockTest, PausingAfterAMissedDeadlineRecordsTheBreachFirst) {
  Harness h(SlaDefinition("{due: {hours: 4}}", "[APPROVE, PAUSE_CLOCK]"));
  ASSERT_OK(h.Start("ann", "{}"));
  // The deadline passed, but the scheduler has not fired the timer yet.
  h.now += absl::Hours(5);
  ASSERT_OK(Pause(h, "fred"));
  EXPECT_EQ(h.EventsOfType("sla_breached").size(), 1u);
  EXPECT_TRUE(h.state().sla_breached());
  EXPECT_TRUE(OnlyTask(h).clock_paused());
  EXPECT_THAT(h.state().timers(), IsEmpty());
}

TEST(ClockTest, PausingWhenTheTimeoutActionWouldEndTheStepIsRefused) {
  Harness h(SlaDefinition("{due: {hours: 4}, on_timeout: {action: TIMEOUT_AUTO_APPROVE}}",
                          "[APPROVE, PAUSE_CLOCK]"));
  ASSERT_OK(h.Start("ann", "{}"));
  h.now += absl::Hours(5);
  EXPECT_CODE(Pause(h, "fred"), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(h.state().status(), v1::RUNNING);
  ASSERT_OK(h.FireDue());
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(ClockTest, ClockOperationsNeedTheActionTheHolderAndAClock) {
  Harness h(SlaDefinition("{due: {hours: 4}}", "[APPROVE, COMMENT, PAUSE_CLOCK]"));
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_CODE(Pause(h, "hal"), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(ExtendBy(h, "fred", 1), absl::StatusCode::kFailedPrecondition);
  EXPECT_CODE(Resume(h, "fred"), absl::StatusCode::kFailedPrecondition);
  ASSERT_OK(Pause(h, "ceo"));
  EXPECT_CODE(Pause(h, "fred"), absl::StatusCode::kFailedPrecondition);
}

TEST(ClockTest, ADecisionCancelsTheTimerSoALateFiringChangesNothing) {
  Harness h(SlaDefinition("{due: {hours: 4}, on_timeout: {action: TIMEOUT_AUTO_REJECT, reason_code: late}}"));
  ASSERT_OK(h.Start("ann", "{}"));
  const std::string timer = h.state().timers(0).id();
  ASSERT_OK(h.Approve("fred"));
  EXPECT_EQ(h.EventsOfType("timer_cancelled").size(), 1u);
  h.now += absl::Hours(5);
  EXPECT_CODE(h.Fire(timer), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(ClockTest, ATimerIsNotFiredEarly) {
  Harness h(SlaDefinition("{due: {hours: 4}}"));
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_CODE(h.Fire(h.state().timers(0).id()), absl::StatusCode::kFailedPrecondition);
}

// ------------------------------------------------------------ waits and signals

// With a timeout step, a wait that runs out leads to an interview and a
// rejection.
std::string WaitDefinition(const std::string& wait, bool with_interview = false) {
  const std::string interview = R"(
  - id: interview
    task: {assignees: [{user: hal}]}
    next: [{to: terminated}]
  - id: terminated
    end: {rejected: true}
)";
  const bool dated = wait.find("until_date_field") != std::string::npos;
  return R"(
key: w
calendar: work
service_accounts: [svc]
form:
  fields:
    - {name: deadline, type: DATE, required: )" + std::string(dated ? "true" : "false") + R"(}
steps:
  - id: hold
    wait: )" + wait + R"(
    next: [{to: recovered}]
  - id: recovered
    end: {}
)" + (with_interview ? interview : "");
}

TEST(WaitTest, ADurationWaitContinuesWhenItRunsOut) {
  Harness h(WaitDefinition("{duration: {days: 1, business: true}}"));
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_EQ(h.state().timers_size(), 1);
  EXPECT_EQ(h.state().timers(0).kind(), v1::TIMER_WAIT);
  EXPECT_EQ(Harness::TimeOf(h.state().timers(0).fire_at()), At(1, 17));
  ASSERT_OK(h.Advance(absl::Hours(16)));
  EXPECT_EQ(h.state().status(), v1::RUNNING);
  ASSERT_OK(h.Advance(absl::Hours(1)));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
}

TEST(WaitTest, ADateWaitRunsToTheEndOfThatDayThenTakesItsTimeoutStep) {
  Harness h(WaitDefinition(
      "{signal: kpi_recovered, until_date_field: deadline, on_timeout: interview}", true));
  ASSERT_OK(h.Start("ann", "{deadline: '2026-01-03'}"));
  EXPECT_EQ(Harness::TimeOf(h.state().timers(0).fire_at()), At(4, 0));
  ASSERT_OK(h.Advance(absl::Hours(72)));
  EXPECT_THAT(h.ActiveSteps(), ElementsAre("interview"));
  EXPECT_CODE(Signal(h, "svc", "kpi_recovered"), absl::StatusCode::kFailedPrecondition);
  ASSERT_OK(h.Approve("hal"));
  EXPECT_EQ(h.state().status(), v1::REJECTED);
}

TEST(WaitTest, ASignalEndsTheWaitAndCancelsItsTimer) {
  Harness h(WaitDefinition(
      "{signal: kpi_recovered, until_date_field: deadline, on_timeout: interview}", true));
  ASSERT_OK(h.Start("ann", "{deadline: '2026-01-31'}"));
  ASSERT_OK(Signal(h, "svc", "kpi_recovered"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
  EXPECT_THAT(h.state().timers(), IsEmpty());
  const v1::Event& received = *h.EventsOfType("signal_received").front();
  EXPECT_EQ(received.actor(), "svc");
  EXPECT_EQ(received.signal_received().payload().fields().at("on_time_rate").number_value(),
            0.97);
}

TEST(WaitTest, SignalsAreCheckedForNameSenderAndState) {
  Harness h(WaitDefinition("{signal: kpi_recovered}"));
  ASSERT_OK(h.Start("ann", "{}"));
  absl::Status unknown = Signal(h, "svc", "kpi_worse");
  EXPECT_CODE(unknown, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(workflow::ViolationsOf(unknown).front().field, "name");
  EXPECT_CODE(Signal(h, "ann", "kpi_recovered"), absl::StatusCode::kPermissionDenied);
  ASSERT_OK(Signal(h, "ceo", "kpi_recovered"));
  EXPECT_CODE(Signal(h, "svc", "kpi_recovered"), absl::StatusCode::kFailedPrecondition);
}

TEST(WaitTest, PreviewRunsAWaitOutAndShowsWhoComesAfter) {
  Harness h(WaitDefinition(
      "{signal: kpi_recovered, until_date_field: deadline, on_timeout: interview}", true));
  workflow::Context context;
  context.now = h.now;
  context.directory = &h.directory();
  context.calendars = &h.calendars();
  auto form = workflow::ParseFormYaml("{deadline: '2026-01-31'}");
  ASSERT_OK(form);
  ASSERT_OK_AND_ASSIGN(auto preview, workflow::PreviewRoute(h.definition(), *form, "ann", context));
  std::vector<std::string> steps;
  for (const auto& step : preview.steps()) steps.push_back(step.step_id());
  EXPECT_THAT(steps, ElementsAre("hold", "interview", "terminated"));
  EXPECT_EQ(preview.steps(1).approvers(0).user(), "hal");
  EXPECT_EQ(preview.final_status(), v1::REJECTED);
}

TEST(WaitTest, ABufferedSignalWaitsForItsStep) {
  Harness h(R"(
key: b
buffered_signals: [documents_received]
service_accounts: [svc]
steps:
  - id: prepare
    task: {assignees: [{user: hal}]}
    next: [{to: hold}]
  - id: hold
    wait: {signal: documents_received}
    next: [{to: done}]
  - id: done
    end: {}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(Signal(h, "svc", "documents_received"));
  EXPECT_EQ(h.state().buffered_signals_size(), 1);
  EXPECT_TRUE(h.EventsOfType("signal_received").front()->signal_received().buffered());
  ASSERT_OK(h.Approve("hal"));
  EXPECT_EQ(h.state().status(), v1::APPROVED);
  EXPECT_THAT(h.state().buffered_signals(), IsEmpty());
  EXPECT_TRUE(h.EventsOfType("signal_received").back()->signal_received().from_buffer());
}

// ------------------------------------------------------------ samples and appeals

TEST(SampleTest, TheDrawIsAFixedFunctionOfSeedAndInstance) {
  EXPECT_EQ(workflow::SampleDraw("qc", "i1"), workflow::SampleDraw("qc", "i1"));
  EXPECT_NE(workflow::SampleDraw("qc", "i1"), workflow::SampleDraw("qc", "i2"));
  EXPECT_NE(workflow::SampleDraw("qc", "i1"), workflow::SampleDraw("qc2", "i1"));
  int below = 0;
  for (int i = 0; i < 10000; ++i) {
    const double draw = workflow::SampleDraw("qc", absl::StrCat("i", i));
    ASSERT_GE(draw, 0.0);
    ASSERT_LT(draw, 1.0);
    below += draw < 0.2;
  }
  // A fair 20% sample of 10000 lands within 1800..2200 (five sigma is 200).
  EXPECT_GT(below, 1800);
  EXPECT_LT(below, 2200);
}

TEST(SampleTest, ASampledRouteFollowsTheRecordedDraw) {
  const std::string definition = R"(
key: s
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    next:
      - {when: {sample: {rate: 0.5, seed: qc}}, to: qc}
      - {to: done}
  - id: qc
    task: {assignees: [{user: hal}]}
    next: [{to: done}]
  - id: done
    end: {}
)";
  Harness h(definition);
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Approve("fred"));
  ASSERT_EQ(h.EventsOfType("sample_drawn").size(), 1u);
  const auto& drawn = h.EventsOfType("sample_drawn").front()->sample_drawn();
  EXPECT_EQ(drawn.draw(), workflow::SampleDraw("qc", "i1"));
  EXPECT_EQ(drawn.selected(), drawn.draw() < 0.5);
  EXPECT_EQ(h.state().status() == v1::RUNNING, drawn.selected());
}

TEST(AppealTest, TheWindowCountsWorkingDaysFromTheRejection) {
  Harness h(R"(
key: a
calendar: work
reject_reasons: [{code: other}]
appeal: {allowed: true, window: {days: 2, business: true}}
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    next: [{to: done}]
  - id: done
    end: {}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  h.now = At(2, 10);  // Friday 10:00
  v1::DecideTaskRequest reject;
  reject.set_task_id(OnlyTask(h).id());
  reject.set_action(v1::REJECT);
  reject.set_reason_code("other");
  reject.set_comment("no");
  ASSERT_OK(h.Decide("fred", reject));
  // Sixteen working hours: Friday 7, Monday is a holiday, Tuesday 8,
  // Wednesday 1.
  EXPECT_EQ(Harness::TimeOf(h.state().appeal_until()), At(7, 10));
  h.now = At(7, 10, 1);
  v1::Command appeal;
  appeal.mutable_appeal()->set_comment("please reconsider");
  EXPECT_CODE(h.Run("ann", appeal), absl::StatusCode::kFailedPrecondition);
  h.now = At(7, 9);
  ASSERT_OK(h.Run("ann", appeal));
  EXPECT_EQ(h.state().status(), v1::RUNNING);
  EXPECT_FALSE(h.state().has_appeal_until());
}

// The deadline is offered only while an appeal is left: a rejection after
// the last appeal carries none, on the event or the state, and an appeal is
// then refused.
TEST(AppealTest, NoDeadlineIsOfferedOnceTheAppealsAreUsedUp) {
  for (const int max_appeals : {0, 1, 2}) {
    SCOPED_TRACE(absl::StrCat("max_appeals: ", max_appeals));
    Harness h(absl::StrCat(R"(
key: a
appeal: {allowed: true, window_days: 7, max_appeals: )", max_appeals, R"(}
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    next: [{to: done}]
  - id: done
    end: {}
)"));
    ASSERT_OK(h.Start("ann", "{}"));
    v1::Command appeal;
    appeal.mutable_appeal()->set_comment("please reconsider");
    const int allowed = std::max(1, max_appeals);
    EXPECT_EQ(workflow::AppealsLeft(h.definition(), h.state()), allowed);
    for (int filed = 0; filed <= allowed; ++filed) {
      SCOPED_TRACE(absl::StrCat("rejection after ", filed, " appeal(s)"));
      ASSERT_OK(h.Decide("fred", OnlyTask(h).id(), v1::REJECT, "no"));
      ASSERT_EQ(h.state().status(), v1::REJECTED);
      const v1::Event* finished = h.EventsOfType("instance_finished").back();
      if (filed < allowed) {
        EXPECT_EQ(workflow::AppealsLeft(h.definition(), h.state()), allowed - filed);
        EXPECT_EQ(Harness::TimeOf(h.state().appeal_until()), h.now + absl::Hours(24 * 7));
        EXPECT_TRUE(finished->instance_finished().has_appeal_until());
        ASSERT_OK(h.Run("ann", appeal));
        EXPECT_EQ(h.state().status(), v1::RUNNING);
      } else {
        EXPECT_EQ(workflow::AppealsLeft(h.definition(), h.state()), 0);
        EXPECT_FALSE(h.state().has_appeal_until());
        EXPECT_FALSE(finished->instance_finished().has_appeal_until());
        const absl::Status refused = h.Run("ann", appeal);
        EXPECT_CODE(refused, absl::StatusCode::kFailedPrecondition);
        EXPECT_THAT(std::string(refused.message()), HasSubstr("has used its"));
        EXPECT_EQ(h.state().status(), v1::REJECTED);
      }
    }
  }
}

TEST(AppealTest, ADefinitionWithoutAppealsOffersNoDeadline) {
  Harness h(R"(
key: a
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    next: [{to: done}]
  - id: done
    end: {}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Decide("fred", OnlyTask(h).id(), v1::REJECT, "no"));
  EXPECT_EQ(workflow::AppealsLeft(h.definition(), h.state()), 0);
  EXPECT_FALSE(h.state().has_appeal_until());
  v1::Command appeal;
  appeal.mutable_appeal()->set_comment("please reconsider");
  EXPECT_CODE(h.Run("ann", appeal), absl::StatusCode::kFailedPrecondition);
}

TEST(AppealTest, AnInstanceRejectedWithoutARecordedWindowCountsFromItsRejection) {
  Harness h(R"(
key: a
reject_reasons: [{code: other}]
appeal: {allowed: true, window_days: 2}
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    next: [{to: done}]
  - id: done
    end: {}
)");
  ASSERT_OK(h.Start("ann", "{}"));
  v1::DecideTaskRequest reject;
  reject.set_task_id(OnlyTask(h).id());
  reject.set_action(v1::REJECT);
  reject.set_reason_code("other");
  reject.set_comment("no");
  ASSERT_OK(h.Decide("fred", reject));
  // As stored before windows were recorded on the instance.
  v1::InstanceState legacy = h.state();
  legacy.clear_appeal_until();
  v1::Command appeal;
  appeal.mutable_appeal()->set_comment("please reconsider");
  workflow::Context context;
  context.actor = "ann";
  context.directory = &h.directory();
  context.now = h.now + absl::Hours(47);
  EXPECT_OK(workflow::Apply(h.definition(), legacy, appeal, context).status());
  context.now = h.now + absl::Hours(49);
  EXPECT_CODE(workflow::Apply(h.definition(), legacy, appeal, context),
              absl::StatusCode::kFailedPrecondition);
}

// ------------------------------------------------------------ validation

std::vector<std::string> ProblemPaths(const std::string& yaml, bool with_calendars = true) {
  auto definition = workflow::ParseDefinitionYaml(yaml);
  EXPECT_TRUE(definition.ok()) << definition.status();
  workflow::CalendarSet calendars;
  auto calendar = workflow::ParseCalendarYaml(kTestCalendar);
  auto built = workflow::BusinessCalendar::Create(*calendar, absl::UTCTimeZone());
  calendars.Add(std::make_shared<const workflow::BusinessCalendar>(std::move(*built)));
  std::vector<std::string> paths;
  for (const auto& problem :
       workflow::ValidateDefinition(*definition, nullptr, with_calendars ? &calendars : nullptr)) {
    paths.push_back(problem.path());
  }
  return paths;
}

TEST(TimeValidationTest, ReportsEveryTimeProblemWithItsPath) {
  auto paths = ProblemPaths(R"(
key: v
form: {fields: [{name: note, type: STRING}]}
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    sla:
      due: {hours: 4, calendar: elsewhere}
      reminders: {every: {hours: 1, business: true}}
      escalations: [{after: {hours: 3}, to: {}}, {after: {hours: 2}, to: {manager_level: 1}}]
    actions: {allowed: [APPROVE, PAUSE_CLOCK]}
    next: [{when: {sample: {rate: 1.5}}, to: hold}, {to: hold}]
  - id: hold
    wait: {until_date_field: note, on_timeout: missing}
    sla: {due: {hours: 1}}
    next: [{to: done}]
  - id: idle
    wait: {}
    next: [{to: done}]
  - id: quick
    task: {assignees: [{user: hal}]}
    sla: {reminders: {every: {hours: 1}}, on_timeout: {action: TIMEOUT_AUTO_APPROVE}}
    actions: {allowed: [COMPLETE, EXTEND_DEADLINE]}
    next: [{to: done}]
  - id: done
    end: {}
)");
  EXPECT_THAT(paths, ::testing::IsSupersetOf({
                         "steps[0].sla.due",
                         "steps[0].sla.reminders.every.business",
                         "steps[0].sla.escalations[0].to",
                         "steps[0].sla",
                         "steps[0].next[0].when.sample.rate",
                         "steps[0].next[0].when.sample.seed",
                         "steps[1].wait.until_date_field",
                         "steps[1].wait.on_timeout",
                         "steps[1].sla",
                         "steps[2].wait",
                         "steps[3].sla.on_timeout",
                         "steps[3].actions.allowed[1]",
                     }));
}

TEST(TimeValidationTest, RefusesSpansTooLongRemindersTooOftenAndUnsafeDateWaits) {
  auto paths = ProblemPaths(R"(
key: v
calendar: nowhere
form: {fields: [{name: deadline, type: DATE}]}
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    sla: {due: {days: 1001}, reminders: {every: {seconds: 30}}}
    next: [{to: hold}]
  - id: hold
    wait: {until_date_field: deadline, on_timeout: done}
  - id: done
    end: {}
)");
  EXPECT_THAT(paths, ::testing::IsSupersetOf({"calendar", "steps[0].sla.due",
                                              "steps[0].sla.reminders.every",
                                              "steps[1].wait.until_date_field"}));
}

TEST(TimeValidationTest, RungsAreOrderedOnTheirOwnCalendar) {
  auto ladder = [](const std::string& first, const std::string& second) {
    return R"(
key: v
calendar: work
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    sla:
      escalations:
        - {after: )" + first + R"(, to: {manager_level: 1}}
        - {after: )" + second + R"(, to: {manager_level: 2}}
    next: [{to: done}]
  - {id: done, end: {}}
)";
  };
  // A working day on this calendar is eight hours.
  EXPECT_THAT(ProblemPaths(ladder("{days: 1, business: true}", "{hours: 10, business: true}")),
              IsEmpty());
  EXPECT_THAT(ProblemPaths(ladder("{hours: 10, business: true}", "{days: 1, business: true}")),
              ElementsAre("steps[0].sla.escalations[1].after"));
}

TEST(TimeValidationTest, EscalationTargetsMustBeSomeone) {
  auto definition = workflow::ParseDefinitionYaml(R"(
key: v
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    sla:
      due: {hours: 4}
      escalations: [{after: {hours: 1}, to: {user: gone}}]
      on_timeout: {action: TIMEOUT_ESCALATE, escalate_to: {role: {name: ombudsman}}}
    next: [{to: done}]
  - {id: done, end: {}}
)");
  ASSERT_OK(definition);
  auto organisation = workflow::ParseOrganisationYaml(kTestOrganisation);
  ASSERT_OK(organisation);
  workflow::Directory directory(*organisation);
  std::vector<std::string> paths;
  for (const auto& problem : workflow::ValidateDefinition(*definition, &directory)) {
    paths.push_back(problem.path());
  }
  EXPECT_THAT(paths, ::testing::UnorderedElementsAre("steps[0].sla.escalations[0].to.user",
                                                     "steps[0].sla.on_timeout.escalate_to.role"));
}

TEST(TimeValidationTest, ATimeoutOnlyWaitNeedsNoRoute) {
  EXPECT_THAT(ProblemPaths(R"(
key: v
steps:
  - id: hold
    wait: {duration: {days: 3}, on_timeout: done}
  - {id: done, end: {}}
)"),
              IsEmpty());
}

TEST(TimeValidationTest, AGoToCannotLeaveItsBranch) {
  auto paths = ProblemPaths(R"(
key: v
calendar: work
steps:
  - id: split
    parallel:
      branches:
        - {id: a, start: left}
        - {id: b, start: right}
    next: [{to: done}]
  - id: left
    approval: {approvers: [{user: fred}]}
    sla: {due: {days: 1, business: true}, on_timeout: {action: TIMEOUT_GO_TO, to_step: done}}
  - id: right
    approval: {approvers: [{user: hal}]}
  - id: done
    end: {}
)");
  // The go-to pulls the top-level end into the branch, which is refused.
  EXPECT_THAT(paths, ElementsAre("steps[3]"));
}

TEST(TimeValidationTest, UnknownCalendarsAreCaughtOnlyWhenCalendarsAreKnown) {
  const std::string definition = R"(
key: v
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    sla: {due: {days: 1, calendar: elsewhere}}
    next: [{to: done}]
  - id: done
    end: {}
)";
  EXPECT_THAT(ProblemPaths(definition), ElementsAre("steps[0].sla.due"));
  EXPECT_THAT(ProblemPaths(definition, /*with_calendars=*/false), IsEmpty());
}

}  // namespace
}  // namespace signoff::testing
