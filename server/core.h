#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "signoff/v1/service.pb.h"
#include "storage/store.h"
#include "workflow/directory.h"
#include "workflow/engine.h"

namespace signoff::server {

// Who is calling. `system` callers are signoffd itself (seeding at start-up)
// and skip the administrator checks.
struct Caller {
  std::string user;
  bool system = false;
};

using Clock = std::function<absl::Time()>;

// What one round of timer firing did.
struct TimerRound {
  int claimed = 0;
  int fired = 0;
  struct Failure {
    storage::ClaimedTimer timer;
    absl::Status status;
  };
  std::vector<Failure> failures;
};

// request_ids with this prefix are signoffd's own (timer firings, seeding);
// callers may not use them, so none can squat on a timer's key.
inline constexpr char kServiceRequestPrefix[] = "signoffd:";

// The application functions behind every RPC, with no gRPC types: each one
// loads what it needs, runs the engine, and commits through the store's
// single writer. Thread-safe.
class Core {
 public:
  static absl::StatusOr<std::unique_ptr<Core>> Create(std::shared_ptr<storage::Store> store,
                                                      Clock clock);

  // UNAUTHENTICATED unless the user exists and is enabled.
  absl::Status Authenticate(const Caller& caller) const;

  // DefinitionService
  absl::StatusOr<v1::ValidateDefinitionResponse> ValidateDefinition(
      const Caller& caller, const v1::ValidateDefinitionRequest& request);
  absl::StatusOr<v1::PublishDefinitionResponse> PublishDefinition(
      const Caller& caller, const v1::PublishDefinitionRequest& request);
  absl::StatusOr<v1::GetDefinitionResponse> GetDefinition(
      const Caller& caller, const v1::GetDefinitionRequest& request);
  absl::StatusOr<v1::ListDefinitionsResponse> ListDefinitions(
      const Caller& caller, const v1::ListDefinitionsRequest& request);

  // InstanceService
  absl::StatusOr<v1::InstanceResponse> StartInstance(const Caller& caller,
                                                     const v1::StartInstanceRequest& request);
  absl::StatusOr<v1::PreviewRouteResponse> PreviewRoute(
      const Caller& caller, const v1::PreviewRouteRequest& request);
  absl::StatusOr<v1::InstanceResponse> GetInstance(const Caller& caller,
                                                   const v1::GetInstanceRequest& request);
  absl::StatusOr<v1::ListInstancesResponse> ListInstances(
      const Caller& caller, const v1::ListInstancesRequest& request);
  absl::StatusOr<v1::GetHistoryResponse> GetHistory(const Caller& caller,
                                                    const v1::GetHistoryRequest& request);
  absl::StatusOr<v1::InstanceResponse> WithdrawInstance(
      const Caller& caller, const v1::WithdrawInstanceRequest& request);
  absl::StatusOr<v1::InstanceResponse> ResubmitInstance(
      const Caller& caller, const v1::ResubmitInstanceRequest& request);
  absl::StatusOr<v1::InstanceResponse> AppealInstance(const Caller& caller,
                                                      const v1::AppealInstanceRequest& request);
  absl::StatusOr<v1::InstanceResponse> CancelInstance(const Caller& caller,
                                                      const v1::CancelInstanceRequest& request);
  absl::StatusOr<v1::InstanceResponse> SignalInstance(const Caller& caller,
                                                      const v1::SignalInstanceRequest& request);

  // TaskService
  absl::StatusOr<v1::ListTasksResponse> ListTasks(const Caller& caller,
                                                  const v1::ListTasksRequest& request);
  absl::StatusOr<v1::TaskResponse> GetTask(const Caller& caller,
                                           const v1::GetTaskRequest& request);
  absl::StatusOr<v1::TaskResponse> ClaimTask(const Caller& caller,
                                             const v1::ClaimTaskRequest& request);
  absl::StatusOr<v1::DecideTaskResponse> DecideTask(const Caller& caller,
                                                    const v1::DecideTaskRequest& request);
  absl::StatusOr<v1::TaskResponse> RemindTask(const Caller& caller,
                                              const v1::RemindTaskRequest& request);
  absl::StatusOr<v1::ClockResponse> PauseClock(const Caller& caller,
                                               const v1::ClockRequest& request);
  absl::StatusOr<v1::ClockResponse> ResumeClock(const Caller& caller,
                                                const v1::ClockRequest& request);
  absl::StatusOr<v1::ClockResponse> ExtendDeadline(const Caller& caller,
                                                   const v1::ExtendDeadlineRequest& request);

