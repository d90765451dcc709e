#include "workflow/engine.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"
#include "workflow/approvers.h"
#include "workflow/conditions.h"
#include "workflow/definition_index.h"
#include "workflow/errors.h"
#include "workflow/form.h"
#include "workflow/status_macros.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;
using google::protobuf::util::TimeUtil;

namespace {

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

bool IsOpen(const v1::Task& task) {
  return task.status() == v1::PENDING || task.status() == v1::WAITING;
}

bool Approves(const v1::Task& task) {
  return task.status() == v1::DONE &&
         (task.decision() == v1::APPROVE || task.decision() == v1::COMPLETE);
}

bool Rejects(const v1::Task& task) {
  return task.status() == v1::DONE && task.decision() == v1::REJECT;
}

template <typename T>
bool Contains(const std::vector<T>& items, const T& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// One command's worth of decisions. Every change goes through Emit, which
// folds the event into the scratch state, so later decisions in the same
// command see earlier ones.
class Machine {
 public:
  Machine(const v1::WorkflowDefinition& definition, v1::InstanceState state,
          const Context& context)
      : definition_(definition),
        index_(definition),
        state_(std::move(state)),
        context_(context) {}

  absl::Status Execute(const v1::Command& command) {
    switch (command.kind_case()) {
      case v1::Command::kStart:
        return Start(command.start());
      case v1::Command::kDecide:
        return Decide(command.decide());
      case v1::Command::kClaim:
        return Claim(command.claim());
      case v1::Command::kRemind:
        return Remind(command.remind());
      case v1::Command::kWithdraw:
        return Withdraw(command.withdraw());
      case v1::Command::kResubmit:
        return Resubmit(command.resubmit());
      case v1::Command::kAppeal:
        return Appeal(command.appeal());
      case v1::Command::kCancel:
        return Cancel(command.cancel());
      default:
        return absl::InvalidArgumentError("empty command");
    }
  }

  Transition Take() { return {std::move(state_), std::move(events_)}; }

 private:
  // ------------------------------------------------------------ events

  v1::Event NewEvent(const std::string& step_id = "", const std::string& task_id = "") {
    v1::Event event;
    event.set_step_id(step_id);
    event.set_task_id(task_id);
    return event;
  }

  absl::Status Emit(v1::Event event, const std::string& actor = "") {
    event.set_instance_id(state_.id().empty() ? context_.new_instance_id : state_.id());
    *event.mutable_time() = ToTimestamp(context_.now);
    event.set_actor(actor.empty() ? context_.actor : actor);
    if (actor.empty()) event.set_on_behalf_of(on_behalf_of_);
    const auto* descriptor = event.GetDescriptor()->FindOneofByName("body");
    const auto* body = event.GetReflection()->GetOneofFieldDescriptor(event, descriptor);
    if (body != nullptr) event.set_type(body->name());
    RETURN_IF_ERROR(Evolve(state_, event));
    events_.push_back(std::move(event));
    return absl::OkStatus();
  }

  absl::Status EmitTask(const v1::Task& task, v1::Event::BodyCase kind,
                        const std::string& actor = "", const std::string& reason = "",
                        const std::string& comment = "") {
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

  const v1::Task* FindTask(const std::string& id) const {
    for (const auto& task : state_.tasks()) {
      if (task.id() == id) return &task;
    }
    return nullptr;
  }

  std::optional<v1::ActiveStep> FindActive(const std::string& token) const {
    for (const auto& step : state_.active_steps()) {
      if (step.token() == token) return step;
    }
    return std::nullopt;
  }

  std::optional<v1::ActiveParallel> FindParallel(const std::string& token) const {
    for (const auto& parallel : state_.active_parallels()) {
      if (parallel.token() == token) return parallel;
    }
    return std::nullopt;
  }

  const v1::Step& StepOf(const std::string& id) const {
    const v1::Step* step = index_.Find(id);
    static const v1::Step kMissing;
    return step == nullptr ? kMissing : *step;
  }

  const Directory& directory() const { return *context_.directory; }

  bool IsAdmin(const std::string& user) const {
    return directory().HoldsRole(user, AdminRole(definition_));
  }

  absl::Status RequireStatus(std::initializer_list<v1::InstanceStatus> allowed) const {
    for (auto status : allowed) {
      if (state_.status() == status) return absl::OkStatus();
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "instance ", state_.id(), " is ", v1::InstanceStatus_Name(state_.status())));
  }

  absl::Status RequireApplicant(const char* what) const {
    if (context_.actor == state_.applicant()) return absl::OkStatus();
    return absl::PermissionDeniedError(absl::StrCat(
        "only the applicant (", state_.applicant(), ") may ", what, " instance ", state_.id()));
  }

  // ------------------------------------------------------------ commands

  absl::Status Start(const v1::StartInstanceRequest& request) {
    if (!state_.id().empty()) return absl::AlreadyExistsError("instance already started");
    RETURN_IF_ERROR(ValidateForm(definition_.form(), request.form(), directory()));
    v1::Event event = NewEvent();
    auto* started = event.mutable_instance_started();
    started->set_definition_key(definition_.key());
    started->set_definition_version(request.definition_version());
    started->set_applicant(context_.actor);
    *started->mutable_form() = request.form();
    if (definition_.has_subject()) {
      auto it = request.form().fields().find(definition_.subject().field());
      if (it != request.form().fields().end()) started->set_subject(AsText(it->second));
    }
    RETURN_IF_ERROR(Emit(std::move(event)));
    return EnterStep(index_.start_step(), "", "");
  }

  absl::Status Decide(const v1::DecideTaskRequest& request) {
    RETURN_IF_ERROR(RequireStatus({v1::RUNNING}));
    const v1::Task* found = FindTask(request.task_id());
    if (found == nullptr) {
      return absl::NotFoundError(absl::StrCat("no task ", request.task_id()));
    }
    v1::Task task = *found;
    RETURN_IF_ERROR(RequireDecidable(task));
    RETURN_IF_ERROR(Authorize(task));
    task = *FindTask(task.id());
    const v1::Step& step = StepOf(task.step_id());
    const v1::Action action = NormalizeAction(step, request.action());
    RETURN_IF_ERROR(CheckActionAllowed(step, action, request.comment()));
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

  absl::Status Claim(const v1::ClaimTaskRequest& request) {
    RETURN_IF_ERROR(RequireStatus({v1::RUNNING}));
    const v1::Task* found = FindTask(request.id());
    if (found == nullptr) return absl::NotFoundError(absl::StrCat("no task ", request.id()));
    v1::Task task = *found;
    RETURN_IF_ERROR(RequireDecidable(task));
    if (!task.has_candidate_group()) {
      return absl::FailedPreconditionError(
          absl::StrCat("task ", task.id(), " is not offered to a candidate group"));
    }
    if (!task.assignee().empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("task ", task.id(), " is already claimed by ", task.assignee()));
    }
    return Authorize(task);
  }

  absl::Status Remind(const v1::RemindTaskRequest& request) {
    RETURN_IF_ERROR(RequireStatus({v1::RUNNING}));
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

  absl::Status Withdraw(const v1::WithdrawInstanceRequest& request) {
    RETURN_IF_ERROR(RequireApplicant("withdraw"));
    RETURN_IF_ERROR(RequireStatus({v1::RUNNING, v1::RETURNED}));
    return FinishInstance(v1::WITHDRAWN, request.comment(), "");
  }

  absl::Status Cancel(const v1::CancelInstanceRequest& request) {
    if (!IsAdmin(context_.actor)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cancelling needs the ", AdminRole(definition_), " role"));
    }
    RETURN_IF_ERROR(RequireStatus({v1::RUNNING, v1::RETURNED}));
    if (request.comment().empty()) {
      return InvalidArgumentWithViolations("a cancel needs a comment",
                                           {{"comment", "is required"}});
    }
    return FinishInstance(v1::CANCELLED, request.comment(), "");
  }

  absl::Status Resubmit(const v1::ResubmitInstanceRequest& request) {
    RETURN_IF_ERROR(RequireApplicant("resubmit"));
    RETURN_IF_ERROR(RequireStatus({v1::RETURNED}));
    RETURN_IF_ERROR(ValidateForm(definition_.form(), request.form(), directory()));
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
    RETURN_IF_ERROR(Emit(std::move(event)));
    return EnterStep(resume_at.empty() ? index_.start_step() : resume_at, "", "");
  }

  absl::Status Appeal(const v1::AppealInstanceRequest& request) {
    RETURN_IF_ERROR(RequireApplicant("appeal"));
    RETURN_IF_ERROR(RequireStatus({v1::REJECTED}));
    const auto& policy = definition_.appeal();
    if (!policy.allowed()) {
      return absl::FailedPreconditionError(
          absl::StrCat("definition ", definition_.key(), " does not allow appeals"));
    }
    const uint32_t max_appeals = std::max<uint32_t>(1, policy.max_appeals());
    if (static_cast<uint32_t>(state_.appeals()) >= max_appeals) {
      return absl::FailedPreconditionError(
          absl::StrCat("instance ", state_.id(), " has used its ", max_appeals, " appeal(s)"));
    }
    const absl::Time rejected_at =
        absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(state_.finished_at()));
    if (policy.window_days() > 0 &&
        context_.now > rejected_at + absl::Hours(24) * policy.window_days()) {
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
    RETURN_IF_ERROR(Emit(std::move(event)));
    return EnterStep(policy.to_step().empty() ? index_.start_step() : policy.to_step(), "", "");
  }

  // ------------------------------------------------------------ decisions

  absl::Status RequireDecidable(const v1::Task& task) const {
    if (task.status() == v1::PENDING) return absl::OkStatus();
    if (task.status() == v1::WAITING) {
      return absl::FailedPreconditionError(
          absl::StrCat("task ", task.id(), " waits for an earlier approver"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "task ", task.id(), " is already ", v1::TaskStatus_Name(task.status())));
  }

  // The assignee may act; a candidate-group member claims the task by
  // acting on it.
  absl::Status Authorize(const v1::Task& task) {
    if (!task.assignee().empty()) {
      if (task.assignee() == context_.actor) return absl::OkStatus();
      return absl::PermissionDeniedError(absl::StrCat(
          "task ", task.id(), " is assigned to ", task.assignee(), ", not ", context_.actor));
    }
    if (!directory().InGroup(context_.actor, task.candidate_group())) {
      return absl::PermissionDeniedError(absl::StrCat(
          context_.actor, " is not in the candidate group ", task.candidate_group().role(),
          "@", task.candidate_group().department(), " of task ", task.id()));
    }
    v1::Task claimed = task;
    claimed.set_assignee(context_.actor);
    return EmitTask(claimed, v1::Event::kTaskUpdated, "", "claimed");
  }

  static v1::Action NormalizeAction(const v1::Step& step, v1::Action action) {
    if (step.has_approval() && action == v1::COMPLETE) return v1::APPROVE;
    if (!step.has_approval() && action == v1::APPROVE) return v1::COMPLETE;
    return action;
  }

  absl::Status CheckActionAllowed(const v1::Step& step, v1::Action action,
                                  const std::string& comment) const {
    if (action == v1::ACTION_UNSPECIFIED) {
      return InvalidArgumentWithViolations("no action given", {{"action", "is required"}});
    }
    if (!Contains(AllowedActions(step), action)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "step ", step.id(), " does not allow ", v1::Action_Name(action)));
    }
    if (comment.empty() && (Contains(CommentRequired(step), action) || action == v1::COMMENT)) {
      return InvalidArgumentWithViolations(
          absl::StrCat(v1::Action_Name(action), " needs a comment"),
          {{"comment", absl::StrCat("is required for ", v1::Action_Name(action))}});
    }
    return absl::OkStatus();
  }

  v1::Task Decided(v1::Task task, v1::Action action, const v1::DecideTaskRequest& request) {
    task.set_status(v1::DONE);
    task.set_decision(action);
    task.set_comment(request.comment());
    task.set_reason_code(request.reason_code());
    *task.mutable_completed_at() = ToTimestamp(context_.now);
    if (request.has_result()) *task.mutable_result() = request.result();
    return task;
  }

  absl::Status Complete(const v1::Task& task, v1::Action action,
                        const v1::DecideTaskRequest& request) {
    RETURN_IF_ERROR(EmitTask(Decided(task, action, request), v1::Event::kTaskCompleted, "", "",
                             request.comment()));
    return Reconcile(task.token());
  }

  absl::Status Reject(const v1::Task& task, const v1::DecideTaskRequest& request) {
    if (definition_.reject_reasons_size() > 0) {
      bool known = false;
      for (const auto& reason : definition_.reject_reasons()) {
        known = known || reason.code() == request.reason_code();
      }
      if (!known) {
        std::vector<std::string> codes;
        for (const auto& reason : definition_.reject_reasons()) codes.push_back(reason.code());
        return InvalidArgumentWithViolations(
            "a reject needs one of the definition's reason codes",
            {{"reason_code", absl::StrCat("must be one of: ", absl::StrJoin(codes, ", "))}});
      }
    }
    RETURN_IF_ERROR(EmitTask(Decided(task, v1::REJECT, request), v1::Event::kTaskCompleted, "",
                             request.reason_code(), request.comment()));
    return Reconcile(task.token());
  }

  absl::Status Return(const v1::Task& task, const v1::DecideTaskRequest& request) {
    const std::string& target = request.return_to_step();
    if (!target.empty()) {
      const auto& done = state_.completed_steps();
      if (std::find(done.begin(), done.end(), target) == done.end()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "step ", target, " is not an earlier completed step; completed: ",
            absl::StrJoin(done, ", ")));
      }
    }
    RETURN_IF_ERROR(EmitTask(Decided(task, v1::RETURN, request), v1::Event::kTaskCompleted, "",
                             "", request.comment()));
    RETURN_IF_ERROR(CancelEverything());
    v1::Event event = NewEvent(task.step_id(), task.id());
    event.set_comment(request.comment());
    event.mutable_instance_returned()->set_to_step(target);
    event.mutable_instance_returned()->set_from_step(task.step_id());
    RETURN_IF_ERROR(Emit(std::move(event)));
    if (target.empty()) return absl::OkStatus();
    return EnterStep(target, "", "");
  }

