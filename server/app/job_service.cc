#include "server/app/job_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/app/views.h"
#include "workflow/errors.h"
#include "workflow/jobs.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::app {

namespace {

constexpr int kMaxJobsPerActivation = 100;
constexpr absl::Duration kMinLease = absl::Seconds(1);
constexpr absl::Duration kMaxLease = absl::Hours(1);
constexpr absl::Duration kMaxRequestTimeout = absl::Seconds(60);
// A long poll looks again this often even when nothing here was posted:
// a backoff or a lease may have run out, or another replica may have
// created a job.
constexpr absl::Duration kRecheckPeriod = absl::Seconds(1);
constexpr int kMaxIncidentPage = 500;

absl::Duration DurationOf(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
}

absl::Status NoSuchJob(const std::string& key) {
  return absl::NotFoundError(absl::StrCat("no job ", workflow::ShortForMessage(key)));
}

absl::Status NoSuchIncident(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("no incident ", workflow::ShortForMessage(id)));
}

absl::Status RequireServiceAccount(const workflow::Directory& directory, const Caller& caller) {
  const v1::User* user = directory.FindUser(caller.user);
  if (user != nullptr && user->service()) return absl::OkStatus();
  return absl::PermissionDeniedError("only service accounts activate jobs");
}

// The reply to a worker's command: the instance as committed, and the
// incident the command raised, if it did.
InstanceCommand::ReplyBuilder JobReply(const std::string& task_id) {
  return [task_id](const v1::InstanceState& state, const v1::WorkflowDefinition& definition,
                   google::protobuf::Message& out) {
    auto& response = static_cast<v1::JobResponse&>(out);
    *response.mutable_instance() = ViewOf(state, definition, absl::InfinitePast());
    const v1::Task* task = TaskIn(state, task_id);
    if (task == nullptr) return;
    if (auto incident = workflow::OpenIncidentOf(*task)) *response.mutable_incident() = *incident;
  };
}

}  // namespace

absl::Status CheckActivation(const v1::ActivateJobsRequest& request) {
  std::vector<workflow::FieldViolation> violations;
  if (request.type().empty()) violations.push_back({"type", "is required"});
  if (request.worker().empty()) violations.push_back({"worker", "is required"});
  if (request.max_jobs() < 1 || request.max_jobs() > kMaxJobsPerActivation) {
    violations.push_back({"max_jobs", absl::StrCat("must be 1 to ", kMaxJobsPerActivation)});
  }
  const absl::Duration lease = DurationOf(request.lease());
  if (lease < kMinLease || lease > kMaxLease) {
    violations.push_back({"lease", "must be 1 second to 1 hour"});
  }
  const absl::Duration timeout = DurationOf(request.request_timeout());
  if (timeout < absl::ZeroDuration() || timeout > kMaxRequestTimeout) {
    violations.push_back({"request_timeout", "must be 0 to 60 seconds"});
  }
  if (violations.empty()) return absl::OkStatus();
  return workflow::InvalidArgumentWithViolations("the activation request is out of bounds",
                                                 violations);
}

absl::StatusOr<std::vector<std::string>> JobService::WorkableDefinitions(
    const Caller& caller, const std::string& type) {
  SIGNOFF_ASSIGN_OR_RETURN(auto latest, context_.LatestDefinitions());
  std::shared_ptr<const workflow::Directory> directory = context_.directory();
  std::vector<std::string> keys;
  for (const auto& published : latest) {
    const v1::WorkflowDefinition& definition = published->definition();
    for (const auto& step : definition.steps()) {
      if (step.system().job_type() != type) continue;
      const google::protobuf::Struct no_form;
      const workflow::RuleBasis no_instance{"", "", no_form};
      if (workflow::CheckJobWorker(*directory, caller.user, definition, step, no_instance).ok()) {
        keys.push_back(definition.key());
        break;
      }
    }
  }
  return keys;
}

absl::StatusOr<v1::Job> JobService::JobOf(const storage::ActivatedJob& activated,
                                          const v1::ActivateJobsRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(v1::InstanceState state,
                           context_.store().GetInstance(activated.instance_id));
  const v1::Task* task = TaskIn(state, activated.task_id);
  if (task == nullptr) {
    return absl::InternalError(absl::StrCat("job ", activated.task_id, " has no task"));
  }
  SIGNOFF_ASSIGN_OR_RETURN(auto definition,
                           context_.Definition(state.definition_key(), state.definition_version()));
  v1::Job job;
  job.set_key(workflow::JobKey(task->id(), activated.attempt));
  job.set_type(task->job().type());
  job.set_instance_id(state.id());
  job.set_task_id(task->id());
  job.set_step_id(task->step_id());
  job.set_definition_key(state.definition_key());
  job.set_definition_version(state.definition_version());
  // Workers act on instances they need not read: they see them as service
  // accounts acting on an instance do, without confidential fields.
  *job.mutable_variables() = state.form();
  workflow::RedactConfidential(definition->definition(), *job.mutable_variables());
  job.set_retries_left(task->job().retries_left());
  job.set_worker(request.worker());
  *job.mutable_deadline() = workflow::ToTimestamp(activated.lease_until);
  job.set_attempt(static_cast<int32_t>(activated.attempt));
  job.set_last_error(task->job().last_error());
  return job;
}

