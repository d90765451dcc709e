#include "server/app/job_board.h"

#include <chrono>

namespace signoff::app {

void JobBoard::NoteCommitted(const Committed& committed) {
  for (const auto& event : committed.events) {
    const v1::Task* task = nullptr;
    if (event.has_task_created()) task = &event.task_created().task();
    if (event.has_job_failed()) task = &event.job_failed().task();
    if (event.has_incident_resolved()) task = &event.incident_resolved().task();
    if (task != nullptr && !task->job().type().empty()) Post(task->job().type());
  }
}

void JobBoard::Post(const std::string& type) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++generations_[type];
  }
  posted_.notify_all();
}

uint64_t JobBoard::Generation(const std::string& type) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = generations_.find(type);
  return it == generations_.end() ? 0 : it->second;
}

bool JobBoard::Wait(const std::string& type, uint64_t seen, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::microseconds(absl::ToInt64Microseconds(timeout));
  return posted_.wait_until(lock, deadline, [&] {
    auto it = generations_.find(type);
    return closed_ || (it != generations_.end() && it->second != seen);
  }) && !closed_;
}

void JobBoard::Close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  posted_.notify_all();
}

bool JobBoard::closed() {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

}  // namespace signoff::app