  // A user who may take over a task: exists, is enabled, and does not break
  // separation of duties.
  absl::StatusOr<std::string> TargetUser(const v1::Task& task,
                                         const v1::DecideTaskRequest& request) const {
    if (request.users_size() != 1) {
      return InvalidArgumentWithViolations("name exactly one user",
                                           {{"users", "must hold exactly one user id"}});
    }
    const std::string& user = request.users(0);
    const v1::User* found = directory().FindUser(user);
    if (found == nullptr || found->disabled()) {
      return InvalidArgumentWithViolations(
          "unknown user", {{"users[0]", absl::StrCat("unknown user '", user, "'")}});
    }
    if (user == task.assignee()) {
      return InvalidArgumentWithViolations(
          "the task is already theirs", {{"users[0]", "is the current assignee"}});
    }
    if (task.kind() == v1::STEP_APPROVAL && user == state_.applicant() &&
        !definition_.policies().allow_self_approval()) {
      return absl::FailedPreconditionError(
          "the applicant cannot approve their own request (separation of duties)");
    }
    return user;
  }

  absl::Status Reassign(const v1::Task& task, v1::Action action,
                        const v1::DecideTaskRequest& request) {
    ASSIGN_OR_RETURN(std::string user, TargetUser(task, request));
    v1::Task moved = task;
    if (action == v1::DELEGATE) {
      moved.set_delegated_from(task.delegated_from().empty() ? task.assignee()
                                                             : task.delegated_from());
    } else {
      moved.clear_delegated_from();
    }
    moved.set_assignee(user);
    moved.clear_candidate_group();
    const char* reason = action == v1::DELEGATE ? "delegated" : "transferred";
    RETURN_IF_ERROR(EmitTask(moved, v1::Event::kTaskUpdated, "", reason, request.comment()));
    return Reconcile(task.token());
  }

