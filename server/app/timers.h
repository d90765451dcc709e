#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/command_pipeline.h"
#include "storage/store.h"

namespace signoff::app {

// What one round of timer firing did.
struct TimerRound {
  int claimed = 0;
  int fired = 0;
  // The timers that fired, for the log.
  std::vector<storage::ClaimedTimer> fired_timers;
  struct Failure {
    storage::ClaimedTimer timer;
    absl::Status status;
  };
  std::vector<Failure> failures;
};

// Fires timers that came due, each through the command pipeline like a
// person's decision.
class TimerFiring {
 public:
  // Instances whose timers fire side by side; their commits share disk
  // syncs.
  static constexpr int kDefaultParallelism = 32;
  // A firing that takes longer than this is presumed dead, and another
  // scheduler (a replica) may take the timer over.
  static constexpr absl::Duration kDefaultLease = absl::Seconds(60);

  TimerFiring(AppContext& context, CommandPipeline& pipeline,
              int parallelism = kDefaultParallelism);

  // Fires up to `limit` timers that are due. Safe to call from several
  // replicas: timers are leased, and a firing is idempotent under the
  // timer's id. Fails only when no timers could be claimed.
  absl::StatusOr<TimerRound> FireDueTimers(int limit);

  // Before the first round: how long a claimed timer stays this
  // process's. Shorter takes over sooner from a replica that died
  // mid-firing; it must stay well above how long a firing takes.
  void set_lease(absl::Duration lease) { lease_ = lease; }

 private:
  // Fires one claimed timer; a timer the instance no longer holds is
  // dropped from the store.
  absl::Status FireTimer(const storage::ClaimedTimer& claimed);
  // FireTimer on a firing thread, where an exception would end the process.
  absl::Status FireTimerGuarded(const storage::ClaimedTimer& claimed);
  // Whether the instance still holds the timer; an error when the instance
  // cannot be read.
  absl::StatusOr<bool> TimerStillPending(const storage::ClaimedTimer& claimed);

  AppContext& context_;
  CommandPipeline& pipeline_;
  const int parallelism_;
  absl::Duration lease_ = kDefaultLease;
  // Names this process in timer leases.
  std::string owner_;
};

}  // namespace signoff::app
