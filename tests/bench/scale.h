#pragma once

// The figures that need a big database: reads and a cold start of signoffd
// on many bulk-loaded instances, and a crowd of overdue timers firing
// while decisions go on. Each database is made once by `signoffd
// bulk-load`, through the engine.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "load.h"

namespace signoff::bench {

struct ScaleSettings {
  int64_t instances = 0;
  // Of each read workload.
  absl::Duration run;
  int rounds = 1;
  // Each read runs at each count: one client shows a read's own latency,
  // more show it while others queue beside it.
  std::vector<int> client_counts = {1, 8};
};

// One read workload at one client count, one result per round.
struct ScaleRead {
  std::string name;
  int clients = 0;
  std::vector<LoadResult> runs;
};

struct ScaleFigures {
  int64_t instances = 0;
  double loaded_per_second = 0;
  // The database file and its WAL, after the load.
  double bytes_per_instance = 0;
  // From signoffd's start until its first answer.
  absl::Duration cold_start;
  // Inbox of the assignee, of the role holder, and GetInstance, by client
  // count.
  std::vector<ScaleRead> reads;
  // signoffd's resident and peak resident memory after the reads.
  int64_t rss_kib = 0;
  int64_t peak_rss_kib = 0;
};

// Bulk-loads `settings.instances` instances, half dealer applications
// (a manager's approval first) and half partner terminations (a task
// offered to the partner managers' group first), into `dir`, then serves
// the database and reads it.
absl::StatusOr<ScaleFigures> MeasureScale(const ScaleSettings& settings,
                                          const std::filesystem::path& dir);

struct TimerSettings {
  int64_t instances = 0;
  int clients = 16;
  // Gives up when the timers have not all fired by then.
  absl::Duration limit = absl::Minutes(30);
};

struct TimerFigures {
  int64_t instances = 0;
  // Distinct timers fired, and firings of a timer beyond its first.
  int64_t timers_fired = 0;
  int64_t duplicates = 0;
  // Instances with no firing when the check ended; none when all fired.
  int64_t instances_unfired = 0;
  // From signoffd's start until the last firing.
  absl::Duration to_fire_all;
  // Decisions made while the timers fired, in one-second slices.
  std::vector<LoadResult> decisions;
};

// Bulk-loads `settings.instances` partner terminations two weeks in the
// past, so that every one's warning deadline has passed, then starts
// signoffd on them and decides dealer applications until every instance's
// history shows its timer fired. The firings are read from the histories.
absl::StatusOr<TimerFigures> MeasureTimers(const TimerSettings& settings,
                                           const std::filesystem::path& dir);

}  // namespace signoff::bench
