// Signals, timers, WAIT steps, sampled routes and appeal windows.
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
#include "workflow/roles.h"

namespace signoff::workflow::internal {

// ------------------------------------------------------------ signals

absl::Status Machine::Signal(const v1::SignalInstanceRequest& request) {
  if (request.name().empty()) {
    return InvalidArgumentWithViolations("a signal needs a name", {{"name", "is required"}});
  }
  if (!index_.KnowsSignal(request.name())) {
    return InvalidArgumentWithViolations(
        "unknown signal",
        {{"name", absl::StrCat("definition ", definition_.key(), " waits for no signal '",
                               request.name(), "'")}});
  }
  if (!IsAdmin(context_.actor)) {
    if (!IsServiceAccount(context_.actor)) {
      return absl::PermissionDeniedError(
          "only the definition's service accounts and administrators may signal instances");
    }
    SIGNOFF_RETURN_IF_ERROR(RequireListedIfService(context_.actor, kSignalPermission));
  }
  SIGNOFF_RETURN_IF_ERROR(RequireStatus({v1::RUNNING, v1::RETURNED}));
  std::vector<v1::ActiveStep> waiting;
  for (const auto& active : state_.active_steps()) {
    const v1::Step& step = StepOf(active.step_id());
    if (step.has_wait() && step.wait().signal() == request.name()) waiting.push_back(active);
  }
  const auto& buffered = definition_.buffered_signals();
  const bool bufferable =
      std::find(buffered.begin(), buffered.end(), request.name()) != buffered.end();
  if (waiting.empty() && !bufferable) {
    return absl::FailedPreconditionError(absl::StrCat(
        "instance ", state_.id(), " is not waiting for signal '", request.name(), "'"));
  }
  v1::Event event = NewEvent(waiting.empty() ? "" : waiting.front().step_id());
  auto* received = event.mutable_signal_received();
  received->set_name(request.name());
  *received->mutable_payload() = request.payload();
  received->set_buffered(waiting.empty());
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  for (const auto& active : waiting) {
    if (FindActive(active.token())) SIGNOFF_RETURN_IF_ERROR(FinishStep(active.token(), false, ""));
  }
  return absl::OkStatus();
}

bool Machine::IsServiceAccount(const std::string& user) const {
  const v1::User* found = directory().FindUser(user);
  return found != nullptr && found->service();
}

absl::Status Machine::RequireListedIfService(const std::string& user,
                                             const char* permission) const {
  if (!IsServiceAccount(user)) return absl::OkStatus();
  const auto& listed = definition_.service_accounts();
  if (std::find(listed.begin(), listed.end(), user) != listed.end()) return absl::OkStatus();
  if (directory().HoldsRoleFor(user, permission, definition_.key())) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "service account ", user, " is not among the service_accounts of definition ",
      definition_.key(), " and holds no ", permission, " grant for it"));
}

// ------------------------------------------------------------ timers

const v1::Timer* Machine::FindTimer(const std::string& id) const {
  for (const auto& timer : state_.timers()) {
    if (timer.id() == id) return &timer;
  }
  return nullptr;
}

const v1::StepClock* Machine::FindClock(const std::string& token) const {
  for (const auto& clock : state_.clocks()) {
    if (clock.token() == token) return &clock;
  }
  return nullptr;
}

std::string Machine::NextTimerId() const {
  return absl::StrCat(state_.id(), "-m", state_.next_timer() + 1);
}

absl::Status Machine::SetTimer(const std::string& id, v1::TimerKind kind, const std::string& token,
                      const std::string& step_id, absl::Time fire_at) {
  v1::Event event = NewEvent(step_id);
  v1::Timer* timer = event.mutable_timer_set()->mutable_timer();
  timer->set_id(id);
  timer->set_kind(kind);
  *timer->mutable_fire_at() = ToTimestamp(fire_at);
  timer->set_token(token);
  timer->set_step_id(step_id);
  return Emit(std::move(event), kSystemActor);
}

absl::Status Machine::CancelTimer(const std::string& id, const std::string& step_id) {
  v1::Event event = NewEvent(step_id);
  event.mutable_timer_cancelled()->set_timer_id(id);
  return Emit(std::move(event), kSystemActor);
}

