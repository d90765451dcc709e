// SLA clocks: starting them, firing their points (reminders, escalation
// rungs, the deadline and its timeout action), and pausing, resuming and
// extending them.
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"
#include "workflow/calendar.h"
#include "workflow/conditions.h"
#include "workflow/errors.h"
#include "workflow/form.h"
#include "workflow/machine.h"

namespace signoff::workflow::internal {

namespace {

// Far enough for any real deadline, near enough for calendar arithmetic.
constexpr int64_t kMaxExtensionSeconds = int64_t{1000} * 24 * 3600;

}  // namespace

// ------------------------------------------------------------ SLA clocks

absl::StatusOr<SlaClock> Machine::ClockOf(const v1::Step& step) const {
  return SlaClock::For(step.sla(), definition_.calendar(), context_.calendars);
}

absl::Status Machine::StartClock(const v1::Step& step, const std::string& token) {
  if (!step.has_sla()) return absl::OkStatus();
  SIGNOFF_ASSIGN_OR_RETURN(SlaClock sla, ClockOf(step));
  return RecordClock(sla, sla.Start(token, step.id(), context_.now), v1::Event::kClockStarted,
                     kSystemActor, "", "");
}

absl::Status Machine::RecordClock(const SlaClock& sla, v1::StepClock clock, v1::Event::BodyCase kind,
                         const std::string& actor, const std::string& reason,
                         const std::string& comment) {
  if (!clock.timer_id().empty() && FindTimer(clock.timer_id()) != nullptr) {
    SIGNOFF_RETURN_IF_ERROR(CancelTimer(clock.timer_id(), clock.step_id()));
  }
  clock.clear_timer_id();
  std::optional<absl::Time> fire_at;
  if (clock.has_running_since()) {
    if (std::optional<int64_t> next = sla.NextPoint(clock)) {
      SIGNOFF_ASSIGN_OR_RETURN(fire_at, sla.TimeAt(clock, *next));
      clock.set_timer_id(NextTimerId());
    }
  }
  v1::Event event = NewEvent(clock.step_id());
  event.set_reason(reason);
  event.set_comment(comment);
  v1::ClockChanged* changed = nullptr;
  switch (kind) {
    case v1::Event::kClockStarted: changed = event.mutable_clock_started(); break;
    case v1::Event::kClockPaused: changed = event.mutable_clock_paused(); break;
    case v1::Event::kClockResumed: changed = event.mutable_clock_resumed(); break;
    case v1::Event::kDeadlineExtended: changed = event.mutable_deadline_extended(); break;
    default: changed = event.mutable_clock_advanced(); break;
  }
  *changed->mutable_clock() = clock;
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event), actor));
  if (fire_at) {
    SIGNOFF_RETURN_IF_ERROR(SetTimer(clock.timer_id(), v1::TIMER_SLA, clock.token(), clock.step_id(),
                             *fire_at));
  }
  return ShowClockOnTasks(clock);
}

void Machine::ShowClock(const v1::StepClock& clock, v1::Task& task) {
  if (clock.has_due_at()) {
    *task.mutable_due_at() = clock.due_at();
  } else {
    task.clear_due_at();
  }
  task.set_clock_paused(!clock.has_running_since());
  if (clock.breached()) task.set_sla_breached(true);
}

absl::Status Machine::ShowClockOnTasks(const v1::StepClock& clock) {
  std::vector<v1::Task> changed;
  for (const auto& task : state_.tasks()) {
    if (task.token() != clock.token() || !IsOpen(task)) continue;
    v1::Task shown = task;
    ShowClock(clock, shown);
    if (!google::protobuf::util::MessageDifferencer::Equals(shown, task)) changed.push_back(shown);
  }
  for (const auto& task : changed) {
    SIGNOFF_RETURN_IF_ERROR(EmitTask(task, v1::Event::kTaskUpdated, kSystemActor, "deadline changed"));
  }
  return absl::OkStatus();
}

