#include "server/rpc_dispatcher.h"

#include <cstdio>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
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
                             const char* protocol, std::string trace_id, Done done) const {
  const absl::Time started = absl::Now();
  // A caller without a valid token, or one the directory does not take
  // (unknown, disabled, a person named by a certificate), is turned away
  // here, before it takes a worker or a queue slot. The application checks
  // again when the call runs, against the directory of that moment.
  absl::StatusOr<app::Caller> caller = Admit(identified);
  if (!caller.ok()) {
    Log(method, protocol, identified.value_or(app::Caller{}), caller.status(), started, {},
        trace_id);
    return done(caller.status());
  }
  auto route = routes_.find(method);
  if (route == routes_.end()) {
    absl::Status unknown = absl::UnimplementedError(
        absl::StrCat("signoffd serves no method ", workflow::ShortForMessage(method)));
    Log(method, protocol, *caller, unknown, started, {}, trace_id);
    return done(unknown);
  }
  // `done` is shared between the work and the refusal below: a refused
  // submission hands the work back unrun.
  auto shared_done = std::make_shared<Done>(std::move(done));
  auto work = [this, &route = route->second, method, protocol, caller = *caller,
               request = std::move(request), shared_done, started, trace_id] {
    CallFacts facts;
    absl::StatusOr<std::string> result = route(caller, request, &facts);
    Log(method, protocol, caller, result.status(), started, facts, trace_id);
    (*shared_done)(std::move(result));
  };
  if (!ExecutorFor(method).TrySubmit(std::move(work))) {
    if (metrics_ != nullptr) metrics_->RecordRejection(ExecutorNameFor(method));
    absl::Status busy = absl::ResourceExhaustedError("signoffd is overloaded; retry later");
    Log(method, protocol, *caller, busy, started, {}, trace_id);
    (*shared_done)(busy);
  }
}

const char* RpcDispatcher::ExecutorNameFor(const std::string& method) {
  static const std::set<std::string> kDocumentMethods = {
      "/signoff.v1.DefinitionService/ValidateDefinition",
      "/signoff.v1.DefinitionService/PublishDefinition",
      "/signoff.v1.CalendarService/PublishCalendar"};
  if (method == "/signoff.v1.JobService/ActivateJobs") return "job_polls";
  return kDocumentMethods.count(method) ? "documents" : "calls";
}

BoundedExecutor& RpcDispatcher::ExecutorFor(const std::string& method) const {
  const std::string name = ExecutorNameFor(method);
  if (name == "job_polls") return job_poll_executor_;
  return name == "documents" ? document_executor_ : executor_;
}

namespace {

// `"name":"value",` for a fact the call has, nothing for one it lacks.
std::string FactField(const char* name, const std::string& value) {
  if (value.empty()) return "";
  return absl::StrCat("\"", name, "\":\"", JsonEscape(workflow::ShortForMessage(value)), "\",");
}

}  // namespace

void RpcDispatcher::Log(const std::string& method, const char* protocol,
                        const app::Caller& caller, const absl::Status& status, absl::Time started,
                        const CallFacts& facts, const std::string& trace_id) const {
  if (metrics_ != nullptr) {
    metrics_->RecordCall(method, protocol, status.code(), absl::Now() - started);
  }
  if (!log_calls_) return;
  const std::string line = absl::StrFormat(
      "{\"time\":\"%s\",\"level\":\"%s\",\"method\":\"%s\",\"protocol\":\"%s\",\"user\":\"%s\","
      "%s%s%s%s\"code\":\"%s\",\"ms\":%.3f,\"message\":\"%s\"}\n",
      absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()),
      status.ok() ? "info" : "warn", JsonEscape(workflow::ShortForMessage(method)), protocol,
      JsonEscape(workflow::ShortForMessage(caller.user)),
      FactField("request_id", facts.request_id), FactField("instance", facts.instance_id),
      FactField("task", facts.task_id), FactField("trace_id", trace_id),
      absl::StatusCodeToString(status.code()), absl::ToDoubleMilliseconds(absl::Now() - started),
      JsonEscape(std::string(status.message().substr(0, 1024))));
  std::fputs(line.c_str(), stderr);
}

std::string TraceIdOf(absl::string_view traceparent) {
  const std::vector<absl::string_view> parts = absl::StrSplit(traceparent, '-');
  // Version 00 has four fields; later versions may add more after them.
  if (parts.size() < 4 || (parts[0] == "00" && parts.size() != 4) || parts[0].size() != 2 ||
      parts[1].size() != 32 || parts[2].size() != 16 || parts[3].size() != 2 ||
      parts[0] == "ff") {
    return "";
  }
  for (size_t i = 0; i < 4; ++i) {
    for (char c : parts[i]) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) || absl::ascii_isupper(c)) return "";
    }
  }
  if (parts[1] == std::string(32, '0') || parts[2] == std::string(16, '0')) return "";
  return std::string(parts[1]);
}

}  // namespace signoff::server
