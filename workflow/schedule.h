#pragma once

// Scheduled starts (signoff.v1.Schedule): when each monthly run falls on a
// business calendar, and which runs are due. Pure: the caller brings the
// calendar and the time.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "signoff/v1/definition.pb.h"
#include "workflow/calendar.h"

namespace signoff::workflow {

inline constexpr uint32_t kMaxScheduleWorkingDay = 20;
// Under CATCH_UP_SKIP a run still starts when found this late; later than
// that it counts as missed.
inline constexpr absl::Duration kScheduleSkipGrace = absl::Hours(1);

// One run of a schedule: its period ("2026-04") and when it falls.
struct ScheduledRun {
  std::string period;
  absl::Time at;
};

// The period text of a month, as runs and ledgers spell it.
std::string MonthPeriod(absl::CivilMonth month);

// The month's run: its nth working day at the schedule's local time.
// OUT_OF_RANGE when the month has fewer working days; INVALID_ARGUMENT
// for a time that is not HH:MM.
absl::StatusOr<ScheduledRun> RunIn(const signoff::v1::Schedule& schedule,
                                   const BusinessCalendar& calendar, absl::CivilMonth month);

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
