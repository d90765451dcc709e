#include "server/app/views.h"

#include "workflow/definition_index.h"
#include "workflow/engine.h"
#include "workflow/time_util.h"

namespace signoff::app {

namespace {

const v1::Step* StepIn(const v1::WorkflowDefinition& definition, const std::string& id) {
  for (const auto& step : definition.steps()) {
    if (step.id() == id) return &step;
  }
  return nullptr;
}

}  // namespace

std::vector<v1::WaitView> WaitsOf(const v1::InstanceState& state,
                                  const v1::WorkflowDefinition& definition) {
  std::vector<v1::WaitView> waits;
  for (const auto& active : state.active_steps()) {
    const v1::Step* step = StepIn(definition, active.step_id());
    if (step == nullptr || !step->has_wait()) continue;
    v1::WaitView& wait = waits.emplace_back();
    wait.set_step_id(active.step_id());
    wait.set_token(active.token());
    wait.set_signal(step->wait().signal());
    for (const auto& timer : state.timers()) {
      if (timer.kind() == v1::TIMER_WAIT && timer.token() == active.token()) {
        *wait.mutable_due_at() = timer.fire_at();
      }
    }
    for (const auto& paused : state.paused_waits()) {
      if (paused.token() != active.token()) continue;
      wait.set_paused(true);
      wait.set_remaining_seconds(paused.remaining_seconds());
    }
  }
  return waits;
}

void ShowTask(v1::Task& task, const v1::WorkflowDefinition& definition,
              const v1::InstanceState* state, absl::Time now) {
  task.set_overdue(task.status() == v1::PENDING && task.has_due_at() &&
                   workflow::FromTimestamp(task.due_at()) < now);
  if (task.status() == v1::PENDING || task.status() == v1::WAITING) {
    *task.mutable_actions() = workflow::TaskActionsFor(definition, task, state);
  }
}

v1::InstanceView ViewOf(const v1::InstanceState& state, const v1::WorkflowDefinition& definition,
                        absl::Time now) {
  v1::InstanceView view;
  view.set_id(state.id());
  view.set_definition_key(state.definition_key());
  view.set_definition_version(state.definition_version());
  view.set_status(state.status());
  view.set_applicant(state.applicant());
  view.set_subject(state.subject());
  view.set_filed_for(state.filed_for());
  *view.mutable_form() = state.form();
  view.set_form_revision(state.form_revision());
  for (const auto& step : state.active_steps()) view.add_active_steps(step.step_id());
  for (const auto& task : state.tasks()) {
    if (task.status() == v1::PENDING || task.status() == v1::WAITING) {
      v1::Task* shown = view.add_pending_tasks();
      *shown = task;
      ShowTask(*shown, definition, &state, now);
    }
  }
  *view.mutable_created_at() = state.created_at();
  *view.mutable_updated_at() = state.updated_at();
  if (state.has_finished_at()) *view.mutable_finished_at() = state.finished_at();
  view.set_version(state.version());
  view.set_outcome_reason(state.outcome_reason());
  view.set_outcome_comment(state.outcome_comment());
  if (state.has_last_return()) *view.mutable_last_return() = state.last_return();
  view.set_sla_breached(state.sla_breached());
  view.set_outcome(state.outcome());
  *view.mutable_clocks() = state.clocks();
  // No deadline for an appeal that would be refused: older rejections
  // recorded one even when no appeal was left.
  if (state.has_appeal_until() && workflow::AppealsLeft(definition, state) > 0) {
    *view.mutable_appeal_until() = state.appeal_until();
  }
  for (auto& wait : WaitsOf(state, definition)) *view.add_waits() = std::move(wait);
  return view;
}

void InstanceReply(const v1::InstanceState& state, const v1::WorkflowDefinition& definition,
                   google::protobuf::Message& reply) {
  *static_cast<v1::InstanceResponse&>(reply).mutable_instance() =
      ViewOf(state, definition, absl::InfinitePast());
}

const v1::Task* TaskIn(const v1::InstanceState& state, const std::string& task_id) {
  for (const auto& task : state.tasks()) {
    if (task.id() == task_id) return &task;
  }
  return nullptr;
}

}  // namespace signoff::app