  absl::Status AddSigner(const v1::Task& task, const v1::DecideTaskRequest& request) {
    if (task.kind() != v1::STEP_APPROVAL) {
      return absl::FailedPreconditionError("signers can only be added to approval steps");
    }
    const auto position = request.signer_position();
    if (position == v1::SIGNER_POSITION_UNSPECIFIED) {
      return InvalidArgumentWithViolations(
          "where should the signer go?", {{"signer_position", "must be BEFORE, AFTER or PARALLEL"}});
    }
    ASSIGN_OR_RETURN(std::string user, TargetUser(task, request));
    for (const auto& other : state_.tasks()) {
      if (other.token() == task.token() && IsOpen(other) && other.assignee() == user) {
        return absl::FailedPreconditionError(
            absl::StrCat(user, " already has an open task at this step"));
      }
    }
    const int shift_from = position == v1::BEFORE ? task.order() : task.order() + 1;
    if (position != v1::PARALLEL) RETURN_IF_ERROR(ShiftSlot(task, shift_from));
    v1::Task added = NewTask(task, user);
    added.set_order(position == v1::PARALLEL ? task.order() : shift_from);
    added.set_status(position == v1::AFTER ? v1::WAITING : v1::PENDING);
    added.set_chosen_by(absl::StrCat("added by ", context_.actor, " (",
                                     v1::SignerPosition_Name(position), ")"));
    RETURN_IF_ERROR(EmitTask(added, v1::Event::kTaskCreated, "", "", request.comment()));
    return Reconcile(task.token());
  }

