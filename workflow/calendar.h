#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "signoff/v1/calendar.pb.h"
#include "signoff/v1/definition.pb.h"
#include "signoff/v1/service.pb.h"

namespace signoff::workflow {

// Working time on one business calendar: working weekdays and hours in a
// time zone, with per-year holidays and make-up workdays. Pure: the time
// zone is loaded by the caller.
class BusinessCalendar {
 public:
  // INVALID_ARGUMENT (one violation per problem) for a calendar that
  // ValidateCalendar rejects.
  static absl::StatusOr<BusinessCalendar> Create(const signoff::v1::Calendar& calendar,
                                                 absl::TimeZone zone);

  const std::string& name() const { return name_; }
  absl::TimeZone zone() const { return zone_; }

  bool IsWorkingDay(absl::CivilDay day) const;
  // Working time in one working day (the sum of the working hours).
  absl::Duration WorkingDayLength() const { return day_length_; }

  // The earliest instant by which `working` working time has passed since
  // `start`. A zero duration gives `start` itself. OUT_OF_RANGE when no
  // such instant is found within 20 years (a calendar of holidays only).
  absl::StatusOr<absl::Time> Add(absl::Time start, absl::Duration working) const;
  // Working time within [from, to); zero when to <= from.
  absl::Duration Between(absl::Time from, absl::Time to) const;

 private:
  struct Stretch {
    absl::Duration start;  // since local midnight
    absl::Duration end;
  };

  BusinessCalendar() = default;
  // The working stretches of a civil day, as absolute times; empty on a
  // day off.
  std::vector<std::pair<absl::Time, absl::Time>> StretchesOf(absl::CivilDay day) const;

  std::string name_;
  absl::TimeZone zone_;
  bool working_weekday_[8] = {};  // indexed by signoff.v1.Weekday
  std::vector<Stretch> stretches_;
  absl::Duration day_length_;
  std::map<absl::CivilDay, bool> exceptions_;  // true: make-up workday
};

// "HH:MM" from 00:00 to 24:00, as the time since local midnight.
std::optional<absl::Duration> ParseClockTime(absl::string_view text);

// Every problem of a calendar, each with its path (e.g.
// "years[0].holidays[2]"): name, time zone name syntax, weekdays, hours
// "HH:MM" in order without overlap, dates "YYYY-MM-DD" inside their year,
// a day both holiday and workday, a repeated year.
std::vector<signoff::v1::Problem> ValidateCalendar(const signoff::v1::Calendar& calendar);

// The calendars an engine call may count on, by name.
class CalendarSet {
 public:
  void Add(std::shared_ptr<const BusinessCalendar> calendar);
  const BusinessCalendar* Find(const std::string& name) const;

 private:
  std::map<std::string, std::shared_ptr<const BusinessCalendar>> calendars_;
};

// Counts time either as elapsed time or as working time on one calendar;
// SLA clocks and wait durations measure themselves with one.
class ClockBasis {
 public:
  // Elapsed time.
  ClockBasis() = default;
  explicit ClockBasis(const BusinessCalendar* calendar) : calendar_(calendar) {}

  // Which calendar a span counts on: its own, the definition's default
  // when marked business, or none. FAILED_PRECONDITION names a calendar
  // that is not published (definitions are checked against calendars when
  // published, so this means one went missing since).
  static absl::StatusOr<ClockBasis> For(const signoff::v1::TimeSpan& span,
                                        const std::string& default_calendar,
                                        const CalendarSet* calendars);

  // The span's length in this basis: a day is 24 hours elapsed, or one
  // working day's length on a calendar.
  absl::Duration Length(const signoff::v1::TimeSpan& span) const;
  absl::StatusOr<absl::Time> Add(absl::Time start, absl::Duration amount) const;
  absl::Duration Between(absl::Time from, absl::Time to) const;
  // The calendar's name; empty for elapsed time.
  std::string name() const;

 private:
  const BusinessCalendar* calendar_ = nullptr;
};

// The calendar a span names: its own, or `default_calendar` when marked
// business, or empty for elapsed time.
std::string CalendarOf(const signoff::v1::TimeSpan& span, const std::string& default_calendar);

}  // namespace signoff::workflow
