#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/dialect.h"
#include "storage/read_statements.h"

namespace soci {
class session;
}

namespace signoff::storage {

// A fixed set of read connections. A caller leases one for the length of
// a read and gives it back when the lease goes out of scope; callers wait
// while all are leased.
class SessionPool {
  struct Connection;

 public:
  class Lease {
   public:
    Lease(SessionPool* pool, Connection* connection) : pool_(pool), connection_(connection) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), connection_(other.connection_) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->GiveBack(connection_);
    }
    // The connection, opened again first if it was lost. Throws as SOCI
    // does when the database cannot be reached.
    soci::session& operator*() const;
    // The connection's compiled reads, compiled on first use. Throws as
    // SOCI does.
    ReadStatements& statements() const;
    void ForgetStatements() const;
    // After a failure: drops the connection if the database closed it, so
    // that the next use opens a new one. True when it did.
    bool ForgetConnectionIfLost() const;

   private:
    SessionPool* pool_;
    Connection* connection_;
  };

  static absl::StatusOr<std::unique_ptr<SessionPool>> Open(const Dialect& dialect,
                                                           int size);
  ~SessionPool();

  Lease Acquire();

 private:
  struct Connection {
    // Null once lost, until a lease opens it again.
    std::unique_ptr<soci::session> session;
    // Declared after the session, so that they go first.
    std::unique_ptr<ReadStatements> statements;
  };

  explicit SessionPool(const Dialect& dialect) : dialect_(dialect) {}
  void GiveBack(Connection* connection);

  const Dialect& dialect_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::mutex mutex_;
  std::condition_variable released_;
  std::vector<Connection*> idle_;
};

}  // namespace signoff::storage