  // Makes room at `from` in a slot: open tasks there and after move down,
  // and a task that stops being first waits.
  absl::Status ShiftSlot(const v1::Task& task, int from) {
    std::vector<v1::Task> moved;
    for (const auto& other : state_.tasks()) {
      if (other.token() == task.token() && other.slot() == task.slot() && IsOpen(other) &&
          other.order() >= from) {
        moved.push_back(other);
      }
    }
    for (auto& other : moved) {
      other.set_order(other.order() + 1);
      other.set_status(v1::WAITING);
      RETURN_IF_ERROR(EmitTask(other, v1::Event::kTaskUpdated, "", "signer added before"));
    }
    return absl::OkStatus();
  }

  absl::Status CarbonCopy(const v1::Task& task, const v1::DecideTaskRequest& request) {
    if (request.users_size() == 0) {
      return InvalidArgumentWithViolations("name someone to copy",
                                           {{"users", "must hold at least one user id"}});
    }
    for (int i = 0; i < request.users_size(); ++i) {
      if (directory().FindUser(request.users(i)) == nullptr) {
        return InvalidArgumentWithViolations(
            "unknown user", {{absl::StrCat("users[", i, "]"),
                              absl::StrCat("unknown user '", request.users(i), "'")}});
      }
    }
    v1::Event event = NewEvent(task.step_id(), task.id());
    event.set_comment(request.comment());
    for (const auto& user : request.users()) event.mutable_cc_sent()->add_users(user);
    return Emit(std::move(event));
  }

