#pragma once

// A load generator for unary gRPC calls made with the callback API. It keeps
// a number of calls in flight for a fixed time (closed loop), or sends them
// at a fixed rate whatever the answers take (open loop), and records the
// latency of every call in a histogram.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "absl/time/time.h"

namespace signoff::bench {

// Latencies in fixed log-linear buckets: 16 per power of two, so a
// percentile is within about 6% of the truth, with no allocation and no
// lock when recording.
class LatencyHistogram {
 public:
  void Record(absl::Duration latency);
  // The latency at `quantile` (0..1), or zero when nothing was recorded.
  absl::Duration Percentile(double quantile) const;
  uint64_t count() const { return count_.load(); }

 private:
  static constexpr int kSubBuckets = 16;
  static constexpr int kBuckets = 64 * kSubBuckets;
  static int BucketOf(uint64_t nanos);
  // A representative latency of the bucket: its middle.
  static uint64_t MiddleOf(int bucket);

  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
};

// Called once when an operation ends: whether it succeeded, the latency of
// its measured part, and the error when it failed.
using OperationDone = std::function<void(bool ok, absl::Duration latency, const std::string& error)>;

// Starts one operation, asynchronously; `sequence` numbers the operations of
// a run so that each can pick its caller and make its request ids unique.
// `done` must be called exactly once, from any thread.
using Operation = std::function<void(uint64_t sequence, OperationDone done)>;

struct LoadResult {
  // Operations that ended within the measured time.
  uint64_t completed = 0;
  uint64_t errors = 0;
  std::string first_error;
  // Open loop only: sends skipped because too many calls were in flight.
  uint64_t skipped = 0;
  absl::Duration elapsed;
  double per_second = 0;
  absl::Duration p50;
  absl::Duration p99;
};

// Keeps `in_flight` operations running for `duration`; each that ends starts
// the next, unless it failed (a client that failed stops). Waits at most
// `drain` for the last ones to end.
LoadResult RunClosedLoop(const Operation& operation, int in_flight, absl::Duration duration,
                         absl::Duration drain = absl::Seconds(30));

// Starts operations at `per_second` for `duration`, never more than
// `max_in_flight` at once (a send that would exceed it is skipped and
// counted). Latency runs from each operation's own send.
LoadResult RunOpenLoop(const Operation& operation, double per_second, absl::Duration duration,
                       int max_in_flight = 512, absl::Duration drain = absl::Seconds(30));

// Runs `count` operations one after another, as one client, numbered from
// `first_sequence`; stops at the first error or after `timeout_each` without
// an answer.
LoadResult RunSequentially(const Operation& operation, int count, uint64_t first_sequence,
                           absl::Duration timeout_each = absl::Seconds(60));

}  // namespace signoff::bench