absl::Status Machine::AdvanceClock(const std::string& token) {
  const v1::StepClock* found = FindClock(token);
  if (found == nullptr) return absl::OkStatus();
  v1::StepClock clock = *found;
  const v1::Step& step = StepOf(clock.step_id());
  SIGNOFF_ASSIGN_OR_RETURN(SlaClock sla, ClockOf(step));
  const ClockPoints points = sla.Due(clock, sla.Reading(clock, context_.now));
  if (points.remind) SIGNOFF_RETURN_IF_ERROR(RemindOpenTasks(step, token, points.reminders_sent));
  for (int rung : points.rungs) {
    const v1::EscalationRung& ladder = step.sla().escalations(rung);
    SIGNOFF_RETURN_IF_ERROR(Escalate(token, ladder.kind(), ladder.to(), rung));
    if (!FindActive(token)) return absl::OkStatus();
  }
  clock.set_reminders_sent(points.reminders_sent);
  if (!points.rungs.empty()) clock.set_escalations_done(points.rungs.back() + 1);
  if (points.breach) clock.set_breached(true);
  SIGNOFF_RETURN_IF_ERROR(RecordClock(sla, clock, v1::Event::kClockAdvanced, kSystemActor, "", ""));
  if (points.breach) return Breach(step, clock);
  return absl::OkStatus();
}

absl::Status Machine::RemindOpenTasks(const v1::Step& step, const std::string& token, int32_t count) {
  const uint32_t max = step.sla().reminders().max();
  // After downtime several intervals may have passed; one reminder covers
  // them, and the reason says how far the clock has got.
  const std::string reason =
      max > 0 ? absl::StrCat("reminder interval ", count, " of ", max, " reached")
              : absl::StrCat("reminder interval ", count, " reached (reminding until done)");
  std::vector<v1::Task> pending;
  for (const auto& task : state_.tasks()) {
    if (task.token() == token && task.status() == v1::PENDING) pending.push_back(task);
  }
  for (const auto& task : pending) {
    v1::Event event = NewEvent(task.step_id(), task.id());
    event.set_reason(reason);
    event.mutable_task_reminded()->set_reminders(task.reminders() + 1);
    SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
  }
  return absl::OkStatus();
}

absl::Status Machine::Breach(const v1::Step& step, const v1::StepClock& clock) {
  const v1::TimeoutAction& timeout = step.sla().on_timeout();
  const std::string reason =
      absl::StrCat("the deadline of step ", step.id(), " (", FormatTimestamp(clock.due_at()),
                   ") passed; ", TimeoutActionKind_Name(timeout.action()));
  v1::Event event = NewEvent(step.id());
  event.set_reason(timeout.action() == v1::TIMEOUT_AUTO_REJECT
                       ? absl::StrCat(reason, " (", timeout.reason_code(), ")")
                       : reason);
  event.mutable_sla_breached()->set_token(clock.token());
  *event.mutable_sla_breached()->mutable_due_at() = clock.due_at();
  event.mutable_sla_breached()->set_action(timeout.action());
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
  switch (timeout.action()) {
    case v1::TIMEOUT_AUTO_APPROVE:
      return FinishStep(clock.token(), false, reason);
    case v1::TIMEOUT_AUTO_REJECT:
      return FinishStep(clock.token(), true, absl::StrCat(reason, " (", timeout.reason_code(), ")"));
    case v1::TIMEOUT_ESCALATE:
      return Escalate(clock.token(), v1::ESCALATE_REASSIGN, timeout.escalate_to(), -1);
    case v1::TIMEOUT_GO_TO: {
      std::optional<v1::ActiveStep> active = FindActive(clock.token());
      if (!active) return absl::OkStatus();
      SIGNOFF_RETURN_IF_ERROR(CancelStep(clock.token(), step.id()));
      return EnterStep(timeout.to_step(), active->parent_token(), active->branch());
    }
    default:
      return absl::OkStatus();
  }
}

