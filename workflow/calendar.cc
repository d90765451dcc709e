#include "workflow/calendar.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "workflow/errors.h"
#include "workflow/problems.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;

namespace {

// How far Add searches before giving up; far beyond any real deadline, but
// it keeps a calendar with (almost) no working time from looping forever.
constexpr int kSearchYears = 20;

constexpr int kMaxNameLength = 63;

bool AllDigits(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

int DigitsValue(absl::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

}  // namespace

std::optional<absl::Duration> ParseClockTime(absl::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  const absl::string_view hours = text.substr(0, 2);
  const absl::string_view minutes = text.substr(3, 2);
  if (!AllDigits(hours) || !AllDigits(minutes)) return std::nullopt;
  const int h = DigitsValue(hours);
  const int m = DigitsValue(minutes);
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return absl::Hours(h) + absl::Minutes(m);
}

namespace {

// "YYYY-MM-DD", rejecting dates that civil time would silently normalise
// (2026-02-30 is not 2026-03-02).
std::optional<absl::CivilDay> ParseDate(absl::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const absl::string_view year = text.substr(0, 4);
  const absl::string_view month = text.substr(5, 2);
  const absl::string_view day = text.substr(8, 2);
  if (!AllDigits(year) || !AllDigits(month) || !AllDigits(day)) return std::nullopt;
  const absl::CivilDay parsed(DigitsValue(year), DigitsValue(month), DigitsValue(day));
  if (parsed.year() != DigitsValue(year) || parsed.month() != DigitsValue(month) ||
      parsed.day() != DigitsValue(day)) {
    return std::nullopt;
  }
  return parsed;
}

// [a-z][a-z0-9-]{0,62}: safe in URLs, file names and YAML without quoting.
bool IsCalendarName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  if (!absl::ascii_islower(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return absl::ascii_islower(u) || absl::ascii_isdigit(u) || c == '-';
  });
}

// IANA names are slash-separated words of letters, digits, '_', '-' and
// '+'. Checking that much here keeps names such as "../x" away from the
// loader, which reads them as paths under the zoneinfo directory.
bool IsTimeZoneNameSyntax(absl::string_view name) {
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty()) return false;
    for (char c : part) {
      const auto u = static_cast<unsigned char>(c);
      if (!absl::ascii_isalnum(u) && c != '_' && c != '-' && c != '+') return false;
    }
  }
  return true;
}

v1::Weekday WeekdayOf(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday:
      return v1::MONDAY;
    case absl::Weekday::tuesday:
      return v1::TUESDAY;
    case absl::Weekday::wednesday:
      return v1::WEDNESDAY;
    case absl::Weekday::thursday:
      return v1::THURSDAY;
    case absl::Weekday::friday:
      return v1::FRIDAY;
    case absl::Weekday::saturday:
      return v1::SATURDAY;
    case absl::Weekday::sunday:
      return v1::SUNDAY;
  }
  return v1::WEEKDAY_UNSPECIFIED;
}

// The instant a wall-clock time of `day` names. A wall time the clocks skip
// (spring forward) counts from the jump, a repeated one (fall back) at its
// first occurrence, so that later wall times never give earlier instants.
absl::Time LocalInstant(const absl::TimeZone& zone, absl::CivilDay day,
                        absl::Duration since_midnight) {
  const absl::TimeZone::TimeInfo info =
      zone.At(absl::CivilSecond(day) + absl::ToInt64Seconds(since_midnight));
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}

void ValidateName(const v1::Calendar& calendar, std::vector<v1::Problem>& problems) {
  if (!IsCalendarName(calendar.name())) {
    problems.push_back(
        ProblemAt("name", absl::StrCat("'", calendar.name(),
                                       "' is not a calendar name: use 1 to 63 lowercase letters, "
                                       "digits and hyphens, starting with a letter")));
  }
}

