#pragma once

// Drives the pure engine in memory: applies commands, keeps the events as
// a store would, and checks that folding them rebuilds the state.

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "google/protobuf/util/message_differencer.h"
#include "status_matchers.h"
#include "test_organisation.h"
#include "workflow/engine.h"
#include "workflow/time_util.h"
#include "workflow/validation.h"
#include "workflow/yaml_mapping.h"

namespace signoff::testing {

namespace v1 = ::signoff::v1;


// A business calendar for tests: UTC, Monday to Friday 09:00-17:00 (an
// eight-hour day), with 2026-01-05 (a Monday) off and 2026-01-10 (a
// Saturday) worked.
inline constexpr char kTestCalendar[] = R"(
name: work
time_zone: UTC
working_hours: [{start: "09:00", end: "17:00"}]
years:
  - {year: 2026, holidays: ["2026-01-05"], workdays: ["2026-01-10"]}
)";

class Harness {
 public:
  explicit Harness(const std::string& definition_yaml,
                   const std::string& organisation_yaml = kTestOrganisation) {
    auto organisation = workflow::ParseOrganisationYaml(organisation_yaml);
    EXPECT_TRUE(organisation.ok()) << organisation.status();
    directory_ = std::make_unique<workflow::Directory>(*organisation);
    auto calendar = workflow::ParseCalendarYaml(kTestCalendar);
    EXPECT_TRUE(calendar.ok()) << calendar.status();
    auto built = workflow::BusinessCalendar::Create(*calendar, absl::UTCTimeZone());
    EXPECT_TRUE(built.ok()) << built.status();
    calendars_.Add(std::make_shared<const workflow::BusinessCalendar>(std::move(*built)));
    auto definition = workflow::ParseDefinitionYaml(definition_yaml);
    EXPECT_TRUE(definition.ok()) << definition.status();
    definition_ = *definition;
    auto problems = workflow::ValidateDefinition(definition_, directory_.get(), &calendars_);
    for (const auto& problem : problems) {
      ADD_FAILURE() << problem.path() << ": " << problem.message();
    }
  }

  ~Harness() { ExpectReplayRebuildsState(); }

  absl::Status Run(const std::string& actor, const v1::Command& command) {
    workflow::Context context;
    context.now = now;
    context.actor = actor;
    context.directory = directory_.get();
    context.calendars = &calendars_;
    context.new_instance_id = "i1";
    context.ledgers = &ledgers;
    auto transition = workflow::Apply(definition_, state_, command, context);
    if (!transition.ok()) return transition.status();
    // As the commit would: the balances take the movements.
    for (const auto& moved : transition->ledger_moves) {
      const std::string key = workflow::PositionKey(moved.position());
      if (!ledgers.count(key)) {
        ledgers[key] = workflow::BalanceAt(
            ledgers, *workflow::FindLedger(definition_, moved.position().ledger()),
            moved.position());
      }
      workflow::ApplyMovement(ledgers[key], moved);
    }
    for (auto& event : transition->events) {
      event.set_instance_seq(static_cast<int64_t>(events_.size()) + 1);
      events_.push_back(event);
    }
    state_ = std::move(transition->state);
    return absl::OkStatus();
  }

  absl::Status Start(const std::string& applicant, const std::string& form_yaml) {
    v1::Command command;
    auto form = workflow::ParseFormYaml(form_yaml);
    if (!form.ok()) return form.status();
    *command.mutable_start()->mutable_form() = *form;
    command.mutable_start()->set_definition_version(1);
    return Run(applicant, command);
  }

  absl::Status Decide(const std::string& actor, const std::string& task_id, v1::Action action,
                      const std::string& comment = "") {
    v1::DecideTaskRequest request;
    request.set_task_id(task_id);
    request.set_action(action);
    request.set_comment(comment);
    return Decide(actor, request);
  }