  // ------------------------------------------------------------ flow

  absl::Status EnterStep(const std::string& id, const std::string& parent,
                         const std::string& branch) {
    const v1::Step* step = index_.Find(id);
    if (step == nullptr) return absl::InternalError(absl::StrCat("unknown step ", id));
    const std::string token = absl::StrCat("k", state_.next_token() + 1);
    if (step->has_parallel()) return StartParallel(*step, token, parent, branch);
    v1::Event event = NewEvent(id);
    auto* entered = event.mutable_step_entered();
    entered->mutable_step()->set_token(token);
    entered->mutable_step()->set_step_id(id);
    entered->mutable_step()->set_parent_token(parent);
    entered->mutable_step()->set_branch(branch);
    entered->set_kind(KindOf(*step));
    RETURN_IF_ERROR(Emit(std::move(event)));
    if (step->has_end()) return FinishStep(token, false, "");
    return CreateTasks(*step, token);
  }

  const google::protobuf::RepeatedPtrField<v1::ApproverRule>& RulesOf(const v1::Step& step) {
    if (step.has_approval()) return step.approval().approvers();
    if (step.has_task()) return step.task().assignees();
    return step.system().workers();
  }

  absl::Status CreateTasks(const v1::Step& step, const std::string& token) {
    ASSIGN_OR_RETURN(std::vector<Candidate> candidates, CandidatesFor(step));
    if (candidates.empty()) {
      return FinishStep(token, false, "no approvers resolved; the step auto-approves");
    }
    const bool sequential = step.approval().policy() == v1::SEQUENTIAL;
    for (size_t i = 0; i < candidates.size(); ++i) {
      v1::Task task = NewTask({}, candidates[i].user);
      task.set_step_id(step.id());
      task.set_step_name(step.name());
      task.set_kind(KindOf(step));
      task.set_token(token);
      task.set_slot(static_cast<int>(i));
      task.set_chosen_by(candidates[i].chosen_by);
      if (candidates[i].is_group()) *task.mutable_candidate_group() = candidates[i].group;
      task.set_status(sequential && i > 0 ? v1::WAITING : v1::PENDING);
      RETURN_IF_ERROR(EmitTask(task, v1::Event::kTaskCreated));
    }
    return Reconcile(token);
  }

  // The step's approvers after separation of duties and the empty policy.
  // Empty means the step auto-approves.
  absl::StatusOr<std::vector<Candidate>> CandidatesFor(const v1::Step& step) {
    std::vector<Candidate> resolved =
        ResolveApprovers(RulesOf(step), state_.applicant(), state_.form(), directory());
    std::vector<Candidate> candidates;
    const bool forbid_self =
        step.has_approval() && !definition_.policies().allow_self_approval();
    for (auto& candidate : resolved) {
      if (forbid_self && candidate.user == state_.applicant()) {
        v1::Event event = NewEvent(step.id());
        event.set_reason("self-approval is not allowed");
        event.mutable_approver_skipped()->set_user(candidate.user);
        event.mutable_approver_skipped()->set_rule(candidate.chosen_by);
        RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
        continue;
      }
      candidates.push_back(std::move(candidate));
    }
    if (!candidates.empty()) return candidates;
    switch (step.on_empty()) {
      case v1::AUTO_APPROVE:
        return candidates;
      case v1::TO_ADMIN_ROLE: {
        const std::string role =
            step.empty_fallback_role().empty() ? AdminRole(definition_) : step.empty_fallback_role();
        if (!directory().HoldersOf(role, "").empty()) {
          Candidate fallback{"", {}, absl::StrCat("empty fallback role:", role)};
          fallback.group.set_role(role);
          return std::vector<Candidate>{fallback};
        }
        return absl::FailedPreconditionError(absl::StrCat(
            "step ", step.id(), " resolves no approvers and no one holds the fallback role ",
            role));
      }
      default:
        return absl::FailedPreconditionError(absl::StrCat(
            "step ", step.id(), " resolves no approvers for applicant ", state_.applicant(),
            "; fix the directory or the definition's approver rules"));
    }
  }

