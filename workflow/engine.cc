#include "workflow/engine.h"

#include "absl/strings/str_cat.h"
#include "workflow/errors.h"
#include "workflow/form.h"
#include "workflow/machine.h"
#include "workflow/roles.h"

namespace signoff::workflow {

namespace internal {

// ------------------------------------------------------------ events

v1::Event Machine::NewEvent(const std::string& step_id, const std::string& task_id) {
  v1::Event event;
  event.set_step_id(step_id);
  event.set_task_id(task_id);
  return event;
}

absl::Status Machine::Emit(v1::Event event, const std::string& actor) {
  event.set_instance_id(state_.id().empty() ? context_.new_instance_id : state_.id());
  *event.mutable_time() = ToTimestamp(context_.now);
  event.set_actor(actor.empty() ? context_.actor : actor);
  if (actor.empty()) event.set_on_behalf_of(on_behalf_of_);
  const auto* descriptor = event.GetDescriptor()->FindOneofByName("body");
  const auto* body = event.GetReflection()->GetOneofFieldDescriptor(event, descriptor);
  if (body != nullptr) event.set_type(body->name());
  SIGNOFF_RETURN_IF_ERROR(Evolve(state_, event));
  NoteEffects(event);
  events_.push_back(std::move(event));
  return absl::OkStatus();
}

void Machine::NoteEffects(const v1::Event& event) {
  if (event.has_task_created() || event.has_task_updated() || event.has_task_completed() ||
      event.has_task_cancelled() || event.has_task_reminded() || event.has_job_failed() ||
      event.has_incident_raised() || event.has_incident_resolved() ||
      event.has_job_error_thrown()) {
    touched_tasks_.insert(event.task_id());
  }
  if (event.has_timer_set()) {
    changed_timers_[event.timer_set().timer().id()] = event.timer_set().timer();
  }
  if (event.has_timer_cancelled()) changed_timers_[event.timer_cancelled().timer_id()].reset();
  if (event.has_timer_fired()) changed_timers_[event.timer_fired().timer_id()].reset();
  if (event.has_ledger_moved()) {
    const v1::LedgerMoved& moved = event.ledger_moved();
    const v1::Ledger* ledger = FindLedger(definition_, moved.position().ledger());
    const std::string key = PositionKey(moved.position());
    if (ledger != nullptr && !balances_.count(key)) {
      balances_[key] = BalanceAt(balances_, *ledger, moved.position());
    }
    ApplyMovement(balances_[key], moved);
    ledger_moves_.push_back(moved);
  }
}

Transition Machine::Take() {
  Transition transition;
  for (const auto& task : state_.tasks()) {
    if (touched_tasks_.count(task.id())) transition.tasks_touched.push_back(task);
  }
  std::sort(transition.tasks_touched.begin(), transition.tasks_touched.end(),
            [](const v1::Task& a, const v1::Task& b) { return a.id() < b.id(); });
  for (auto& [id, timer] : changed_timers_) {
    if (timer) {
      transition.timers_set.push_back(std::move(*timer));
    } else {
      transition.timers_removed.push_back(id);
    }
  }
  const bool holds_subject = state_.status() == v1::RUNNING || state_.status() == v1::RETURNED;
  if (definition_.subject().unique_open() && !state_.subject().empty() && holds_subject) {
    transition.subject_key = absl::StrCat(state_.definition_key(), "\x1f", state_.subject());
  }
  transition.state = std::move(state_);
  transition.events = std::move(events_);
  transition.ledger_moves = std::move(ledger_moves_);
  return transition;
}

absl::Status Machine::EmitTask(const v1::Task& task, v1::Event::BodyCase kind,
                      const std::string& actor, const std::string& reason,
                      const std::string& comment) {
  v1::Event event = NewEvent(task.step_id(), task.id());
  event.set_reason(reason);
  event.set_comment(comment);
  v1::TaskChanged* changed = nullptr;
  switch (kind) {
    case v1::Event::kTaskCreated: changed = event.mutable_task_created(); break;
    case v1::Event::kTaskCompleted: changed = event.mutable_task_completed(); break;
    case v1::Event::kTaskCancelled: changed = event.mutable_task_cancelled(); break;
    default: changed = event.mutable_task_updated(); break;
  }
  *changed->mutable_task() = task;
  return Emit(std::move(event), actor);
}

// ------------------------------------------------------------ lookups

const v1::Task* Machine::FindTask(const std::string& id) const {
  for (const auto& task : state_.tasks()) {
    if (task.id() == id) return &task;
  }
  return nullptr;
}

std::optional<v1::ActiveStep> Machine::FindActive(const std::string& token) const {
  for (const auto& step : state_.active_steps()) {
    if (step.token() == token) return step;
  }
  return std::nullopt;
}

std::optional<v1::ActiveParallel> Machine::FindParallel(const std::string& token) const {
  for (const auto& parallel : state_.active_parallels()) {
    if (parallel.token() == token) return parallel;
  }
  return std::nullopt;
}

const v1::Step& Machine::StepOf(const std::string& id) const {
  const v1::Step* step = index_.Find(id);
  static const v1::Step kMissing;
  return step == nullptr ? kMissing : *step;
}

// Process admins, through the directory's scoped role or the role the
// definition names. Workflow admins run the catalog, not the cases, so the
// default admin role alone does not make one.
bool Machine::IsAdmin(const std::string& user) const {
  if (directory().HoldsRoleFor(user, kProcessAdminRole, definition_.key())) return true;
  const std::string& named = definition_.policies().admin_role();
  return !named.empty() && directory().HoldsRole(user, named);
}

bool Machine::SubjectIsUser() const {
  for (const auto& field : definition_.form().fields()) {
    if (field.name() == definition_.subject().field()) return field.type() == v1::USER;
  }
  return false;
}

RuleBasis Machine::Basis() const {
  return RuleBasis{state_.applicant(), state_.subject_user(), state_.form()};
}

absl::Status Machine::RequireSubjectForRules(const v1::StartInstanceRequest& request) const {
  if (!UsesSubjectRules(definition_)) return absl::OkStatus();
  const std::string& field = definition_.subject().field();
  auto it = request.form().fields().find(field);
  if (SubjectIsUser() && it != request.form().fields().end() &&
      !AsText(it->second).empty()) {
    return absl::OkStatus();
  }
  return InvalidArgumentWithViolations(
      "the approvers of this definition are found from its subject, and the form names none",
      {{absl::StrCat("form.", field), "is required: approver rules resolve from the subject"}});
}

absl::Status Machine::RequireStatus(std::initializer_list<v1::InstanceStatus> allowed) const {
  for (auto status : allowed) {
    if (state_.status() == status) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "instance ", state_.id(), " is ", v1::InstanceStatus_Name(state_.status())));
}

absl::Status Machine::RequireApplicant(const char* what) const {
  if (context_.actor == state_.applicant()) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "only the applicant (", state_.applicant(), ") may ", what, " instance ", state_.id()));
}

