#pragma once

// A test client for signoffd's API over any channel (in-process or TCP),
// with the dev identity header and gRPC status turned into absl::Status.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/rpc/status.pb.h"
#include "signoff/v1/events.grpc.pb.h"
#include "signoff/v1/jobs.grpc.pb.h"
#include "signoff/v1/ledgers.grpc.pb.h"
#include "signoff/v1/service.grpc.pb.h"
#include "workflow/yaml_mapping.h"

namespace signoff::testing {

class ApiClient {
 public:
  explicit ApiClient(std::shared_ptr<grpc::Channel> channel)
      : definitions(v1::DefinitionService::NewStub(channel)),
        instances(v1::InstanceService::NewStub(channel)),
        tasks(v1::TaskService::NewStub(channel)),
        directory(v1::DirectoryService::NewStub(channel)),
        calendars(v1::CalendarService::NewStub(channel)),
        audit(v1::AuditService::NewStub(channel)),
        jobs(v1::JobService::NewStub(channel)),
        events(v1::EventService::NewStub(channel)),
        notifications(v1::NotificationService::NewStub(channel)),
        ledgers(v1::LedgerService::NewStub(channel)) {}

  // Calls `method` on `stub` as `user` and gives the reply or the status,
  // with the status details kept as the payload of the absl::Status.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(const std::string& user, Stub& stub,
                                grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                             Response*),
                                const Request& request) {
    grpc::ClientContext context;
    if (!user.empty()) context.AddMetadata("x-signoff-user", user);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    Response response;
    grpc::Status status = (stub.*method)(&context, request, &response);
    if (status.ok()) return response;
    last_details = status.error_details();
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }

  // The field names of the google.rpc.BadRequest of the last failed call.
  std::vector<std::string> LastViolationFields() const {
    std::vector<std::string> fields;
    google::rpc::Status details;
    if (!details.ParseFromString(last_details)) return fields;
    for (const auto& any : details.details()) {
      google::rpc::BadRequest bad_request;
      if (any.type_url() == "type.googleapis.com/google.rpc.BadRequest" &&
          bad_request.ParseFromString(any.value())) {
        for (const auto& violation : bad_request.field_violations()) {
          fields.push_back(violation.field());
        }
      }
    }
    return fields;
  }

  absl::StatusOr<v1::InstanceView> Start(const std::string& user, const std::string& key,
                                         const std::string& form_yaml,
                                         const std::string& request_id) {
    v1::StartInstanceRequest request;
    request.set_request_id(request_id);
    request.set_definition_key(key);
    auto form = workflow::ParseFormYaml(form_yaml);
    if (!form.ok()) return form.status();
    *request.mutable_form() = *form;
    auto response = Call(user, *instances, &v1::InstanceService::Stub::StartInstance, request);
    if (!response.ok()) return response.status();
    return response->instance();
  }

  absl::StatusOr<v1::DecideTaskResponse> Decide(const std::string& user, v1::DecideTaskRequest request,
                                                const std::string& request_id) {
    request.set_request_id(request_id);
    return Call(user, *tasks, &v1::TaskService::Stub::DecideTask, request);
  }

  absl::StatusOr<v1::DecideTaskResponse> Decide(const std::string& user, const std::string& task_id,
                                                v1::Action action, const std::string& request_id,
                                                const std::string& comment = "") {
    v1::DecideTaskRequest request;
    request.set_task_id(task_id);
    request.set_action(action);
    request.set_comment(comment);
    return Decide(user, request, request_id);
  }

  // The caller's inbox.
  absl::StatusOr<std::vector<v1::Task>> Inbox(const std::string& user) {
    auto response = Call(user, *tasks, &v1::TaskService::Stub::ListTasks, v1::ListTasksRequest());
    if (!response.ok()) return response.status();
    return std::vector<v1::Task>(response->tasks().begin(), response->tasks().end());
  }

  absl::StatusOr<v1::InstanceView> Get(const std::string& user, const std::string& id) {
    v1::GetInstanceRequest request;
    request.set_id(id);
    auto response = Call(user, *instances, &v1::InstanceService::Stub::GetInstance, request);
    if (!response.ok()) return response.status();
    return response->instance();
  }

  // The definition an instance view runs on.
  absl::StatusOr<v1::WorkflowDefinition> DefinitionOf(const std::string& user,
                                                      const v1::InstanceView& view) {
    v1::GetDefinitionRequest request;
    request.set_key(view.definition_key());
    request.set_version(view.definition_version());
    auto response = Call(user, *definitions, &v1::DefinitionService::Stub::GetDefinition, request);
    if (!response.ok()) return response.status();
    return response->published().definition();
  }

  // Upserts the users of `users_yaml`, a YAML list as an organisation
  // file's `users` holds.
  absl::StatusOr<v1::UpsertUsersResponse> UpsertUsers(const std::string& caller,
                                                      const std::string& users_yaml,
                                                      const std::string& request_id) {
    auto organisation = workflow::ParseOrganisationYaml("users: " + users_yaml);
    if (!organisation.ok()) return organisation.status();
    v1::UpsertUsersRequest request;
    request.set_request_id(request_id);
    *request.mutable_users() = organisation->users();
    return Call(caller, *directory, &v1::DirectoryService::Stub::UpsertUsers, request);
  }

  // The ids of the first page of instances `request` lists.
  absl::StatusOr<std::vector<std::string>> InstanceIds(const std::string& user,
                                                       const v1::ListInstancesRequest& request) {
    auto listed = Call(user, *instances, &v1::InstanceService::Stub::ListInstances, request);
    if (!listed.ok()) return listed.status();
    std::vector<std::string> ids;
    for (const auto& instance : listed->instances()) ids.push_back(instance.id());
    return ids;
  }

  absl::StatusOr<v1::GetHistoryResponse> History(const std::string& user, const std::string& id) {
    v1::GetHistoryRequest request;
    request.set_instance_id(id);
    return Call(user, *instances, &v1::InstanceService::Stub::GetHistory, request);
  }

  // Leases up to `max_jobs` jobs of `type` as `worker`, waiting up to
  // `wait` for one.
  absl::StatusOr<v1::ActivateJobsResponse> Activate(const std::string& user,
                                                    const std::string& type, int max_jobs,
                                                    absl::Duration lease,
                                                    absl::Duration wait = absl::ZeroDuration()) {
    v1::ActivateJobsRequest request;
    request.set_type(type);
    request.set_worker(user + "-worker");
    request.set_max_jobs(max_jobs);
    request.mutable_lease()->set_seconds(absl::ToInt64Seconds(lease));
    request.mutable_request_timeout()->set_seconds(absl::ToInt64Seconds(wait));
    return Call(user, *jobs, &v1::JobService::Stub::ActivateJobs, request);
  }

  absl::StatusOr<v1::JobResponse> CompleteJob(const std::string& user, const std::string& key,
                                              const std::string& result_yaml,
                                              const std::string& request_id) {
    v1::CompleteJobRequest request;
    request.set_request_id(request_id);
    request.set_key(key);
    auto result = workflow::ParseFormYaml(result_yaml);
    if (!result.ok()) return result.status();
    *request.mutable_result() = *result;
    return Call(user, *jobs, &v1::JobService::Stub::CompleteJob, request);
  }

  std::unique_ptr<v1::DefinitionService::Stub> definitions;
  std::unique_ptr<v1::InstanceService::Stub> instances;
  std::unique_ptr<v1::TaskService::Stub> tasks;
  std::unique_ptr<v1::DirectoryService::Stub> directory;
  std::unique_ptr<v1::CalendarService::Stub> calendars;
  std::unique_ptr<v1::AuditService::Stub> audit;
  std::unique_ptr<v1::JobService::Stub> jobs;
  std::unique_ptr<v1::EventService::Stub> events;
  std::unique_ptr<v1::NotificationService::Stub> notifications;
  std::unique_ptr<v1::LedgerService::Stub> ledgers;
  std::string last_details;
};

}  // namespace signoff::testing