  // CalendarService
  absl::StatusOr<v1::PublishCalendarResponse> PublishCalendar(
      const Caller& caller, const v1::PublishCalendarRequest& request);
  absl::StatusOr<v1::GetCalendarResponse> GetCalendar(const Caller& caller,
                                                      const v1::GetCalendarRequest& request);
  absl::StatusOr<v1::ListCalendarsResponse> ListCalendars(
      const Caller& caller, const v1::ListCalendarsRequest& request);

  // Fires up to `limit` timers that are due, each through the same commit
  // path as a user's command. Safe to call from several replicas: timers
  // are leased, and a firing is idempotent under the timer's id. Fails
  // only when no timers could be claimed.
  absl::StatusOr<TimerRound> FireDueTimers(int limit);

  // Reloads the published calendars, so that one published through another
  // replica is seen without a restart.
  absl::Status RefreshCalendars() { return ReloadCalendars(); }

  // DirectoryService
  absl::StatusOr<v1::UpsertUsersResponse> UpsertUsers(const Caller& caller,
                                                      const v1::UpsertUsersRequest& request);
  absl::StatusOr<v1::UpsertDepartmentsResponse> UpsertDepartments(
      const Caller& caller, const v1::UpsertDepartmentsRequest& request);
  absl::StatusOr<v1::GetUserResponse> GetUser(const Caller& caller,
                                              const v1::GetUserRequest& request);
  absl::StatusOr<v1::ListUsersResponse> ListUsers(const Caller& caller,
                                                  const v1::ListUsersRequest& request);

  // Start-up seeding: loads an organisation, and publishes a definition
  // unless its latest version is already identical. Returns the version.
  absl::Status SeedOrganisation(const v1::Organisation& organisation);
  absl::StatusOr<int32_t> PublishIfChanged(const v1::WorkflowDefinition& definition);
  absl::StatusOr<int32_t> PublishCalendarIfChanged(const v1::Calendar& calendar);

 private:
  Core(std::shared_ptr<storage::Store> store, Clock clock);

  // A stored instance command: load, apply, commit, with retries on a
  // concurrent change.
  template <typename Reply>
  absl::StatusOr<Reply> RunCommand(
      const Caller& caller, const std::string& method, const google::protobuf::Message& request,
      const std::string& request_id, const std::string& instance_id, const v1::Command& command,
      const std::function<Reply(const v1::InstanceState&)>& reply);

  // Runs `attempt` unless request_id was seen: a repeat returns the stored
  // reply, a reuse with another request is INVALID_ARGUMENT.
  template <typename Reply>
  absl::StatusOr<Reply> Idempotent(
      const Caller& caller, const std::string& method, const google::protobuf::Message& request,
      const std::string& request_id,
      const std::function<absl::StatusOr<std::pair<storage::Mutation, Reply>>()>& attempt);

  absl::Status RequireAdmin(const Caller& caller) const;
  std::shared_ptr<const workflow::CalendarSet> calendars() const;
  absl::Status ReloadCalendars();
  // A task's instance command with a reply showing the task and its clock.
  absl::StatusOr<v1::ClockResponse> RunClockCommand(const Caller& caller, const std::string& method,
                                                    const google::protobuf::Message& request,
                                                    const std::string& request_id,
                                                    const std::string& task_id,
                                                    const v1::Command& command);
  // Fires one claimed timer; a timer the instance no longer holds is
  // dropped from the store.
  absl::Status FireTimer(const storage::ClaimedTimer& claimed);
  // Whether the instance still holds the timer; an error when the instance
  // cannot be read.
  absl::StatusOr<bool> TimerStillPending(const storage::ClaimedTimer& claimed);
  std::shared_ptr<const workflow::Directory> directory() const;
  absl::Status ReloadDirectory();
  absl::StatusOr<std::shared_ptr<const v1::PublishedDefinition>> Definition(
      const std::string& key, int32_t version);
  absl::StatusOr<v1::WorkflowDefinition> DefinitionFromSource(
      const v1::DefinitionSource& source) const;
  absl::StatusOr<v1::Organisation> CheckedDirectoryChange(const v1::Organisation& change) const;

  std::shared_ptr<storage::Store> store_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::shared_ptr<const workflow::Directory> directory_;
  std::shared_ptr<const workflow::CalendarSet> calendars_;
  std::mutex calendar_reload_mutex_;
  // Names this process in timer leases.
  std::string timer_owner_;
  std::map<std::pair<std::string, int32_t>, std::shared_ptr<const v1::PublishedDefinition>>
      definitions_;
};

// The caller-facing view of an instance; `now` decides which tasks show
// as overdue.
v1::InstanceView ViewOf(const v1::InstanceState& state, absl::Time now);

// Sets a task's read-time overdue flag.
void MarkOverdue(v1::Task& task, absl::Time now);

}  // namespace signoff::server