Candidate Machine::EscalationTargetOf(const v1::EscalationTarget& target, const v1::Task& task) const {
  auto enabled = [&](const std::string& user) {
    const v1::User* found = directory().FindUser(user);
    return found != nullptr && !found->disabled();
  };
  Candidate candidate;
  if (!target.user().empty()) {
    if (!enabled(target.user())) return candidate;
    candidate.user = target.user();
    candidate.chosen_by = absl::StrCat("escalation user:", target.user());
  } else if (target.manager_level() > 0) {
    const std::string& of = task.assignee().empty() ? state_.applicant() : task.assignee();
    std::vector<std::string> chain = directory().ManagerChain(of);
    if (target.manager_level() > chain.size() || !enabled(chain[target.manager_level() - 1])) {
      return candidate;
    }
    candidate.user = chain[target.manager_level() - 1];
    candidate.chosen_by =
        absl::StrCat("escalation manager_level:", target.manager_level(), " of ", of);
  } else if (target.has_role()) {
    const v1::User* applicant = directory().FindUser(state_.applicant());
    const std::string department = !target.role().department().empty() ? target.role().department()
                                   : applicant != nullptr ? applicant->department()
                                                          : "";
    if (directory().HoldersOf(target.role().name(), department).empty()) return candidate;
    candidate.group.set_role(target.role().name());
    candidate.group.set_department(department);
    candidate.chosen_by = absl::StrCat("escalation role:", target.role().name());
  }
  return candidate;
}

absl::Status Machine::Escalate(const std::string& token, v1::EscalationKind kind,
                      const v1::EscalationTarget& target, int rung) {
  std::vector<v1::Task> pending;
  for (const auto& task : state_.tasks()) {
    if (task.token() == token && task.status() == v1::PENDING) pending.push_back(task);
  }
  const bool reassign = kind == v1::ESCALATE_REASSIGN;
  for (const auto& task : pending) {
    Candidate to = EscalationTargetOf(target, task);
    if (to.user.empty() && to.group.role().empty()) {
      SIGNOFF_RETURN_IF_ERROR(RecordEscalation(task, kind, rung, {}, {}, "no one to escalate to"));
      continue;
    }
    std::vector<std::string> users;
    if (!to.user.empty()) {
      users.push_back(to.user);
    } else if (!reassign || !target.role().candidate_group()) {
      users = directory().HoldersOf(to.group.role(), to.group.department());
    }
    if (!reassign) {
      SIGNOFF_RETURN_IF_ERROR(RecordEscalation(task, kind, rung, users, {}, to.chosen_by));
      continue;
    }
    SIGNOFF_RETURN_IF_ERROR(Reassign(task, to, users, rung));
  }
  return reassign ? Reconcile(token) : absl::OkStatus();
}

absl::Status Machine::Reassign(const v1::Task& task, const Candidate& to,
                      const std::vector<std::string>& users, int rung) {
  v1::Task moved = task;
  moved.clear_delegated_from();
  moved.set_chosen_by(to.chosen_by);
  if (users.size() == 1) {
    moved.set_assignee(users.front());
    moved.clear_candidate_group();
  } else {
    moved.clear_assignee();
    *moved.mutable_candidate_group() = to.group;
  }
  const bool self = task.kind() == v1::STEP_APPROVAL && moved.assignee() == state_.applicant() &&
                    !definition_.policies().allow_self_approval();
  if (self || google::protobuf::util::MessageDifferencer::Equals(moved, task)) {
    return RecordEscalation(task, v1::ESCALATE_REASSIGN, rung, users, to.group,
                            self ? "not reassigned: the target is the applicant"
                                 : "not reassigned: already theirs");
  }
  SIGNOFF_RETURN_IF_ERROR(RecordEscalation(task, v1::ESCALATE_REASSIGN, rung, users, to.group,
                                   to.chosen_by));
  if (HoldsOpenTask(task.token(), moved.assignee())) {
    // One person answers once for the step, however many tasks reached them.
    v1::Task merged = task;
    merged.set_status(v1::TASK_CANCELLED);
    return EmitTask(merged, v1::Event::kTaskCancelled, kSystemActor,
                    absl::StrCat("escalated to ", moved.assignee(),
                                 ", who already holds this step's task"));
  }
  return EmitTask(moved, v1::Event::kTaskUpdated, kSystemActor, "escalated");
}

bool Machine::HoldsOpenTask(const std::string& token, const std::string& user) const {
  if (user.empty()) return false;
  for (const auto& task : state_.tasks()) {
    if (task.token() == token && IsOpen(task) && task.assignee() == user) return true;
  }
  return false;
}

