#include "workflow/engine.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "absl/strings/str_format.h"
#include "workflow/approvers.h"
#include "workflow/calendar.h"
#include "workflow/conditions.h"
#include "workflow/definition_index.h"
#include "workflow/errors.h"
#include "workflow/form.h"
#include "workflow/sla_clock.h"
#include "workflow/status_macros.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;
using google::protobuf::util::TimeUtil;

namespace {

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& stamp) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(stamp));
}

std::string FormatTimestamp(const google::protobuf::Timestamp& stamp) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromTimestamp(stamp), absl::UTCTimeZone());
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
      case v1::Command::kSignal:
        return Signal(command.signal());
      case v1::Command::kPauseClock:
        return PauseClock(command.pause_clock());
      case v1::Command::kResumeClock:
        return ResumeClock(command.resume_clock());
      case v1::Command::kExtendDeadline:
        return ExtendDeadline(command.extend_deadline());
      case v1::Command::kFireTimer:
        return FireTimer(command.fire_timer());
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
    if (state_.has_appeal_until() && context_.now > FromTimestamp(state_.appeal_until())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the appeal window closed at ", FormatTimestamp(state_.appeal_until())));
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

  static absl::Status RequireReasonCode(
      const google::protobuf::RepeatedPtrField<v1::ReasonCode>& codes, const std::string& given,
      const char* what) {
    if (codes.empty()) return absl::OkStatus();
    std::vector<std::string> known;
    for (const auto& reason : codes) {
      if (reason.code() == given) return absl::OkStatus();
      known.push_back(reason.code());
    }
    return InvalidArgumentWithViolations(
        absl::StrCat(what, " needs one of the definition's reason codes"),
        {{"reason_code", absl::StrCat("must be one of: ", absl::StrJoin(known, ", "))}});
  }

  absl::Status Reject(const v1::Task& task, const v1::DecideTaskRequest& request) {
    RETURN_IF_ERROR(RequireReasonCode(definition_.reject_reasons(), request.reason_code(),
                                      "a reject"));
    RETURN_IF_ERROR(EmitTask(Decided(task, v1::REJECT, request), v1::Event::kTaskCompleted, "",
                             request.reason_code(), request.comment()));
    return Reconcile(task.token());
  }

  absl::Status Return(const v1::Task& task, const v1::DecideTaskRequest& request) {
    RETURN_IF_ERROR(RequireReasonCode(definition_.return_reasons(), request.reason_code(),
                                      "a return"));
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

  // ------------------------------------------------------------ signals

  absl::Status Signal(const v1::SignalInstanceRequest& request) {
    if (request.name().empty()) {
      return InvalidArgumentWithViolations("a signal needs a name", {{"name", "is required"}});
    }
    if (!index_.KnowsSignal(request.name())) {
      return InvalidArgumentWithViolations(
          "unknown signal",
          {{"name", absl::StrCat("definition ", definition_.key(), " waits for no signal '",
                                 request.name(), "'")}});
    }
    if (!IsAdmin(context_.actor) && !IsServiceAccount(context_.actor)) {
      return absl::PermissionDeniedError(
          "only service accounts and administrators may signal instances");
    }
    RETURN_IF_ERROR(RequireStatus({v1::RUNNING, v1::RETURNED}));
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
    RETURN_IF_ERROR(Emit(std::move(event)));
    for (const auto& active : waiting) {
      if (FindActive(active.token())) RETURN_IF_ERROR(FinishStep(active.token(), false, ""));
    }
    return absl::OkStatus();
  }

  bool IsServiceAccount(const std::string& user) const {
    const v1::User* found = directory().FindUser(user);
    return found != nullptr && found->service();
  }

  // ------------------------------------------------------------ timers

  const v1::Timer* FindTimer(const std::string& id) const {
    for (const auto& timer : state_.timers()) {
      if (timer.id() == id) return &timer;
    }
    return nullptr;
  }

  const v1::StepClock* FindClock(const std::string& token) const {
    for (const auto& clock : state_.clocks()) {
      if (clock.token() == token) return &clock;
    }
    return nullptr;
  }

  std::string NextTimerId() const {
    return absl::StrCat(state_.id(), "-m", state_.next_timer() + 1);
  }

  absl::Status SetTimer(const std::string& id, v1::TimerKind kind, const std::string& token,
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

  absl::Status CancelTimer(const std::string& id, const std::string& step_id) {
    v1::Event event = NewEvent(step_id);
    event.mutable_timer_cancelled()->set_timer_id(id);
    return Emit(std::move(event), kSystemActor);
  }

  // Cancels the pending timers of a step that is ending.
  absl::Status StopTimers(const std::string& token) {
    std::vector<v1::Timer> stopping;
    for (const auto& timer : state_.timers()) {
      if (timer.token() == token) stopping.push_back(timer);
    }
    for (const auto& timer : stopping) RETURN_IF_ERROR(CancelTimer(timer.id(), timer.step_id()));
    return absl::OkStatus();
  }

  absl::Status FireTimer(const v1::FireTimer& request) {
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
    RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
    if (timer.kind() == v1::TIMER_WAIT) return WaitRanOut(timer.token());
    return AdvanceClock(timer.token());
  }

  // ------------------------------------------------------------ waits

  absl::Status StartWait(const v1::Step& step, const std::string& token) {
    const v1::WaitStep& wait = step.wait();
    if (!wait.signal().empty()) {
      for (const auto& buffered : state_.buffered_signals()) {
        if (buffered.name() != wait.signal()) continue;
        v1::Event event = NewEvent(step.id());
        auto* received = event.mutable_signal_received();
        received->set_name(buffered.name());
        *received->mutable_payload() = buffered.payload();
        received->set_from_buffer(true);
        RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
        return FinishStep(token, false, "a buffered signal was waiting");
      }
    }
    ASSIGN_OR_RETURN(std::optional<absl::Time> until, WaitDeadline(wait));
    if (!until) return absl::OkStatus();
    return SetTimer(NextTimerId(), v1::TIMER_WAIT, token, step.id(), *until);
  }

  absl::StatusOr<std::optional<absl::Time>> WaitDeadline(const v1::WaitStep& wait) const {
    if (wait.has_duration()) {
      ASSIGN_OR_RETURN(ClockBasis basis, ClockBasis::For(wait.duration(), definition_.calendar(),
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

  absl::Status WaitRanOut(const std::string& token) {
    std::optional<v1::ActiveStep> active = FindActive(token);
    if (!active) return absl::OkStatus();
    const v1::Step& step = StepOf(active->step_id());
    if (step.wait().on_timeout().empty()) return FinishStep(token, false, "the wait ran out");
    RETURN_IF_ERROR(CancelStep(token, step.id()));
    return EnterStep(step.wait().on_timeout(), active->parent_token(), active->branch());
  }

  // ------------------------------------------------------------ SLA clocks

  absl::StatusOr<SlaClock> ClockOf(const v1::Step& step) const {
    return SlaClock::For(step.sla(), definition_.calendar(), context_.calendars);
  }

  absl::Status StartClock(const v1::Step& step, const std::string& token) {
    if (!step.has_sla()) return absl::OkStatus();
    ASSIGN_OR_RETURN(SlaClock sla, ClockOf(step));
    return RecordClock(sla, sla.Start(token, step.id(), context_.now), v1::Event::kClockStarted,
                       kSystemActor, "", "");
  }

  // Records a clock as changed: replaces its timer with one for its next
  // point, and shows the deadline on the step's open tasks.
  absl::Status RecordClock(const SlaClock& sla, v1::StepClock clock, v1::Event::BodyCase kind,
                           const std::string& actor, const std::string& reason,
                           const std::string& comment) {
    if (!clock.timer_id().empty() && FindTimer(clock.timer_id()) != nullptr) {
      RETURN_IF_ERROR(CancelTimer(clock.timer_id(), clock.step_id()));
    }
    clock.clear_timer_id();
    std::optional<absl::Time> fire_at;
    if (clock.has_running_since()) {
      if (std::optional<int64_t> next = sla.NextPoint(clock)) {
        ASSIGN_OR_RETURN(fire_at, sla.TimeAt(clock, *next));
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
    RETURN_IF_ERROR(Emit(std::move(event), actor));
    if (fire_at) {
      RETURN_IF_ERROR(SetTimer(clock.timer_id(), v1::TIMER_SLA, clock.token(), clock.step_id(),
                               *fire_at));
    }
    return ShowClockOnTasks(clock);
  }

  static void ShowClock(const v1::StepClock& clock, v1::Task& task) {
    if (clock.has_due_at()) {
      *task.mutable_due_at() = clock.due_at();
    } else {
      task.clear_due_at();
    }
    task.set_clock_paused(!clock.has_running_since());
    if (clock.breached()) task.set_sla_breached(true);
  }

  absl::Status ShowClockOnTasks(const v1::StepClock& clock) {
    std::vector<v1::Task> changed;
    for (const auto& task : state_.tasks()) {
      if (task.token() != clock.token() || !IsOpen(task)) continue;
      v1::Task shown = task;
      ShowClock(clock, shown);
      if (!google::protobuf::util::MessageDifferencer::Equals(shown, task)) changed.push_back(shown);
    }
    for (const auto& task : changed) {
      RETURN_IF_ERROR(EmitTask(task, v1::Event::kTaskUpdated, kSystemActor, "deadline changed"));
    }
    return absl::OkStatus();
  }

  // A clock timer fired: reminders, escalation rungs and the deadline that
  // the clock has reached, then the timer for the next point.
  absl::Status AdvanceClock(const std::string& token) {
    const v1::StepClock* found = FindClock(token);
    if (found == nullptr) return absl::OkStatus();
    v1::StepClock clock = *found;
    const v1::Step& step = StepOf(clock.step_id());
    ASSIGN_OR_RETURN(SlaClock sla, ClockOf(step));
    const ClockPoints points = sla.Due(clock, sla.Reading(clock, context_.now));
    if (points.remind) RETURN_IF_ERROR(RemindOpenTasks(step, token, points.reminders_sent));
    for (int rung : points.rungs) {
      const v1::EscalationRung& ladder = step.sla().escalations(rung);
      RETURN_IF_ERROR(Escalate(token, ladder.kind(), ladder.to(), rung));
      if (!FindActive(token)) return absl::OkStatus();
    }
    clock.set_reminders_sent(points.reminders_sent);
    if (!points.rungs.empty()) clock.set_escalations_done(points.rungs.back() + 1);
    if (points.breach) clock.set_breached(true);
    RETURN_IF_ERROR(RecordClock(sla, clock, v1::Event::kClockAdvanced, kSystemActor, "", ""));
    if (points.breach) return Breach(step, clock);
    return absl::OkStatus();
  }

  absl::Status RemindOpenTasks(const v1::Step& step, const std::string& token, int32_t count) {
    const uint32_t max = step.sla().reminders().max();
    const std::string reason = max > 0 ? absl::StrCat("reminder ", count, " of ", max)
                                       : absl::StrCat("reminder ", count, " (until done)");
    std::vector<v1::Task> pending;
    for (const auto& task : state_.tasks()) {
      if (task.token() == token && task.status() == v1::PENDING) pending.push_back(task);
    }
    for (const auto& task : pending) {
      v1::Event event = NewEvent(task.step_id(), task.id());
      event.set_reason(reason);
      event.mutable_task_reminded()->set_reminders(task.reminders() + 1);
      RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
    }
    return absl::OkStatus();
  }

  absl::Status Breach(const v1::Step& step, const v1::StepClock& clock) {
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
    RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
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
        RETURN_IF_ERROR(CancelStep(clock.token(), step.id()));
        return EnterStep(timeout.to_step(), active->parent_token(), active->branch());
      }
      default:
        return absl::OkStatus();
    }
  }

  // Who an escalation of `task` goes to: one user, a candidate group, or
  // (notifying a role) its holders.
  Candidate EscalationTargetOf(const v1::EscalationTarget& target, const v1::Task& task) const {
    Candidate candidate;
    if (!target.user().empty()) {
      candidate.user = target.user();
      candidate.chosen_by = absl::StrCat("escalation user:", target.user());
    } else if (target.manager_level() > 0) {
      const std::string& of = task.assignee().empty() ? state_.applicant() : task.assignee();
      std::vector<std::string> chain = directory().ManagerChain(of);
      if (target.manager_level() <= chain.size()) {
        candidate.user = chain[target.manager_level() - 1];
        candidate.chosen_by =
            absl::StrCat("escalation manager_level:", target.manager_level(), " of ", of);
      }
    } else if (target.has_role()) {
      const v1::User* applicant = directory().FindUser(state_.applicant());
      candidate.group.set_role(target.role().name());
      candidate.group.set_department(
          !target.role().department().empty() ? target.role().department()
          : applicant != nullptr              ? applicant->department()
                                              : "");
      candidate.chosen_by = absl::StrCat("escalation role:", target.role().name());
    }
    return candidate;
  }

  absl::Status Escalate(const std::string& token, v1::EscalationKind kind,
                        const v1::EscalationTarget& target, int rung) {
    std::vector<v1::Task> pending;
    for (const auto& task : state_.tasks()) {
      if (task.token() == token && task.status() == v1::PENDING) pending.push_back(task);
    }
    const bool reassign = kind == v1::ESCALATE_REASSIGN;
    for (const auto& task : pending) {
      Candidate to = EscalationTargetOf(target, task);
      if (to.user.empty() && to.group.role().empty()) {
        RETURN_IF_ERROR(RecordEscalation(task, kind, rung, {}, {}, "no one to escalate to"));
        continue;
      }
      std::vector<std::string> users;
      if (!to.user.empty()) {
        users.push_back(to.user);
      } else if (!reassign || !target.role().candidate_group()) {
        users = directory().HoldersOf(to.group.role(), to.group.department());
      }
      if (!reassign) {
        RETURN_IF_ERROR(RecordEscalation(task, kind, rung, users, {}, to.chosen_by));
        continue;
      }
      RETURN_IF_ERROR(Reassign(task, to, users, rung));
    }
    return reassign ? Reconcile(token) : absl::OkStatus();
  }

  absl::Status Reassign(const v1::Task& task, const Candidate& to,
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
    RETURN_IF_ERROR(RecordEscalation(task, v1::ESCALATE_REASSIGN, rung, users, to.group,
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

  bool HoldsOpenTask(const std::string& token, const std::string& user) const {
    if (user.empty()) return false;
    for (const auto& task : state_.tasks()) {
      if (task.token() == token && IsOpen(task) && task.assignee() == user) return true;
    }
    return false;
  }

  absl::Status RecordEscalation(const v1::Task& task, v1::EscalationKind kind, int rung,
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

  // The open task a clock operation names, its step's clock, and whether
  // the caller may operate it.
  absl::StatusOr<v1::StepClock> ClockOperand(const std::string& task_id, v1::Action needed) const {
    RETURN_IF_ERROR(RequireStatus({v1::RUNNING}));
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

  absl::Status PauseClock(const v1::ClockRequest& request) {
    ASSIGN_OR_RETURN(v1::StepClock clock, ClockOperand(request.task_id(), v1::PAUSE_CLOCK));
    if (!clock.has_running_since()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the clock of step ", clock.step_id(), " is already paused"));
    }
    ASSIGN_OR_RETURN(SlaClock sla, ClockOf(StepOf(clock.step_id())));
    sla.Pause(clock, context_.now);
    return RecordClock(sla, clock, v1::Event::kClockPaused, "", "paused", request.comment());
  }

  absl::Status ResumeClock(const v1::ClockRequest& request) {
    ASSIGN_OR_RETURN(v1::StepClock clock, ClockOperand(request.task_id(), v1::PAUSE_CLOCK));
    if (clock.has_running_since()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the clock of step ", clock.step_id(), " is not paused"));
    }
    ASSIGN_OR_RETURN(SlaClock sla, ClockOf(StepOf(clock.step_id())));
    const absl::Duration paused_for = context_.now - FromTimestamp(clock.paused_at());
    RETURN_IF_ERROR(sla.Resume(clock, context_.now));
    return RecordClock(sla, clock, v1::Event::kClockResumed, "",
                       absl::StrCat("resumed after ", absl::FormatDuration(paused_for)),
                       request.comment());
  }

  absl::Status ExtendDeadline(const v1::ExtendDeadlineRequest& request) {
    ASSIGN_OR_RETURN(v1::StepClock clock,
                     ClockOperand(request.task_id(), v1::EXTEND_DEADLINE));
    if (clock.due_offset_seconds() <= 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("step ", clock.step_id(), " has no deadline to extend"));
    }
    ASSIGN_OR_RETURN(SlaClock sla, ClockOf(StepOf(clock.step_id())));
    ASSIGN_OR_RETURN(int64_t seconds, ExtensionSeconds(sla, clock, request));
    RETURN_IF_ERROR(sla.Extend(clock, seconds, context_.now));
    return RecordClock(sla, clock, v1::Event::kDeadlineExtended, "",
                       absl::StrCat("extended by ", absl::FormatDuration(absl::Seconds(seconds)),
                                    sla.basis().name().empty()
                                        ? ""
                                        : absl::StrCat(" of working time on ", sla.basis().name())),
                       request.comment());
  }

  absl::StatusOr<int64_t> ExtensionSeconds(const SlaClock& sla, const v1::StepClock& clock,
                                           const v1::ExtendDeadlineRequest& request) const {
    if (request.has_by()) {
      if (CalendarOf(request.by(), definition_.calendar()) != clock.calendar() &&
          (!request.by().calendar().empty() || request.by().business())) {
        return InvalidArgumentWithViolations(
            "an extension counts on the deadline's own clock",
            {{"by", absl::StrCat("leave calendar and business unset; this deadline counts on ",
                                 clock.calendar().empty() ? "elapsed time" : clock.calendar())}});
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
    const absl::Time wanted = FromTimestamp(request.new_due_at());
    const int64_t offset =
        sla.Reading(clock, context_.now) + sla.SecondsUntil(context_.now, wanted);
    if (wanted <= context_.now || offset <= clock.due_offset_seconds()) {
      return InvalidArgumentWithViolations(
          "an extension must move the deadline later",
          {{"new_due_at", absl::StrCat("must be later than now and than the current deadline ",
                                       clock.has_due_at() ? FormatTimestamp(clock.due_at())
                                                          : std::string("(passed)"))}});
    }
    return offset - clock.due_offset_seconds();
  }

  // ------------------------------------------------------------ sampling and appeals

  absl::Status RecordSamples(const v1::Condition& condition, const std::string& step_id) {
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
      RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<absl::Time>> AppealDeadline() const {
    const v1::AppealPolicy& policy = definition_.appeal();
    if (!policy.allowed()) return std::nullopt;
    if (policy.has_window()) {
      ASSIGN_OR_RETURN(ClockBasis basis, ClockBasis::For(policy.window(), definition_.calendar(),
                                                         context_.calendars));
      return basis.Add(context_.now, basis.Length(policy.window()));
    }
    if (policy.window_days() == 0) return std::nullopt;
    return context_.now + absl::Hours(24) * policy.window_days();
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
    if (step->has_wait()) return StartWait(*step, token);
    RETURN_IF_ERROR(StartClock(*step, token));
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
      if (const v1::StepClock* clock = FindClock(token)) ShowClock(*clock, task);
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
    RETURN_IF_ERROR(StopTimers(token));
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
        return FinishInstance(v1::REJECTED, "", step.id(), reason);
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
      if (route.has_when()) RETURN_IF_ERROR(RecordSamples(route.when(), step.id()));
      if (!route.has_when() || Evaluate(route.when(), state_.form(), state_.id())) {
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
      if (candidate.has_when()) RETURN_IF_ERROR(RecordSamples(candidate.when(), step.id()));
      if (!candidate.has_when() || Evaluate(candidate.when(), state_.form(), state_.id())) {
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
    RETURN_IF_ERROR(StopTimers(token));
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
                              const std::string& step_id, const std::string& reason = "") {
    RETURN_IF_ERROR(CancelEverything());
    v1::Event event = NewEvent(step_id);
    event.set_comment(comment);
    event.set_reason(reason);
    event.mutable_instance_finished()->set_status(status);
    if (status == v1::REJECTED) {
      ASSIGN_OR_RETURN(std::optional<absl::Time> appeal_until, AppealDeadline());
      if (appeal_until) {
        *event.mutable_instance_finished()->mutable_appeal_until() = ToTimestamp(*appeal_until);
      }
    }
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