// ------------------------------------------------------------ commands

absl::Status Machine::Start(const v1::StartInstanceRequest& request,
                            const std::string& scheduled_period) {
  if (!state_.id().empty()) return absl::AlreadyExistsError("instance already started");
  SIGNOFF_RETURN_IF_ERROR(ValidateForm(definition_.form(), request.form(), directory()));
  SIGNOFF_RETURN_IF_ERROR(RequireSubjectForRules(request));
  v1::Event event = NewEvent();
  auto* started = event.mutable_instance_started();
  started->set_definition_key(definition_.key());
  started->set_definition_version(request.definition_version());
  started->set_applicant(context_.actor);
  *started->mutable_form() = request.form();
  started->set_scheduled_period(scheduled_period);
  if (definition_.has_subject()) {
    auto it = request.form().fields().find(definition_.subject().field());
    if (it != request.form().fields().end()) started->set_subject(AsText(it->second));
    if (SubjectIsUser()) started->set_subject_user(started->subject());
  }
  if (!started->subject_user().empty() && started->subject_user() != context_.actor) {
    started->set_filed_for(started->subject_user());
    event.set_reason(absl::StrCat("filed by ", context_.actor, " on behalf of subject ",
                                  started->subject_user()));
  }
  std::vector<std::string> managers = directory().ManagerChain(context_.actor);
  const size_t depth = definition_.visibility().managers_above();
  if (managers.size() > depth) managers.resize(depth);
  for (auto& manager : managers) started->add_managers_above(std::move(manager));
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  return EnterStep(index_.start_step(), "", "");
}

