#include "time_zones.h"

#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "form_input.h"

namespace signoff::cli {

namespace {

// "+08:00", "+0800" or "+08" (and the same with "-"), in seconds east of
// UTC; nullopt when `text` is not such an offset.
std::optional<int> OffsetSeconds(const std::string& text) {
  if (text.size() < 3 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
  std::string digits = text.substr(1);
  if (digits.size() == 5 && digits[2] == ':') digits.erase(2, 1);
  if (digits.size() != 2 && digits.size() != 4) return std::nullopt;
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  int hours = 0;
  int minutes = 0;
  if (!absl::SimpleAtoi(digits.substr(0, 2), &hours)) return std::nullopt;
  if (digits.size() == 4 && !absl::SimpleAtoi(digits.substr(2), &minutes)) return std::nullopt;
  if (hours > 14 || minutes > 59) return std::nullopt;
  const int seconds = hours * 3600 + minutes * 60;
  return text[0] == '-' ? -seconds : seconds;
}

}  // namespace

absl::StatusOr<absl::TimeZone> ParseTimeZone(const std::string& text) {
  if (text == "local") return absl::LocalTimeZone();
  if (absl::EqualsIgnoreCase(text, "UTC") || text == "Z") return absl::UTCTimeZone();
  if (auto offset = OffsetSeconds(text)) return absl::FixedTimeZone(*offset);
  absl::TimeZone zone;
  // LoadTimeZone also reads paths and "Fixed/..." names; only plain
  // zone names are offered, so that a typo is not taken as a file.
  if (!text.empty() && text[0] != '/' && text.find("..") == std::string::npos &&
      absl::LoadTimeZone(text, &zone)) {
    return zone;
  }
  return UsageError(absl::StrCat("--tz: unknown time zone '", text,
                                 "'; give a zone name such as Asia/Shanghai or UTC, an offset "
                                 "such as +08:00, or local"));
}

absl::TimeZone ZoneLookup::ForDefinition(const std::string& key, int32_t version) {
  if (forced_) return *forced_;
  const std::optional<std::string> calendar = CalendarOf(key, version);
  return ForCalendar(calendar.value_or(""));
}

absl::TimeZone ZoneLookup::ForCalendar(const std::string& name) {
  if (forced_) return *forced_;
  if (name.empty()) return absl::LocalTimeZone();
  return ZoneOfCalendar(name).value_or(absl::LocalTimeZone());
}

absl::TimeZone ZoneLookup::ForCalendarZone(const std::string& time_zone_name) {
  if (forced_) return *forced_;
  absl::TimeZone zone;
  if (!time_zone_name.empty() && absl::LoadTimeZone(time_zone_name, &zone)) return zone;
  return absl::LocalTimeZone();
}

std::optional<std::string> ZoneLookup::CalendarOf(const std::string& key, int32_t version) {
  const auto cache_key = std::make_pair(key, version);
  if (auto cached = calendar_of_definition_.find(cache_key); cached != calendar_of_definition_.end()) {
    return cached->second;
  }
  v1::GetDefinitionRequest request;
  request.set_key(key);
  request.set_version(version);
  auto definition =
      connection_.Call(connection_.definitions(), &v1::DefinitionService::Stub::GetDefinition, request);
  std::optional<std::string> calendar;
  if (definition.ok()) {
    calendar = definition->published().definition().calendar();
  } else {
    // Times still print, marked with the zone they are in; say why it is
    // not the calendar's.
    std::cerr << "note: times of " << key << " are in the local zone; its definition could not be read: "
              << definition.status().message() << "\n";
  }
  calendar_of_definition_.emplace(cache_key, calendar);
  return calendar;
}

std::optional<absl::TimeZone> ZoneLookup::ZoneOfCalendar(const std::string& name) {
  if (!calendar_zone_names_) {
    calendar_zone_names_.emplace();
    auto listed = connection_.Call(connection_.calendars(), &v1::CalendarService::Stub::ListCalendars,
                                   v1::ListCalendarsRequest());
    if (listed.ok()) {
      for (const auto& published : listed->calendars()) {
        (*calendar_zone_names_)[published.name()] = published.calendar().time_zone();
      }
    } else {
      std::cerr << "note: times are in the local zone; the calendars could not be read: "
                << listed.status().message() << "\n";
    }
  }
  auto found = calendar_zone_names_->find(name);
  absl::TimeZone zone;
  if (found == calendar_zone_names_->end() || !absl::LoadTimeZone(found->second, &zone)) {
    return std::nullopt;
  }
  return zone;
}

}  // namespace signoff::cli
