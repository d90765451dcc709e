#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "storage/dialect.h"

namespace soci {
class session;
}

namespace signoff::storage {

// Runs the dialect's maintenance on a connection and a thread of its own,
// every Dialect::MaintenanceInterval(), so that the single writer never
// waits for it.
class Maintenance {
 public:
  // Null when the dialect needs none.
  static absl::StatusOr<std::unique_ptr<Maintenance>> Start(const Dialect& dialect);
  ~Maintenance();
  Maintenance(const Maintenance&) = delete;
  Maintenance& operator=(const Maintenance&) = delete;

  // How the last round went: a database that cannot be maintained (its
  // disk full, say) is reported here rather than lost.
  absl::Status LastRound() const;

 private:
  Maintenance(const Dialect& dialect, std::unique_ptr<soci::session> session);
  void Run();

  const Dialect& dialect_;
  std::unique_ptr<soci::session> session_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  absl::Status last_round_;
  std::thread thread_;
};

}  // namespace signoff::storage