absl::Status Machine::Decide(const v1::DecideTaskRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(RequireStatus({v1::RUNNING}));
  const v1::Task* found = FindTask(request.task_id());
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat("no task ", request.task_id()));
  }
  v1::Task task = *found;
  SIGNOFF_RETURN_IF_ERROR(RequireNotJob(task));
  SIGNOFF_RETURN_IF_ERROR(RequireDecidable(task));
  SIGNOFF_RETURN_IF_ERROR(Authorize(task));
  task = *FindTask(task.id());
  const v1::Step& step = StepOf(task.step_id());
  const v1::Action action = request.action();
  SIGNOFF_RETURN_IF_ERROR(CheckActionFitsStep(step, action));
  SIGNOFF_RETURN_IF_ERROR(CheckActionAllowed(step, action, request.comment()));
  on_behalf_of_ = task.delegated_from();
  switch (action) {
    case v1::APPROVE:
    case v1::COMPLETE:
      return Complete(task, action, request);
    case v1::REJECT:
      return Reject(task, request);
    case v1::RETURN:
      return Return(task, request);
    case v1::TRANSFER:
    case v1::DELEGATE:
      return Reassign(task, action, request);
    case v1::ADD_SIGNER:
      return AddSigner(task, request);
    case v1::COMMENT: {
      v1::Event event = NewEvent(task.step_id(), task.id());
      event.set_comment(request.comment());
      event.mutable_comment_added();
      return Emit(std::move(event));
    }
    case v1::CC:
      return CarbonCopy(task, request);
    default:
      return InvalidArgumentWithViolations(
          "unsupported action", {{"action", "must be one of the step's actions"}});
  }
}

absl::StatusOr<v1::Task> Machine::OpenGroupTask(const std::string& id) const {
  SIGNOFF_RETURN_IF_ERROR(RequireStatus({v1::RUNNING}));
  const v1::Task* found = FindTask(id);
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("no task ", id));
  SIGNOFF_RETURN_IF_ERROR(RequireNotJob(*found));
  SIGNOFF_RETURN_IF_ERROR(RequireDecidable(*found));
  if (!found->has_candidate_group()) {
    return absl::FailedPreconditionError(
        absl::StrCat("task ", id, " is not offered to a candidate group"));
  }
  return *found;
}

absl::Status Machine::Claim(const v1::ClaimTaskRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(v1::Task task, OpenGroupTask(request.id()));
  if (!task.assignee().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("task ", task.id(), " is already claimed by ", task.assignee()));
  }
  return Authorize(task);
}

absl::Status Machine::Unclaim(const v1::UnclaimTaskRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(v1::Task task, OpenGroupTask(request.id()));
  if (task.assignee().empty()) {
    return absl::FailedPreconditionError(absl::StrCat("task ", task.id(), " is not claimed"));
  }
  if (task.assignee() != context_.actor && !IsAdmin(context_.actor)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "task ", task.id(), " was claimed by ", task.assignee(),
        "; only they or an administrator may give it back"));
  }
  const std::string claimer = task.assignee();
  task.clear_assignee();
  return EmitTask(task, v1::Event::kTaskUpdated, "",
                  absl::StrCat("unclaimed: back to the group from ", claimer), request.comment());
}

absl::Status Machine::Remind(const v1::RemindTaskRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(RequireStatus({v1::RUNNING}));
  const v1::Task* found = FindTask(request.id());
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("no task ", request.id()));
  if (found->status() != v1::PENDING) {
    return absl::FailedPreconditionError(
        absl::StrCat("task ", found->id(), " is not pending"));
  }
  if (context_.actor != state_.applicant() && !IsAdmin(context_.actor)) {
    return absl::PermissionDeniedError("only the applicant or an administrator may remind");
  }
  if (!Contains(AllowedActions(StepOf(found->step_id())), v1::REMIND)) {
    return absl::FailedPreconditionError(
        absl::StrCat("step ", found->step_id(), " does not allow reminders"));
  }
  v1::Event event = NewEvent(found->step_id(), found->id());
  event.set_comment(request.comment());
  event.mutable_task_reminded()->set_reminders(found->reminders() + 1);
  return Emit(std::move(event));
}

absl::Status Machine::Withdraw(const v1::WithdrawInstanceRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(RequireApplicant("withdraw"));
  SIGNOFF_RETURN_IF_ERROR(RequireStatus({v1::RUNNING, v1::RETURNED}));
  return FinishInstance(v1::WITHDRAWN, request.comment(), "");
}

