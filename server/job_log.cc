#include "server/job_log.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/json_log.h"

namespace signoff::server {
namespace {

// The log's name for a job event, or nullptr for an event that is not one.
const char* JobEventName(const v1::Event& event) {
  switch (event.body_case()) {
    case v1::Event::kTaskCreated:
      return event.task_created().task().has_job() ? "job_created" : nullptr;
    case v1::Event::kTaskCompleted:
      return event.task_completed().task().has_job() ? "job_completed" : nullptr;
    case v1::Event::kJobFailed: return "job_failed";
    case v1::Event::kJobErrorThrown: return "job_error_thrown";
    case v1::Event::kIncidentRaised: return "incident_raised";
    case v1::Event::kIncidentResolved: return "incident_resolved";
    default: return nullptr;
  }
}

const v1::Task& TaskOf(const v1::Event& event) {
  switch (event.body_case()) {
    case v1::Event::kTaskCreated: return event.task_created().task();
    case v1::Event::kTaskCompleted: return event.task_completed().task();
    case v1::Event::kJobFailed: return event.job_failed().task();
    case v1::Event::kJobErrorThrown: return event.job_error_thrown().task();
    case v1::Event::kIncidentRaised: return event.incident_raised().task();
    default: return event.incident_resolved().task();
  }
}

}  // namespace

void LogJobEvents(const app::Committed& committed) {
  for (const v1::Event& event : committed.events) {
    const char* name = JobEventName(event);
    if (name == nullptr) continue;
    const v1::Task& task = TaskOf(event);
    const bool trouble = event.has_job_failed() || event.has_incident_raised();
    const std::string& why = event.reason().empty() ? event.comment() : event.reason();
    std::fputs(
        absl::StrFormat(
            "{\"time\":\"%s\",\"level\":\"%s\",\"component\":\"jobs\",\"event\":\"%s\","
            "\"instance\":\"%s\",\"task\":\"%s\",\"step\":\"%s\",\"job_type\":\"%s\","
            "\"actor\":\"%s\",\"retries_left\":%d,\"message\":\"%s\"}\n",
            absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()),
            trouble ? "warn" : "info", name, JsonEscape(event.instance_id()),
            JsonEscape(task.id()), JsonEscape(event.step_id()), JsonEscape(task.job().type()),
            JsonEscape(event.actor()), task.job().retries_left(), JsonEscape(why.substr(0, 1024)))
            .c_str(),
        stderr);
  }
}

}  // namespace signoff::server
