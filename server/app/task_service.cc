#include "server/app/task_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/app/views.h"
#include "workflow/errors.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::app {

namespace {

// How many of another person's tasks are looked through for one delegated
// by the caller.
constexpr int kDelegationsLooked = 200;

absl::Status NoSuchTask(const std::string& task_id) {
  return absl::NotFoundError(absl::StrCat("no task ", workflow::ShortForMessage(task_id)));
}

}  // namespace

absl::Status TaskService::RunOnTask(
    const Caller& caller, const std::string& method, const google::protobuf::Message& request,
    const std::string& request_id, const std::string& task_id, v1::Command command,
    InstanceCommand::ReplyBuilder fill,
    google::protobuf::Message& reply) {
  const std::string instance_id = workflow::InstanceIdOfTask(task_id);
  if (instance_id.empty()) {
    SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
    return NoSuchTask(task_id);
  }
  InstanceCommand run{method,   &request,           request_id,     instance_id,
                      task_id,  std::move(command), std::move(fill)};
  return pipeline_.Run(caller, run, reply);
}

absl::StatusOr<v1::TaskResponse> TaskService::RunForTask(
    const Caller& caller, const std::string& method, const google::protobuf::Message& request,
    const std::string& request_id, const std::string& task_id, v1::Command command) {
  v1::TaskResponse reply;
  SIGNOFF_RETURN_IF_ERROR(RunOnTask(
      caller, method, request, request_id, task_id, std::move(command),
      [task_id](const v1::InstanceState& state, const v1::WorkflowDefinition& definition,
                google::protobuf::Message& out) {
        auto& response = static_cast<v1::TaskResponse&>(out);
        if (const v1::Task* found = TaskIn(state, task_id)) {
          *response.mutable_task() = *found;
          ShowTask(*response.mutable_task(), definition, &state, absl::InfinitePast());
        }
      },
      reply));
  return reply;
}

absl::StatusOr<v1::ClockResponse> TaskService::RunForWait(
    const Caller& caller, const std::string& method, const google::protobuf::Message& request,
    const std::string& request_id, const v1::WaitRef& wait, v1::Command command) {
  const std::string step_id = wait.step_id();
  InstanceCommand run{
      method, &request, request_id, wait.instance_id(), "", std::move(command),
      [step_id](const v1::InstanceState& state, const v1::WorkflowDefinition& definition,
                google::protobuf::Message& out) {
        for (auto& shown : WaitsOf(state, definition)) {
          if (shown.step_id() == step_id) {
            *static_cast<v1::ClockResponse&>(out).mutable_wait() = std::move(shown);
          }
        }
      }};
  v1::ClockResponse reply;
  SIGNOFF_RETURN_IF_ERROR(pipeline_.Run(caller, run, reply));
  return reply;
}

absl::StatusOr<v1::ClockResponse> TaskService::RunForClock(
    const Caller& caller, const std::string& method, const google::protobuf::Message& request,
    const std::string& request_id, const std::string& task_id, v1::Command command) {
  v1::ClockResponse reply;
  SIGNOFF_RETURN_IF_ERROR(RunOnTask(
      caller, method, request, request_id, task_id, std::move(command),
      [task_id](const v1::InstanceState& state, const v1::WorkflowDefinition& definition,
                google::protobuf::Message& out) {
        auto& response = static_cast<v1::ClockResponse&>(out);
        const v1::Task* found = TaskIn(state, task_id);
        if (found == nullptr) return;
        *response.mutable_task() = *found;
        ShowTask(*response.mutable_task(), definition, &state, absl::InfinitePast());
        for (const auto& clock : state.clocks()) {
          if (clock.token() == found->token()) *response.mutable_clock() = clock;
        }
      },
      reply));
  return reply;
}

// Someone else's tasks are listed by auditors, by process admins (of their
// definitions, as the list is cut to what they read), and by a user who
// delegated tasks to them, to follow what they handed on.
absl::Status TaskService::MayListTasksOf(const Caller& caller, const workflow::Reader& reader,
                                         const std::string& assignee) {
  if (caller.system || assignee == caller.user) return absl::OkStatus();
  if (reader.reads_every_definition || !reader.administered.empty()) return absl::OkStatus();
  storage::TaskFilter delegated;
  delegated.assignee = assignee;
  delegated.readable_by = AccessControl::ReadableByOf(reader);
  delegated.page_size = kDelegationsLooked;
  SIGNOFF_ASSIGN_OR_RETURN(auto page, context_.store().ListTasks(delegated));
  for (const auto& task : page.items) {
    if (task.delegated_from() == caller.user) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      "only auditors, process admins and those who delegated to them list another person's "
      "tasks");
}

