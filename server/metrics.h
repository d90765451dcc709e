#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/app/application.h"
#include "server/app/timers.h"
#include "server/executor.h"
#include "storage/store.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace signoff::server {

class HttpGateway;

// signoffd's Prometheus metrics, in the text format served at /metrics on
// the HTTP listener. Calls, commits and timer rounds are counted as they
// happen; gauges (queues, open work, due timers, streams) are read when
// scraped. Thread-safe.
class Metrics {
 public:
  // Starts observing the application's commits.
  explicit Metrics(app::Application& application);
  ~Metrics();

  // What the gauges read at a scrape; set before the first scrape.
  void WatchExecutor(const std::string& name, const BoundedExecutor* executor);
  void WatchGateway(const HttpGateway* gateway);

  void RecordCall(const std::string& method, const std::string& protocol, absl::StatusCode code,
                  absl::Duration latency);
  void RecordRejection(const std::string& executor);
  void RecordTimerRound(const app::TimerRound& round);
  void RecordTimerRoundFailure();

  // The Prometheus text: what was counted, and the gauges read now.
  std::string Scrape();

 private:
  void ReadGauges();

  app::Application& application_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* calls_;
  prometheus::Family<prometheus::Histogram>* call_seconds_;
  prometheus::Family<prometheus::Counter>* rejections_;
  prometheus::Family<prometheus::Gauge>* queued_;
  prometheus::Histogram* batch_size_;
  prometheus::Histogram* commit_seconds_;
  prometheus::Family<prometheus::Counter>* database_errors_;
  prometheus::Family<prometheus::Counter>* database_read_errors_;
  prometheus::Counter* replays_;
  prometheus::Counter* conflict_retries_;
  prometheus::Counter* timers_claimed_;
  prometheus::Counter* timers_fired_;
  prometheus::Counter* timers_failed_;
  prometheus::Counter* timer_rounds_failed_;
  prometheus::Gauge* timers_due_;
  prometheus::Gauge* oldest_due_timer_lag_;
  prometheus::Gauge* timers_lease_expired_;
  prometheus::Family<prometheus::Gauge>* open_instances_;
  prometheus::Family<prometheus::Gauge>* open_tasks_;
  prometheus::Gauge* stream_subscribers_;
  prometheus::Gauge* feed_head_;
  prometheus::Gauge* store_head_;
  prometheus::Gauge* stream_lag_;
  prometheus::Gauge* report_lag_;
  prometheus::Gauge* http_connections_;
  prometheus::Gauge* http_streams_;
  prometheus::Family<prometheus::Counter>* read_errors_;

  std::mutex scrape_mutex_;
  std::map<std::string, const BoundedExecutor*> executors_;
  const HttpGateway* gateway_ = nullptr;
  // Definitions seen open, so that one that empties reads 0, not its last
  // count.
  std::set<std::string> open_definitions_;
  // The pipeline's counters as of the last scrape.
  uint64_t replays_seen_ = 0;
  uint64_t conflict_retries_seen_ = 0;
};

}  // namespace signoff::server
