#include "server/grpc_log.h"

#include <grpc/support/log.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/json_log.h"

namespace signoff::server {

namespace {

const char* LevelOf(gpr_log_severity severity) {
  switch (severity) {
    case GPR_LOG_SEVERITY_DEBUG: return "debug";
    case GPR_LOG_SEVERITY_INFO: return "info";
    case GPR_LOG_SEVERITY_ERROR: return "error";
  }
  return "info";
}

void WriteJsonLine(gpr_log_func_args* args) {
  const std::string line = absl::StrFormat(
      "{\"time\":\"%s\",\"level\":\"%s\",\"component\":\"grpc\",\"source\":\"%s:%d\","
      "\"message\":\"%s\"}\n",
      absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()),
      LevelOf(args->severity), JsonEscape(args->file == nullptr ? "" : args->file), args->line,
      JsonEscape(args->message == nullptr ? "" : args->message));
  std::fputs(line.c_str(), stderr);
}

}  // namespace

void SendGrpcLogsToJson() { gpr_set_log_function(WriteJsonLine); }

}  // namespace signoff::server