absl::Status Machine::StopTimers(const std::string& token) {
  std::vector<v1::Timer> stopping;
  for (const auto& timer : state_.timers()) {
    if (timer.token() == token) stopping.push_back(timer);
  }
  for (const auto& timer : stopping) SIGNOFF_RETURN_IF_ERROR(CancelTimer(timer.id(), timer.step_id()));
  return absl::OkStatus();
}

absl::Status Machine::FireTimer(const v1::FireTimer& request) {
  const v1::Timer* found = FindTimer(request.timer_id());
  if (found == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("timer ", request.timer_id(), " is no longer pending"));
  }
  const v1::Timer timer = *found;
  if (FromTimestamp(timer.fire_at()) > context_.now) {
    return absl::FailedPreconditionError(absl::StrCat(
        "timer ", timer.id(), " is not due until ", FormatTimestamp(timer.fire_at())));
  }
  v1::Event event = NewEvent(timer.step_id());
  event.mutable_timer_fired()->set_timer_id(timer.id());
  event.mutable_timer_fired()->set_kind(timer.kind());
  event.set_reason(absl::StrCat("due at ", FormatTimestamp(timer.fire_at())));
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
  if (timer.kind() == v1::TIMER_WAIT) return WaitRanOut(timer.token());
  return AdvanceClock(timer.token());
}

// ------------------------------------------------------------ waits

absl::Status Machine::StartWait(const v1::Step& step, const std::string& token) {
  const v1::WaitStep& wait = step.wait();
  if (!wait.signal().empty()) {
    for (const auto& buffered : state_.buffered_signals()) {
      if (buffered.name() != wait.signal()) continue;
      v1::Event event = NewEvent(step.id());
      auto* received = event.mutable_signal_received();
      received->set_name(buffered.name());
      *received->mutable_payload() = buffered.payload();
      received->set_from_buffer(true);
      SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
      return FinishStep(token, false, "a buffered signal was waiting");
    }
  }
  SIGNOFF_ASSIGN_OR_RETURN(std::optional<absl::Time> until, WaitDeadline(wait));
  if (!until) return absl::OkStatus();
  return SetTimer(NextTimerId(), v1::TIMER_WAIT, token, step.id(), *until);
}

absl::StatusOr<std::optional<absl::Time>> Machine::WaitDeadline(const v1::WaitStep& wait) const {
  if (wait.has_duration()) {
    SIGNOFF_ASSIGN_OR_RETURN(ClockBasis basis, ClockBasis::For(wait.duration(), definition_.calendar(),
                                                       context_.calendars));
    return basis.Add(context_.now, basis.Length(wait.duration()));
  }
  if (wait.until_date_field().empty()) return std::nullopt;
  auto it = state_.form().fields().find(wait.until_date_field());
  absl::CivilDay day;
  if (it == state_.form().fields().end() || !absl::ParseCivilTime(AsText(it->second), &day)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "form field ", wait.until_date_field(), " holds no date to wait for"));
  }
  absl::TimeZone zone = absl::UTCTimeZone();
  if (!definition_.calendar().empty()) {
    const BusinessCalendar* calendar =
        context_.calendars == nullptr ? nullptr : context_.calendars->Find(definition_.calendar());
    if (calendar == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("business calendar ", definition_.calendar(), " is not published"));
    }
    zone = calendar->zone();
  }
  // The wait lasts through the whole of that day.
  return zone.At(absl::CivilSecond(day + 1)).pre;
}

absl::Status Machine::WaitRanOut(const std::string& token) {
  std::optional<v1::ActiveStep> active = FindActive(token);
  if (!active) return absl::OkStatus();
  const v1::Step& step = StepOf(active->step_id());
  if (step.wait().on_timeout().empty()) return FinishStep(token, false, "the wait ran out");
  SIGNOFF_RETURN_IF_ERROR(CancelStep(token, step.id()));
  return EnterStep(step.wait().on_timeout(), active->parent_token(), active->branch());
}

// ------------------------------------------------------------ clock operations on waits