void ValidateTimeZone(const v1::Calendar& calendar, std::vector<v1::Problem>& problems) {
  if (calendar.time_zone().empty()) {
    problems.push_back(ProblemAt("time_zone", "a time zone is required, e.g. Asia/Shanghai"));
  } else if (!IsTimeZoneNameSyntax(calendar.time_zone())) {
    problems.push_back(ProblemAt(
        "time_zone", absl::StrCat("'", calendar.time_zone(), "' is not an IANA time zone name")));
  }
}

void ValidateWorkingDays(const v1::Calendar& calendar, std::vector<v1::Problem>& problems) {
  if (calendar.working_days().empty()) return;  // Monday to Friday
  std::set<int> seen;
  for (int i = 0; i < calendar.working_days_size(); ++i) {
    const int day = calendar.working_days(i);
    const std::string path = absl::StrCat("working_days[", i, "]");
    if (day < v1::MONDAY || day > v1::SUNDAY) {
      problems.push_back(ProblemAt(path, "must be a weekday, MONDAY to SUNDAY"));
    } else if (!seen.insert(day).second) {
      problems.push_back(ProblemAt(
          path, absl::StrCat(v1::Weekday_Name(static_cast<v1::Weekday>(day)), " is listed twice")));
    }
  }
  if (seen.empty()) {
    problems.push_back(ProblemAt("working_days", "at least one working weekday is required"));
  }
}

void ValidateWorkingHours(const v1::Calendar& calendar, std::vector<v1::Problem>& problems) {
  std::optional<absl::Duration> previous_end;
  for (int i = 0; i < calendar.working_hours_size(); ++i) {
    const v1::WorkingHours& hours = calendar.working_hours(i);
    const std::string path = absl::StrCat("working_hours[", i, "]");
    const std::optional<absl::Duration> start = ParseClockTime(hours.start());
    const std::optional<absl::Duration> end = ParseClockTime(hours.end());
    if (!start) {
      problems.push_back(
          ProblemAt(path + ".start",
                    absl::StrCat("'", hours.start(), "' is not a time HH:MM (00:00 to 24:00)")));
    }
    if (!end) {
      problems.push_back(ProblemAt(
          path + ".end", absl::StrCat("'", hours.end(), "' is not a time HH:MM (00:00 to 24:00)")));
    }
    if (!start || !end) continue;
    if (*end <= *start) {
      problems.push_back(ProblemAt(
          path + ".end",
          absl::StrCat("ends at ", hours.end(), ", not after its start ", hours.start())));
      continue;
    }
    if (previous_end && *start < *previous_end) {
      problems.push_back(
          ProblemAt(path + ".start",
                    absl::StrCat("starts at ", hours.start(),
                                 " before the previous stretch ends; stretches must be in order "
                                 "and must not overlap")));
    }
    previous_end = previous_end ? std::max(*previous_end, *end) : *end;
  }
}

// The days of one year's list that parse and lie inside the year; the rest
// are reported.
std::set<absl::CivilDay> ValidateDates(const google::protobuf::RepeatedPtrField<std::string>& dates,
                                       int year, const std::string& path,
                                       std::vector<v1::Problem>& problems) {
  std::set<absl::CivilDay> days;
  for (int i = 0; i < dates.size(); ++i) {
    const std::string date_path = absl::StrCat(path, "[", i, "]");
    const std::optional<absl::CivilDay> day = ParseDate(dates[i]);
    if (!day) {
      problems.push_back(
          ProblemAt(date_path, absl::StrCat("'", dates[i], "' is not a date YYYY-MM-DD")));
    } else if (day->year() != year) {
      problems.push_back(
          ProblemAt(date_path, absl::StrCat(dates[i], " is not in the year ", year)));
    } else {
      days.insert(*day);
    }
  }
  return days;
}

