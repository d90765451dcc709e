// Deciding a task: approve, reject, return, reassign, add a signer, copy.
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

// ------------------------------------------------------------ decisions

absl::Status Machine::RequireDecidable(const v1::Task& task) const {
  if (task.status() == v1::PENDING) return absl::OkStatus();
  if (task.status() == v1::WAITING) {
    return absl::FailedPreconditionError(
        absl::StrCat("task ", task.id(), " waits for an earlier approver"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "task ", task.id(), " is already ", v1::TaskStatus_Name(task.status())));
}

absl::Status Machine::RequireNotJob(const v1::Task& task) {
  if (task.job().type().empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "task ", task.id(), " is a job of type ", task.job().type(),
      ": its workers activate and complete it through JobService"));
}

absl::Status Machine::Authorize(const v1::Task& task) {
  SIGNOFF_RETURN_IF_ERROR(
      RequireListedIfService(context_.actor, kCompleteSystemStepsPermission));
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

absl::Status Machine::CheckActionFitsStep(const v1::Step& step, v1::Action action) {
  if (step.has_approval() && action == v1::COMPLETE) {
    return InvalidArgumentWithViolations(
        "an approval is approved, not completed",
        {{"action", absl::StrCat("step ", step.id(), " is an approval: use APPROVE")}});
  }
  if (!step.has_approval() && action == v1::APPROVE) {
    return InvalidArgumentWithViolations(
        "only approvals are approved",
        {{"action", absl::StrCat("step ", step.id(), " is work to be done: use COMPLETE")}});
  }
  return absl::OkStatus();
}

absl::Status Machine::CheckActionAllowed(const v1::Step& step, v1::Action action,
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

v1::Task Machine::Decided(v1::Task task, v1::Action action, const v1::DecideTaskRequest& request) {
  task.set_status(v1::DONE);
  task.set_decision(action);
  task.set_comment(request.comment());
  task.set_reason_code(request.reason_code());
  *task.mutable_completed_at() = ToTimestamp(context_.now);
  if (request.has_result()) *task.mutable_result() = request.result();
  return task;
}

absl::Status Machine::Complete(const v1::Task& task, v1::Action action,
                      const v1::DecideTaskRequest& request) {
  const v1::Step& step = StepOf(task.step_id());
  if (step.has_task() && action == v1::COMPLETE) {
    SIGNOFF_RETURN_IF_ERROR(ValidateValues(
        step.task().result_fields(), request.result(), directory(), "result",
        absl::StrCat("is not a result field of step ", step.id())));
  }
  SIGNOFF_RETURN_IF_ERROR(EmitTask(Decided(task, action, request), v1::Event::kTaskCompleted, "", "",
                           request.comment()));
  return Reconcile(task.token());
}

absl::Status Machine::RequireReasonCode(
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

absl::Status Machine::Reject(const v1::Task& task, const v1::DecideTaskRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(RequireReasonCode(definition_.reject_reasons(), request.reason_code(),
                                    "a reject"));
  SIGNOFF_RETURN_IF_ERROR(EmitTask(Decided(task, v1::REJECT, request), v1::Event::kTaskCompleted, "",
                           request.reason_code(), request.comment()));
  return Reconcile(task.token());
}

absl::Status Machine::Return(const v1::Task& task, const v1::DecideTaskRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(RequireReasonCode(definition_.return_reasons(), request.reason_code(),
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
  SIGNOFF_RETURN_IF_ERROR(EmitTask(Decided(task, v1::RETURN, request), v1::Event::kTaskCompleted, "",
                           "", request.comment()));
  SIGNOFF_RETURN_IF_ERROR(CancelEverything());
  v1::Event event = NewEvent(task.step_id(), task.id());
  event.set_comment(request.comment());
  event.set_reason(request.reason_code());
  event.mutable_instance_returned()->set_to_step(target);
  event.mutable_instance_returned()->set_from_step(task.step_id());
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  if (target.empty()) return absl::OkStatus();
  return EnterStep(target, "", "");
}

absl::StatusOr<std::string> Machine::TargetUser(const v1::Task& task,
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
  // A service account completes SYSTEM steps; it never judges an approval.
  if (found->service() && task.kind() != v1::STEP_SYSTEM) {
    return InvalidArgumentWithViolations(
        "a service account cannot take over a person's task",
        {{"users[0]", absl::StrCat("'", user, "' is a service account")}});
  }
  if (task.kind() == v1::STEP_APPROVAL && user == state_.applicant() &&
      !definition_.policies().allow_self_approval()) {
    return absl::FailedPreconditionError(
        "the applicant cannot approve their own request (separation of duties)");
  }
  return user;
}

absl::Status Machine::Reassign(const v1::Task& task, v1::Action action,
                      const v1::DecideTaskRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(std::string user, TargetUser(task, request));
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
  SIGNOFF_RETURN_IF_ERROR(EmitTask(moved, v1::Event::kTaskUpdated, "", reason, request.comment()));
  return Reconcile(task.token());
}

absl::Status Machine::AddSigner(const v1::Task& task, const v1::DecideTaskRequest& request) {
  if (task.kind() != v1::STEP_APPROVAL) {
    return absl::FailedPreconditionError("signers can only be added to approval steps");
  }
  const auto position = request.signer_position();
  if (position == v1::SIGNER_POSITION_UNSPECIFIED) {
    return InvalidArgumentWithViolations(
        "where should the signer go?", {{"signer_position", "must be BEFORE, AFTER or PARALLEL"}});
  }
  SIGNOFF_ASSIGN_OR_RETURN(std::string user, TargetUser(task, request));
  for (const auto& other : state_.tasks()) {
    if (other.token() == task.token() && IsOpen(other) && other.assignee() == user) {
      return absl::FailedPreconditionError(
          absl::StrCat(user, " already has an open task at this step"));
    }
  }
  const int shift_from = position == v1::BEFORE ? task.order() : task.order() + 1;
  if (position != v1::PARALLEL) SIGNOFF_RETURN_IF_ERROR(ShiftSlot(task, shift_from));
  v1::Task added = NewTask(task, user);
  added.set_order(position == v1::PARALLEL ? task.order() : shift_from);
  added.set_status(position == v1::AFTER ? v1::WAITING : v1::PENDING);
  added.set_chosen_by(absl::StrCat("added by ", context_.actor, " (",
                                   v1::SignerPosition_Name(position), ")"));
  SIGNOFF_RETURN_IF_ERROR(EmitTask(added, v1::Event::kTaskCreated, "", "", request.comment()));
  return Reconcile(task.token());
}

absl::Status Machine::ShiftSlot(const v1::Task& task, int from) {
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
    SIGNOFF_RETURN_IF_ERROR(EmitTask(other, v1::Event::kTaskUpdated, "", "signer added before"));
  }
  return absl::OkStatus();
}

absl::Status Machine::CarbonCopy(const v1::Task& task, const v1::DecideTaskRequest& request) {
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

}  // namespace signoff::workflow::internal