absl::StatusOr<Machine::WaitOperand> Machine::FindWaitOperand(const v1::WaitRef& ref,
                                                              v1::Action needed) const {
  if (state_.status() != v1::RUNNING) {
    return absl::FailedPreconditionError(absl::StrCat(
        "instance ", state_.id(), " is ", v1::InstanceStatus_Name(state_.status())));
  }
  WaitOperand wait;
  bool found = false;
  for (const auto& active : state_.active_steps()) {
    if (active.step_id() != ref.step_id()) continue;
    wait.active = active;
    found = true;
  }
  wait.step = found ? &StepOf(ref.step_id()) : nullptr;
  if (wait.step == nullptr || !wait.step->has_wait()) {
    return absl::FailedPreconditionError(
        absl::StrCat("instance ", state_.id(), " is not waiting at step ", ref.step_id()));
  }
  const auto& allowed = wait.step->actions().allowed();
  if (std::find(allowed.begin(), allowed.end(), needed) == allowed.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("step ", ref.step_id(), " does not allow ", v1::Action_Name(needed)));
  }
  const bool listed_service =
      IsServiceAccount(context_.actor) &&
      RequireListedIfService(context_.actor, kSignalPermission).ok();
  if (!IsAdmin(context_.actor) && !listed_service) {
    return absl::PermissionDeniedError(absl::StrCat(
        "only administrators of ", definition_.key(),
        " and its service accounts may change when a wait runs out"));
  }
  for (const auto& timer : state_.timers()) {
    if (timer.kind() == v1::TIMER_WAIT && timer.token() == wait.active.token()) wait.timer = timer;
  }
  for (const auto& paused : state_.paused_waits()) {
    if (paused.token() == wait.active.token()) wait.paused = paused;
  }
  if (!wait.timer && !wait.paused) {
    return absl::FailedPreconditionError(absl::StrCat(
        "step ", ref.step_id(), " waits only for a signal; it has no deadline to change"));
  }
  if (wait.timer && FromTimestamp(wait.timer->fire_at()) <= context_.now) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the wait at step ", ref.step_id(), " ran out at ",
        FormatTimestamp(wait.timer->fire_at()), "; it is being acted on"));
  }
  return wait;
}

absl::StatusOr<ClockBasis> Machine::WaitBasis(const v1::Step& step) const {
  if (!step.wait().has_duration()) return ClockBasis();
  return ClockBasis::For(step.wait().duration(), definition_.calendar(), context_.calendars);
}

absl::Status Machine::EmitWaitChanged(const WaitOperand& wait, v1::Event::BodyCase kind,
                                      std::optional<absl::Time> due_at,
                                      int64_t remaining_seconds, const std::string& comment) {
  v1::Event event = NewEvent(wait.active.step_id());
  event.set_comment(comment);
  v1::WaitChanged* changed = kind == v1::Event::kWaitPaused    ? event.mutable_wait_paused()
                             : kind == v1::Event::kWaitResumed ? event.mutable_wait_resumed()
                                                               : event.mutable_wait_extended();
  changed->set_token(wait.active.token());
  if (due_at) *changed->mutable_due_at() = ToTimestamp(*due_at);
  changed->set_remaining_seconds(remaining_seconds);
  return Emit(std::move(event));
}

absl::Status Machine::PauseWait(const v1::ClockRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(WaitOperand wait, FindWaitOperand(request.wait(), v1::PAUSE_CLOCK));
  if (wait.paused) {
    return absl::FailedPreconditionError(
        absl::StrCat("the wait at step ", wait.active.step_id(), " is already paused"));
  }
  // Measured on the wait's own clock (working time on a calendar), and
  // rounded up, so that pausing never shortens a wait.
  SIGNOFF_ASSIGN_OR_RETURN(ClockBasis basis, WaitBasis(*wait.step));
  const int64_t remaining = absl::ToInt64Seconds(absl::Ceil(
      basis.Between(context_.now, FromTimestamp(wait.timer->fire_at())), absl::Seconds(1)));
  SIGNOFF_RETURN_IF_ERROR(CancelTimer(wait.timer->id(), wait.active.step_id()));
  return EmitWaitChanged(wait, v1::Event::kWaitPaused, std::nullopt, remaining,
                         request.comment());
}

