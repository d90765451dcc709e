#include "server/rpc_dispatcher.h"

#include <cstdio>
#include <set>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/json_log.h"
#include "workflow/errors.h"

namespace signoff::server {

absl::StatusOr<app::Caller> RpcDispatcher::Admit(
    const absl::StatusOr<app::Caller>& identified) const {
  if (!identified.ok()) return identified.status();
  if (absl::Status admitted = app_context_.Authenticate(*identified); !admitted.ok()) {
    return admitted;
  }
  return *identified;
}

void RpcDispatcher::Dispatch(const std::string& method,
                             const absl::StatusOr<app::Caller>& identified, std::string request,
                             const char* protocol, Done done) const {
  const absl::Time started = absl::Now();
  // A caller without a valid token, or one the directory does not take
  // (unknown, disabled, a person named by a certificate), is turned away
  // here, before it takes a worker or a queue slot. The application checks
  // again when the call runs, against the directory of that moment.
  absl::StatusOr<app::Caller> caller = Admit(identified);
  if (!caller.ok()) {
    Log(method, protocol, identified.value_or(app::Caller{}), caller.status(), started);
    return done(caller.status());
  }
  auto route = routes_.find(method);
  if (route == routes_.end()) {
    absl::Status unknown = absl::UnimplementedError(
        absl::StrCat("signoffd serves no method ", workflow::ShortForMessage(method)));
    Log(method, protocol, *caller, unknown, started);
    return done(unknown);
  }
  // `done` is shared between the work and the refusal below: a refused
  // submission hands the work back unrun.
  auto shared_done = std::make_shared<Done>(std::move(done));
  auto work = [this, &route = route->second, method, protocol, caller = *caller,
               request = std::move(request), shared_done, started] {
    absl::StatusOr<std::string> result = route(caller, request);
    Log(method, protocol, caller, result.status(), started);
    (*shared_done)(std::move(result));
  };
  if (!ExecutorFor(method).TrySubmit(std::move(work))) {
    absl::Status busy = absl::ResourceExhaustedError("signoffd is overloaded; retry later");
    Log(method, protocol, *caller, busy, started);
    (*shared_done)(busy);
  }
}

BoundedExecutor& RpcDispatcher::ExecutorFor(const std::string& method) const {
  static const std::set<std::string> kDocumentMethods = {
      "/signoff.v1.DefinitionService/ValidateDefinition",
      "/signoff.v1.DefinitionService/PublishDefinition",
      "/signoff.v1.CalendarService/PublishCalendar"};
  if (method == "/signoff.v1.JobService/ActivateJobs") return job_poll_executor_;
  return kDocumentMethods.count(method) ? document_executor_ : executor_;
}

void RpcDispatcher::Log(const std::string& method, const char* protocol,
                        const app::Caller& caller, const absl::Status& status,
                        absl::Time started) const {
  if (!log_calls_) return;
  const std::string line = absl::StrFormat(
      "{\"time\":\"%s\",\"level\":\"%s\",\"method\":\"%s\",\"protocol\":\"%s\",\"user\":\"%s\","
      "\"code\":\"%s\",\"ms\":%.3f,\"message\":\"%s\"}\n",
      absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()),
      status.ok() ? "info" : "warn", JsonEscape(workflow::ShortForMessage(method)), protocol,
      JsonEscape(workflow::ShortForMessage(caller.user)), absl::StatusCodeToString(status.code()),
      absl::ToDoubleMilliseconds(absl::Now() - started),
      JsonEscape(std::string(status.message().substr(0, 1024))));
  std::fputs(line.c_str(), stderr);
}

}  // namespace signoff::server
