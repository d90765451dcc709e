#include "server/app/timers.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/app/views.h"
#include "workflow/engine.h"
#include "workflow/status_macros.h"

namespace signoff::app {

namespace {

const Caller kTimerCaller{workflow::kSystemActor, /*system=*/true};

// Claimed timers by instance, each instance's in the order claimed.
std::vector<std::vector<const storage::ClaimedTimer*>> ByInstance(
    const std::vector<storage::ClaimedTimer>& due) {
  std::vector<std::vector<const storage::ClaimedTimer*>> groups;
  std::map<std::string, size_t> group_of;
  for (const auto& timer : due) {
    auto [it, added] = group_of.emplace(timer.instance_id, groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(&timer);
  }
  return groups;
}

}  // namespace

TimerFiring::TimerFiring(AppContext& context, CommandPipeline& pipeline, int parallelism)
    : context_(context), pipeline_(pipeline), parallelism_(std::max(1, parallelism)) {
  absl::BitGen random;
  owner_ = absl::StrFormat("signoffd-%d-%08x", static_cast<int>(getpid()),
                           absl::Uniform<uint32_t>(random));
}

absl::StatusOr<TimerRound> TimerFiring::FireDueTimers(int limit) {
  storage::TimerClaim claim;
  claim.now = context_.Now();
  claim.owner = owner_;
  claim.lease = lease_;
  claim.limit = limit;
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<storage::ClaimedTimer> due,
                           context_.store().ClaimDueTimers(claim));
  TimerRound round;
  round.claimed = static_cast<int>(due.size());
  // One instance's timers fire in order on one thread, so that they do
  // not conflict with each other; instances fire side by side. One broken
  // instance must not hold up the others: a failed timer keeps its row,
  // and its lease running out brings it back.
  const auto groups = ByInstance(due);
  std::atomic<size_t> next_group{0};
  std::mutex round_mutex;
  auto fire_groups = [&] {
    for (size_t group = next_group++; group < groups.size(); group = next_group++) {
      for (const storage::ClaimedTimer* timer : groups[group]) {
        absl::Status status = FireTimerGuarded(*timer);
        std::lock_guard<std::mutex> lock(round_mutex);
        if (status.ok()) {
          ++round.fired;
          round.fired_timers.push_back(*timer);
        } else {
          round.failures.push_back({*timer, std::move(status)});
        }
      }
    }
  };
  const size_t helpers = std::min<size_t>(parallelism_, groups.size());
  std::vector<std::thread> threads;
  try {
    for (size_t i = 1; i < helpers; ++i) threads.emplace_back(fire_groups);
  } catch (const std::system_error&) {
    // Out of threads: the ones started, and this one, share the round.
  }
  fire_groups();
  for (std::thread& thread : threads) thread.join();
  return round;
}

absl::Status TimerFiring::FireTimerGuarded(const storage::ClaimedTimer& claimed) {
  try {
    return FireTimer(claimed);
  } catch (const std::exception& error) {
    return absl::InternalError(absl::StrCat("firing timer ", claimed.timer.id(), ": ", error.what()));
  }
}

absl::Status TimerFiring::FireTimer(const storage::ClaimedTimer& claimed) {
  v1::FireTimer fire;
  fire.set_timer_id(claimed.timer.id());
  InstanceCommand command;
  command.method = "FireTimer";
  command.request = &fire;
  // The timer's id, in signoffd's reserved namespace, is its request_id: a
  // second replica firing the same timer gets the first firing's reply.
  command.request_id = absl::StrCat(kServiceRequestPrefix, "timer:", claimed.timer.id());
  command.instance_id = claimed.instance_id;
  *command.command.mutable_fire_timer() = fire;
  command.reply = InstanceReply;
  v1::InstanceResponse reply;
  absl::Status fired = pipeline_.Run(kTimerCaller, command, reply);
  if (fired.ok()) return absl::OkStatus();
  SIGNOFF_ASSIGN_OR_RETURN(bool pending, TimerStillPending(claimed));
  if (pending) return fired;
  // A decision that won the race cancelled the timer; drop the stale row.
  storage::Mutation drop;
  drop.timers_removed.push_back(claimed.timer.id());
  return context_.store().Commit(std::move(drop)).status();
}

absl::StatusOr<bool> TimerFiring::TimerStillPending(const storage::ClaimedTimer& claimed) {
  absl::StatusOr<v1::InstanceState> state = context_.store().GetInstance(claimed.instance_id);
  if (absl::IsNotFound(state.status())) return false;
  // Unable to tell: keep the row rather than lose the timer.
  if (!state.ok()) return state.status();
  for (const auto& timer : state->timers()) {
    if (timer.id() == claimed.timer.id()) return true;
  }
  return false;
}

}  // namespace signoff::app
