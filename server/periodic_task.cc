#include "server/periodic_task.h"

namespace signoff::server {

PeriodicTask::PeriodicTask(absl::Duration period, std::function<void()> run)
    : period_(period), run_(std::move(run)), thread_([this] { Loop(); }) {}

PeriodicTask::~PeriodicTask() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PeriodicTask::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    run_();
    lock.lock();
    wake_.wait_for(lock, absl::ToChronoMilliseconds(period_), [this] { return stopping_; });
  }
}

}  // namespace signoff::server
