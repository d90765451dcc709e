// Time: calendars, signals, clock operations and timer firing. The
// engine decides; this half of Core loads, commits and schedules.
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/core.h"
#include "workflow/calendar.h"
#include "workflow/errors.h"
#include "workflow/problems.h"
#include "workflow/status_macros.h"
#include "workflow/yaml_mapping.h"

namespace signoff::server {

namespace {

// A firing that takes longer than this is presumed dead, and another
// scheduler may take the timer over.
constexpr absl::Duration kTimerLease = absl::Seconds(60);

const Caller kTimerCaller{workflow::kSystemActor, /*system=*/true};

// Loads the time zone, which is I/O and so stays out of workflow/.
absl::StatusOr<std::shared_ptr<const workflow::BusinessCalendar>> BuildCalendar(
    const v1::Calendar& calendar) {
  auto problems = workflow::ValidateCalendar(calendar);
  if (!problems.empty()) return workflow::ProblemsToStatus("the calendar", problems, "calendar.");
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(calendar.time_zone(), &zone)) {
    return workflow::InvalidArgumentWithViolations(
        "unknown time zone",
        {{"calendar.time_zone",
          absl::StrCat("'", calendar.time_zone(), "' is not a known IANA time zone")}});
  }
  ASSIGN_OR_RETURN(workflow::BusinessCalendar built,
                   workflow::BusinessCalendar::Create(calendar, zone));
  return std::make_shared<const workflow::BusinessCalendar>(std::move(built));
}

google::protobuf::Timestamp Stamp(absl::Time time) {
  google::protobuf::Timestamp stamp;
  stamp.set_seconds(absl::ToUnixSeconds(time));
  return stamp;
}

}  // namespace

std::shared_ptr<const workflow::CalendarSet> Core::calendars() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return calendars_;
}

