#pragma once

// Instructions per decision, counted by callgrind: unlike a rate, the count
// hardly moves with the load on a shared machine, so it shows whether a
// change made a decision cheaper.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace signoff::bench {

// The executable `program` on PATH, or "" when there is none.
std::string FindOnPath(const std::string& program);

struct InstructionCount {
  int decisions = 0;
  uint64_t instructions = 0;
};

// Starts `signoffd_args` (signoffd's own command line) under callgrind,
// makes `decisions` pending tasks, then counts the instructions of the whole
// server while one client decides them one after another.
absl::StatusOr<InstructionCount> CountDecisionInstructions(
    const std::vector<std::string>& signoffd_args, const std::filesystem::path& dir, int decisions);

}  // namespace signoff::bench