absl::Status Machine::RecordEscalation(const v1::Task& task, v1::EscalationKind kind, int rung,
                              const std::vector<std::string>& users,
                              const v1::CandidateGroup& group, const std::string& reason) {
  v1::Event event = NewEvent(task.step_id(), task.id());
  event.set_reason(reason);
  auto* escalated = event.mutable_task_escalated();
  escalated->set_rung(rung);
  escalated->set_kind(kind);
  for (const auto& user : users) escalated->add_users(user);
  if (!group.role().empty()) *escalated->mutable_group() = group;
  return Emit(std::move(event), kSystemActor);
}

// ------------------------------------------------------------ clock operations

absl::StatusOr<v1::StepClock> Machine::ClockOperand(const std::string& task_id, v1::Action needed) const {
  SIGNOFF_RETURN_IF_ERROR(RequireStatus({v1::RUNNING}));
  const v1::Task* task = FindTask(task_id);
  if (task == nullptr) return absl::NotFoundError(absl::StrCat("no task ", task_id));
  if (!IsOpen(*task)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "task ", task_id, " is already ", v1::TaskStatus_Name(task->status())));
  }
  const v1::Step& step = StepOf(task->step_id());
  if (!Contains(AllowedActions(step), needed)) {
    return absl::FailedPreconditionError(
        absl::StrCat("step ", step.id(), " does not allow ", v1::Action_Name(needed)));
  }
  const bool holder = task->assignee() == context_.actor ||
                      task->delegated_from() == context_.actor ||
                      (task->assignee().empty() &&
                       directory().InGroup(context_.actor, task->candidate_group()));
  if (!holder && !IsAdmin(context_.actor)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "only the holder of task ", task_id, " or an administrator may change its clock"));
  }
  const v1::StepClock* clock = FindClock(task->token());
  if (clock == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("step ", step.id(), " has no SLA clock"));
  }
  return *clock;
}

absl::StatusOr<v1::StepClock> Machine::CaughtUp(const v1::StepClock& clock) {
  if (!clock.has_running_since()) return clock;
  SIGNOFF_ASSIGN_OR_RETURN(SlaClock sla, ClockOf(StepOf(clock.step_id())));
  const ClockPoints points = sla.Due(clock, sla.Reading(clock, context_.now));
  if (!points.remind && points.rungs.empty() && !points.breach) return clock;
  SIGNOFF_RETURN_IF_ERROR(AdvanceClock(clock.token()));
  const v1::StepClock* advanced = FindClock(clock.token());
  if (advanced == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the deadline of step ", clock.step_id(), " has passed and its timeout action applies"));
  }
  return *advanced;
}

absl::Status Machine::PauseClock(const v1::ClockRequest& request) {
  if (request.task_id().empty() && request.has_wait()) return PauseWait(request);
  SIGNOFF_ASSIGN_OR_RETURN(v1::StepClock operand, ClockOperand(request.task_id(), v1::PAUSE_CLOCK));
  SIGNOFF_ASSIGN_OR_RETURN(v1::StepClock clock, CaughtUp(operand));
  if (!clock.has_running_since()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the clock of step ", clock.step_id(), " is already paused"));
  }
  SIGNOFF_ASSIGN_OR_RETURN(SlaClock sla, ClockOf(StepOf(clock.step_id())));
  sla.Pause(clock, context_.now);
  return RecordClock(sla, clock, v1::Event::kClockPaused, "", "paused", request.comment());
}

absl::Status Machine::ResumeClock(const v1::ClockRequest& request) {
  if (request.task_id().empty() && request.has_wait()) return ResumeWait(request);
  SIGNOFF_ASSIGN_OR_RETURN(v1::StepClock clock, ClockOperand(request.task_id(), v1::PAUSE_CLOCK));
  if (clock.has_running_since()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the clock of step ", clock.step_id(), " is not paused"));
  }
  SIGNOFF_ASSIGN_OR_RETURN(SlaClock sla, ClockOf(StepOf(clock.step_id())));
  const absl::Duration paused_for = context_.now - FromTimestamp(clock.paused_at());
  SIGNOFF_RETURN_IF_ERROR(sla.Resume(clock, context_.now));
  return RecordClock(sla, clock, v1::Event::kClockResumed, "",
                     absl::StrCat("resumed after ", absl::FormatDuration(paused_for)),
                     request.comment());
}

