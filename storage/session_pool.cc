#include "storage/session_pool.h"

#include <soci/soci.h>

#include "absl/strings/str_cat.h"

namespace signoff::storage {

absl::StatusOr<std::unique_ptr<SessionPool>> SessionPool::Open(const Dialect& dialect,
                                                               int size) {
  if (size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("read pool size must be at least 1, got ", size));
  }
  std::unique_ptr<SessionPool> pool(new SessionPool());
  absl::Status status = Guarded(dialect, [&]() -> absl::Status {
    for (int i = 0; i < size; ++i) {
      pool->sessions_.push_back(dialect.OpenReadSession());
      pool->idle_.push_back(pool->sessions_.back().get());
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return pool;
}

SessionPool::~SessionPool() = default;

SessionPool::Lease SessionPool::Acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  released_.wait(lock, [this] { return !idle_.empty(); });
  soci::session* session = idle_.back();
  idle_.pop_back();
  return Lease(this, session);
}

void SessionPool::GiveBack(soci::session* session) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(session);
  }
  released_.notify_one();
}

}  // namespace signoff::storage
