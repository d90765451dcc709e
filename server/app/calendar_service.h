#pragma once

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "server/app/command_pipeline.h"
#include "signoff/v1/service.pb.h"

namespace signoff::app {

// CalendarService: business calendars, versioned like definitions.
class CalendarService {
 public:
  CalendarService(AppContext& context, CommandPipeline& pipeline)
      : context_(context), pipeline_(pipeline) {}

  absl::StatusOr<v1::PublishCalendarResponse> PublishCalendar(
      const Caller& caller, const v1::PublishCalendarRequest& request);
  absl::StatusOr<v1::GetCalendarResponse> GetCalendar(const Caller& caller,
                                                      const v1::GetCalendarRequest& request);
  absl::StatusOr<v1::ListCalendarsResponse> ListCalendars(
      const Caller& caller, const v1::ListCalendarsRequest& request);

  // Start-up seeding: publishes unless the latest version is already
  // identical. Returns the version.
  absl::StatusOr<int32_t> PublishIfChanged(const v1::Calendar& calendar);

 private:
  AppContext& context_;
  CommandPipeline& pipeline_;
};

}  // namespace signoff::app