  v1::Task NewTask(const v1::Task& like, const std::string& assignee) {
    v1::Task task = like;
    task.set_id(absl::StrCat(state_.id(), "-t", state_.next_task() + 1));
    task.set_instance_id(state_.id());
    task.set_definition_key(state_.definition_key());
    task.set_applicant(state_.applicant());
    task.set_subject(state_.subject());
    task.set_assignee(assignee);
    task.clear_candidate_group();
    task.clear_delegated_from();
    task.clear_comment();
    task.clear_decision();
    task.clear_reason_code();
    task.clear_completed_at();
    task.clear_result();
    task.set_reminders(0);
    *task.mutable_created_at() = ToTimestamp(context_.now);
    return task;
  }

  struct SlotTally {
    int slots = 0;
    int approved = 0;
    int rejected = 0;
    // Open slots in slot order, each with its open tasks.
    std::vector<std::vector<v1::Task>> open;
  };

  SlotTally Tally(const std::string& token) const {
    std::map<int, std::vector<v1::Task>> slots;
    for (const auto& task : state_.tasks()) {
      if (task.token() == token && task.status() != v1::TASK_CANCELLED) {
        slots[task.slot()].push_back(task);
      }
    }
    SlotTally tally;
    for (auto& [slot, tasks] : slots) {
      ++tally.slots;
      const bool rejected = std::any_of(tasks.begin(), tasks.end(), Rejects);
      const bool approved = std::all_of(tasks.begin(), tasks.end(), Approves);
      if (rejected) {
        ++tally.rejected;
      } else if (approved) {
        ++tally.approved;
      } else {
        std::vector<v1::Task> open;
        for (auto& task : tasks) {
          if (IsOpen(task)) open.push_back(task);
        }
        tally.open.push_back(std::move(open));
      }
    }
    return tally;
  }

  // nullopt while undecided; otherwise whether the step is rejected.
  static std::optional<bool> PolicyOutcome(const v1::Step& step, const SlotTally& tally) {
    const auto policy = step.has_approval() ? step.approval().policy() : v1::ANY;
    switch (policy) {
      case v1::ALL:
      case v1::SEQUENTIAL:
        if (tally.rejected > 0) return true;
        if (tally.approved == tally.slots) return false;
        return std::nullopt;
      case v1::QUORUM: {
        const int quorum = std::min<int>(static_cast<int>(step.approval().quorum()), tally.slots);
        if (tally.approved >= quorum) return false;
        if (tally.slots - tally.rejected < quorum) return true;
        return std::nullopt;
      }
      default:
        if (tally.approved > 0) return false;
        if (tally.rejected > 0) return true;
        return std::nullopt;
    }
  }

  bool AlreadyApproved(const v1::Task& task) const {
    if (task.kind() != v1::STEP_APPROVAL || task.assignee().empty() ||
        definition_.policies().disable_dedupe()) {
      return false;
    }
    for (const auto& approval : state_.approvals()) {
      if (approval.user() == task.assignee() &&
          approval.form_revision() == state_.form_revision()) {
        return true;
      }
    }
    return false;
  }

  // Brings a step's tasks in line with its policy: decides the step when the
  // policy is met, activates whoever is next, and auto-approves approvers
  // who already approved this form.
  absl::Status Reconcile(const std::string& token) {
    for (int guard = 0; guard < 10000; ++guard) {
      std::optional<v1::ActiveStep> active = FindActive(token);
      if (!active) return absl::OkStatus();
      const v1::Step& step = StepOf(active->step_id());
      SlotTally tally = Tally(token);
      if (auto rejected = PolicyOutcome(step, tally)) return FinishStep(token, *rejected, "");
      ASSIGN_OR_RETURN(bool changed, AdvanceSlots(step, tally));
      if (!changed) return absl::OkStatus();
    }
    return absl::InternalError("reconcile did not settle");
  }

