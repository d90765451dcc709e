#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "form_input.h"
#include "output.h"

namespace signoff::cli {

namespace {

using Stub = v1::CalendarService::Stub;

absl::Status Publish(Cli& cli, const std::string& file, const std::string& yaml,
                     const std::string& request_id) {
  v1::PublishCalendarRequest request;
  request.set_request_id(request_id);
  request.set_yaml(yaml);
  return Show(cli, cli.Connect().Call(cli.Connect().calendars(), &Stub::PublishCalendar, request),
              [&file](const v1::PublishCalendarResponse& response) {
                std::cout << (response.unchanged() ? "unchanged: calendar " : "published calendar ")
                          << response.published().name() << " version "
                          << response.published().version() << " from " << file << "\n";
              });
}

// Publication times are shown in the calendar's own zone.
void PrintCalendar(const v1::PublishedCalendar& published, absl::TimeZone zone) {
  const v1::Calendar& calendar = published.calendar();
  std::vector<std::string> days;
  for (int day : calendar.working_days()) {
    days.push_back(v1::Weekday_Name(static_cast<v1::Weekday>(day)));
  }
  std::vector<std::string> hours;
  for (const auto& stretch : calendar.working_hours()) {
    hours.push_back(absl::StrCat(stretch.start(), "-", stretch.end()));
  }
  std::cout << "Name:          " << published.name() << "\n"
            << "Version:       " << published.version() << "\n";
  if (!calendar.description().empty()) std::cout << "Description:   " << calendar.description() << "\n";
  std::cout << "Time zone:     " << calendar.time_zone() << "\n"
            << "Working days:  " << (days.empty() ? "MONDAY to FRIDAY" : absl::StrJoin(days, ", ")) << "\n"
            << "Working hours: " << (hours.empty() ? "09:00-18:00" : absl::StrJoin(hours, ", ")) << "\n"
            << "Published:     " << ShowTime(published.published_at(), zone) << " by "
            << published.published_by() << "\n";
  // The year's exceptions in date order: days off and make-up workdays.
  std::vector<std::pair<std::string, std::string>> exceptions;
  for (const auto& year : calendar.years()) {
    for (const auto& day : year.holidays()) exceptions.emplace_back(day, "holiday");
    for (const auto& day : year.workdays()) exceptions.emplace_back(day, "workday");
  }
  if (exceptions.empty()) return;
  std::sort(exceptions.begin(), exceptions.end());
  Table table({"DATE", "KIND"});
  for (const auto& [day, kind] : exceptions) table.Add({day, kind});
  table.Print();
}

absl::Status Get(Cli& cli, const std::string& reference) {
  auto parsed = ParseReference(reference, "cn-mainland@2");
  if (!parsed.ok()) return parsed.status();
  v1::GetCalendarRequest request;
  request.set_name(parsed->name);
  request.set_version(parsed->version);
  return Show(cli, cli.Connect().Call(cli.Connect().calendars(), &Stub::GetCalendar, request),
              [&cli](const v1::GetCalendarResponse& answer) {
                PrintCalendar(answer.published(),
                              cli.zones().ForCalendarZone(answer.published().calendar().time_zone()));
              });
}

absl::Status List(Cli& cli) {
  auto response = cli.Connect().Call(cli.Connect().calendars(), &Stub::ListCalendars,
                                     v1::ListCalendarsRequest());
  return Show(cli, response, [&cli](const v1::ListCalendarsResponse& answer) {
    Table table({"NAME", "VERSION", "TIME ZONE", "PUBLISHED"});
    for (const auto& published : answer.calendars()) {
      table.Add({published.name(), absl::StrCat(published.version()), published.calendar().time_zone(),
                 ShowTime(published.published_at(),
                          cli.zones().ForCalendarZone(published.calendar().time_zone()))});
    }
    table.Print();
  });
}

}  // namespace

void AddCalendarCommands(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "calendar", "publish and read business calendars",
                     {"signoffctl calendar list", "signoffctl calendar get cn-mainland"});

  AddPublishCommand(*noun, cli, "publish each file as the next version of its calendar",
                    "signoffctl --as carl.yuan calendar publish workflow/definitions/calendars/cn-mainland.yaml",
                    "calendar YAML files", Publish);

  auto* list = Command(*noun, "list", "list calendars, the latest version of each", "signoffctl calendar list");
  list->callback([&cli] { cli.run = [&cli] { return List(cli); }; });

  AddGetCommand(*noun, cli, "show a calendar and its holidays, the latest or NAME@VERSION",
                "signoffctl calendar get cn-mainland@1", "NAME or NAME@VERSION", Get);
}

}  // namespace signoff::cli
