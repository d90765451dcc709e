#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "signoff/v1/definition.pb.h"
#include "signoff/v1/instance.pb.h"
#include "workflow/calendar.h"

namespace signoff::workflow {

// What falls due when a step's clock reads a given number of seconds.
struct ClockPoints {
  // Send one reminder, and count this many as sent.
  bool remind = false;
  int32_t reminders_sent = 0;
  // Escalation rungs reached, in ladder order.
  std::vector<int> rungs;
  bool breach = false;
};

// The arithmetic of one step's SLA clock. Points on the clock (reminders,
// escalation rungs, the deadline) are offsets from the step's start in
// clock seconds; pausing stops the reading, so every point moves with it.
class SlaClock {
 public:
  // The basis is the calendar of the SLA's spans (validation makes them
  // agree). NOT_FOUND for an unknown calendar.
  static absl::StatusOr<SlaClock> For(const signoff::v1::StepSla& sla,
                                      const std::string& default_calendar,
                                      const CalendarSet* calendars);

  signoff::v1::StepClock Start(const std::string& token, const std::string& step_id,
                               absl::Time now) const;

  // Clock seconds used by `now`; for a later time, where that time falls
  // on the clock.
  int64_t Reading(const signoff::v1::StepClock& clock, absl::Time now) const;
  ClockPoints Due(const signoff::v1::StepClock& clock, int64_t reading) const;
  // The next point still ahead of what has been handled; none when every
  // reminder, rung and the deadline are behind.
  std::optional<int64_t> NextPoint(const signoff::v1::StepClock& clock) const;
  // When a running clock reaches `offset`.
  absl::StatusOr<absl::Time> TimeAt(const signoff::v1::StepClock& clock, int64_t offset) const;

  void Pause(signoff::v1::StepClock& clock, absl::Time now) const;
  absl::Status Resume(signoff::v1::StepClock& clock, absl::Time now) const;
  // Moves the deadline `seconds` later on the clock. A missed deadline
  // moved past the current reading becomes one to meet again.
  absl::Status Extend(signoff::v1::StepClock& clock, int64_t seconds, absl::Time now) const;

  int64_t Seconds(const signoff::v1::TimeSpan& span) const;
  const ClockBasis& basis() const { return basis_; }

 private:
  SlaClock(const signoff::v1::StepSla& sla, ClockBasis basis) : sla_(sla), basis_(basis) {}
  // Recomputes due_at of a running clock whose deadline is still ahead.
  absl::Status RefreshDue(signoff::v1::StepClock& clock) const;

  const signoff::v1::StepSla& sla_;
  ClockBasis basis_;
};

// The first span an SLA sets, which decides its calendar.
const signoff::v1::TimeSpan* FirstSpanOf(const signoff::v1::StepSla& sla);

}  // namespace signoff::workflow