  absl::StatusOr<bool> AdvanceSlots(const v1::Step& step, const SlotTally& tally) {
    const bool sequential = step.approval().policy() == v1::SEQUENTIAL;
    for (const auto& open : tally.open) {
      int first = open.front().order();
      for (const auto& task : open) first = std::min(first, task.order());
      for (const auto& task : open) {
        if (task.order() != first) continue;
        if (task.status() == v1::WAITING) {
          v1::Task active = task;
          active.set_status(v1::PENDING);
          RETURN_IF_ERROR(EmitTask(active, v1::Event::kTaskUpdated, kSystemActor, "their turn"));
          return true;
        }
        if (AlreadyApproved(task)) {
          v1::Task approved = task;
          approved.set_status(v1::DONE);
          approved.set_decision(v1::APPROVE);
          *approved.mutable_completed_at() = ToTimestamp(context_.now);
          RETURN_IF_ERROR(EmitTask(approved, v1::Event::kTaskCompleted, kSystemActor,
                                   "already approved this instance with the same form"));
          return true;
        }
      }
      if (sequential) break;
    }
    return false;
  }

  absl::Status CancelTasksOf(const std::string& token, const std::string& reason) {
    std::vector<v1::Task> open;
    for (const auto& task : state_.tasks()) {
      if (task.token() == token && IsOpen(task)) open.push_back(task);
    }
    for (auto& task : open) {
      task.set_status(v1::TASK_CANCELLED);
      RETURN_IF_ERROR(EmitTask(task, v1::Event::kTaskCancelled, kSystemActor, reason));
    }
    return absl::OkStatus();
  }

  absl::Status FinishStep(const std::string& token, bool rejected, const std::string& reason) {
    std::optional<v1::ActiveStep> active = FindActive(token);
    if (!active) return absl::InternalError(absl::StrCat("no active step ", token));
    const v1::Step& step = StepOf(active->step_id());
    RETURN_IF_ERROR(CancelTasksOf(token, "the step was decided"));
    v1::Event event = NewEvent(step.id());
    event.set_reason(reason);
    event.mutable_step_completed()->set_token(token);
    event.mutable_step_completed()->set_rejected(rejected);
    RETURN_IF_ERROR(Emit(std::move(event), reason.empty() ? "" : kSystemActor));
    if (step.has_end()) {
      return FinishInstance(step.end().rejected() ? v1::REJECTED : v1::APPROVED, "",
                            step.id());
    }
    if (rejected) {
      if (step.on_reject().empty()) {
        return FinishInstance(v1::REJECTED, "", step.id());
      }
      RETURN_IF_ERROR(CancelEverything());
      return EnterStep(step.on_reject(), "", "");
    }
    RETURN_IF_ERROR(SendCc(step.cc(), step.id()));
    return Advance(step, active->parent_token(), active->branch());
  }

  absl::Status Advance(const v1::Step& step, const std::string& parent,
                       const std::string& branch) {
    for (const auto& route : step.next()) {
      if (!route.has_when() || Evaluate(route.when(), state_.form())) {
        return EnterStep(route.to(), parent, branch);
      }
    }
    if (step.next_size() == 0 && !parent.empty()) return CompleteBranch(parent, branch);
    return absl::FailedPreconditionError(
        absl::StrCat("no route out of step ", step.id(), " holds for this form"));
  }

  absl::Status StartParallel(const v1::Step& step, const std::string& token,
                             const std::string& parent, const std::string& branch) {
    std::vector<const v1::Branch*> branches;
    for (const auto& candidate : step.parallel().branches()) {
      if (!candidate.has_when() || Evaluate(candidate.when(), state_.form())) {
        branches.push_back(&candidate);
      }
    }
    v1::Event event = NewEvent(step.id());
    auto* parallel = event.mutable_parallel_started()->mutable_parallel();
    parallel->set_token(token);
    parallel->set_step_id(step.id());
    parallel->set_parent_token(parent);
    parallel->set_branch(branch);
    for (const auto* started : branches) parallel->add_running_branches(started->id());
    RETURN_IF_ERROR(Emit(std::move(event)));
    if (branches.empty()) return JoinParallel(token);
    for (const auto* started : branches) {
      if (!FindParallel(token)) break;
      RETURN_IF_ERROR(EnterStep(started->start(), token, started->id()));
    }
    return absl::OkStatus();
  }

  absl::Status CompleteBranch(const std::string& parallel_token, const std::string& branch) {
    v1::Event event = NewEvent();
    event.mutable_branch_completed()->set_parallel_token(parallel_token);
    event.mutable_branch_completed()->set_branch(branch);
    RETURN_IF_ERROR(Emit(std::move(event)));
    std::optional<v1::ActiveParallel> parallel = FindParallel(parallel_token);
    if (!parallel) return absl::InternalError("branch of an unknown parallel");
    const auto& spec = StepOf(parallel->step_id()).parallel();
    const int done = parallel->completed_branches_size();
    const int total = done + parallel->running_branches_size();
    int needed = total;
    if (spec.join() == v1::JOIN_ANY) needed = std::min(1, total);
    if (spec.join() == v1::JOIN_N) needed = std::min<int>(static_cast<int>(spec.n()), total);
    if (done >= needed) return JoinParallel(parallel_token);
    return absl::OkStatus();
  }