absl::StatusOr<std::vector<v1::Job>> JobService::Lease(const Caller& caller,
                                                       const v1::ActivateJobsRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<std::string> keys,
                           WorkableDefinitions(caller, request.type()));
  if (keys.empty()) return std::vector<v1::Job>{};
  storage::JobClaim claim;
  claim.now = context_.Now();
  claim.type = request.type();
  claim.worker = request.worker();
  claim.caller = caller.user;
  claim.lease = DurationOf(request.lease());
  claim.limit = request.max_jobs();
  claim.definition_keys = std::move(keys);
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<storage::ActivatedJob> activated,
                           context_.store().ActivateJobs(claim));
  std::vector<v1::Job> jobs;
  for (const auto& leased : activated) {
    SIGNOFF_ASSIGN_OR_RETURN(v1::Job job, JobOf(leased, request));
    jobs.push_back(std::move(job));
  }
  return jobs;
}

absl::StatusOr<v1::ActivateJobsResponse> JobService::ActivateJobs(
    const Caller& caller, const v1::ActivateJobsRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  SIGNOFF_RETURN_IF_ERROR(RequireServiceAccount(*context_.directory(), caller));
  SIGNOFF_RETURN_IF_ERROR(CheckActivation(request));
  // The wait is in real time: the application's clock may be a test's.
  const absl::Time give_up = absl::Now() + DurationOf(request.request_timeout());
  v1::ActivateJobsResponse response;
  for (;;) {
    // Read before the lease, so that a job posted during it is not missed.
    const uint64_t seen = board_.Generation(request.type());
    SIGNOFF_ASSIGN_OR_RETURN(std::vector<v1::Job> jobs, Lease(caller, request));
    if (!jobs.empty()) {
      for (auto& job : jobs) *response.add_jobs() = std::move(job);
      return response;
    }
    const absl::Duration left = give_up - absl::Now();
    if (left <= absl::ZeroDuration() || board_.closed()) return response;
    board_.Wait(request.type(), seen, std::min(left, kRecheckPeriod));
  }
}

absl::StatusOr<v1::JobResponse> JobService::RunUnderKey(const Caller& caller,
                                                        const std::string& method,
                                                        const google::protobuf::Message& request,
                                                        const std::string& request_id,
                                                        const std::string& key,
                                                        v1::Command command) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  auto parsed = workflow::ParseJobKey(key);
  if (!parsed) return NoSuchJob(key);
  const auto& [task_id, attempt] = *parsed;
  // A key no activation was given is unknown; a stale one is refused by
  // the commit, which checks the lease in its own transaction.
  absl::StatusOr<storage::JobRecord> job = context_.store().GetJob(task_id);
  if (!job.ok() && !absl::IsNotFound(job.status())) return job.status();
  if (job.ok() && attempt > job->attempt) return NoSuchJob(key);
  InstanceCommand run{method,  &request,           request_id, workflow::InstanceIdOfTask(task_id),
                      task_id, std::move(command), JobReply(task_id)};
  run.job_lease = storage::JobLeaseCheck{task_id, attempt, caller.user};
  v1::JobResponse reply;
  absl::Status ran = pipeline_.Run(caller, run, reply);
  if (absl::IsNotFound(ran)) return NoSuchJob(key);
  SIGNOFF_RETURN_IF_ERROR(ran);
  return reply;
}

absl::StatusOr<v1::JobResponse> JobService::CompleteJob(const Caller& caller,
                                                        const v1::CompleteJobRequest& request) {
  auto parsed = workflow::ParseJobKey(request.key());
  v1::Command command;
  auto* complete = command.mutable_complete_job();
  complete->set_task_id(parsed ? parsed->first : "");
  *complete->mutable_result() = request.result();
  complete->set_comment(request.comment());
  return RunUnderKey(caller, "CompleteJob", request, request.request_id(), request.key(),
                     std::move(command));
}

