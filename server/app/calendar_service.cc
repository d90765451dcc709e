#include "server/app/calendar_service.h"

#include "absl/strings/str_cat.h"
#include "workflow/errors.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"
#include "workflow/yaml_mapping.h"

namespace signoff::app {

absl::StatusOr<v1::PublishCalendarResponse> CalendarService::PublishCalendar(
    const Caller& caller, const v1::PublishCalendarRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.RequireAdmin(caller));
  v1::Calendar calendar;
  switch (request.source_case()) {
    case v1::PublishCalendarRequest::kCalendar:
      calendar = request.calendar();
      break;
    case v1::PublishCalendarRequest::kYaml: {
      SIGNOFF_ASSIGN_OR_RETURN(calendar, workflow::ParseCalendarYaml(request.yaml()));
      break;
    }
    default:
      return workflow::InvalidArgumentWithViolations("no calendar given",
                                                     {{"source", "set calendar or yaml"}});
  }
  SIGNOFF_RETURN_IF_ERROR(BuildCalendar(calendar).status());
  SIGNOFF_ASSIGN_OR_RETURN(v1::PublishCalendarResponse response,
                           documents_.Publish(caller, calendar, "", request, request.request_id()));
  SIGNOFF_RETURN_IF_ERROR(context_.ReloadCalendars());
  return response;
}

absl::StatusOr<v1::GetCalendarResponse> CalendarService::GetCalendar(
    const Caller& caller, const v1::GetCalendarRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  if (request.name().empty()) {
    return workflow::InvalidArgumentWithViolations("no name", {{"name", "is required"}});
  }
  if (request.version() < 0) {
    return workflow::InvalidArgumentWithViolations(
        "bad version", {{"version", "must be 0 (latest) or a published version"}});
  }
  v1::GetCalendarResponse response;
  SIGNOFF_ASSIGN_OR_RETURN(*response.mutable_published(),
                           context_.store().GetCalendar(request.name(), request.version()));
  return response;
}

absl::StatusOr<v1::ListCalendarsResponse> CalendarService::ListCalendars(
    const Caller& caller, const v1::ListCalendarsRequest&) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  SIGNOFF_ASSIGN_OR_RETURN(auto calendars, context_.store().ListCalendars());
  v1::ListCalendarsResponse response;
  for (auto& calendar : calendars) *response.add_calendars() = std::move(calendar);
  return response;
}

absl::StatusOr<FilePublished> CalendarService::PublishFromFile(const v1::Calendar& calendar,
                                                              const std::string& origin) {
  SIGNOFF_RETURN_IF_ERROR(BuildCalendar(calendar).status());
  SIGNOFF_ASSIGN_OR_RETURN(FilePublished outcome, documents_.PublishFromFile(calendar, origin));
  if (outcome.published) SIGNOFF_RETURN_IF_ERROR(context_.ReloadCalendars());
  return outcome;
}

}  // namespace signoff::app
