#include "server/app/round_loop.h"

namespace signoff::app {
namespace {

// Rounds in a row before the loop waits for the next wake-up.
constexpr int kRoundsPerWake = 64;

}  // namespace

void RoundLoop::Start(Round round, absl::Duration poll,
                      std::function<void(const absl::Status&)> report_failure) {
  round_ = std::move(round);
  poll_ = poll;
  report_failure_ = std::move(report_failure);
  thread_ = std::thread([this] { Run(); });
}

void RoundLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RoundLoop::Nudge() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    nudged_ = true;
  }
  wake_.notify_all();
}

void RoundLoop::Run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, absl::ToChronoMilliseconds(poll_),
                     [this] { return nudged_ || stopping_; });
      if (stopping_) return;
      nudged_ = false;
    }
    // Until there is nothing new: a full page or a lost race goes round
    // again at once.
    for (int round = 0; round < kRoundsPerWake; ++round) {
      absl::StatusOr<int> done = round_();
      if (done.ok() && *done == 0) break;
      if (!done.ok() && !absl::IsAborted(done.status())) {
        report_failure_(done.status());
        break;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
  }
}

}  // namespace signoff::app
