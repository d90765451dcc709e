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
  std::unique_ptr<SessionPool> pool(new SessionPool(dialect));
  absl::Status status = Guarded(dialect, [&]() -> absl::Status {
    for (int i = 0; i < size; ++i) {
      auto connection = std::make_unique<Connection>();
      connection->session = dialect.OpenReadSession();
      pool->idle_.push_back(connection.get());
      pool->connections_.push_back(std::move(connection));
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
  Connection* connection = idle_.back();
  idle_.pop_back();
  return Lease(this, connection);
}

void SessionPool::GiveBack(Connection* connection) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(connection);
  }
  released_.notify_one();
}

soci::session& SessionPool::Lease::operator*() const {
  if (connection_->session == nullptr) connection_->session = pool_->dialect_.OpenReadSession();
  return *connection_->session;
}

ReadStatements& SessionPool::Lease::statements() const {
  if (connection_->statements == nullptr) {
    connection_->statements = std::make_unique<ReadStatements>(**this);
  }
  return *connection_->statements;
}

void SessionPool::Lease::ForgetStatements() const { connection_->statements.reset(); }

bool SessionPool::Lease::ForgetConnectionIfLost() const {
  if (connection_->session == nullptr || pool_->dialect_.IsAlive(*connection_->session)) {
    return false;
  }
  connection_->statements.reset();
  connection_->session.reset();
  return true;
}

}  // namespace signoff::storage
