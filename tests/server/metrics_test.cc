// /metrics on the HTTP listener: Prometheus text that moves as calls,
// commits, replays and timers happen.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "signoff/v1/events.grpc.pb.h"
#include "http_client.h"
#include "server_fixture.h"

namespace signoff::testing {
namespace {

// A scrape, parsed: every sample by its name and labels as written.
using Samples = std::map<std::string, double>;

// Fails the test on any line that is not a comment or a sample.
Samples Parse(const std::string& text) {
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})?) (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$)");
  static const std::regex kComment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  Samples samples;
  for (absl::string_view view : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const std::string line(view);
    std::smatch match;
    if (std::regex_match(line, kComment)) continue;
    if (!std::regex_match(line, match, kSample)) {
      ADD_FAILURE() << "not Prometheus text: " << line;
      continue;
    }
    samples[match[1]] = std::stod(match[5]);
  }
  return samples;
}

// Reviewed by fred within four hours, or rejected as late.
constexpr char kDeadlineDefinition[] = R"(
key: quick
reject_reasons: [{code: late}]
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    sla:
      due: {hours: 4}
      on_timeout: {action: TIMEOUT_AUTO_REJECT, reason_code: late}
    next: [{to: done}]
  - {id: done, end: {}}
)";

class MetricsTest : public ServerTest {
 protected:
  void ConfigureServer(server::ServerOptions& options) override {
    options.http.listen = "127.0.0.1:0";
  }

  Samples Scrape() {
    HttpClient client(server_->http_port());
    HttpAnswer answer = client.Send("GET", "/metrics", {}, "");
    EXPECT_EQ(answer.status, 200);
    EXPECT_THAT(answer.Header("content-type"), ::testing::HasSubstr("text/plain; version=0.0.4"));
    return Parse(answer.body);
  }

  static double Get(const Samples& samples, const std::string& key) {
    auto it = samples.find(key);
    return it == samples.end() ? 0 : it->second;
  }
};

TEST_F(MetricsTest, CountersAndGaugesMoveWithTheWork) {
  const Samples before = Scrape();
  const std::string start_ok =
      R"(signoff_rpc_calls_total{code="OK",method="/signoff.v1.InstanceService/StartInstance",protocol="grpc"})";
  EXPECT_EQ(Get(before, start_ok), 0);
  EXPECT_EQ(Get(before, R"(signoff_open_instances{definition="leave"})"), 0);

  auto started = client_->Start("ann", "leave", "{employee: ann, days: 2}", "metrics-1");
  ASSERT_OK(started);
  // The same request again is answered from its first reply.
  ASSERT_OK(client_->Start("ann", "leave", "{employee: ann, days: 2}", "metrics-1"));
  v1::GetInstanceRequest missing;
  missing.set_id("nope");
  EXPECT_FALSE(client_
                   ->Call("ann", *client_->instances, &v1::InstanceService::Stub::GetInstance,
                          missing)
                   .ok());

  const Samples after = Scrape();
  EXPECT_EQ(Get(after, start_ok), 2);
  EXPECT_EQ(Get(after, R"(signoff_rpc_calls_total{code="NOT_FOUND",method="/signoff.v1.InstanceService/GetInstance",protocol="grpc"})"),
            1);
  EXPECT_EQ(Get(after, R"(signoff_rpc_duration_seconds_count{method="/signoff.v1.InstanceService/StartInstance"})"),
            2);
  EXPECT_EQ(Get(after, "signoff_idempotent_replays_total") -
                Get(before, "signoff_idempotent_replays_total"),
            1);
  EXPECT_GT(Get(after, "signoff_commit_batch_size_count"),
            Get(before, "signoff_commit_batch_size_count"));
  EXPECT_EQ(Get(after, R"(signoff_open_instances{definition="leave"})"), 1);
  EXPECT_EQ(Get(after, R"(signoff_pending_tasks{definition="leave"})"), 1);
  EXPECT_EQ(Get(after, "signoff_event_store_head_global_seq"),
            Get(after, "signoff_event_feed_head_global_seq"));
  EXPECT_GT(Get(after, "signoff_event_store_head_global_seq"), 0);
  EXPECT_EQ(Get(after, "signoff_http_connections"), 1);
  EXPECT_EQ(Get(after, R"(signoff_executor_queued{executor="calls"})"), 0);

  // A four-hour deadline: due, and unfired (this server fires none by
  // itself), exactly at four hours; its lag is how long past.
  ASSERT_OK(Publish(kDeadlineDefinition, "publish-quick"));
  ASSERT_OK(client_->Start("ann", "quick", "{}", "metrics-quick"));
  EXPECT_EQ(Get(Scrape(), "signoff_timers_due"), 0);
  now_.Advance(absl::Hours(4) - absl::Seconds(1));
  EXPECT_EQ(Get(Scrape(), "signoff_timers_due"), 0);
  now_.Advance(absl::Seconds(1));
  EXPECT_EQ(Get(Scrape(), "signoff_timers_due"), 1);
  now_.Advance(absl::Hours(30));
  const Samples late = Scrape();
  EXPECT_EQ(Get(late, "signoff_timers_due"), 1);
  EXPECT_NEAR(Get(late, "signoff_timers_oldest_due_lag_seconds"), 30 * 3600, 1);
  EXPECT_EQ(Get(late, R"(signoff_metrics_read_errors_total{read="timers"})"), 0);
  EXPECT_EQ(Get(late, R"(signoff_open_instances{definition="quick"})"), 1);

  // Fired: no longer due, and counted.
  auto round = app_->timers().FireDueTimers(10);
  ASSERT_OK(round);
  EXPECT_EQ(round->fired, 1);
  const Samples fired = Scrape();
  EXPECT_EQ(Get(fired, "signoff_timers_due"), 0);
  EXPECT_EQ(Get(fired, R"(signoff_open_instances{definition="quick"})"), 0);
}

