#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/app/application.h"
#include "server/metrics.h"

namespace signoff::server {

// Fires due timers on a background thread: every poll interval, and at
// once after a round that was full, until every due timer has fired.
// Timers that came due while signoffd was down fire on the first round.
class TimerScheduler {
 public:
  // `metrics` may be null.
  TimerScheduler(app::Application& application, absl::Duration poll, Metrics* metrics);
  // Finishes the round under way, then stops.
  ~TimerScheduler();

  TimerScheduler(const TimerScheduler&) = delete;
  TimerScheduler& operator=(const TimerScheduler&) = delete;

 private:
  void Run();
  // Starts what definitions' schedules have due, and logs it.
  void StartScheduled();
  // One JSON line per timer that fired.
  static void LogFired(const storage::ClaimedTimer& fired);
  // One JSON line per timer that could not fire; it is tried again when
  // its lease runs out.
  static void LogFailure(const std::string& instance_id, const std::string& timer_id,
                         const absl::Status& status);

  app::Application& application_;
  const absl::Duration poll_;
  Metrics* const metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace signoff::server
