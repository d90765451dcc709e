#pragma once

// What must hold once signoffd, killed while the workload's calls were in
// flight, has been restarted on the same database:
// - every acknowledged start and decision is there before anything is sent
//   again, and sending it again returns its first reply;
// - every unacknowledged request, sent again with its caller and
//   request_id, takes effect exactly once;
// - every instance's events are numbered 1..n, their hash chain holds, and
//   folding them gives the instance the server reports.

#include <cstdint>
#include <string>

#include "api_client.h"
#include "crash_workload.h"

namespace signoff::testing {

struct CheckCounts {
  // Unacknowledged requests sent again.
  int64_t resent = 0;
  // Of those, the ones whose first attempt had committed before the kill:
  // the resends that idempotency, not luck, keeps from taking effect twice.
  int64_t resent_after_effect = 0;
  // Acknowledged requests sent again, each expected to get its first reply.
  int64_t replayed = 0;
  // Instances whose history and view were checked.
  int64_t instances = 0;
  // Checks that failed.
  int64_t failures = 0;
};

// Runs every check through `client`, on the server restarted after the
// crash. Each failed check is reported to GoogleTest prefixed with
// `context`, which should say how to repeat the run.
CheckCounts CheckAfterRestart(ApiClient& client, const WorkloadLog& log,
                              const std::string& context);

}  // namespace signoff::testing
