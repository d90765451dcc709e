// The fold from events to state. Everything the engine decides reaches the
// state only through here, which is what makes replay exact.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "workflow/engine.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;

namespace {

template <typename Repeated, typename Pred>
void RemoveIf(Repeated& items, Pred pred) {
  auto* field = &items;
  for (int i = field->size() - 1; i >= 0; --i) {
    if (pred(field->Get(i))) field->DeleteSubrange(i, 1);
  }
}

absl::Status ReplaceTask(v1::InstanceState& state, const v1::Task& task) {
  for (auto& existing : *state.mutable_tasks()) {
    if (existing.id() == task.id()) {
      existing = task;
      return absl::OkStatus();
    }
  }
  return absl::InternalError(absl::StrCat("event names unknown task ", task.id()));
}

void RecordApproval(v1::InstanceState& state, const v1::Task& task) {
  if (task.kind() != v1::STEP_APPROVAL || task.decision() != v1::APPROVE) return;
  for (auto& approval : *state.mutable_approvals()) {
    if (approval.user() == task.assignee()) {
      approval.set_form_revision(state.form_revision());
      return;
    }
  }
  auto* approval = state.add_approvals();
  approval->set_user(task.assignee());
  approval->set_form_revision(state.form_revision());
}

// A job's result, or the declared result of a completed TASK step, joins
// the instance's data, where routes and later steps read it. It is not the
// applicant's form changing, so the revision stays.
void MergeResult(v1::InstanceState& state, const v1::Task& task) {
  const bool completed_task = task.kind() == v1::STEP_TASK && task.decision() == v1::COMPLETE;
  if (task.job().type().empty() && !completed_task) return;
  auto& form = *state.mutable_form()->mutable_fields();
  for (const auto& [name, value] : task.result().fields()) form[name] = value;
}

void ApplyStart(v1::InstanceState& state, const v1::Event& event) {
  const auto& started = event.instance_started();
  state.set_id(event.instance_id());
  state.set_definition_key(started.definition_key());
  state.set_definition_version(started.definition_version());
  state.set_applicant(started.applicant());
  state.set_subject(started.subject());
  state.set_subject_user(started.subject_user());
  state.set_filed_for(started.filed_for());
  *state.mutable_form() = started.form();
  state.set_scheduled_period(started.scheduled_period());
  state.set_form_revision(1);
  state.set_status(v1::RUNNING);
  *state.mutable_created_at() = event.time();
}

void ApplyFinish(v1::InstanceState& state, const v1::Event& event) {
  state.set_status(event.instance_finished().status());
  state.set_outcome(event.instance_finished().outcome());
  if (event.instance_finished().has_appeal_until()) {
    *state.mutable_appeal_until() = event.instance_finished().appeal_until();
  }
  *state.mutable_finished_at() = event.time();
  state.set_outcome_reason(event.reason());
  state.set_outcome_comment(event.comment());
  state.clear_active_steps();
  state.clear_active_parallels();
}

void ForgetPausedWait(v1::InstanceState& state, const std::string& token) {
  RemoveIf(*state.mutable_paused_waits(),
           [&](const v1::PausedWait& paused) { return paused.token() == token; });
}

void ApplyReturn(v1::InstanceState& state, const v1::Event& event) {
  const auto& returned = event.instance_returned();
  v1::ReturnNote& note = *state.mutable_last_return();
  note.set_from_step(returned.from_step());
  note.set_to_step(returned.to_step());
  note.set_reason(event.reason());
  note.set_comment(event.comment());
  note.set_by(event.actor());
  *note.mutable_at() = event.time();
  if (returned.to_step().empty()) {
    state.set_status(v1::RETURNED);
    state.set_returned_from_step(returned.from_step());
    return;
  }
  // A return to an earlier step asks that step's approvers, and those of
  // the steps after it, to decide again: approvals given before the return
  // no longer count for dedupe, even though the form is the same. (A return
  // to the applicant keeps them: resubmitting an unchanged form does not
  // question them.)
  state.clear_approvals();
  auto& completed = *state.mutable_completed_steps();
  auto it = std::find(completed.begin(), completed.end(), returned.to_step());
  if (it != completed.end()) {
    completed.DeleteSubrange(static_cast<int>(it - completed.begin()),
                             static_cast<int>(completed.end() - it));
  }
}

void ApplyResubmit(v1::InstanceState& state, const v1::Event& event) {
  const auto& resubmitted = event.instance_resubmitted();
  *state.mutable_form() = resubmitted.form();
  if (resubmitted.changes_size() > 0) state.set_form_revision(state.form_revision() + 1);
  state.set_status(v1::RUNNING);
  state.clear_last_return();
  if (resubmitted.resume_at().empty()) state.clear_completed_steps();
}

void CompleteBranch(v1::InstanceState& state, const v1::BranchCompleted& done) {
  for (auto& parallel : *state.mutable_active_parallels()) {
    if (parallel.token() != done.parallel_token()) continue;
    RemoveIf(*parallel.mutable_running_branches(),
             [&](const std::string& b) { return b == done.branch(); });
    parallel.add_completed_branches(done.branch());
  }
}

void JoinParallel(v1::InstanceState& state, const std::string& token) {
  for (const auto& parallel : state.active_parallels()) {
    if (parallel.token() == token && parallel.parent_token().empty()) {
      state.add_completed_steps(parallel.step_id());
    }
  }
  RemoveIf(*state.mutable_active_parallels(),
           [&](const v1::ActiveParallel& p) { return p.token() == token; });
}

void RemoveClock(v1::InstanceState& state, const std::string& token) {
  RemoveIf(*state.mutable_clocks(), [&](const v1::StepClock& c) { return c.token() == token; });
}

void RemoveTimer(v1::InstanceState& state, const std::string& id) {
  RemoveIf(*state.mutable_timers(), [&](const v1::Timer& t) { return t.id() == id; });
}

void ReplaceClock(v1::InstanceState& state, const v1::StepClock& clock) {
  for (auto& existing : *state.mutable_clocks()) {
    if (existing.token() == clock.token()) existing = clock;
  }
}

void ApplySignal(v1::InstanceState& state, const v1::Event& event) {
  const auto& received = event.signal_received();
  if (received.buffered()) {
    auto* buffered = state.add_buffered_signals();
    buffered->set_name(received.name());
    *buffered->mutable_payload() = received.payload();
    *buffered->mutable_received_at() = event.time();
  }
  if (!received.from_buffer()) return;
  auto& signals = *state.mutable_buffered_signals();
  for (int i = 0; i < signals.size(); ++i) {
    if (signals.Get(i).name() == received.name()) {
      signals.DeleteSubrange(i, 1);
      return;
    }
  }
}

absl::Status ApplyTimeEvent(v1::InstanceState& state, const v1::Event& event) {
  switch (event.body_case()) {
    case v1::Event::kTimerSet:
      *state.add_timers() = event.timer_set().timer();
      state.set_next_timer(state.next_timer() + 1);
      break;
    case v1::Event::kTimerCancelled:
      RemoveTimer(state, event.timer_cancelled().timer_id());
      break;
    case v1::Event::kTimerFired:
      RemoveTimer(state, event.timer_fired().timer_id());
      break;
    case v1::Event::kClockStarted:
      *state.add_clocks() = event.clock_started().clock();
      break;
    case v1::Event::kClockPaused:
      ReplaceClock(state, event.clock_paused().clock());
      break;
    case v1::Event::kClockResumed:
      ReplaceClock(state, event.clock_resumed().clock());
      break;
    case v1::Event::kDeadlineExtended:
      ReplaceClock(state, event.deadline_extended().clock());
      break;
    case v1::Event::kClockAdvanced:
      ReplaceClock(state, event.clock_advanced().clock());
      break;
    case v1::Event::kSlaBreached:
      state.set_sla_breached(true);
      break;
    case v1::Event::kSignalReceived:
      ApplySignal(state, event);
      break;
    default:
      return absl::InternalError("not a time event");
  }
  return absl::OkStatus();
}

void CompleteStep(v1::InstanceState& state, const v1::StepCompleted& done) {
  RemoveClock(state, done.token());
  for (const auto& step : state.active_steps()) {
    if (step.token() == done.token() && step.parent_token().empty() && !done.rejected()) {
      state.add_completed_steps(step.step_id());
    }
  }
  RemoveIf(*state.mutable_active_steps(),
           [&](const v1::ActiveStep& s) { return s.token() == done.token(); });
}

void CancelStep(v1::InstanceState& state, const std::string& token) {
  RemoveClock(state, token);
  RemoveIf(*state.mutable_active_steps(),
           [&](const v1::ActiveStep& s) { return s.token() == token; });
  RemoveIf(*state.mutable_active_parallels(),
           [&](const v1::ActiveParallel& p) { return p.token() == token; });
}

// Only reservations stay with the instance; what it consumed is the
// ledger's.
void ApplyLedgerMove(v1::InstanceState& state, const v1::LedgerMoved& moved) {
  if (moved.reserved_delta_cents() == 0) return;
  auto& holds = *state.mutable_ledger_holds();
  const std::string key = PositionKey(moved.position());
  for (int i = 0; i < holds.size(); ++i) {
    if (PositionKey(holds.Get(i).position()) != key) continue;
    const int64_t left = holds.Get(i).amount_cents() + moved.reserved_delta_cents();
    if (left > 0) {
      holds.Mutable(i)->set_amount_cents(left);
    } else {
      holds.DeleteSubrange(i, 1);
    }
    return;
  }
  if (moved.reserved_delta_cents() < 0) return;
  v1::LedgerHold* hold = state.add_ledger_holds();
  *hold->mutable_position() = moved.position();
  hold->set_amount_cents(moved.reserved_delta_cents());
}

absl::Status ApplyTaskEvent(v1::InstanceState& state, const v1::Event& event) {
  switch (event.body_case()) {
    case v1::Event::kTaskCreated:
      *state.add_tasks() = event.task_created().task();
      state.set_next_task(state.next_task() + 1);
      return absl::OkStatus();
    case v1::Event::kTaskUpdated:
      return ReplaceTask(state, event.task_updated().task());
    case v1::Event::kTaskCancelled:
      return ReplaceTask(state, event.task_cancelled().task());
    case v1::Event::kTaskCompleted: {
      absl::Status status = ReplaceTask(state, event.task_completed().task());
      if (status.ok() && event.actor() != kSystemActor) {
        RecordApproval(state, event.task_completed().task());
      }
      MergeResult(state, event.task_completed().task());
      return status;
    }
    case v1::Event::kJobFailed:
      return ReplaceTask(state, event.job_failed().task());
    case v1::Event::kIncidentRaised:
      return ReplaceTask(state, event.incident_raised().task());
    case v1::Event::kIncidentResolved:
      return ReplaceTask(state, event.incident_resolved().task());
    case v1::Event::kJobErrorThrown:
      return ReplaceTask(state, event.job_error_thrown().task());
    case v1::Event::kTaskReminded:
      for (auto& task : *state.mutable_tasks()) {
        if (task.id() == event.task_id()) task.set_reminders(event.task_reminded().reminders());
      }
      return absl::OkStatus();
    default:
      return absl::InternalError("not a task event");
  }
}

}  // namespace