absl::Status Machine::ExtendDeadline(const v1::ExtendDeadlineRequest& request) {
  if (request.task_id().empty() && request.has_wait()) return ExtendWait(request);
  SIGNOFF_ASSIGN_OR_RETURN(v1::StepClock operand,
                   ClockOperand(request.task_id(), v1::EXTEND_DEADLINE));
  SIGNOFF_ASSIGN_OR_RETURN(v1::StepClock clock, CaughtUp(operand));
  if (clock.due_offset_seconds() <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("step ", clock.step_id(), " has no deadline to extend"));
  }
  SIGNOFF_ASSIGN_OR_RETURN(SlaClock sla, ClockOf(StepOf(clock.step_id())));
  SIGNOFF_ASSIGN_OR_RETURN(int64_t seconds, ExtensionSeconds(sla, clock, request));
  SIGNOFF_RETURN_IF_ERROR(sla.Extend(clock, seconds, context_.now));
  return RecordClock(sla, clock, v1::Event::kDeadlineExtended, "",
                     absl::StrCat("extended by ", absl::FormatDuration(absl::Seconds(seconds)),
                                  sla.basis().name().empty()
                                      ? ""
                                      : absl::StrCat(" of working time on ", sla.basis().name())),
                     request.comment());
}

absl::StatusOr<int64_t> Machine::ExtensionSeconds(const SlaClock& sla, const v1::StepClock& clock,
                                         const v1::ExtendDeadlineRequest& request) const {
  if (request.has_by()) {
    if (CalendarOf(request.by(), definition_.calendar()) != clock.calendar() &&
        (!request.by().calendar().empty() || request.by().business())) {
      return InvalidArgumentWithViolations(
          "an extension counts on the deadline's own clock",
          {{"by", absl::StrCat("leave calendar and business unset; this deadline counts on ",
                               clock.calendar().empty() ? "elapsed time" : clock.calendar())}});
    }
    const int64_t elapsed = ((int64_t{request.by().days()} * 24 + request.by().hours()) * 60 +
                             request.by().minutes()) * 60 + request.by().seconds();
    if (elapsed > kMaxExtensionSeconds) {
      return InvalidArgumentWithViolations("an extension is at most 1000 days",
                                           {{"by", "must be at most 1000 days"}});
    }
    const int64_t seconds = sla.Seconds(request.by());
    if (seconds <= 0) {
      return InvalidArgumentWithViolations("an extension must be longer than zero",
                                           {{"by", "must be longer than zero"}});
    }
    return seconds;
  }
  if (!request.has_new_due_at()) {
    return InvalidArgumentWithViolations(
        "say how far to extend", {{"extension", "set by or new_due_at"}});
  }
  if (!clock.has_running_since()) {
    return absl::FailedPreconditionError(
        "a paused clock has no deadline time to move; resume it or extend by a span");
  }
  const auto& stamp = request.new_due_at();
  const absl::Time wanted = FromTimestamp(stamp);
  if (stamp.nanos() < 0 || stamp.nanos() > 999999999 ||
      wanted > context_.now + absl::Seconds(kMaxExtensionSeconds)) {
    return InvalidArgumentWithViolations(
        "new_due_at is out of range",
        {{"new_due_at", "must be a valid time at most 1000 days from now"}});
  }
  const int64_t offset = sla.Reading(clock, wanted);
  if (wanted <= context_.now || offset <= clock.due_offset_seconds()) {
    return InvalidArgumentWithViolations(
        "an extension must move the deadline later",
        {{"new_due_at", absl::StrCat("must be later than now and than the current deadline ",
                                     clock.has_due_at() ? FormatTimestamp(clock.due_at())
                                                        : std::string("(passed)"))}});
  }
  return offset - clock.due_offset_seconds();
}

}  // namespace signoff::workflow::internal