absl::StatusOr<v1::ListTasksResponse> TaskService::ListTasks(const Caller& caller,
                                                             const v1::ListTasksRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Reader reader, context_.ReaderOf(caller));
  if (!request.assignee().empty()) {
    SIGNOFF_RETURN_IF_ERROR(MayListTasksOf(caller, reader, request.assignee()));
  }
  storage::TaskFilter filter;
  filter.assignee = request.assignee();
  filter.role = request.role();
  filter.department = request.department();
  filter.status = request.status();
  filter.instance_id = request.instance_id();
  filter.page_size = request.page_size() > 0 ? request.page_size() : 50;
  filter.page_token = request.page_token();
  const absl::Time now = context_.Now();
  if (request.overdue()) filter.due_before = now;
  if (request.has_due_before()) {
    const absl::Time due_before = workflow::FromTimestamp(request.due_before());
    filter.due_before = filter.due_before ? std::min(*filter.due_before, due_before) : due_before;
  }
  const bool no_filter = filter.assignee.empty() && filter.role.empty() &&
                         filter.department.empty() && filter.instance_id.empty() &&
                         filter.status == v1::TASK_STATUS_UNSPECIFIED && !filter.due_before;
  if (no_filter) {
    filter.inbox_user = caller.user;
    filter.inbox_groups = context_.directory()->GroupsOf(caller.user);
  } else {
    // An inbox holds only tasks its owner reads; any other list is cut
    // down to the instances the caller reads.
    filter.readable_by = AccessControl::ReadableByOf(reader);
  }
  SIGNOFF_ASSIGN_OR_RETURN(auto page, context_.store().ListTasks(filter));
  v1::ListTasksResponse response;
  for (auto& task : page.items) {
    // Tasks made before they carried their version show the latest.
    SIGNOFF_ASSIGN_OR_RETURN(auto definition, context_.Definition(task.definition_key(),
                                                                  task.definition_version()));
    ShowTask(task, definition->definition(), nullptr, now);
    *response.add_tasks() = std::move(task);
  }
  response.set_next_page_token(page.next_page_token);
  return response;
}

absl::StatusOr<v1::TaskResponse> TaskService::GetTask(const Caller& caller,
                                                      const v1::GetTaskRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Reader reader, context_.ReaderOf(caller));
  // The instance, not the inbox index, so that the task shows where it may
  // be returned to.
  const std::string instance_id = workflow::InstanceIdOfTask(request.id());
  absl::StatusOr<v1::InstanceState> state = instance_id.empty()
                                                ? absl::NotFoundError("no instance")
                                                : context_.store().GetInstance(instance_id);
  const v1::Task* found = state.ok() ? TaskIn(*state, request.id()) : nullptr;
  if (found == nullptr) {
    if (state.ok() || absl::IsNotFound(state.status())) return NoSuchTask(request.id());
    return state.status();
  }
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Readership readership, access_.ReadershipOf(reader, *state));
  if (readership == workflow::Readership::kNone) return NoSuchTask(request.id());
  SIGNOFF_ASSIGN_OR_RETURN(auto definition,
                           context_.Definition(state->definition_key(), state->definition_version()));
  v1::TaskResponse response;
  *response.mutable_task() = *found;
  ShowTask(*response.mutable_task(), definition->definition(), &*state, context_.Now());
  return response;
}

absl::StatusOr<v1::TaskResponse> TaskService::ClaimTask(const Caller& caller,
                                                        const v1::ClaimTaskRequest& request) {
  v1::Command command;
  *command.mutable_claim() = request;
  return RunForTask(caller, "ClaimTask", request, request.request_id(), request.id(),
                    std::move(command));
}

