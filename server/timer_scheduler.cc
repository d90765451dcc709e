#include "server/timer_scheduler.h"

#include <chrono>
#include <cstdio>

#include "server/json_log.h"

namespace signoff::server {

namespace {

constexpr int kTimersPerRound = 100;

}  // namespace

TimerScheduler::TimerScheduler(Core& core, absl::Duration poll)
    : core_(core), poll_(poll), thread_([this] { Run(); }) {}

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
    absl::StatusOr<int> fired = core_.FireDueTimers(kTimersPerRound);
    if (!fired.ok()) {
      std::fprintf(stderr,
                   "{\"level\":\"warn\",\"component\":\"timers\",\"message\":\"%s\"}\n",
                   JsonEscape(std::string(fired.status().message())).c_str());
    }
    lock.lock();
    if (fired.ok() && *fired >= kTimersPerRound) continue;
    wake_.wait_for(lock, absl::ToChronoMilliseconds(poll_), [this] { return stopping_; });
  }
}

}  // namespace signoff::server
