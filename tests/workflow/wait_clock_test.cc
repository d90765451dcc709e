// Pausing, resuming and extending a WAIT step's deadline.

#include "gmock/gmock.h"
#include "harness.h"
#include "workflow/errors.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kRectification[] = R"(
key: rectify
service_accounts: [svc]
steps:
  - id: rectify
    wait: {signal: kpi_recovered, duration: {days: 10}, on_timeout: interview}
    actions: {allowed: [PAUSE_CLOCK, EXTEND_DEADLINE]}
    next: [{to: done}]
  - id: interview
    task: {assignees: [{user: hal}]}
    next: [{to: done}]
  - {id: done, end: {}}
)";

v1::Command Pause(const std::string& step = "rectify") {
  v1::Command command;
  command.mutable_pause_clock()->mutable_wait()->set_instance_id("i1");
  command.mutable_pause_clock()->mutable_wait()->set_step_id(step);
  command.mutable_pause_clock()->set_comment("waiting for the audit report");
  return command;
}

v1::Command Resume() {
  v1::Command command;
  command.mutable_resume_clock()->mutable_wait()->set_instance_id("i1");
  command.mutable_resume_clock()->mutable_wait()->set_step_id("rectify");
  return command;
}

v1::Command ExtendBy(uint32_t days) {
  v1::Command command;
  command.mutable_extend_deadline()->mutable_wait()->set_instance_id("i1");
  command.mutable_extend_deadline()->mutable_wait()->set_step_id("rectify");
  command.mutable_extend_deadline()->mutable_by()->set_days(days);
  command.mutable_extend_deadline()->set_comment("agreed with the partner");
  return command;
}

absl::Time WaitDue(const Harness& h) {
  for (const auto& timer : h.state().timers()) {
    if (timer.kind() == v1::TIMER_WAIT) return Harness::TimeOf(timer.fire_at());
  }
  return absl::InfinitePast();
}

TEST(WaitClockTest, AnExtensionMovesTheWaitsEndExactly) {
  Harness h(kRectification);
  ASSERT_OK(h.Start("ann", "{}"));
  const absl::Time started = h.now;
  ASSERT_OK(h.Run("ceo", ExtendBy(2)));
  EXPECT_EQ(WaitDue(h), started + absl::Hours(24 * 12));
  ASSERT_EQ(h.EventsOfType("wait_extended").size(), 1u);
  EXPECT_EQ(h.EventsOfType("wait_extended").front()->comment(), "agreed with the partner");
  ASSERT_OK(h.Advance(absl::Hours(24 * 12) - absl::Seconds(1)));
  EXPECT_THAT(h.PendingAssignees(), ::testing::IsEmpty());
  ASSERT_OK(h.Advance(absl::Seconds(1)));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("hal"));
}

TEST(WaitClockTest, APausedWaitKeepsWhatItHadLeftAcrossAnyGap) {
  Harness h(kRectification);
  ASSERT_OK(h.Start("ann", "{}"));
  ASSERT_OK(h.Advance(absl::Hours(24 * 3)));
  ASSERT_OK(h.Run("ceo", Pause()));
  EXPECT_EQ(WaitDue(h), absl::InfinitePast());
  ASSERT_EQ(h.state().paused_waits_size(), 1);
  EXPECT_EQ(h.state().paused_waits(0).remaining_seconds(), 7 * 24 * 3600);
  // Weeks pass while paused: nothing runs out.
  ASSERT_OK(h.Advance(absl::Hours(24 * 40)));
  EXPECT_THAT(h.PendingAssignees(), ::testing::IsEmpty());
  EXPECT_CODE(h.Run("ceo", Pause()), absl::StatusCode::kFailedPrecondition);
  EXPECT_CODE(h.Run("ceo", ExtendBy(1)), absl::StatusCode::kFailedPrecondition);
  const absl::Time resumed = h.now;
  ASSERT_OK(h.Run("ceo", Resume()));
  EXPECT_EQ(WaitDue(h), resumed + absl::Hours(24 * 7));
  EXPECT_EQ(h.state().paused_waits_size(), 0);
  EXPECT_CODE(h.Run("ceo", Resume()), absl::StatusCode::kFailedPrecondition);
  ASSERT_OK(h.Advance(absl::Hours(24 * 7) - absl::Seconds(1)));
  EXPECT_THAT(h.PendingAssignees(), ::testing::IsEmpty());
  ASSERT_OK(h.Advance(absl::Seconds(1)));
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("hal"));
}

