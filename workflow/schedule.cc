#include "workflow/schedule.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;

namespace {

// More days than this between two runs means the calendar has no working
// days left to find.
constexpr int kDaysSearched = 2 * 366;

// One period of a schedule: its days [first, end) and its text.
struct Period {
  absl::CivilDay first;
  absl::CivilDay end;
  std::string text;
};

absl::CivilDay MondayOf(absl::CivilDay day) {
  return absl::PrevWeekday(day + 1, absl::Weekday::monday);
}

Period PeriodOf(v1::ScheduleEvery every, absl::CivilDay day) {
  switch (every) {
    case v1::DAILY:
      return {day, day + 1, DayPeriod(day)};
    case v1::WEEKLY: {
      const absl::CivilDay monday = MondayOf(day);
      return {monday, monday + 7, WeekPeriod(day)};
    }
    default: {
      const absl::CivilMonth month(day);
      return {absl::CivilDay(month), absl::CivilDay(month + 1), MonthPeriod(month)};
    }
  }
}

}  // namespace

std::string MonthPeriod(absl::CivilMonth month) {
  return absl::StrFormat("%04d-%02d", month.year(), month.month());
}

std::string WeekPeriod(absl::CivilDay day) {
  // An ISO week belongs to the year holding its Thursday, and week 1 is
  // the one holding the year's first Thursday.
  const absl::CivilDay thursday = MondayOf(day) + 3;
  return absl::StrFormat("%04d-W%02d", thursday.year(), (absl::GetYearDay(thursday) - 1) / 7 + 1);
}

std::string DayPeriod(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

absl::StatusOr<ScheduledRun> RunIn(const v1::Schedule& schedule, const BusinessCalendar& calendar,
                                   absl::CivilDay day) {
  const std::optional<absl::Duration> at = ParseClockTime(schedule.at());
  if (!at) return absl::InvalidArgumentError(absl::StrCat("'", schedule.at(), "' is not HH:MM"));
  const Period period = PeriodOf(schedule.every(), day);
  // A daily schedule's period is one day: its first working day or none.
  const uint32_t nth = schedule.every() == v1::DAILY ? 1 : schedule.working_day();
  uint32_t seen = 0;
  for (absl::CivilDay d = period.first; d < period.end; ++d) {
    if (!calendar.IsWorkingDay(d) || ++seen < nth) continue;
    // A local time the clocks skip (a DST gap) falls at the transition.
    const absl::TimeZone::TimeInfo local = calendar.zone().At(absl::CivilSecond(d));
    return ScheduledRun{period.text, local.pre + *at};
  }
  if (schedule.every() == v1::DAILY) {
    return absl::OutOfRangeError(absl::StrCat(period.text, " is not a working day"));
  }
  return absl::OutOfRangeError(
      absl::StrCat(period.text, " has fewer than ", nth, " working days"));
}

absl::StatusOr<ScheduledRun> NextRun(const v1::Schedule& schedule,
                                     const BusinessCalendar& calendar, absl::Time after) {
  const absl::CivilDay from = absl::ToCivilDay(after, calendar.zone());
  for (Period period = PeriodOf(schedule.every(), from); period.first < from + kDaysSearched;
       period = PeriodOf(schedule.every(), period.end)) {
    absl::StatusOr<ScheduledRun> run = RunIn(schedule, calendar, period.first);
    if (absl::IsOutOfRange(run.status())) continue;
    if (!run.ok()) return run.status();
    if (run->at > after) return run;
  }
  return absl::OutOfRangeError("the schedule has no run within two years");
}

absl::StatusOr<std::vector<ScheduledRun>> DueRuns(const v1::Schedule& schedule,
                                                  const BusinessCalendar& calendar,
                                                  absl::Time after, absl::Time now) {
  std::vector<ScheduledRun> due;
  absl::Time from = after;
  while (true) {
    absl::StatusOr<ScheduledRun> run = NextRun(schedule, calendar, from);
    if (absl::IsOutOfRange(run.status())) break;
    if (!run.ok()) return run.status();
    if (run->at > now) break;
    from = run->at;
    due.push_back(std::move(*run));
  }
  if (due.empty()) return due;
  switch (schedule.catch_up()) {
    case v1::CATCH_UP_ALL:
      return due;
    case v1::CATCH_UP_SKIP:
      if (now - due.back().at > kScheduleSkipGrace) return std::vector<ScheduledRun>{};
      return std::vector<ScheduledRun>{due.back()};
    default:
      return std::vector<ScheduledRun>{due.back()};
  }
}

}  // namespace signoff::workflow