  absl::Status Decide(const std::string& actor, const v1::DecideTaskRequest& request) {
    v1::Command command;
    *command.mutable_decide() = request;
    return Run(actor, command);
  }

  // Approves (or completes) the pending task of `user`.
  absl::Status Approve(const std::string& user) {
    const v1::Task* task = PendingTaskOf(user);
    if (task == nullptr) return absl::NotFoundError("no pending task for " + user);
    return Decide(user, task->id(),
                  task->kind() == v1::STEP_APPROVAL ? v1::APPROVE : v1::COMPLETE);
  }

  // Fires every timer due at `now`, earliest first, as signoffd's
  // scheduler would.
  absl::Status FireDue() {
    for (int guard = 0; guard < 1000; ++guard) {
      const v1::Timer* due = nullptr;
      for (const auto& timer : state_.timers()) {
        if (TimeOf(timer.fire_at()) > now) continue;
        if (due == nullptr || TimeOf(timer.fire_at()) < TimeOf(due->fire_at())) due = &timer;
      }
      if (due == nullptr) return absl::OkStatus();
      absl::Status fired = Fire(due->id());
      if (!fired.ok()) return fired;
    }
    return absl::InternalError("timers kept coming due");
  }

  absl::Status Fire(const std::string& timer_id) {
    v1::Command command;
    command.mutable_fire_timer()->set_timer_id(timer_id);
    return Run(workflow::kSystemActor, command);
  }

  // Moves the clock on and fires what came due.
  absl::Status Advance(absl::Duration by) {
    now += by;
    return FireDue();
  }

  static absl::Time TimeOf(const google::protobuf::Timestamp& stamp) {
    return workflow::FromTimestamp(stamp);
  }

  const v1::Task* PendingTaskOf(const std::string& user) const {
    for (const auto& task : state_.tasks()) {
      if (task.status() == v1::PENDING && task.assignee() == user) return &task;
    }
    return nullptr;
  }

  std::vector<std::string> PendingAssignees() const {
    std::vector<std::string> users;
    for (const auto& task : state_.tasks()) {
      if (task.status() == v1::PENDING) users.push_back(task.assignee());
    }
    return users;
  }

  std::vector<std::string> ActiveSteps() const {
    std::vector<std::string> steps;
    for (const auto& step : state_.active_steps()) steps.push_back(step.step_id());
    return steps;
  }

  std::vector<const v1::Event*> EventsOfType(const std::string& type) const {
    std::vector<const v1::Event*> found;
    for (const auto& event : events_) {
      if (event.type() == type) found.push_back(&event);
    }
    return found;
  }

  void ExpectReplayRebuildsState() const {
    auto replayed = workflow::Replay(events_);
    ASSERT_TRUE(replayed.ok()) << replayed.status();
    std::string difference;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&difference);
    EXPECT_TRUE(differencer.Compare(*replayed, state_)) << difference;
  }

  // Gives the directory these standing delegations, as signoffd loads them
  // with it.
  void SetDelegations(std::vector<v1::Delegation> delegations) {
    v1::Organisation organisation = directory_->organisation();
    directory_ = std::make_unique<workflow::Directory>(std::move(organisation),
                                                       std::move(delegations));
  }

  const v1::InstanceState& state() const { return state_; }
  const std::vector<v1::Event>& events() const { return events_; }
  const v1::WorkflowDefinition& definition() const { return definition_; }
  const workflow::Directory& directory() const { return *directory_; }
  const workflow::CalendarSet& calendars() const { return calendars_; }

  absl::Time now = absl::FromUnixSeconds(1767225600);  // 2026-01-01
  // The committed ledger balances, by workflow::PositionKey.
  workflow::LedgerBalances ledgers;

 private:
  std::unique_ptr<workflow::Directory> directory_;
  workflow::CalendarSet calendars_;
  v1::WorkflowDefinition definition_;
  v1::InstanceState state_;
  std::vector<v1::Event> events_;
};

}  // namespace signoff::testing