  absl::Status JoinParallel(const std::string& token) {
    std::optional<v1::ActiveParallel> parallel = FindParallel(token);
    if (!parallel) return absl::InternalError("join of an unknown parallel");
    RETURN_IF_ERROR(CancelUnder(token));
    const v1::Step& step = StepOf(parallel->step_id());
    v1::Event event = NewEvent(step.id());
    event.mutable_parallel_joined()->set_parallel_token(token);
    RETURN_IF_ERROR(Emit(std::move(event)));
    RETURN_IF_ERROR(SendCc(step.cc(), step.id()));
    return Advance(step, parallel->parent_token(), parallel->branch());
  }

  absl::Status CancelStep(const std::string& token, const std::string& step_id) {
    RETURN_IF_ERROR(CancelTasksOf(token, "the instance moved on"));
    v1::Event event = NewEvent(step_id);
    event.mutable_step_cancelled()->set_token(token);
    return Emit(std::move(event), kSystemActor);
  }

  // Cancels everything running inside a parallel's branches.
  absl::Status CancelUnder(const std::string& parallel_token) {
    std::vector<v1::ActiveStep> steps;
    for (const auto& step : state_.active_steps()) {
      if (step.parent_token() == parallel_token) steps.push_back(step);
    }
    for (const auto& step : steps) RETURN_IF_ERROR(CancelStep(step.token(), step.step_id()));
    std::vector<v1::ActiveParallel> nested;
    for (const auto& parallel : state_.active_parallels()) {
      if (parallel.parent_token() == parallel_token) nested.push_back(parallel);
    }
    for (const auto& parallel : nested) {
      RETURN_IF_ERROR(CancelUnder(parallel.token()));
      RETURN_IF_ERROR(CancelStep(parallel.token(), parallel.step_id()));
    }
    return absl::OkStatus();
  }

  absl::Status CancelEverything() {
    std::vector<v1::ActiveStep> steps(state_.active_steps().begin(),
                                      state_.active_steps().end());
    for (const auto& step : steps) RETURN_IF_ERROR(CancelStep(step.token(), step.step_id()));
    std::vector<v1::ActiveParallel> parallels(state_.active_parallels().begin(),
                                              state_.active_parallels().end());
    for (const auto& parallel : parallels) {
      RETURN_IF_ERROR(CancelStep(parallel.token(), parallel.step_id()));
    }
    return absl::OkStatus();
  }

  absl::Status FinishInstance(v1::InstanceStatus status, const std::string& comment,
                              const std::string& step_id) {
    RETURN_IF_ERROR(CancelEverything());
    v1::Event event = NewEvent(step_id);
    event.set_comment(comment);
    event.mutable_instance_finished()->set_status(status);
    RETURN_IF_ERROR(Emit(std::move(event)));
    return SendCc(definition_.cc_on_finish(), step_id);
  }

  absl::Status SendCc(const google::protobuf::RepeatedPtrField<v1::ApproverRule>& rules,
                      const std::string& step_id) {
    if (rules.empty()) return absl::OkStatus();
    std::set<std::string> users;
    for (const auto& candidate :
         ResolveApprovers(rules, state_.applicant(), state_.form(), directory())) {
      if (!candidate.is_group()) {
        users.insert(candidate.user);
        continue;
      }
      for (const auto& holder :
           directory().HoldersOf(candidate.group.role(), candidate.group.department())) {
        users.insert(holder);
      }
    }
    if (users.empty()) return absl::OkStatus();
    v1::Event event = NewEvent(step_id);
    for (const auto& user : users) event.mutable_cc_sent()->add_users(user);
    return Emit(std::move(event), kSystemActor);
  }

  const v1::WorkflowDefinition& definition_;
  DefinitionIndex index_;
  v1::InstanceState state_;
  const Context& context_;
  std::vector<v1::Event> events_;
  std::string on_behalf_of_;
};

}  // namespace

std::string AdminRole(const v1::WorkflowDefinition& definition) {
  return definition.policies().admin_role().empty() ? kDefaultAdminRole
                                                    : definition.policies().admin_role();
}

absl::StatusOr<Transition> Apply(const v1::WorkflowDefinition& definition,
                                 const v1::InstanceState& state, const v1::Command& command,
                                 const Context& context) {
  if (context.directory == nullptr) return absl::InternalError("no directory in context");
  Machine machine(definition, state, context);
  RETURN_IF_ERROR(machine.Execute(command));
  return machine.Take();
}

}  // namespace signoff::workflow