TEST_F(MetricsTest, EventStreamsAreCountedAndTheFollowersLagIsExported) {
  ASSERT_OK(client_->Start("ann", "leave", "{employee: ann, days: 2}", "metrics-stream"));
  auto head = store_->FeedHead();
  ASSERT_OK(head);
  ASSERT_GT(*head, 0);
  auto events = v1::EventService::NewStub(server_->InProcessChannel());

  // A stream that read every event is not behind; then it is cancelled.
  grpc::ClientContext context;
  context.AddMetadata("x-signoff-user", "aud");
  v1::WatchEventsRequest request;
  auto reader = events->WatchEvents(&context, request);
  for (v1::WatchEventsResponse item; reader->Read(&item);) {
    if (item.cursor() >= *head) break;
  }
  EXPECT_EQ(Get(Scrape(), "signoff_event_stream_largest_lag_events"), 0);
  // A follower that has read nothing yet lags by the whole feed.
  auto position = std::make_shared<std::atomic<int64_t>>(0);
  const uint64_t follower = app_->feed().Subscribe({nullptr, nullptr, nullptr, position});
  EXPECT_EQ(Get(Scrape(), "signoff_event_stream_largest_lag_events"), *head);
  position->store(*head - 1);
  EXPECT_EQ(Get(Scrape(), "signoff_event_stream_largest_lag_events"), 1);
  app_->feed().Unsubscribe(follower);
  context.TryCancel();
  for (v1::WatchEventsResponse ignored; reader->Read(&ignored);) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // A refused stream counts too, under its code.
  grpc::ClientContext refused_context;
  refused_context.AddMetadata("x-signoff-user", "ann");
  auto refused = events->WatchEvents(&refused_context, request);
  for (v1::WatchEventsResponse ignored; refused->Read(&ignored);) {
  }
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);

  const std::string watch = "method=\"/signoff.v1.EventService/WatchEvents\",protocol=\"grpc\"";
  // The server counts a stream once its reactor is done, just after the
  // client sees the end.
  Samples samples;
  for (int i = 0; i < 100; ++i) {
    samples = Scrape();
    if (Get(samples, absl::StrCat("signoff_rpc_calls_total{code=\"PERMISSION_DENIED\",", watch, "}")) == 1 &&
        Get(samples, absl::StrCat("signoff_rpc_calls_total{code=\"CANCELLED\",", watch, "}")) == 1) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(Get(samples, absl::StrCat("signoff_rpc_calls_total{code=\"CANCELLED\",", watch, "}")), 1);
  EXPECT_EQ(Get(samples, absl::StrCat("signoff_rpc_calls_total{code=\"PERMISSION_DENIED\",", watch, "}")), 1);

  // The report projections lag by what their projector has not counted.
  auto projected = store_->GetReportPosition();
  ASSERT_OK(projected);
  EXPECT_EQ(Get(samples, "signoff_report_projection_lag_events"), *head - *projected);
  ASSERT_OK(app_->report_projector().CatchUp());
  EXPECT_EQ(Get(Scrape(), "signoff_report_projection_lag_events"), 0);
  EXPECT_EQ(Get(Scrape(), "signoff_database_read_errors_total{code=\"UNAVAILABLE\"}"), 0);
}

}  // namespace
}  // namespace signoff::testing
