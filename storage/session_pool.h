#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/dialect.h"

namespace soci {
class session;
}

namespace signoff::storage {

// A fixed set of read connections. A caller leases one for the length of
// a read and gives it back when the lease goes out of scope; callers wait
// while all are leased.
class SessionPool {
 public:
  class Lease {
   public:
    Lease(SessionPool* pool, soci::session* session) : pool_(pool), session_(session) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), session_(other.session_) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->GiveBack(session_);
    }
    soci::session& operator*() const { return *session_; }

   private:
    SessionPool* pool_;
    soci::session* session_;
  };

  static absl::StatusOr<std::unique_ptr<SessionPool>> Open(const Dialect& dialect,
                                                           int size);
  ~SessionPool();

  Lease Acquire();

 private:
  SessionPool() = default;
  void GiveBack(soci::session* session);

  std::vector<std::unique_ptr<soci::session>> sessions_;
  std::mutex mutex_;
  std::condition_variable released_;
  std::vector<soci::session*> idle_;
};

}  // namespace signoff::storage