absl::Status Core::ReloadCalendars() {
  // Two publishes reloading at once must not let the older read win.
  std::lock_guard<std::mutex> reloading(calendar_reload_mutex_);
  ASSIGN_OR_RETURN(std::vector<v1::PublishedCalendar> published, store_->ListCalendars());
  auto loaded = std::make_shared<workflow::CalendarSet>();
  for (const auto& calendar : published) {
    ASSIGN_OR_RETURN(auto built, BuildCalendar(calendar.calendar()));
    loaded->Add(std::move(built));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  calendars_ = std::move(loaded);
  return absl::OkStatus();
}

// ------------------------------------------------------------ CalendarService

absl::StatusOr<v1::PublishCalendarResponse> Core::PublishCalendar(
    const Caller& caller, const v1::PublishCalendarRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  RETURN_IF_ERROR(RequireAdmin(caller));
  v1::Calendar calendar;
  switch (request.source_case()) {
    case v1::PublishCalendarRequest::kCalendar:
      calendar = request.calendar();
      break;
    case v1::PublishCalendarRequest::kYaml: {
      ASSIGN_OR_RETURN(calendar, workflow::ParseCalendarYaml(request.yaml()));
      break;
    }
    default:
      return workflow::InvalidArgumentWithViolations("no calendar given",
                                                     {{"source", "set calendar or yaml"}});
  }
  RETURN_IF_ERROR(BuildCalendar(calendar).status());
  auto attempt =
      [&]() -> absl::StatusOr<std::pair<storage::Mutation, v1::PublishCalendarResponse>> {
    auto latest = store_->GetCalendar(calendar.name(), 0);
    if (!latest.ok() && !absl::IsNotFound(latest.status())) return latest.status();
    v1::PublishedCalendar published;
    published.set_name(calendar.name());
    published.set_version(latest.ok() ? latest->version() + 1 : 1);
    *published.mutable_calendar() = calendar;
    *published.mutable_published_at() = Stamp(clock_());
    published.set_published_by(caller.system ? workflow::kSystemActor : caller.user);
    storage::Mutation mutation;
    mutation.calendar = published;
    v1::PublishCalendarResponse response;
    *response.mutable_published() = std::move(published);
    return std::make_pair(std::move(mutation), std::move(response));
  };
  ASSIGN_OR_RETURN(auto response,
                   Idempotent<v1::PublishCalendarResponse>(caller, "PublishCalendar", request,
                                                           request.request_id(), attempt));
  RETURN_IF_ERROR(ReloadCalendars());
  return response;
}

absl::StatusOr<v1::GetCalendarResponse> Core::GetCalendar(const Caller& caller,
                                                          const v1::GetCalendarRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  if (request.name().empty()) {
    return workflow::InvalidArgumentWithViolations("no name", {{"name", "is required"}});
  }
  if (request.version() < 0) {
    return workflow::InvalidArgumentWithViolations(
        "bad version", {{"version", "must be 0 (latest) or a published version"}});
  }
  v1::GetCalendarResponse response;
  ASSIGN_OR_RETURN(*response.mutable_published(),
                   store_->GetCalendar(request.name(), request.version()));
  return response;
}

absl::StatusOr<v1::ListCalendarsResponse> Core::ListCalendars(const Caller& caller,
                                                              const v1::ListCalendarsRequest&) {
  RETURN_IF_ERROR(Authenticate(caller));
  ASSIGN_OR_RETURN(auto calendars, store_->ListCalendars());
  v1::ListCalendarsResponse response;
  for (auto& calendar : calendars) *response.add_calendars() = std::move(calendar);
  return response;
}

absl::StatusOr<int32_t> Core::PublishCalendarIfChanged(const v1::Calendar& calendar) {
  auto latest = store_->GetCalendar(calendar.name(), 0);
  if (latest.ok() &&
      google::protobuf::util::MessageDifferencer::Equals(latest->calendar(), calendar)) {
    return latest->version();
  }
  if (!latest.ok() && !absl::IsNotFound(latest.status())) return latest.status();
  v1::PublishCalendarRequest request;
  request.set_request_id(absl::StrCat(kServiceRequestPrefix, "seed-calendar-", calendar.name(),
                                      "-", latest.ok() ? latest->version() + 1 : 1));
  *request.mutable_calendar() = calendar;
  ASSIGN_OR_RETURN(auto response, PublishCalendar(Caller{"", true}, request));
  return response.published().version();
}

// ------------------------------------------------------------ signals and clocks

absl::StatusOr<v1::InstanceResponse> Core::SignalInstance(
    const Caller& caller, const v1::SignalInstanceRequest& request) {
  v1::Command command;
  *command.mutable_signal() = request;
  return RunCommand<v1::InstanceResponse>(
      caller, "SignalInstance", request, request.request_id(), request.id(), command,
      [](const v1::InstanceState& state) {
        v1::InstanceResponse response;
        *response.mutable_instance() = ViewOf(state, absl::InfinitePast());
        return response;
      });
}

absl::StatusOr<v1::ClockResponse> Core::RunClockCommand(
    const Caller& caller, const std::string& method, const google::protobuf::Message& request,
    const std::string& request_id, const std::string& task_id, const v1::Command& command) {
  RETURN_IF_ERROR(Authenticate(caller));
  ASSIGN_OR_RETURN(v1::Task task, store_->GetTask(task_id));
  return RunCommand<v1::ClockResponse>(
      caller, method, request, request_id, task.instance_id(), command,
      [task_id](const v1::InstanceState& state) {
        v1::ClockResponse response;
        for (const auto& found : state.tasks()) {
          if (found.id() != task_id) continue;
          *response.mutable_task() = found;
          for (const auto& clock : state.clocks()) {
            if (clock.token() == found.token()) *response.mutable_clock() = clock;
          }
        }
        return response;
      });
}

absl::StatusOr<v1::ClockResponse> Core::PauseClock(const Caller& caller,
                                                   const v1::ClockRequest& request) {
  v1::Command command;
  *command.mutable_pause_clock() = request;
  return RunClockCommand(caller, "PauseClock", request, request.request_id(), request.task_id(),
                         command);
}

absl::StatusOr<v1::ClockResponse> Core::ResumeClock(const Caller& caller,
                                                    const v1::ClockRequest& request) {
  v1::Command command;
  *command.mutable_resume_clock() = request;
  return RunClockCommand(caller, "ResumeClock", request, request.request_id(),
                         request.task_id(), command);
}

absl::StatusOr<v1::ClockResponse> Core::ExtendDeadline(
    const Caller& caller, const v1::ExtendDeadlineRequest& request) {
  v1::Command command;
  *command.mutable_extend_deadline() = request;
  return RunClockCommand(caller, "ExtendDeadline", request, request.request_id(),
                         request.task_id(), command);
}

// ------------------------------------------------------------ timers

absl::StatusOr<TimerRound> Core::FireDueTimers(int limit) {
  storage::TimerClaim claim;
  claim.now = clock_();
  claim.owner = timer_owner_;
  claim.lease = kTimerLease;
  claim.limit = limit;
  ASSIGN_OR_RETURN(std::vector<storage::ClaimedTimer> due, store_->ClaimDueTimers(claim));
  TimerRound round;
  round.claimed = static_cast<int>(due.size());
  // One broken instance must not hold up the others; a failed timer keeps
  // its row, and its lease running out brings it back.
  for (const auto& timer : due) {
    absl::Status status = FireTimer(timer);
    if (status.ok()) {
      ++round.fired;
    } else {
      round.failures.push_back({timer, std::move(status)});
    }
  }
  return round;
}

absl::Status Core::FireTimer(const storage::ClaimedTimer& claimed) {
  v1::FireTimer fire;
  fire.set_timer_id(claimed.timer.id());
  v1::Command command;
  *command.mutable_fire_timer() = fire;
  // The timer's id, in signoffd's reserved namespace, is its request_id: a
  // second replica firing the same timer gets the first firing's reply.
  absl::StatusOr<v1::InstanceResponse> fired = RunCommand<v1::InstanceResponse>(
      kTimerCaller, "FireTimer", fire,
      absl::StrCat(kServiceRequestPrefix, "timer:", claimed.timer.id()), claimed.instance_id,
      command, [](const v1::InstanceState& state) {
        v1::InstanceResponse response;
        *response.mutable_instance() = ViewOf(state, absl::InfinitePast());
        return response;
      });
  if (fired.ok()) return absl::OkStatus();
  ASSIGN_OR_RETURN(bool pending, TimerStillPending(claimed));
  if (pending) return fired.status();
  // A decision that won the race cancelled the timer; drop the stale row.
  storage::Mutation drop;
  drop.timers_removed.push_back(claimed.timer.id());
  return store_->Commit(std::move(drop)).status();
}

absl::StatusOr<bool> Core::TimerStillPending(const storage::ClaimedTimer& claimed) {
  absl::StatusOr<v1::InstanceState> state = store_->GetInstance(claimed.instance_id);
  if (absl::IsNotFound(state.status())) return false;
  // Unable to tell: keep the row rather than lose the timer.
  if (!state.ok()) return state.status();
  for (const auto& timer : state->timers()) {
    if (timer.id() == claimed.timer.id()) return true;
  }
  return false;
}

}  // namespace signoff::server