absl::StatusOr<v1::JobResponse> JobService::FailJob(const Caller& caller,
                                                    const v1::FailJobRequest& request) {
  auto parsed = workflow::ParseJobKey(request.key());
  v1::Command command;
  auto* fail = command.mutable_fail_job();
  fail->set_task_id(parsed ? parsed->first : "");
  fail->set_retries_left(request.retries_left());
  *fail->mutable_backoff() = request.backoff();
  fail->set_message(request.message());
  return RunUnderKey(caller, "FailJob", request, request.request_id(), request.key(),
                     std::move(command));
}

absl::StatusOr<v1::JobResponse> JobService::ThrowError(const Caller& caller,
                                                       const v1::ThrowErrorRequest& request) {
  auto parsed = workflow::ParseJobKey(request.key());
  v1::Command command;
  auto* thrown = command.mutable_throw_job_error();
  thrown->set_task_id(parsed ? parsed->first : "");
  thrown->set_code(request.code());
  thrown->set_message(request.message());
  return RunUnderKey(caller, "ThrowError", request, request.request_id(), request.key(),
                     std::move(command));
}

// Auditors and process admins of every definition list every incident;
// administrators of some definitions (by the scoped role or a definition's
// admin_role), theirs.
absl::StatusOr<v1::ListIncidentsResponse> JobService::ListIncidents(
    const Caller& caller, const v1::ListIncidentsRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Reader reader, context_.ReaderOf(caller));
  if (request.page_size() < 0 || request.page_size() > kMaxIncidentPage) {
    return workflow::InvalidArgumentWithViolations(
        "page_size is out of bounds",
        {{"page_size", absl::StrCat("must be 0 (the default, 100) to ", kMaxIncidentPage)}});
  }
  storage::IncidentFilter filter;
  if (!reader.reads_every_definition) {
    if (reader.administered.empty()) {
      return absl::PermissionDeniedError(
          "incidents are listed by auditors, process admins and definitions' admin roles");
    }
    filter.definition_keys.emplace(reader.administered.begin(), reader.administered.end());
  }
  filter.definition_key = request.definition_key();
  filter.instance_id = request.instance_id();
  filter.include_resolved = request.include_resolved();
  filter.page_size = request.page_size();
  filter.page_token = request.page_token();
  SIGNOFF_ASSIGN_OR_RETURN(auto page, context_.store().ListIncidents(filter));
  v1::ListIncidentsResponse response;
  for (auto& incident : page.items) *response.add_incidents() = std::move(incident);
  response.set_next_page_token(page.next_page_token);
  return response;
}

absl::StatusOr<v1::IncidentResponse> JobService::ResolveIncident(
    const Caller& caller, const v1::ResolveIncidentRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  const std::string task_id = workflow::TaskOfIncident(request.id());
  if (task_id.empty()) return NoSuchIncident(request.id());
  const std::string instance_id = workflow::InstanceIdOfTask(task_id);
  // The incident as it stood, for the reply: resolving clears it from the
  // task.
  storage::IncidentFilter filter;
  filter.instance_id = instance_id;
  filter.include_resolved = true;
  filter.page_size = kMaxIncidentPage;
  SIGNOFF_ASSIGN_OR_RETURN(auto stored, context_.store().ListIncidents(filter));
  v1::Incident incident;
  for (const auto& found : stored.items) {
    if (found.id() == request.id()) incident = found;
  }
  v1::Command command;
  *command.mutable_resolve_incident() = request;
  const std::string resolver = caller.system ? workflow::kSystemActor : caller.user;
  const std::string resolution =
      request.has_retry_with_retries() ? workflow::kIncidentRetried : workflow::kIncidentCancelled;
  InstanceCommand run{
      "ResolveIncident", &request, request.request_id(), instance_id, "", std::move(command),
      [incident, resolver, resolution](const v1::InstanceState& state,
                                       const v1::WorkflowDefinition& definition,
                                       google::protobuf::Message& out) {
        auto& response = static_cast<v1::IncidentResponse&>(out);
        *response.mutable_incident() = incident;
        response.mutable_incident()->set_status(v1::INCIDENT_RESOLVED);
        *response.mutable_incident()->mutable_resolved_at() = state.updated_at();
        response.mutable_incident()->set_resolved_by(resolver);
        response.mutable_incident()->set_resolution(resolution);
        *response.mutable_instance() = ViewOf(state, definition, absl::InfinitePast());
      }};
  v1::IncidentResponse reply;
  absl::Status ran = pipeline_.Run(caller, run, reply);
  if (absl::IsNotFound(ran)) return NoSuchIncident(request.id());
  SIGNOFF_RETURN_IF_ERROR(ran);
  return reply;
}

}  // namespace signoff::app