void ValidateYears(const v1::Calendar& calendar, std::vector<v1::Problem>& problems) {
  std::set<int> seen_years;
  for (int i = 0; i < calendar.years_size(); ++i) {
    const v1::CalendarYear& year = calendar.years(i);
    const std::string path = absl::StrCat("years[", i, "]");
    if (year.year() < 1 || year.year() > 9999) {
      problems.push_back(ProblemAt(path + ".year", "a year from 1 to 9999 is required"));
    } else if (!seen_years.insert(year.year()).second) {
      problems.push_back(
          ProblemAt(path + ".year", absl::StrCat("the year ", year.year(), " is listed twice")));
    }
    const std::set<absl::CivilDay> holidays =
        ValidateDates(year.holidays(), year.year(), path + ".holidays", problems);
    ValidateDates(year.workdays(), year.year(), path + ".workdays", problems);
    for (int j = 0; j < year.workdays_size(); ++j) {
      const std::optional<absl::CivilDay> day = ParseDate(year.workdays(j));
      if (day && holidays.count(*day) > 0) {
        problems.push_back(ProblemAt(
            absl::StrCat(path, ".workdays[", j, "]"),
            absl::StrCat(year.workdays(j), " is listed both as a holiday and as a workday")));
      }
    }
  }
}

}  // namespace

std::vector<v1::Problem> ValidateCalendar(const v1::Calendar& calendar) {
  std::vector<v1::Problem> problems;
  ValidateName(calendar, problems);
  ValidateTimeZone(calendar, problems);
  ValidateWorkingDays(calendar, problems);
  ValidateWorkingHours(calendar, problems);
  ValidateYears(calendar, problems);
  return problems;
}

absl::StatusOr<BusinessCalendar> BusinessCalendar::Create(const v1::Calendar& calendar,
                                                          absl::TimeZone zone) {
  const std::vector<v1::Problem> problems = ValidateCalendar(calendar);
  if (!problems.empty()) {
    return ProblemsToStatus(absl::StrCat("calendar '", calendar.name(), "'"), problems);
  }

  BusinessCalendar result;
  result.name_ = calendar.name();
  result.zone_ = zone;
  if (calendar.working_days().empty()) {
    for (int day = v1::MONDAY; day <= v1::FRIDAY; ++day) result.working_weekday_[day] = true;
  }
  for (int day : calendar.working_days()) result.working_weekday_[day] = true;

  if (calendar.working_hours().empty()) {
    result.stretches_.push_back({absl::Hours(9), absl::Hours(18)});
  }
  for (const auto& hours : calendar.working_hours()) {
    result.stretches_.push_back({*ParseClockTime(hours.start()), *ParseClockTime(hours.end())});
  }
  for (const Stretch& stretch : result.stretches_) {
    result.day_length_ += stretch.end - stretch.start;
  }

  for (const auto& year : calendar.years()) {
    for (const auto& date : year.holidays()) result.exceptions_[*ParseDate(date)] = false;
    for (const auto& date : year.workdays()) result.exceptions_[*ParseDate(date)] = true;
  }
  return result;
}

bool BusinessCalendar::IsWorkingDay(absl::CivilDay day) const {
  const auto exception = exceptions_.find(day);
  if (exception != exceptions_.end()) return exception->second;
  return working_weekday_[WeekdayOf(day)];
}

std::vector<std::pair<absl::Time, absl::Time>> BusinessCalendar::StretchesOf(
    absl::CivilDay day) const {
  std::vector<std::pair<absl::Time, absl::Time>> stretches;
  if (!IsWorkingDay(day)) return stretches;
  for (const Stretch& stretch : stretches_) {
    const absl::Time start = LocalInstant(zone_, day, stretch.start);
    const absl::Time end = LocalInstant(zone_, day, stretch.end);
    // A stretch wholly inside a skipped hour holds no time at all.
    if (start < end) stretches.emplace_back(start, end);
  }
  return stretches;
}

