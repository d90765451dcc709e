#include "server/timer_scheduler.h"

#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "server/json_log.h"

namespace signoff::server {

namespace {

// Enough that a backlog after downtime fires in rounds that keep every
// firing thread busy.
constexpr int kTimersPerRound = 1000;

// One run a schedule started or skipped ("definition/period/subject"),
// with why it was skipped.
void LogScheduled(const char* event, const std::string& run, const std::string& reason) {
  const std::string because =
      reason.empty() ? "" : absl::StrCat(",\"reason\":\"", JsonEscape(reason), "\"");
  std::fprintf(stderr,
               "{\"time\":\"%s\",\"level\":\"info\",\"component\":\"schedules\","
               "\"event\":\"%s\",\"run\":\"%s\"%s}\n",
               absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()).c_str(),
               event, JsonEscape(run).c_str(), because.c_str());
}

}  // namespace

TimerScheduler::TimerScheduler(app::Application& application, absl::Duration poll,
                               Metrics* metrics)
    : application_(application), poll_(poll), metrics_(metrics), thread_([this] { Run(); }) {}

TimerScheduler::~TimerScheduler() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void TimerScheduler::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    absl::StatusOr<app::TimerRound> round =
        application_.timers().FireDueTimers(kTimersPerRound);
    if (!round.ok()) {
      LogFailure("", "", round.status());
      if (metrics_ != nullptr) metrics_->RecordTimerRoundFailure();
    } else {
      if (metrics_ != nullptr) metrics_->RecordTimerRound(*round);
      for (const auto& fired : round->fired_timers) LogFired(fired);
      for (const auto& failure : round->failures) {
        LogFailure(failure.timer.instance_id, failure.timer.timer.id(), failure.status);
      }
    }
    StartScheduled();
    lock.lock();
    if (round.ok() && round->claimed >= kTimersPerRound) continue;
    wake_.wait_for(lock, absl::ToChronoMilliseconds(poll_), [this] { return stopping_; });
  }
}

// Schedules ride on the timer thread: a run is due at a time like a timer,
// and each start is claimed by its unique record rather than a lease.
void TimerScheduler::StartScheduled() {
  absl::StatusOr<app::ScheduleRound> round = application_.schedules().StartDue();
  if (!round.ok()) {
    LogFailure("", "schedules", round.status());
    return;
  }
  for (const std::string& started : round->started) LogScheduled("scheduled_start", started, "");
  for (const auto& skip : round->skipped) LogScheduled("scheduled_skip", skip.run, skip.reason);
  for (const auto& failure : round->failures) {
    LogFailure(failure.subject, absl::StrCat("schedule:", failure.definition_key), failure.status);
  }
}

void TimerScheduler::LogFired(const storage::ClaimedTimer& fired) {
  std::fprintf(stderr,
               "{\"time\":\"%s\",\"level\":\"info\",\"component\":\"timers\","
               "\"event\":\"timer_fired\",\"instance\":\"%s\",\"timer\":\"%s\","
               "\"kind\":\"%s\",\"step\":\"%s\"}\n",
               absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()).c_str(),
               JsonEscape(fired.instance_id).c_str(), JsonEscape(fired.timer.id()).c_str(),
               v1::TimerKind_Name(fired.timer.kind()).c_str(),
               JsonEscape(fired.timer.step_id()).c_str());
}

void TimerScheduler::LogFailure(const std::string& instance_id, const std::string& timer_id,
                                const absl::Status& status) {
  std::fprintf(stderr,
               "{\"time\":\"%s\",\"level\":\"warn\",\"component\":\"timers\","
               "\"event\":\"timer_failed\",\"instance\":\"%s\","
               "\"timer\":\"%s\",\"code\":\"%s\",\"message\":\"%s\"}\n",
               absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()).c_str(),
               JsonEscape(instance_id).c_str(), JsonEscape(timer_id).c_str(),
               absl::StatusCodeToString(status.code()).c_str(),
               JsonEscape(std::string(status.message())).c_str());
}

}  // namespace signoff::server
