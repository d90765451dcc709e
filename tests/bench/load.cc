#include "load.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "absl/time/clock.h"

namespace signoff::bench {

int LatencyHistogram::BucketOf(uint64_t nanos) {
  if (nanos < kSubBuckets) return static_cast<int>(nanos);
  const int exponent = 63 - __builtin_clzll(nanos);  // >= 4 here
  const int sub = static_cast<int>((nanos >> (exponent - 4)) & (kSubBuckets - 1));
  return std::min((exponent - 3) * kSubBuckets + sub, kBuckets - 1);
}

uint64_t LatencyHistogram::MiddleOf(int bucket) {
  if (bucket < kSubBuckets) return static_cast<uint64_t>(bucket);
  const int exponent = bucket / kSubBuckets + 3;
  const uint64_t sub = static_cast<uint64_t>(bucket % kSubBuckets);
  const uint64_t width = uint64_t{1} << (exponent - 4);
  return (kSubBuckets + sub) * width + width / 2;
}

void LatencyHistogram::Record(absl::Duration latency) {
  const int64_t nanos = std::max<int64_t>(0, absl::ToInt64Nanoseconds(latency));
  buckets_[BucketOf(static_cast<uint64_t>(nanos))].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

absl::Duration LatencyHistogram::Percentile(double quantile) const {
  const uint64_t total = count_.load();
  if (total == 0) return absl::ZeroDuration();
  // The rank of the wanted call, 1-based, so that p100 is the largest.
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(quantile * total + 0.5));
  uint64_t seen = 0;
  for (int bucket = 0; bucket < kBuckets; ++bucket) {
    seen += buckets_[bucket].load();
    if (seen >= rank) return absl::Nanoseconds(MiddleOf(bucket));
  }
  return absl::Nanoseconds(MiddleOf(kBuckets - 1));
}

namespace {

// What the operations of one run share: counts, the histogram and the
// number still in flight, which the run waits on before it returns (the
// callbacks refer to it).
struct RunState {
  LatencyHistogram histogram;
  std::atomic<uint64_t> completed{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<bool> stopping{false};
  absl::Time deadline;

  std::mutex mutex;
  std::condition_variable idle;
  int in_flight = 0;
  std::string first_error;

  void Began() {
    std::lock_guard<std::mutex> lock(mutex);
    ++in_flight;
  }

  // Counts an ended operation; only those that end in the measured time
  // count, so the rate is not inflated by the drain.
  void Ended(bool ok, absl::Duration latency, const std::string& error) {
    if (absl::Now() <= deadline) {
      if (ok) {
        completed.fetch_add(1, std::memory_order_relaxed);
        histogram.Record(latency);
      } else {
        errors.fetch_add(1, std::memory_order_relaxed);
      }
    }
    std::lock_guard<std::mutex> lock(mutex);
    if (!ok && first_error.empty()) first_error = error;
    if (--in_flight == 0) idle.notify_all();
  }

  int InFlight() {
    std::lock_guard<std::mutex> lock(mutex);
    return in_flight;
  }

  // Waits until no operation is in flight, for at most `drain`; false if
  // some still are (then the run cannot safely return).
  bool WaitIdle(absl::Duration drain) {
    std::unique_lock<std::mutex> lock(mutex);
    return idle.wait_for(lock, absl::ToChronoMilliseconds(drain), [&] { return in_flight == 0; });
  }

  LoadResult Result(absl::Duration elapsed) {
    LoadResult result;
    result.completed = completed.load();
    result.errors = errors.load();
    {
      std::lock_guard<std::mutex> lock(mutex);
      result.first_error = first_error;
    }
    result.elapsed = elapsed;
    result.per_second = result.completed / absl::ToDoubleSeconds(elapsed);
    result.p50 = histogram.Percentile(0.50);
    result.p99 = histogram.Percentile(0.99);
    return result;
  }
};

// Operations still in flight after the drain would call into a freed
// state; there is no safe way on, so the run stops the process.
void DieIfNotIdle(RunState& state, absl::Duration drain) {
  if (state.WaitIdle(drain)) return;
  std::fprintf(stderr, "load: %d calls still in flight %s after the run; giving up\n",
               state.InFlight(), absl::FormatDuration(drain).c_str());
  std::abort();
}

}  // namespace

LoadResult RunClosedLoop(const Operation& operation, int in_flight, absl::Duration duration,
                         absl::Duration drain) {
  auto state = std::make_shared<RunState>();
  std::atomic<uint64_t> sequence{0};
  // Each lane is one client: it starts its next operation from the end of
  // its previous one, until the deadline.
  std::function<void()> next_in_lane = [&] {
    state->Began();
    operation(sequence.fetch_add(1),
              [&, state](bool ok, absl::Duration latency, const std::string& error) {
                // A lane that failed stops: an error that comes back at once
                // would otherwise recurse here until the deadline.
                const bool go_on = ok && !state->stopping && absl::Now() < state->deadline;
                // The next one first: Ended may release the run's wait.
                if (go_on) next_in_lane();
                state->Ended(ok, latency, error);
              });
  };
  const absl::Time start = absl::Now();
  state->deadline = start + duration;
  for (int lane = 0; lane < in_flight; ++lane) next_in_lane();
  std::this_thread::sleep_until(absl::ToChronoTime(state->deadline));
  state->stopping = true;
  DieIfNotIdle(*state, drain);
  return state->Result(duration);
}

LoadResult RunOpenLoop(const Operation& operation, double per_second, absl::Duration duration,
                       int max_in_flight, absl::Duration drain) {
  auto state = std::make_shared<RunState>();
  const absl::Time start = absl::Now();
  state->deadline = start + duration;
  const absl::Duration interval = absl::Seconds(1) / std::max(per_second, 1e-3);
  uint64_t skipped = 0;
  for (uint64_t sequence = 0;; ++sequence) {
    const absl::Time due = start + interval * static_cast<double>(sequence);
    if (due >= state->deadline) break;
    std::this_thread::sleep_until(absl::ToChronoTime(due));
    if (state->InFlight() >= max_in_flight) {
      ++skipped;
      continue;
    }
    state->Began();
    operation(sequence, [state](bool ok, absl::Duration latency, const std::string& error) {
      state->Ended(ok, latency, error);
    });
  }
  std::this_thread::sleep_until(absl::ToChronoTime(state->deadline));
  DieIfNotIdle(*state, drain);
  LoadResult result = state->Result(duration);
  result.skipped = skipped;
  return result;
}

LoadResult RunSequentially(const Operation& operation, int count, uint64_t first_sequence,
                           absl::Duration timeout_each) {
  // Shared with the callback, which may come after a timeout gave up on it.
  struct Answer {
    std::mutex mutex;
    std::condition_variable arrived;
    bool done = false;
    bool ok = false;
    std::string error;
  };
  LatencyHistogram histogram;
  LoadResult result;
  const absl::Time start = absl::Now();
  for (int n = 0; n < count; ++n) {
    auto answer = std::make_shared<Answer>();
    const absl::Time sent = absl::Now();
    operation(first_sequence + n,
              [answer](bool ok, absl::Duration, const std::string& error) {
                std::lock_guard<std::mutex> lock(answer->mutex);
                answer->done = true;
                answer->ok = ok;
                answer->error = error;
                answer->arrived.notify_all();
              });
    std::unique_lock<std::mutex> lock(answer->mutex);
    const bool answered = answer->arrived.wait_for(lock, absl::ToChronoMilliseconds(timeout_each),
                                                   [&] { return answer->done; });
    if (!answered || !answer->ok) {
      ++result.errors;
      result.first_error = answered ? answer->error : "no answer in time";
      break;
    }
    ++result.completed;
    histogram.Record(absl::Now() - sent);
  }
  result.elapsed = absl::Now() - start;
  result.per_second = result.completed / std::max(1e-9, absl::ToDoubleSeconds(result.elapsed));
  result.p50 = histogram.Percentile(0.50);
  result.p99 = histogram.Percentile(0.99);
  return result;
}

}  // namespace signoff::bench
