#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/grpc_status.h"
#include "server/json_log.h"
#include "signoff/v1/service.grpc.pb.h"

namespace signoff::server {

namespace {

constexpr char kUserHeader[] = "x-signoff-user";

}  // namespace

bool IsLoopbackAddress(const std::string& listen) {
  return absl::StartsWith(listen, "127.") || absl::StartsWith(listen, "localhost:") ||
         absl::StartsWith(listen, "[::1]:") || absl::StartsWith(listen, "unix:");
}

// Bridges gRPC calls to Core: identity from metadata, the work on the
// bounded executor, the answer back through the reactor.
class Transport {
 public:
  Transport(Core& core, BoundedExecutor& executor, bool log_calls)
      : core_(core), executor_(executor), log_calls_(log_calls) {}

  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Handle(
      grpc::CallbackServerContext* context, const Request* request, Response* response,
      const char* method,
      absl::StatusOr<Response> (Core::*handler)(const Caller&, const Request&)) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    Caller caller{UserOf(*context)};
    const absl::Time started = absl::Now();
    auto work = [this, reactor, request, response, method, handler, caller, started] {
      absl::StatusOr<Response> result = (core_.*handler)(caller, *request);
      absl::Status status = result.status();
      if (result.ok()) *response = std::move(*result);
      Log(method, caller, status, started);
      reactor->Finish(ToGrpcStatus(status));
    };
    if (!executor_.TrySubmit(std::move(work))) {
      absl::Status busy = absl::ResourceExhaustedError("signoffd is overloaded; retry later");
      Log(method, caller, busy, started);
      reactor->Finish(ToGrpcStatus(busy));
    }
    return reactor;
  }

 private:
  static std::string UserOf(const grpc::CallbackServerContext& context) {
    const auto& metadata = context.client_metadata();
    auto it = metadata.find(kUserHeader);
    if (it == metadata.end()) return "";
    return std::string(it->second.data(), it->second.size());
  }

  void Log(const char* method, const Caller& caller, const absl::Status& status,
           absl::Time started) const {
    if (!log_calls_) return;
    const std::string line = absl::StrFormat(
        "{\"time\":\"%s\",\"level\":\"%s\",\"method\":\"%s\",\"user\":\"%s\",\"code\":\"%s\","
        "\"ms\":%.3f,\"message\":\"%s\"}\n",
        absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()),
        status.ok() ? "info" : "warn", method, JsonEscape(caller.user),
        absl::StatusCodeToString(status.code()),
        absl::ToDoubleMilliseconds(absl::Now() - started), JsonEscape(std::string(status.message())));
    std::fputs(line.c_str(), stderr);
  }

  Core& core_;
  BoundedExecutor& executor_;
  bool log_calls_;
};