absl::Status Evolve(v1::InstanceState& state, const v1::Event& event) {
  *state.mutable_updated_at() = event.time();
  switch (event.body_case()) {
    case v1::Event::kInstanceStarted:
      ApplyStart(state, event);
      break;
    case v1::Event::kStepEntered:
      *state.add_active_steps() = event.step_entered().step();
      state.set_next_token(state.next_token() + 1);
      break;
    case v1::Event::kParallelStarted:
      *state.add_active_parallels() = event.parallel_started().parallel();
      state.set_next_token(state.next_token() + 1);
      break;
    case v1::Event::kBranchCompleted:
      CompleteBranch(state, event.branch_completed());
      break;
    case v1::Event::kParallelJoined:
      JoinParallel(state, event.parallel_joined().parallel_token());
      break;
    case v1::Event::kStepCompleted:
      ForgetPausedWait(state, event.step_completed().token());
      CompleteStep(state, event.step_completed());
      break;
    case v1::Event::kStepCancelled:
      ForgetPausedWait(state, event.step_cancelled().token());
      CancelStep(state, event.step_cancelled().token());
      break;
    case v1::Event::kWaitPaused: {
      v1::PausedWait* paused = state.add_paused_waits();
      paused->set_token(event.wait_paused().token());
      paused->set_step_id(event.step_id());
      paused->set_remaining_seconds(event.wait_paused().remaining_seconds());
      *paused->mutable_paused_at() = event.time();
      break;
    }
    case v1::Event::kWaitResumed:
      ForgetPausedWait(state, event.wait_resumed().token());
      break;
    case v1::Event::kWaitExtended:
      break;
    case v1::Event::kTaskCreated:
    case v1::Event::kTaskUpdated:
    case v1::Event::kTaskCompleted:
    case v1::Event::kTaskCancelled:
    case v1::Event::kTaskReminded:
    case v1::Event::kJobFailed:
    case v1::Event::kIncidentRaised:
    case v1::Event::kIncidentResolved:
    case v1::Event::kJobErrorThrown:
      return ApplyTaskEvent(state, event);
    case v1::Event::kInstanceReturned:
      ApplyReturn(state, event);
      break;
    case v1::Event::kInstanceResubmitted:
      ApplyResubmit(state, event);
      break;
    case v1::Event::kInstanceFinished:
      ApplyFinish(state, event);
      break;
    case v1::Event::kAppealFiled:
      state.set_status(v1::RUNNING);
      state.set_appeals(state.appeals() + 1);
      state.clear_finished_at();
      state.clear_outcome_reason();
      state.clear_outcome_comment();
      state.clear_outcome();
      state.clear_completed_steps();
      state.clear_appeal_until();
      break;
    case v1::Event::kTimerSet:
    case v1::Event::kTimerCancelled:
    case v1::Event::kTimerFired:
    case v1::Event::kClockStarted:
    case v1::Event::kClockPaused:
    case v1::Event::kClockResumed:
    case v1::Event::kDeadlineExtended:
    case v1::Event::kClockAdvanced:
    case v1::Event::kSlaBreached:
    case v1::Event::kSignalReceived:
      return ApplyTimeEvent(state, event);
    case v1::Event::kLedgerMoved:
      ApplyLedgerMove(state, event.ledger_moved());
      break;
    case v1::Event::kLedgerExceeded:
    case v1::Event::kApproverSkipped:
    case v1::Event::kCommentAdded:
    case v1::Event::kCcSent:
    case v1::Event::kTaskEscalated:
    case v1::Event::kSampleDrawn:
    case v1::Event::kQuorumShort:
      break;
    default:
      return absl::InternalError(absl::StrCat("event ", event.instance_seq(), " has no body"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::InstanceState> Replay(const std::vector<v1::Event>& events) {
  v1::InstanceState state;
  for (const auto& event : events) {
    absl::Status status = Evolve(state, event);
    if (!status.ok()) return status;
  }
  return state;
}

}  // namespace signoff::workflow
