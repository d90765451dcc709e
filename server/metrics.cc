#include "server/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "server/http_gateway.h"

namespace signoff::server {

namespace {

// Seconds, from a quarter of a millisecond to half a minute.
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,     0.25,   0.5,   1,      2.5,   5,    10,   30};
}

prometheus::Histogram::BucketBoundaries BatchSizeBuckets() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256};
}

prometheus::Counter& CounterNamed(prometheus::Registry& registry, const std::string& name,
                                  const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
}

prometheus::Gauge& GaugeNamed(prometheus::Registry& registry, const std::string& name,
                              const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

// Adds to a counter what a cumulative count grew by since `seen`.
void CatchUp(prometheus::Counter& counter, uint64_t now, uint64_t& seen) {
  if (now > seen) counter.Increment(static_cast<double>(now - seen));
  seen = now;
}

}  // namespace

Metrics::Metrics(app::Application& application)
    : application_(application), registry_(std::make_shared<prometheus::Registry>()) {
  auto& registry = *registry_;
  calls_ = &prometheus::BuildCounter()
                .Name("signoff_rpc_calls_total")
                .Help("RPCs answered, by method, protocol and status code")
                .Register(registry);
  call_seconds_ = &prometheus::BuildHistogram()
                       .Name("signoff_rpc_duration_seconds")
                       .Help("How long RPCs took, from arrival to answer, by method")
                       .Register(registry);
  rejections_ = &prometheus::BuildCounter()
                     .Name("signoff_executor_rejections_total")
                     .Help("Calls refused RESOURCE_EXHAUSTED because an executor's queue was full")
                     .Register(registry);
  queued_ = &prometheus::BuildGauge()
                 .Name("signoff_executor_queued")
                 .Help("Calls waiting for a worker, by executor")
                 .Register(registry);
  batch_size_ = &prometheus::BuildHistogram()
                     .Name("signoff_commit_batch_size")
                     .Help("Commits carried by one transaction of the writer")
                     .Register(registry)
                     .Add({}, BatchSizeBuckets());
  commit_seconds_ = &prometheus::BuildHistogram()
                         .Name("signoff_commit_batch_duration_seconds")
                         .Help("How long a commit batch's transaction took, its sync included")
                         .Register(registry)
                         .Add({}, LatencyBuckets());
  database_errors_ = &prometheus::BuildCounter()
                          .Name("signoff_database_commit_errors_total")
                          .Help("Commits the database refused or failed, by status code "
                                "(ABORTED: the instance changed meanwhile)")
                          .Register(registry);
  database_read_errors_ = &prometheus::BuildCounter()
                               .Name("signoff_database_read_errors_total")
                               .Help("Reads the database failed, by status code (UNAVAILABLE: "
                                     "unreachable or busy; DATA_LOSS: damaged)")
                               .Register(registry);
  read_errors_ = &prometheus::BuildCounter()
                      .Name("signoff_metrics_read_errors_total")
                      .Help("Gauges that could not be read from the database at a scrape, by "
                            "what was read")
                      .Register(registry);
  replays_ = &CounterNamed(registry, "signoff_idempotent_replays_total",
                           "Commands answered with the first reply of their request_id");
  conflict_retries_ = &CounterNamed(registry, "signoff_version_conflict_retries_total",
                                    "Commits tried again because the instance changed meanwhile");
  timers_claimed_ = &CounterNamed(registry, "signoff_timers_claimed_total",
                                  "Due timers this process claimed to fire");
  timers_fired_ = &CounterNamed(registry, "signoff_timers_fired_total", "Timers fired");
  timers_failed_ = &CounterNamed(registry, "signoff_timers_failed_total",
                                 "Timer firings that failed (tried again when the lease ends)");
  timer_rounds_failed_ = &CounterNamed(registry, "signoff_timer_rounds_failed_total",
                                       "Rounds in which no due timer could be claimed");
  timers_due_ = &GaugeNamed(registry, "signoff_timers_due", "Timers due and not yet fired");
  oldest_due_timer_lag_ = &GaugeNamed(registry, "signoff_timers_oldest_due_lag_seconds",
                                      "How long the oldest due timer has waited to fire");
  timers_lease_expired_ =
      &GaugeNamed(registry, "signoff_timers_lease_expired",
                  "Due timers whose firing was claimed and did not finish within its lease");
  open_instances_ = &prometheus::BuildGauge()
                         .Name("signoff_open_instances")
                         .Help("Instances running or returned to their applicant, by definition")
                         .Register(registry);
  open_tasks_ = &prometheus::BuildGauge()
                     .Name("signoff_pending_tasks")
                     .Help("Tasks waiting for their assignee or group, by definition")
                     .Register(registry);
  stream_subscribers_ = &GaugeNamed(registry, "signoff_event_stream_subscribers",
                                    "Event streams and other followers of the event feed");
  feed_head_ = &GaugeNamed(registry, "signoff_event_feed_head_global_seq",
                           "The newest event the feed has read for its streams");
  store_head_ = &GaugeNamed(registry, "signoff_event_store_head_global_seq",
                            "The newest event committed; the feed's lag is this less its head");
  stream_lag_ = &GaugeNamed(registry, "signoff_event_stream_largest_lag_events",
                            "Events the furthest-behind event stream has still to read from the "
                            "feed");
  report_lag_ = &GaugeNamed(registry, "signoff_report_projection_lag_events",
                            "Committed events the KPI report projections have yet to count");
  http_connections_ = &GaugeNamed(registry, "signoff_http_connections",
                                  "Connections open on the HTTP listener");
  http_streams_ = &GaugeNamed(registry, "signoff_http_event_streams",
                              "Event streams open on the HTTP listener");
  // The observer holds the registry, which owns what it records into: the
  // store may commit after this object is gone.
  application_.context().store().ObserveCommits(
      [registry = registry_, batch_size = batch_size_, commit_seconds = commit_seconds_,
       errors = database_errors_](const storage::CommitBatchReport& report) {
        batch_size->Observe(static_cast<double>(report.size));
        commit_seconds->Observe(absl::ToDoubleSeconds(report.latency));
        for (absl::StatusCode code : report.failures) {
          errors->Add({{"code", absl::StatusCodeToString(code)}}).Increment();
        }
      });
  application_.context().store().ObserveReadFailures(
      [registry = registry_, errors = database_read_errors_](absl::StatusCode code) {
        errors->Add({{"code", absl::StatusCodeToString(code)}}).Increment();
      });
}

