#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/time/time.h"

namespace signoff::server {

// Runs a function at once and then every `period` on a thread of its own,
// until destroyed; destruction waits for a run under way.
class PeriodicTask {
 public:
  PeriodicTask(absl::Duration period, std::function<void()> run);
  ~PeriodicTask();

  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

 private:
  void Loop();

  const absl::Duration period_;
  const std::function<void()> run_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace signoff::server
