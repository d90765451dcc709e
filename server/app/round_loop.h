#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace signoff::app {

// A thread that runs rounds of background work: woken by Nudge or every
// `poll`, it runs rounds until one has nothing to do (returns 0), fails,
// or 64 have run in a row. A round that lost a race to another replica
// (ABORTED) is run again at once; any other failure goes to
// `report_failure` and waits for the next wake-up.
class RoundLoop {
 public:
  using Round = std::function<absl::StatusOr<int>()>;

  RoundLoop() = default;
  ~RoundLoop() { Stop(); }
  RoundLoop(const RoundLoop&) = delete;
  RoundLoop& operator=(const RoundLoop&) = delete;

  void Start(Round round, absl::Duration poll,
             std::function<void(const absl::Status&)> report_failure);
  // Ends the round under way, then the thread.
  void Stop();
  // Never blocks.
  void Nudge();

 private:
  void Run();

  Round round_;
  absl::Duration poll_;
  std::function<void(const absl::Status&)> report_failure_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool nudged_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace signoff::app
