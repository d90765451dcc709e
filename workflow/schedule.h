#pragma once

// Scheduled starts (signoff.v1.Schedule): when each run falls on a
// business calendar (monthly, weekly or daily), and which runs are due.
// Pure: the caller brings the calendar and the time.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "signoff/v1/definition.pb.h"
#include "workflow/calendar.h"

namespace signoff::workflow {

// The bounds of `working_day`: of a month (MONTHLY) and of an ISO week
// (WEEKLY). A DAILY schedule runs on every working day and takes none.
inline constexpr uint32_t kMaxScheduleWorkingDay = 20;
inline constexpr uint32_t kMaxScheduleWorkingDayOfWeek = 7;
// Under CATCH_UP_SKIP a run still starts when found this late; later than
// that it counts as missed.
inline constexpr absl::Duration kScheduleSkipGrace = absl::Hours(1);

// One run of a schedule: its period ("2026-04", "2026-W16" or
// "2026-04-15") and when it falls.
struct ScheduledRun {
  std::string period;
  absl::Time at;
};

// The period texts runs and ledgers spell: a month, the ISO week holding
// a day, a day.
std::string MonthPeriod(absl::CivilMonth month);
std::string WeekPeriod(absl::CivilDay day);
std::string DayPeriod(absl::CivilDay day);

// The run of the period holding `day` (a CivilMonth names its first day):
// the period's nth working day at the schedule's local time, or the day
// itself for a daily schedule. OUT_OF_RANGE when the period has fewer
// working days (a daily schedule's holiday); INVALID_ARGUMENT for a time
// that is not HH:MM.
absl::StatusOr<ScheduledRun> RunIn(const signoff::v1::Schedule& schedule,
                                   const BusinessCalendar& calendar, absl::CivilDay day);

// The first run strictly after `after`.
absl::StatusOr<ScheduledRun> NextRun(const signoff::v1::Schedule& schedule,
                                     const BusinessCalendar& calendar, absl::Time after);

// The runs to start now: those falling in (after, now], as the schedule's
// catch_up keeps them (every one, the latest, or the latest only while it
// is fresh). Oldest first.
absl::StatusOr<std::vector<ScheduledRun>> DueRuns(const signoff::v1::Schedule& schedule,
                                                  const BusinessCalendar& calendar,
                                                  absl::Time after, absl::Time now);

}  // namespace signoff::workflow
