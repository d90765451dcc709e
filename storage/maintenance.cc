#include "storage/maintenance.h"

#include <soci/soci.h>

#include "absl/time/time.h"
#include "workflow/status_macros.h"

namespace signoff::storage {

std::unique_ptr<soci::session> Dialect::OpenMaintenanceSession() const {
  return OpenWriteSession();
}

absl::StatusOr<std::unique_ptr<Maintenance>> Maintenance::Start(const Dialect& dialect) {
  if (dialect.MaintenanceInterval() <= absl::ZeroDuration()) return nullptr;
  SIGNOFF_ASSIGN_OR_RETURN(std::unique_ptr<soci::session> session,
                           Guarded(dialect, [&]() -> absl::StatusOr<std::unique_ptr<soci::session>> {
                             return dialect.OpenMaintenanceSession();
                           }));
  return std::unique_ptr<Maintenance>(new Maintenance(dialect, std::move(session)));
}

Maintenance::Maintenance(const Dialect& dialect, std::unique_ptr<soci::session> session)
    : dialect_(dialect), session_(std::move(session)), thread_([this] { Run(); }) {}

Maintenance::~Maintenance() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

absl::Status Maintenance::LastRound() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_round_;
}

void Maintenance::Run() {
  const auto interval = absl::ToChronoMilliseconds(dialect_.MaintenanceInterval());
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    absl::Status round = Guarded(dialect_, [&] {
      dialect_.Maintain(*session_);
      return absl::OkStatus();
    });
    lock.lock();
    last_round_ = std::move(round);
  }
}

}  // namespace signoff::storage
