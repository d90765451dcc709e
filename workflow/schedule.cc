#include "workflow/schedule.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;

namespace {

// More months than this between two runs means the calendar has no
// working days left to find.
constexpr int kMonthsSearched = 24;

}  // namespace

std::string MonthPeriod(absl::CivilMonth month) {
  return absl::StrFormat("%04d-%02d", month.year(), month.month());
}

absl::StatusOr<ScheduledRun> RunIn(const v1::Schedule& schedule, const BusinessCalendar& calendar,
                                   absl::CivilMonth month) {
  const std::optional<absl::Duration> at = ParseClockTime(schedule.at());
  if (!at) return absl::InvalidArgumentError(absl::StrCat("'", schedule.at(), "' is not HH:MM"));
  uint32_t seen = 0;
  for (absl::CivilDay day(month); absl::CivilMonth(day) == month; ++day) {
    if (!calendar.IsWorkingDay(day) || ++seen < schedule.working_day()) continue;
    // A local time the clocks skip (a DST gap) falls at the transition.
    const absl::TimeZone::TimeInfo local = calendar.zone().At(absl::CivilSecond(day));
    return ScheduledRun{MonthPeriod(month), local.pre + *at};
  }
  return absl::OutOfRangeError(absl::StrCat(MonthPeriod(month), " has fewer than ",
                                            schedule.working_day(), " working days"));
}

absl::StatusOr<ScheduledRun> NextRun(const v1::Schedule& schedule,
                                     const BusinessCalendar& calendar, absl::Time after) {
  absl::CivilMonth month(absl::ToCivilDay(after, calendar.zone()));
  for (int i = 0; i < kMonthsSearched; ++i, ++month) {
    absl::StatusOr<ScheduledRun> run = RunIn(schedule, calendar, month);
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
