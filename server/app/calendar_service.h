#pragma once

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "server/app/command_pipeline.h"
#include "server/app/documents.h"
#include "signoff/v1/service.pb.h"

namespace signoff::app {

// CalendarService: business calendars, versioned like definitions.
class CalendarService {
 public:
  CalendarService(AppContext& context, CommandPipeline& pipeline)
      : context_(context), documents_(context, pipeline) {}

  absl::StatusOr<v1::PublishCalendarResponse> PublishCalendar(
      const Caller& caller, const v1::PublishCalendarRequest& request);
  absl::StatusOr<v1::GetCalendarResponse> GetCalendar(const Caller& caller,
                                                      const v1::GetCalendarRequest& request);
  absl::StatusOr<v1::ListCalendarsResponse> ListCalendars(
      const Caller& caller, const v1::ListCalendarsRequest& request);

  // Start-up seeding: publishes a file's calendar unless what that file
  // published last is the same.
  absl::StatusOr<FilePublished> PublishFromFile(const v1::Calendar& calendar,
                                                const std::string& origin);

 private:
  AppContext& context_;
  VersionedDocuments<v1::PublishedCalendar> documents_;
};

}  // namespace signoff::app