absl::StatusOr<v1::DecideTaskResponse> TaskService::DecideTask(
    const Caller& caller, const v1::DecideTaskRequest& request) {
  v1::Command command;
  *command.mutable_decide() = request;
  const std::string task_id = request.task_id();
  v1::DecideTaskResponse reply;
  SIGNOFF_RETURN_IF_ERROR(RunOnTask(
      caller, "DecideTask", request, request.request_id(), task_id, std::move(command),
      [task_id](const v1::InstanceState& state, const v1::WorkflowDefinition& definition,
                google::protobuf::Message& out) {
        auto& response = static_cast<v1::DecideTaskResponse&>(out);
        if (const v1::Task* found = TaskIn(state, task_id)) {
          *response.mutable_task() = *found;
          ShowTask(*response.mutable_task(), definition, &state, absl::InfinitePast());
        }
        *response.mutable_instance() = ViewOf(state, definition, absl::InfinitePast());
      },
      reply));
  return reply;
}

absl::StatusOr<v1::TaskResponse> TaskService::UnclaimTask(
    const Caller& caller, const v1::UnclaimTaskRequest& request) {
  v1::Command command;
  *command.mutable_unclaim() = request;
  return RunForTask(caller, "UnclaimTask", request, request.request_id(), request.id(),
                    std::move(command));
}

absl::StatusOr<v1::DecideTasksResponse> TaskService::DecideTasks(
    const Caller& caller, const v1::DecideTasksRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  if (request.decisions().empty()) {
    return workflow::InvalidArgumentWithViolations(
        "no decisions given", {{"decisions", "needs at least one decision"}});
  }
  if (request.decisions_size() > kMaxBulkDecisions) {
    return workflow::InvalidArgumentWithViolations(
        "too many decisions in one call",
        {{"decisions", absl::StrCat("at most ", kMaxBulkDecisions, " in one call")}});
  }
  v1::DecideTasksResponse response;
  for (const auto& decision : request.decisions()) {
    v1::DecideTaskResult& result = *response.add_results();
    result.set_task_id(decision.task_id());
    absl::StatusOr<v1::DecideTaskResponse> decided = DecideTask(caller, decision);
    if (decided.ok()) {
      *result.mutable_response() = *std::move(decided);
      continue;
    }
    result.set_code(static_cast<int32_t>(decided.status().code()));
    result.set_message(std::string(decided.status().message()));
  }
  return response;
}

absl::StatusOr<v1::TaskResponse> TaskService::RemindTask(const Caller& caller,
                                                         const v1::RemindTaskRequest& request) {
  v1::Command command;
  *command.mutable_remind() = request;
  return RunForTask(caller, "RemindTask", request, request.request_id(), request.id(),
                    std::move(command));
}

absl::StatusOr<v1::ClockResponse> TaskService::PauseClock(const Caller& caller,
                                                          const v1::ClockRequest& request) {
  v1::Command command;
  *command.mutable_pause_clock() = request;
  if (request.task_id().empty() && request.has_wait()) {
    return RunForWait(caller, "PauseClock", request, request.request_id(), request.wait(),
                      std::move(command));
  }
  return RunForClock(caller, "PauseClock", request, request.request_id(), request.task_id(),
                     std::move(command));
}

absl::StatusOr<v1::ClockResponse> TaskService::ResumeClock(const Caller& caller,
                                                           const v1::ClockRequest& request) {
  v1::Command command;
  *command.mutable_resume_clock() = request;
  if (request.task_id().empty() && request.has_wait()) {
    return RunForWait(caller, "ResumeClock", request, request.request_id(), request.wait(),
                      std::move(command));
  }
  return RunForClock(caller, "ResumeClock", request, request.request_id(), request.task_id(),
                     std::move(command));
}

absl::StatusOr<v1::ClockResponse> TaskService::ExtendDeadline(
    const Caller& caller, const v1::ExtendDeadlineRequest& request) {
  v1::Command command;
  *command.mutable_extend_deadline() = request;
  if (request.task_id().empty() && request.has_wait()) {
    return RunForWait(caller, "ExtendDeadline", request, request.request_id(), request.wait(),
                      std::move(command));
  }
  return RunForClock(caller, "ExtendDeadline", request, request.request_id(),
                     request.task_id(), std::move(command));
}

}  // namespace signoff::app