TEST(WaitClockTest, APausedBusinessWaitResumesOnWorkingTime) {
  Harness h(R"(
key: docs
calendar: work
steps:
  - id: hold
    wait: {duration: {hours: 2, business: true}, on_timeout: chase}
    actions: {allowed: [PAUSE_CLOCK]}
    next: [{to: done}]
  - id: chase
    task: {assignees: [{user: hal}]}
    next: [{to: done}]
  - {id: done, end: {}}
)");
  auto at = [](int day, int hour, int minute) {
    return absl::FromCivil(absl::CivilMinute(2026, 1, day, hour, minute), absl::UTCTimeZone());
  };
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_EQ(WaitDue(h), at(1, 11, 0));
  ASSERT_OK(h.Advance(at(1, 10, 0) - h.now));
  v1::Command pause;
  pause.mutable_pause_clock()->mutable_wait()->set_step_id("hold");
  ASSERT_OK(h.Run("ceo", pause));
  EXPECT_EQ(h.state().paused_waits(0).remaining_seconds(), 3600);
  // Resumed half an hour before Friday closes: the other half hour is on
  // the next working day, Tuesday (Monday is a holiday).
  ASSERT_OK(h.Advance(at(2, 16, 30) - h.now));
  v1::Command resume;
  resume.mutable_resume_clock()->mutable_wait()->set_step_id("hold");
  ASSERT_OK(h.Run("ceo", resume));
  EXPECT_EQ(WaitDue(h), at(6, 9, 30));
}

TEST(WaitClockTest, AWaitThatRanOutWhileNobodyFiredItIsNotExtended) {
  Harness h(kRectification);
  ASSERT_OK(h.Start("ann", "{}"));
  // The scheduler was down across the end of the wait and several days more.
  h.now += absl::Hours(24 * 13);
  absl::Status late = h.Run("ceo", ExtendBy(5));
  EXPECT_CODE(late, absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(late.message()), HasSubstr("ran out"));
  EXPECT_CODE(h.Run("ceo", Pause()), absl::StatusCode::kFailedPrecondition);
  ASSERT_OK(h.FireDue());
  EXPECT_THAT(h.PendingAssignees(), ElementsAre("hal"));
}

TEST(WaitClockTest, OnlyAdministratorsAndListedServicesChangeAWait) {
  Harness h(kRectification);
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_CODE(h.Run("ann", ExtendBy(1)), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(h.Run("hal", Pause()), absl::StatusCode::kPermissionDenied);
  ASSERT_OK(h.Run("svc", ExtendBy(1)));
  EXPECT_EQ(h.EventsOfType("wait_extended").front()->actor(), "svc");
}

TEST(WaitClockTest, TheStepMustAllowItAndTheTimeMustBeLater) {
  Harness h(kRectification);
  ASSERT_OK(h.Start("ann", "{}"));
  EXPECT_CODE(h.Run("ceo", Pause("interview")), absl::StatusCode::kFailedPrecondition);
  v1::Command earlier;
  earlier.mutable_extend_deadline()->mutable_wait()->set_instance_id("i1");
  earlier.mutable_extend_deadline()->mutable_wait()->set_step_id("rectify");
  *earlier.mutable_extend_deadline()->mutable_new_due_at() =
      workflow::ToTimestamp(h.now + absl::Hours(24 * 10));
  absl::Status same = h.Run("ceo", earlier);
  EXPECT_CODE(same, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(workflow::ViolationsOf(same).front().field, "new_due_at");
  *earlier.mutable_extend_deadline()->mutable_new_due_at() =
      workflow::ToTimestamp(h.now + absl::Hours(24 * 10) + absl::Seconds(1));
  ASSERT_OK(h.Run("ceo", earlier));
  EXPECT_EQ(WaitDue(h), h.now + absl::Hours(24 * 10) + absl::Seconds(1));
  EXPECT_CODE(h.Run("ceo", ExtendBy(0)), absl::StatusCode::kInvalidArgument);
}

TEST(WaitClockTest, ClockActionsOnWaitsAreCheckedAtPublish) {
  auto definition = workflow::ParseDefinitionYaml(R"(
key: bad-wait
steps:
  - id: hold
    wait: {signal: go}
    actions: {allowed: [PAUSE_CLOCK, APPROVE]}
    next: [{to: done}]
  - {id: done, end: {}}
)");
  ASSERT_OK(definition);
  std::vector<std::string> problems;
  for (const auto& problem : workflow::ValidateDefinition(*definition)) {
    problems.push_back(problem.path() + ": " + problem.message());
  }
  EXPECT_THAT(problems,
              ElementsAre("steps[0].actions.allowed[0]: PAUSE_CLOCK needs the wait to run out: "
                          "give it a duration or a date field",
                          "steps[0].actions.allowed[1]: a WAIT step takes only PAUSE_CLOCK and "
                          "EXTEND_DEADLINE, not APPROVE"));
}

}  // namespace
}  // namespace signoff::testing
