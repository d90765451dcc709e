#pragma once

// Duration histograms with fixed log-scale buckets, from which reports
// read percentiles without keeping every duration.
//
// Bucket 0 holds durations under 1 s; bucket i >= 1 holds
// [2^((i-1)/4), 2^(i/4)) seconds, four buckets per doubling, up to bucket
// kMaxBucket (about 2^31.75 s, some 100 years). A percentile is reported
// as its bucket's geometric midpoint, so it is within a factor 2^(1/8) of
// the true value: about 9% either way. Means come from exact totals.

#include <cstdint>

#include "signoff/v1/reports.pb.h"
#include "storage/reports.h"

namespace signoff::app {

inline constexpr int32_t kMaxBucket = 127;

int32_t BucketOf(int64_t seconds);
// The duration a bucket stands for: its geometric midpoint (0.5 s for
// bucket 0).
double BucketMidpoint(int32_t bucket);

// The q-quantile (0 < q <= 1) of the histogram's durations; 0 when empty.
double Percentile(const storage::Histogram& histogram, double q);

// p50, p90 and mean of `count` durations adding up to `total_seconds`.
v1::DurationStats StatsOf(int64_t count, int64_t total_seconds,
                          const storage::Histogram& histogram);

}  // namespace signoff::app
