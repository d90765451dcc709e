#include "server/app/calendar_service.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
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
  PlainChange change;
  change.method = "PublishCalendar";
  change.request = &request;
  change.request_id = request.request_id();
  change.build = [&](google::protobuf::Message& out) -> absl::StatusOr<storage::Mutation> {
    auto latest = context_.store().GetCalendar(calendar.name(), 0);
    if (!latest.ok() && !absl::IsNotFound(latest.status())) return latest.status();
    v1::PublishedCalendar published;
    published.set_name(calendar.name());
    published.set_version(latest.ok() ? latest->version() + 1 : 1);
    *published.mutable_calendar() = calendar;
    *published.mutable_published_at() = workflow::ToTimestamp(context_.Now());
    published.set_published_by(caller.system ? workflow::kSystemActor : caller.user);
    storage::Mutation mutation;
    mutation.calendar = published;
    *static_cast<v1::PublishCalendarResponse&>(out).mutable_published() = std::move(published);
    return mutation;
  };
  v1::PublishCalendarResponse reply;
  SIGNOFF_RETURN_IF_ERROR(pipeline_.Run(caller, change, reply));
  SIGNOFF_RETURN_IF_ERROR(context_.ReloadCalendars());
  return reply;
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

absl::StatusOr<int32_t> CalendarService::PublishIfChanged(const v1::Calendar& calendar) {
  auto latest = context_.store().GetCalendar(calendar.name(), 0);
  if (latest.ok() &&
      google::protobuf::util::MessageDifferencer::Equals(latest->calendar(), calendar)) {
    return latest->version();
  }
  if (!latest.ok() && !absl::IsNotFound(latest.status())) return latest.status();
  v1::PublishCalendarRequest request;
  request.set_request_id(absl::StrCat(kServiceRequestPrefix, "seed-calendar-", calendar.name(),
                                      "-", latest.ok() ? latest->version() + 1 : 1));
  *request.mutable_calendar() = calendar;
  SIGNOFF_ASSIGN_OR_RETURN(auto response, PublishCalendar(Caller{"", true}, request));
  return response.published().version();
}

}  // namespace signoff::app
