#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app/app_context.h"
#include "server/caller_identity.h"
#include "server/executor.h"
#include "server/metrics.h"
#include "server/routes.h"

namespace signoff::server {

// What every transport does with a unary call once it has the caller and
// the request's bytes: admits the caller, runs the route on the right
// bounded executor, logs one line, and hands the answer back. gRPC and the
// HTTP gateway both go through here, so a call is checked, queued and
// logged alike whichever protocol carried it.
class RpcDispatcher {
 public:
  using Done = std::function<void(absl::StatusOr<std::string>)>;

  RpcDispatcher(const std::map<std::string, Route>& routes, const app::AppContext& app_context,
                BoundedExecutor& executor, BoundedExecutor& document_executor,
                BoundedExecutor& job_poll_executor, bool log_calls, Metrics* metrics)
      : routes_(routes),
        app_context_(app_context),
        executor_(executor),
        document_executor_(document_executor),
        job_poll_executor_(job_poll_executor),
        log_calls_(log_calls),
        metrics_(metrics) {}

  bool HasMethod(const std::string& method) const { return routes_.count(method) > 0; }
  // Every method routed, as "/package.Service/Method".
  std::vector<std::string> MethodPaths() const {
    std::vector<std::string> paths;
    for (const auto& [path, route] : routes_) paths.push_back(path);
    return paths;
  }

  // Calls `done` exactly once: on this thread when the caller is refused
  // or the executor is full, otherwise on a worker. `identified` is who the
  // transport says the call comes from; the directory is in memory, so
  // admitting it here does not block. `protocol` names the wire format in
  // the log line.
  // `trace_id` (from a W3C traceparent, see TraceIdOf) joins the log line.
  void Dispatch(const std::string& method, const absl::StatusOr<app::Caller>& identified,
                std::string request, const char* protocol, std::string trace_id,
                Done done) const;

  // The caller, if the directory admits it.
  absl::StatusOr<app::Caller> Admit(const absl::StatusOr<app::Caller>& identified) const;

  // Logs the call's line and counts it in the metrics.
  void Log(const std::string& method, const char* protocol, const app::Caller& caller,
           const absl::Status& status, absl::Time started, const CallFacts& facts = {},
           const std::string& trace_id = "") const;

 private:
  BoundedExecutor& ExecutorFor(const std::string& method) const;
  // The executor a method runs on, by the name metrics give it.
  static const char* ExecutorNameFor(const std::string& method);

  const std::map<std::string, Route>& routes_;
  const app::AppContext& app_context_;
  BoundedExecutor& executor_;
  BoundedExecutor& document_executor_;
  BoundedExecutor& job_poll_executor_;
  const bool log_calls_;
  Metrics* const metrics_;
};

// The trace id of a W3C traceparent header ("00-<32 hex>-<16 hex>-<2 hex>"),
// or "" when the value is not one, so that a log line carries only a valid
// id.
std::string TraceIdOf(absl::string_view traceparent);

}  // namespace signoff::server
