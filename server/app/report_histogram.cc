#include "server/app/report_histogram.h"

#include <algorithm>
#include <cmath>

namespace signoff::app {

int32_t BucketOf(int64_t seconds) {
  if (seconds < 1) return 0;
  // Four buckets per doubling: log2 scaled by 4, floored, then one up so
  // that bucket 0 stays for sub-second durations.
  const double scaled = std::floor(std::log2(static_cast<double>(seconds)) * 4.0);
  return std::min<int32_t>(kMaxBucket, static_cast<int32_t>(scaled) + 1);
}

double BucketMidpoint(int32_t bucket) {
  if (bucket <= 0) return 0.5;
  return std::exp2((bucket - 0.5) / 4.0);
}

double Percentile(const storage::Histogram& histogram, double q) {
  int64_t total = 0;
  for (const auto& [bucket, count] : histogram) total += count;
  if (total == 0) return 0;
  // The smallest duration with at least q of all at or below it.
  const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * total)));
  int64_t seen = 0;
  for (const auto& [bucket, count] : histogram) {
    seen += count;
    if (seen >= rank) return BucketMidpoint(bucket);
  }
  return BucketMidpoint(histogram.rbegin()->first);
}

v1::DurationStats StatsOf(int64_t count, int64_t total_seconds,
                          const storage::Histogram& histogram) {
  v1::DurationStats stats;
  stats.set_count(count);
  if (count == 0) return stats;
  stats.set_p50_seconds(Percentile(histogram, 0.5));
  stats.set_p90_seconds(Percentile(histogram, 0.9));
  stats.set_mean_seconds(static_cast<double>(total_seconds) / static_cast<double>(count));
  return stats;
}

}  // namespace signoff::app
