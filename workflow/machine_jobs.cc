// Jobs: SYSTEM steps that name a job_type. The engine keeps the domain
// facts of a job on its task (retries, failures, incidents, the error a
// worker threw); leases are the store's.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "workflow/errors.h"
#include "workflow/form.h"
#include "workflow/jobs.h"
#include "workflow/machine.h"
#include "workflow/roles.h"

namespace signoff::workflow::internal {

absl::Status Machine::CreateJob(const v1::Step& step, const std::string& token) {
  v1::Task task = NewTask({}, "");
  task.set_step_id(step.id());
  task.set_step_name(step.name());
  task.set_kind(v1::STEP_SYSTEM);
  task.set_token(token);
  task.set_chosen_by(absl::StrCat("job:", step.system().job_type()));
  task.set_status(v1::PENDING);
  if (const v1::StepClock* clock = FindClock(token)) ShowClock(*clock, task);
  v1::JobState& job = *task.mutable_job();
  job.set_type(step.system().job_type());
  job.set_retries_left(RetriesOf(step.system()));
  *job.mutable_available_at() = ToTimestamp(context_.now);
  return EmitTask(task, v1::Event::kTaskCreated);
}

absl::Status Machine::RequireJobWorker(const v1::Step& step) const {
  return CheckJobWorker(directory(), context_.actor, definition_, step, Basis());
}

absl::StatusOr<v1::Task> Machine::WorkableJob(const std::string& task_id) const {
  const v1::Task* found = FindTask(task_id);
  if (found == nullptr || found->job().type().empty()) {
    return absl::NotFoundError(absl::StrCat("no job ", ShortForMessage(task_id)));
  }
  SIGNOFF_RETURN_IF_ERROR(RequireJobWorker(StepOf(found->step_id())));
  SIGNOFF_RETURN_IF_ERROR(RequireStatus({v1::RUNNING}));
  if (found->status() != v1::PENDING) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job ", task_id, " is no longer open: its task is ",
        v1::TaskStatus_Name(found->status())));
  }
  if (!found->job().incident_id().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", task_id, " waits for an administrator to resolve incident ",
                     found->job().incident_id()));
  }
  return *found;
}

absl::Status Machine::CompleteJob(const v1::CompleteJob& request) {
  SIGNOFF_ASSIGN_OR_RETURN(v1::Task task, WorkableJob(request.task_id()));
  const v1::Step& step = StepOf(task.step_id());
  SIGNOFF_RETURN_IF_ERROR(ValidateValues(
      step.system().result_fields(), request.result(), directory(), "result",
      absl::StrCat("is not a result field of step ", step.id())));
  task.set_status(v1::DONE);
  task.set_decision(v1::COMPLETE);
  task.set_comment(request.comment());
  task.set_assignee(context_.actor);
  *task.mutable_completed_at() = ToTimestamp(context_.now);
  *task.mutable_result() = request.result();
  SIGNOFF_RETURN_IF_ERROR(EmitTask(task, v1::Event::kTaskCompleted, "", "", request.comment()));
  return Reconcile(task.token());
}

absl::Status Machine::FailJob(const v1::FailJob& request) {
  std::vector<FieldViolation> violations;
  if (request.retries_left() < 0 || request.retries_left() > kMaxJobRetries) {
    violations.push_back({"retries_left", absl::StrCat("must be 0 to ", kMaxJobRetries)});
  }
  const absl::Duration backoff = absl::Seconds(request.backoff().seconds()) +
                                 absl::Nanoseconds(request.backoff().nanos());
  if (backoff < absl::ZeroDuration() || backoff > kMaxJobBackoff ||
      request.backoff().nanos() < 0) {
    violations.push_back({"backoff", "must be 0 to 24 hours"});
  }
  if (!violations.empty()) {
    return InvalidArgumentWithViolations("a job failure needs retries and a backoff in bounds",
                                         violations);
  }
  SIGNOFF_ASSIGN_OR_RETURN(v1::Task task, WorkableJob(request.task_id()));
  v1::JobState& job = *task.mutable_job();
  // A failure always uses up a retry, so that a worker that keeps passing
  // the same number still ends in an incident.
  job.set_retries_left(std::max(0, std::min(request.retries_left(), job.retries_left() - 1)));
  job.set_failures(job.failures() + 1);
  job.set_last_error(request.message());
  *job.mutable_available_at() = ToTimestamp(context_.now + backoff);
  v1::Event event = NewEvent(task.step_id(), task.id());
  event.set_comment(request.message());
  *event.mutable_job_failed()->mutable_task() = task;
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  if (job.retries_left() > 0) return absl::OkStatus();
  return RaiseIncident(task, request.message().empty()
                                 ? "the job failed with no retries left"
                                 : request.message());
}