absl::Status Machine::Cancel(const v1::CancelInstanceRequest& request) {
  if (!IsAdmin(context_.actor)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cancelling needs the ", AdminRole(definition_), " role"));
  }
  SIGNOFF_RETURN_IF_ERROR(RequireStatus({v1::RUNNING, v1::RETURNED}));
  if (request.comment().empty()) {
    return InvalidArgumentWithViolations("a cancel needs a comment",
                                         {{"comment", "is required"}});
  }
  return FinishInstance(v1::CANCELLED, request.comment(), "");
}

absl::Status Machine::Resubmit(const v1::ResubmitInstanceRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(RequireApplicant("resubmit"));
  SIGNOFF_RETURN_IF_ERROR(RequireStatus({v1::RETURNED}));
  SIGNOFF_RETURN_IF_ERROR(ValidateForm(definition_.form(), request.form(), directory()));
  std::string resume_at;
  if (definition_.policies().resubmit_from() == v1::RESUBMIT_FROM_RETURNING_STEP &&
      index_.ScopeOf(state_.returned_from_step()).parallel.empty()) {
    resume_at = state_.returned_from_step();
  }
  v1::Event event = NewEvent();
  event.set_comment(request.comment());
  auto* resubmitted = event.mutable_instance_resubmitted();
  *resubmitted->mutable_form() = request.form();
  for (auto& change : DiffForms(state_.form(), request.form())) {
    *resubmitted->add_changes() = std::move(change);
  }
  resubmitted->set_resume_at(resume_at);
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  return EnterStep(resume_at.empty() ? index_.start_step() : resume_at, "", "");
}

absl::Status Machine::Appeal(const v1::AppealInstanceRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(RequireApplicant("appeal"));
  SIGNOFF_RETURN_IF_ERROR(RequireStatus({v1::REJECTED}));
  const auto& policy = definition_.appeal();
  if (!policy.allowed()) {
    return absl::FailedPreconditionError(
        absl::StrCat("definition ", definition_.key(), " does not allow appeals"));
  }
  if (AppealsLeft(definition_, state_) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("instance ", state_.id(), " has used its ",
                     std::max<uint32_t>(1, policy.max_appeals()), " appeal(s)"));
  }
  if (state_.has_appeal_until() && context_.now > FromTimestamp(state_.appeal_until())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the appeal window closed at ", FormatTimestamp(state_.appeal_until())));
  }
  // Rejected before windows were recorded: count from the rejection.
  if (!state_.has_appeal_until() && policy.window_days() > 0 &&
      context_.now > FromTimestamp(state_.finished_at()) + absl::Hours(24) * policy.window_days()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the appeal window of ", policy.window_days(), " day(s) has closed"));
  }
  if (request.comment().empty()) {
    return InvalidArgumentWithViolations("an appeal needs a comment",
                                         {{"comment", "is required"}});
  }
  v1::Event event = NewEvent();
  event.set_comment(request.comment());
  event.mutable_appeal_filed();
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  return EnterStep(policy.to_step().empty() ? index_.start_step() : policy.to_step(), "", "");
}

}  // namespace internal

namespace v1 = ::signoff::v1;
using internal::Machine;

std::string InstanceIdOfTask(const std::string& task_id) {
  const size_t mark = task_id.rfind("-t");
  if (mark == std::string::npos || mark == 0 || mark + 2 == task_id.size()) return "";
  for (size_t i = mark + 2; i < task_id.size(); ++i) {
    if (task_id[i] < '0' || task_id[i] > '9') return "";
  }
  return task_id.substr(0, mark);
}

std::string AdminRole(const v1::WorkflowDefinition& definition) {
  return definition.policies().admin_role().empty() ? kDefaultAdminRole
                                                    : definition.policies().admin_role();
}

int AppealsLeft(const v1::WorkflowDefinition& definition, const v1::InstanceState& state) {
  const v1::AppealPolicy& policy = definition.appeal();
  if (!policy.allowed()) return 0;
  // max_appeals 0 means one.
  const int64_t allowed = std::max<uint32_t>(1, policy.max_appeals());
  return static_cast<int>(std::max<int64_t>(0, allowed - state.appeals()));
}

absl::StatusOr<Transition> Apply(const v1::WorkflowDefinition& definition,
                                 const v1::InstanceState& state, const v1::Command& command,
                                 const Context& context) {
  if (context.directory == nullptr) return absl::InternalError("no directory in context");
  Machine machine(definition, state, context);
  SIGNOFF_RETURN_IF_ERROR(machine.Execute(command));
  return machine.Take();
}

}  // namespace signoff::workflow
