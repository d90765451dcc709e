#pragma once

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "server/app/access_control.h"
#include "server/app/command_pipeline.h"
#include "signoff/v1/service.pb.h"
#include "workflow/limits.h"

namespace signoff::app {

// The most decisions one DecideTasks call carries: as many as any list in
// a request.
inline constexpr int kMaxBulkDecisions = workflow::kMaxListItems;

// TaskService: inboxes, decisions and the clocks of tasks' steps. A task id
// names its instance, so a task command loads that instance once.
class TaskService {
 public:
  TaskService(AppContext& context, CommandPipeline& pipeline)
      : context_(context), pipeline_(pipeline), access_(context) {}

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
  absl::StatusOr<v1::TaskResponse> UnclaimTask(const Caller& caller,
                                               const v1::UnclaimTaskRequest& request);
  // Each decision runs as DecideTask and is answered on its own.
  absl::StatusOr<v1::DecideTasksResponse> DecideTasks(const Caller& caller,
                                                      const v1::DecideTasksRequest& request);

 private:
  absl::Status MayListTasksOf(const Caller& caller, const workflow::Reader& reader,
                              const std::string& assignee);
  // Runs a command on the task's instance; `reply` is filled from the
  // committed state.
  absl::Status RunOnTask(const Caller& caller, const std::string& method,
                         const google::protobuf::Message& request, const std::string& request_id,
                         const std::string& task_id, v1::Command command,
                         InstanceCommand::ReplyBuilder fill,
                         google::protobuf::Message& reply);
  absl::StatusOr<v1::TaskResponse> RunForTask(const Caller& caller, const std::string& method,
                                              const google::protobuf::Message& request,
                                              const std::string& request_id,
                                              const std::string& task_id, v1::Command command);
  // Runs a clock operation on a WAIT step; the reply shows the wait.
  absl::StatusOr<v1::ClockResponse> RunForWait(const Caller& caller, const std::string& method,
                                               const google::protobuf::Message& request,
                                               const std::string& request_id,
                                               const v1::WaitRef& wait, v1::Command command);
  absl::StatusOr<v1::ClockResponse> RunForClock(const Caller& caller, const std::string& method,
                                                const google::protobuf::Message& request,
                                                const std::string& request_id,
                                                const std::string& task_id,
                                                v1::Command command);

  AppContext& context_;
  CommandPipeline& pipeline_;
  AccessControl access_;
};

}  // namespace signoff::app