absl::Status Machine::ThrowJobError(const v1::ThrowJobError& request) {
  if (request.code().empty()) {
    return InvalidArgumentWithViolations("a thrown error needs a code", {{"code", "is required"}});
  }
  SIGNOFF_ASSIGN_OR_RETURN(v1::Task task, WorkableJob(request.task_id()));
  const v1::Step& step = StepOf(task.step_id());
  const v1::ErrorRoute* route = ErrorRouteOf(step.system(), request.code());
  if (route == nullptr) {
    return RaiseIncident(task, absl::StrCat("error code '", request.code(),
                                            "' has no route in step ", step.id(),
                                            request.message().empty() ? "" : ": ",
                                            request.message()));
  }
  std::optional<v1::ActiveStep> active = FindActive(task.token());
  if (!active) return absl::InternalError(absl::StrCat("job ", task.id(), " has no active step"));
  task.set_status(v1::DONE);
  task.set_assignee(context_.actor);
  task.set_comment(request.message());
  *task.mutable_completed_at() = ToTimestamp(context_.now);
  task.mutable_job()->set_error_code(request.code());
  v1::Event event = NewEvent(task.step_id(), task.id());
  event.set_reason(request.code());
  event.set_comment(request.message());
  *event.mutable_job_error_thrown()->mutable_task() = task;
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  SIGNOFF_RETURN_IF_ERROR(CancelStep(active->token(), active->step_id()));
  return EnterStep(route->to(), active->parent_token(), active->branch());
}

absl::Status Machine::RaiseIncident(v1::Task task, const std::string& message) {
  v1::JobState& job = *task.mutable_job();
  job.set_incidents(job.incidents() + 1);
  job.set_incident_id(IncidentId(task.id(), job.incidents()));
  job.set_incident_message(message);
  *job.mutable_incident_raised_at() = ToTimestamp(context_.now);
  v1::Event event = NewEvent(task.step_id(), task.id());
  event.set_reason(message);
  *event.mutable_incident_raised()->mutable_task() = task;
  return Emit(std::move(event));
}

absl::Status Machine::ResolveIncident(const v1::ResolveIncidentRequest& request) {
  const v1::Task* found = nullptr;
  for (const auto& task : state_.tasks()) {
    if (!request.id().empty() && task.job().incident_id() == request.id()) found = &task;
  }
  if (found == nullptr || found->status() != v1::PENDING) {
    return absl::NotFoundError(
        absl::StrCat("no open incident ", ShortForMessage(request.id())));
  }
  if (context_.actor != kSystemActor && !IsAdmin(context_.actor)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "resolving incidents needs the ", kProcessAdminRole, " role for definition ",
        definition_.key(), " or its admin role"));
  }
  SIGNOFF_RETURN_IF_ERROR(RequireStatus({v1::RUNNING}));
  v1::Task task = *found;
  v1::JobState& job = *task.mutable_job();
  job.clear_incident_id();
  job.clear_incident_message();
  job.clear_incident_raised_at();
  v1::Event event = NewEvent(task.step_id(), task.id());
  event.set_comment(request.comment());
  switch (request.resolution_case()) {
    case v1::ResolveIncidentRequest::kRetryWithRetries:
      if (request.retry_with_retries() < 1 || request.retry_with_retries() > kMaxJobRetries) {
        return InvalidArgumentWithViolations(
            "a retry needs retries in bounds",
            {{"retry_with_retries", absl::StrCat("must be 1 to ", kMaxJobRetries)}});
      }
      job.set_retries_left(request.retry_with_retries());
      *job.mutable_available_at() = ToTimestamp(context_.now);
      event.set_reason(kIncidentRetried);
      *event.mutable_incident_resolved()->mutable_task() = task;
      return Emit(std::move(event));
    case v1::ResolveIncidentRequest::kCancelInstance:
      if (!request.cancel_instance()) break;
      event.set_reason(kIncidentCancelled);
      *event.mutable_incident_resolved()->mutable_task() = task;
      SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
      return FinishInstance(v1::CANCELLED,
                            request.comment().empty()
                                ? absl::StrCat("incident ", request.id(), " was resolved by "
                                               "cancelling the instance")
                                : request.comment(),
                            task.step_id());
    default:
      break;
  }
  return InvalidArgumentWithViolations(
      "say how to resolve the incident",
      {{"resolution", "set retry_with_retries (1 to 100) or cancel_instance"}});
}

}  // namespace signoff::workflow::internal