absl::Status Machine::ResumeWait(const v1::ClockRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(WaitOperand wait, FindWaitOperand(request.wait(), v1::PAUSE_CLOCK));
  if (!wait.paused) {
    return absl::FailedPreconditionError(
        absl::StrCat("the wait at step ", wait.active.step_id(), " is not paused"));
  }
  SIGNOFF_ASSIGN_OR_RETURN(ClockBasis basis, WaitBasis(*wait.step));
  SIGNOFF_ASSIGN_OR_RETURN(const absl::Time due,
                           basis.Add(context_.now, absl::Seconds(wait.paused->remaining_seconds())));
  SIGNOFF_RETURN_IF_ERROR(
      SetTimer(NextTimerId(), v1::TIMER_WAIT, wait.active.token(), wait.active.step_id(), due));
  return EmitWaitChanged(wait, v1::Event::kWaitResumed, due, 0, request.comment());
}

absl::Status Machine::ExtendWait(const v1::ExtendDeadlineRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(WaitOperand wait,
                           FindWaitOperand(request.wait(), v1::EXTEND_DEADLINE));
  if (wait.paused) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the wait at step ", wait.active.step_id(), " is paused; resume it, then extend it"));
  }
  const absl::Time current = FromTimestamp(wait.timer->fire_at());
  absl::Time due;
  if (request.has_by()) {
    SIGNOFF_ASSIGN_OR_RETURN(ClockBasis basis, ClockBasis::For(request.by(), definition_.calendar(),
                                                               context_.calendars));
    const absl::Duration length = basis.Length(request.by());
    if (length <= absl::ZeroDuration() || length > absl::Hours(24) * 1000) {
      return InvalidArgumentWithViolations(
          "an extension is longer than zero and at most 1000 days",
          {{"by", "must be longer than zero and at most 1000 days"}});
    }
    SIGNOFF_ASSIGN_OR_RETURN(due, basis.Add(current, length));
  } else if (request.has_new_due_at()) {
    due = FromTimestamp(request.new_due_at());
    if (due <= current || due > current + absl::Hours(24) * 1000) {
      return InvalidArgumentWithViolations(
          "a wait is extended to a later time",
          {{"new_due_at", absl::StrCat("must be after ", FormatTimestamp(wait.timer->fire_at()),
                                       " and at most 1000 days later")}});
    }
  } else {
    return InvalidArgumentWithViolations("say how far to extend",
                                         {{"extension", "set by or new_due_at"}});
  }
  // Timers are never moved in place: the old one goes, a new one comes.
  SIGNOFF_RETURN_IF_ERROR(CancelTimer(wait.timer->id(), wait.active.step_id()));
  SIGNOFF_RETURN_IF_ERROR(
      SetTimer(NextTimerId(), v1::TIMER_WAIT, wait.active.token(), wait.active.step_id(), due));
  return EmitWaitChanged(wait, v1::Event::kWaitExtended, due, 0, request.comment());
}

// ------------------------------------------------------------ sampling and appeals

absl::Status Machine::RecordSamples(const v1::Condition& condition, const std::string& step_id) {
  for (const v1::Sample* sample : SamplesIn(condition)) {
    const double draw = SampleDraw(sample->seed(), state_.id());
    v1::Event event = NewEvent(step_id);
    auto* drawn = event.mutable_sample_drawn();
    drawn->set_rate(sample->rate());
    drawn->set_seed(sample->seed());
    drawn->set_draw(draw);
    drawn->set_selected(draw < sample->rate());
    event.set_reason(absl::StrFormat("draw %.6f %s rate %.4f", draw,
                                     draw < sample->rate() ? "below" : "not below",
                                     sample->rate()));
    SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<absl::Time>> Machine::AppealDeadline() const {
  const v1::AppealPolicy& policy = definition_.appeal();
  // No deadline is offered for an appeal that would be refused.
  if (AppealsLeft(definition_, state_) == 0) return std::nullopt;
  if (policy.has_window()) {
    SIGNOFF_ASSIGN_OR_RETURN(ClockBasis basis, ClockBasis::For(policy.window(), definition_.calendar(),
                                                       context_.calendars));
    return basis.Add(context_.now, basis.Length(policy.window()));
  }
  if (policy.window_days() == 0) return std::nullopt;
  return context_.now + absl::Hours(24) * policy.window_days();
}

}  // namespace signoff::workflow::internal
