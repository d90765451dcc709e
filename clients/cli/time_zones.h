#pragma once

// Which time zone shows a time. An instance's or task's times read best in
// the zone of the business calendar its definition names, since that is
// where its deadlines are counted; --tz overrides that for everything.

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "connection.h"

namespace signoff::cli {

// A --tz value: an IANA name ("Asia/Shanghai", "UTC"), "local", or a fixed
// offset from UTC ("+08:00", "-05:30"). Anything else is a usage error.
absl::StatusOr<absl::TimeZone> ParseTimeZone(const std::string& text);

// Looks up, at most once per command run, the definitions and calendars
// that decide which zone a time is shown in.
class ZoneLookup {
 public:
  // `forced` is the zone --tz asked for, if any; it wins over every lookup.
  ZoneLookup(Connection& connection, std::optional<absl::TimeZone> forced)
      : connection_(connection), forced_(std::move(forced)) {}

  // The zone of the calendar that version `version` (0: the latest) of the
  // definition names; the local zone when it names none or cannot be read.
  absl::TimeZone ForDefinition(const std::string& key, int32_t version);

  // The zone of the latest version of the named calendar; the local zone
  // for "" or a calendar that cannot be read.
  absl::TimeZone ForCalendar(const std::string& name);

  // The zone of a calendar whose time zone name is in hand (e.g. from a
  // calendar listing), without a call.
  absl::TimeZone ForCalendarZone(const std::string& time_zone_name);

  // Times that belong to no definition or calendar, e.g. when a definition
  // was published.
  absl::TimeZone Default() const { return forced_.value_or(absl::LocalTimeZone()); }

 private:
  // The calendar a definition version names ("" for none), or nullopt when
  // the definition cannot be read.
  std::optional<std::string> CalendarOf(const std::string& key, int32_t version);
  // The zone of the latest version of a calendar, from one listing of all
  // calendars.
  std::optional<absl::TimeZone> ZoneOfCalendar(const std::string& name);

  Connection& connection_;
  std::optional<absl::TimeZone> forced_;
  std::map<std::pair<std::string, int32_t>, std::optional<std::string>> calendar_of_definition_;
  std::optional<std::map<std::string, std::string>> calendar_zone_names_;
};

}  // namespace signoff::cli