Metrics::~Metrics() = default;

void Metrics::WatchExecutor(const std::string& name, const BoundedExecutor* executor) {
  std::lock_guard<std::mutex> lock(scrape_mutex_);
  executors_[name] = executor;
}

void Metrics::WatchGateway(const HttpGateway* gateway) {
  std::lock_guard<std::mutex> lock(scrape_mutex_);
  gateway_ = gateway;
}

void Metrics::RecordCall(const std::string& method, const std::string& protocol,
                         absl::StatusCode code, absl::Duration latency) {
  calls_->Add({{"method", method}, {"protocol", protocol}, {"code", absl::StatusCodeToString(code)}})
      .Increment();
  call_seconds_->Add({{"method", method}}, LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::RecordRejection(const std::string& executor) {
  rejections_->Add({{"executor", executor}}).Increment();
}

void Metrics::RecordTimerRound(const app::TimerRound& round) {
  timers_claimed_->Increment(round.claimed);
  timers_fired_->Increment(round.fired);
  timers_failed_->Increment(static_cast<double>(round.failures.size()));
}

void Metrics::RecordTimerRoundFailure() { timer_rounds_failed_->Increment(); }

void Metrics::ReadGauges() {
  for (const auto& [name, executor] : executors_) {
    queued_->Add({{"executor", name}}).Set(static_cast<double>(executor->queued()));
  }
  const auto& counters = application_.pipeline().counters();
  CatchUp(*replays_, counters.replays.load(), replays_seen_);
  CatchUp(*conflict_retries_, counters.conflict_retries.load(), conflict_retries_seen_);
  storage::Store& store = application_.context().store();
  if (auto open = store.CountOpenWork(); open.ok()) {
    std::set<std::string> now_open;
    for (const storage::OpenWork& work : *open) {
      now_open.insert(work.definition_key);
      open_definitions_.insert(work.definition_key);
    }
    for (const std::string& key : open_definitions_) {
      int64_t instances = 0;
      int64_t tasks = 0;
      for (const storage::OpenWork& work : *open) {
        if (work.definition_key == key) {
          instances = work.instances;
          tasks = work.tasks;
        }
      }
      open_instances_->Add({{"definition", key}}).Set(static_cast<double>(instances));
      open_tasks_->Add({{"definition", key}}).Set(static_cast<double>(tasks));
    }
  } else {
    read_errors_->Add({{"read", "open_work"}}).Increment();
  }
  const absl::Time now = application_.context().Now();
  if (auto backlog = store.GetTimerBacklog(now); backlog.ok()) {
    timers_due_->Set(static_cast<double>(backlog->due));
    timers_lease_expired_->Set(static_cast<double>(backlog->lease_expired));
    oldest_due_timer_lag_->Set(
        backlog->oldest_due ? absl::ToDoubleSeconds(now - *backlog->oldest_due) : 0);
  } else {
    read_errors_->Add({{"read", "timers"}}).Increment();
  }
  stream_subscribers_->Set(static_cast<double>(application_.feed().subscriber_count()));
  feed_head_->Set(static_cast<double>(application_.feed().head()));
  stream_lag_->Set(static_cast<double>(application_.feed().largest_subscriber_lag()));
  auto position = store.GetReportPosition();
  if (auto head = store.FeedHead(); head.ok() && position.ok()) {
    store_head_->Set(static_cast<double>(*head));
    report_lag_->Set(static_cast<double>(std::max<int64_t>(0, *head - *position)));
  } else {
    read_errors_->Add({{"read", "event_head"}}).Increment();
  }
  if (gateway_ != nullptr) {
    http_connections_->Set(gateway_->connections());
    http_streams_->Set(gateway_->open_streams());
  }
}

std::string Metrics::Scrape() {
  std::lock_guard<std::mutex> lock(scrape_mutex_);
  ReadGauges();
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace signoff::server
