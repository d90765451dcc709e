#pragma once

// The periods report cells are rolled up into, and how a report's days
// are covered by as few of them as possible. Days are numbered from
// 1970-01-01 in the definition's reporting zone.

#include <cstdint>
#include <string>
#include <vector>

namespace signoff::app {

// Each count lands in its day, its dekad (the 1st-10th, 11th-20th or
// 21st-last of a month) and its month. Dekads nest in months, so a period
// that starts or ends within a month reads at most nine days and two
// dekads at each end instead of up to thirty days.
enum class Rollup { kDay, kDekad, kMonth };

inline constexpr Rollup kRollups[] = {Rollup::kDay, Rollup::kDekad, Rollup::kMonth};

// The dimension a rollup of `dim` is stored under.
std::string RollupDim(const std::string& dim, Rollup rollup);
// The first day of the rollup period holding `day`: its cells' key.
int32_t RollupStart(int32_t day, Rollup rollup);

// Consecutive periods of one rollup: those whose first days run from
// first_start to last_start.
struct RollupRun {
  Rollup rollup = Rollup::kDay;
  int32_t first_start = 0;
  int32_t last_start = 0;
};

// Exactly the days [from, to], as the fewest whole periods, largest first
// wherever they fit; empty when to < from.
std::vector<RollupRun> CoverDays(int32_t from, int32_t to);

}  // namespace signoff::app
