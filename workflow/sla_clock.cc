#include "workflow/sla_clock.h"

#include <algorithm>

#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;

namespace {

bool Running(const v1::StepClock& clock) { return clock.has_running_since(); }

// Clock points are whole seconds; starting the clock on a whole second
// keeps the times they fall on whole too.
google::protobuf::Timestamp WholeSecond(absl::Time time) {
  return ToTimestamp(absl::FromUnixSeconds(absl::ToUnixSeconds(time)));
}

}  // namespace

const v1::TimeSpan* FirstSpanOf(const v1::StepSla& sla) {
  if (sla.has_due()) return &sla.due();
  if (sla.has_reminders()) return &sla.reminders().every();
  if (sla.escalations_size() > 0) return &sla.escalations(0).after();
  return nullptr;
}

absl::StatusOr<SlaClock> SlaClock::For(const v1::StepSla& sla,
                                       const std::string& default_calendar,
                                       const CalendarSet* calendars) {
  const v1::TimeSpan* first = FirstSpanOf(sla);
  if (first == nullptr) return SlaClock(sla, ClockBasis());
  SIGNOFF_ASSIGN_OR_RETURN(ClockBasis basis, ClockBasis::For(*first, default_calendar, calendars));
  return SlaClock(sla, basis);
}

int64_t SlaClock::Seconds(const v1::TimeSpan& span) const {
  return absl::ToInt64Seconds(basis_.Length(span));
}

v1::StepClock SlaClock::Start(const std::string& token, const std::string& step_id,
                              absl::Time now) const {
  v1::StepClock clock;
  clock.set_token(token);
  clock.set_step_id(step_id);
  clock.set_calendar(basis_.name());
  *clock.mutable_running_since() = WholeSecond(now);
  if (sla_.has_due()) clock.set_due_offset_seconds(Seconds(sla_.due()));
  // A deadline beyond the calendar's reach stays unset rather than wrong.
  RefreshDue(clock).IgnoreError();
  return clock;
}

int64_t SlaClock::Reading(const v1::StepClock& clock, absl::Time now) const {
  if (!Running(clock)) return clock.consumed_seconds();
  const absl::Duration since = basis_.Between(FromTimestamp(clock.running_since()), now);
  return clock.consumed_seconds() + absl::ToInt64Seconds(since);
}

ClockPoints SlaClock::Due(const v1::StepClock& clock, int64_t reading) const {
  ClockPoints points;
  points.reminders_sent = clock.reminders_sent();
  if (sla_.has_reminders()) {
    const int64_t every = Seconds(sla_.reminders().every());
    const int64_t max = sla_.reminders().max();
    if (every > 0) {
      int64_t reached = reading / every;
      if (max > 0) reached = std::min(reached, max);
      if (reached > clock.reminders_sent()) {
        points.remind = true;
        points.reminders_sent = static_cast<int32_t>(reached);
      }
    }
  }
  for (int rung = clock.escalations_done(); rung < sla_.escalations_size(); ++rung) {
    if (Seconds(sla_.escalations(rung).after()) > reading) break;
    points.rungs.push_back(rung);
  }
  points.breach = !clock.breached() && clock.due_offset_seconds() > 0 &&
                  clock.due_offset_seconds() <= reading;
  return points;
}

std::optional<int64_t> SlaClock::NextPoint(const v1::StepClock& clock) const {
  std::optional<int64_t> next;
  auto consider = [&](int64_t offset) {
    if (!next || offset < *next) next = offset;
  };
  if (sla_.has_reminders()) {
    const int64_t every = Seconds(sla_.reminders().every());
    const uint32_t max = sla_.reminders().max();
    if (every > 0 && (max == 0 || static_cast<uint32_t>(clock.reminders_sent()) < max)) {
      consider(every * (clock.reminders_sent() + 1));
    }
  }
  if (clock.escalations_done() < sla_.escalations_size()) {
    consider(Seconds(sla_.escalations(clock.escalations_done()).after()));
  }
  if (!clock.breached() && clock.due_offset_seconds() > 0) consider(clock.due_offset_seconds());
  return next;
}

absl::StatusOr<absl::Time> SlaClock::TimeAt(const v1::StepClock& clock, int64_t offset) const {
  if (!Running(clock)) return absl::FailedPreconditionError("the clock is paused");
  const int64_t ahead = std::max<int64_t>(0, offset - clock.consumed_seconds());
  return basis_.Add(FromTimestamp(clock.running_since()), absl::Seconds(ahead));
}

void SlaClock::Pause(v1::StepClock& clock, absl::Time now) const {
  clock.set_consumed_seconds(Reading(clock, now));
  clock.clear_running_since();
  *clock.mutable_paused_at() = ToTimestamp(now);
  // A deadline already missed stays on record; one ahead has no time yet.
  if (!clock.breached()) clock.clear_due_at();
}

absl::Status SlaClock::Resume(v1::StepClock& clock, absl::Time now) const {
  *clock.mutable_running_since() = WholeSecond(now);
  clock.clear_paused_at();
  return RefreshDue(clock);
}

absl::Status SlaClock::Extend(v1::StepClock& clock, int64_t seconds, absl::Time now) const {
  clock.set_due_offset_seconds(clock.due_offset_seconds() + seconds);
  if (clock.breached() && clock.due_offset_seconds() > Reading(clock, now)) {
    clock.set_breached(false);
  }
  return RefreshDue(clock);
}

absl::Status SlaClock::RefreshDue(v1::StepClock& clock) const {
  if (clock.due_offset_seconds() <= 0 || clock.breached() || !Running(clock)) {
    return absl::OkStatus();
  }
  SIGNOFF_ASSIGN_OR_RETURN(absl::Time due, TimeAt(clock, clock.due_offset_seconds()));
  *clock.mutable_due_at() = ToTimestamp(due);
  return absl::OkStatus();
}

}  // namespace signoff::workflow