absl::StatusOr<absl::Time> BusinessCalendar::Add(absl::Time start, absl::Duration working) const {
  if (working < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot add a negative working time (", absl::FormatDuration(working), ")"));
  }
  if (working == absl::ZeroDuration()) return start;
  if (start == absl::InfinitePast() || start == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError("cannot count working time from an infinite time");
  }

  const absl::CivilDay first_day = absl::ToCivilDay(start, zone_);
  const absl::CivilDay last_day(first_day.year() + kSearchYears, first_day.month(),
                                first_day.day());
  absl::Duration remaining = working;
  for (absl::CivilDay day = first_day; day <= last_day; ++day) {
    for (const auto& [stretch_start, stretch_end] : StretchesOf(day)) {
      const absl::Time from = std::max(stretch_start, start);
      if (from >= stretch_end) continue;
      const absl::Duration available = stretch_end - from;
      // `<=` so that work ending with a stretch ends there, not when the
      // next stretch opens.
      if (remaining <= available) return from + remaining;
      remaining -= available;
    }
  }
  return absl::OutOfRangeError(absl::StrCat(
      "calendar '", name_, "' does not give ", absl::FormatDuration(working),
      " of working time within ", kSearchYears, " years of ", absl::FormatTime(start, zone_)));
}

absl::Duration BusinessCalendar::Between(absl::Time from, absl::Time to) const {
  if (to <= from) return absl::ZeroDuration();
  // A valid calendar works on some weekday, so an unbounded range holds
  // unbounded working time; walking it day by day would never end.
  if (from == absl::InfinitePast() || to == absl::InfiniteFuture()) {
    return absl::InfiniteDuration();
  }
  const absl::CivilDay last_day = absl::ToCivilDay(to, zone_);
  absl::Duration total;
  for (absl::CivilDay day = absl::ToCivilDay(from, zone_); day <= last_day; ++day) {
    for (const auto& [stretch_start, stretch_end] : StretchesOf(day)) {
      const absl::Time overlap_start = std::max(stretch_start, from);
      const absl::Time overlap_end = std::min(stretch_end, to);
      if (overlap_start < overlap_end) total += overlap_end - overlap_start;
    }
  }
  return total;
}

void CalendarSet::Add(std::shared_ptr<const BusinessCalendar> calendar) {
  if (calendar == nullptr) return;
  const std::string name = calendar->name();
  calendars_[name] = std::move(calendar);
}

const BusinessCalendar* CalendarSet::Find(const std::string& name) const {
  const auto found = calendars_.find(name);
  return found == calendars_.end() ? nullptr : found->second.get();
}

absl::StatusOr<ClockBasis> ClockBasis::For(const v1::TimeSpan& span,
                                           const std::string& default_calendar,
                                           const CalendarSet* calendars) {
  const std::string name = CalendarOf(span, default_calendar);
  if (name.empty()) return ClockBasis();
  const BusinessCalendar* calendar = calendars == nullptr ? nullptr : calendars->Find(name);
  if (calendar == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("business calendar '", name, "' is not published"));
  }
  return ClockBasis(calendar);
}

absl::Duration ClockBasis::Length(const v1::TimeSpan& span) const {
  const absl::Duration day = calendar_ == nullptr ? absl::Hours(24) : calendar_->WorkingDayLength();
  return day * static_cast<int64_t>(span.days()) + absl::Hours(span.hours()) +
         absl::Minutes(span.minutes()) + absl::Seconds(span.seconds());
}

absl::StatusOr<absl::Time> ClockBasis::Add(absl::Time start, absl::Duration amount) const {
  if (calendar_ != nullptr) return calendar_->Add(start, amount);
  return start + amount;
}

absl::Duration ClockBasis::Between(absl::Time from, absl::Time to) const {
  if (calendar_ != nullptr) return calendar_->Between(from, to);
  return to <= from ? absl::ZeroDuration() : to - from;
}

std::string ClockBasis::name() const {
  return calendar_ == nullptr ? std::string() : calendar_->name();
}

std::string CalendarOf(const v1::TimeSpan& span, const std::string& default_calendar) {
  if (!span.calendar().empty()) return span.calendar();
  if (span.business()) return default_calendar;
  return "";
}

}  // namespace signoff::workflow
