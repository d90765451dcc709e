#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace signoff::server {

// A fixed pool of threads with a bounded queue. Blocking store work runs
// here so that gRPC's callback threads never block; a full queue is
// reported to the caller instead of growing without bound.
class BoundedExecutor {
 public:
  BoundedExecutor(int threads, size_t max_queued);
  ~BoundedExecutor();
  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;

  // False when the queue is full or the executor is stopping.
  bool TrySubmit(std::function<void()> work);
  // Runs what is queued, then joins the threads.
  void Stop();
  // Work waiting for a thread.
  size_t queued() const;

 private:
  void Loop();

  const size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace signoff::server