#define SIGNOFF_RPC(Name, Request, Response)                                        \
  grpc::ServerUnaryReactor* Name(grpc::CallbackServerContext* context,             \
                                 const v1::Request* request, v1::Response* response) \
      override {                                                                    \
    return transport_.Handle(context, request, response, #Name, &Core::Name);      \
  }

class DefinitionServiceImpl final : public v1::DefinitionService::CallbackService {
 public:
  explicit DefinitionServiceImpl(Transport& transport) : transport_(transport) {}
  SIGNOFF_RPC(ValidateDefinition, ValidateDefinitionRequest, ValidateDefinitionResponse)
  SIGNOFF_RPC(PublishDefinition, PublishDefinitionRequest, PublishDefinitionResponse)
  SIGNOFF_RPC(GetDefinition, GetDefinitionRequest, GetDefinitionResponse)
  SIGNOFF_RPC(ListDefinitions, ListDefinitionsRequest, ListDefinitionsResponse)

 private:
  Transport& transport_;
};

class InstanceServiceImpl final : public v1::InstanceService::CallbackService {
 public:
  explicit InstanceServiceImpl(Transport& transport) : transport_(transport) {}
  SIGNOFF_RPC(StartInstance, StartInstanceRequest, InstanceResponse)
  SIGNOFF_RPC(PreviewRoute, PreviewRouteRequest, PreviewRouteResponse)
  SIGNOFF_RPC(GetInstance, GetInstanceRequest, InstanceResponse)
  SIGNOFF_RPC(ListInstances, ListInstancesRequest, ListInstancesResponse)
  SIGNOFF_RPC(GetHistory, GetHistoryRequest, GetHistoryResponse)
  SIGNOFF_RPC(WithdrawInstance, WithdrawInstanceRequest, InstanceResponse)
  SIGNOFF_RPC(ResubmitInstance, ResubmitInstanceRequest, InstanceResponse)
  SIGNOFF_RPC(AppealInstance, AppealInstanceRequest, InstanceResponse)
  SIGNOFF_RPC(CancelInstance, CancelInstanceRequest, InstanceResponse)
  SIGNOFF_RPC(SignalInstance, SignalInstanceRequest, InstanceResponse)

 private:
  Transport& transport_;
};

class TaskServiceImpl final : public v1::TaskService::CallbackService {
 public:
  explicit TaskServiceImpl(Transport& transport) : transport_(transport) {}
  SIGNOFF_RPC(ListTasks, ListTasksRequest, ListTasksResponse)
  SIGNOFF_RPC(GetTask, GetTaskRequest, TaskResponse)
  SIGNOFF_RPC(ClaimTask, ClaimTaskRequest, TaskResponse)
  SIGNOFF_RPC(DecideTask, DecideTaskRequest, DecideTaskResponse)
  SIGNOFF_RPC(RemindTask, RemindTaskRequest, TaskResponse)
  SIGNOFF_RPC(PauseClock, ClockRequest, ClockResponse)
  SIGNOFF_RPC(ResumeClock, ClockRequest, ClockResponse)
  SIGNOFF_RPC(ExtendDeadline, ExtendDeadlineRequest, ClockResponse)

 private:
  Transport& transport_;
};

class CalendarServiceImpl final : public v1::CalendarService::CallbackService {
 public:
  explicit CalendarServiceImpl(Transport& transport) : transport_(transport) {}
  SIGNOFF_RPC(PublishCalendar, PublishCalendarRequest, PublishCalendarResponse)
  SIGNOFF_RPC(GetCalendar, GetCalendarRequest, GetCalendarResponse)
  SIGNOFF_RPC(ListCalendars, ListCalendarsRequest, ListCalendarsResponse)

 private:
  Transport& transport_;
};

class DirectoryServiceImpl final : public v1::DirectoryService::CallbackService {
 public:
  explicit DirectoryServiceImpl(Transport& transport) : transport_(transport) {}
  SIGNOFF_RPC(UpsertUsers, UpsertUsersRequest, UpsertUsersResponse)
  SIGNOFF_RPC(UpsertDepartments, UpsertDepartmentsRequest, UpsertDepartmentsResponse)
  SIGNOFF_RPC(GetUser, GetUserRequest, GetUserResponse)
  SIGNOFF_RPC(ListUsers, ListUsersRequest, ListUsersResponse)

 private:
  Transport& transport_;
};

#undef SIGNOFF_RPC

absl::StatusOr<std::unique_ptr<SignoffServer>> SignoffServer::Start(
    std::shared_ptr<Core> core, const ServerOptions& options) {
  if (options.auth != "dev") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown --auth '", options.auth, "'; this build supports: dev"));
  }
  if (!IsLoopbackAddress(options.listen)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--auth=dev trusts a plain header, so it only listens on loopback, not ",
        options.listen));
  }
  std::unique_ptr<SignoffServer> server(new SignoffServer());
  server->core_ = std::move(core);
  server->executor_ = std::make_unique<BoundedExecutor>(options.workers, options.max_queued);
  server->transport_ =
      std::make_unique<Transport>(*server->core_, *server->executor_, options.log_calls);
  server->services_.push_back(std::make_unique<DefinitionServiceImpl>(*server->transport_));
  server->services_.push_back(std::make_unique<InstanceServiceImpl>(*server->transport_));
  server->services_.push_back(std::make_unique<TaskServiceImpl>(*server->transport_));
  server->services_.push_back(std::make_unique<DirectoryServiceImpl>(*server->transport_));
  server->services_.push_back(std::make_unique<CalendarServiceImpl>(*server->transport_));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  for (auto& service : server->services_) builder.RegisterService(service.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  auto* health = server->server_->GetHealthCheckService();
  health->SetServingStatus("liveness", true);
  health->SetServingStatus("readiness", true);
  if (options.timer_poll > absl::ZeroDuration()) {
    server->scheduler_ = std::make_unique<TimerScheduler>(*server->core_, options.timer_poll);
  }
  return server;
}

SignoffServer::~SignoffServer() { Shutdown(); }

std::shared_ptr<grpc::Channel> SignoffServer::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

void SignoffServer::Wait() { server_->Wait(); }

void SignoffServer::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (auto* health = server_->GetHealthCheckService()) {
    health->SetServingStatus("readiness", false);
  }
  scheduler_.reset();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  executor_->Stop();
}

}  // namespace signoff::server
