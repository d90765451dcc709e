// How fast the event stream delivers, measured against signoffd itself:
//
//   catch-up  one consumer reading everything committed from the start;
//   live      the lag from an event's time (taken when its command is
//             applied, before the commit) to its arrival at a consumer at
//             the tail, while 8 writers start instances as fast as they can;
//   writers   the writers' rate alone (first and last, the database growing
//             between), with that live consumer, and with a consumer that
//             takes 5 ms over each item, side by side.
//
//   stream_bench [--seconds N]   each phase runs N seconds (default 10)

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "child_process.h"
#include "signoff/v1/events.grpc.pb.h"
#include "signoff/v1/service.grpc.pb.h"
#include "workloads.h"

namespace signoff::bench {
namespace {

constexpr int kWriters = 8;
constexpr char kWatcher[] = "olivia.ke";

absl::Time TimeOf(const google::protobuf::Timestamp& stamp) {
  return absl::FromUnixSeconds(stamp.seconds()) + absl::Nanoseconds(stamp.nanos());
}

// Eight writers starting dealer applications until `stop`; returns starts.
int64_t Write(const std::string& address, absl::Duration length) {
  std::atomic<int64_t> started{0};
  const absl::Time until = absl::Now() + length;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto stub = v1::InstanceService::NewStub(
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
      const Applicant& applicant = Applicants()[w % Applicants().size()];
      for (int i = 0; absl::Now() < until; ++i) {
        v1::StartInstanceRequest request;
        request.set_request_id(absl::StrCat("stream-", w, "-", i, "-", absl::ToUnixNanos(absl::Now())));
        request.set_definition_key("dealer-application");
        auto& fields = *request.mutable_form()->mutable_fields();
        fields["dealer_id"].set_string_value(absl::StrCat("D-", w, "-", i));
        fields["application_type"].set_string_value("account");
        fields["region"].set_string_value("sales-east");
        fields["description"].set_string_value("stream benchmark");
        grpc::ClientContext context;
        context.AddMetadata("x-signoff-user", applicant.applicant);
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1::InstanceResponse reply;
        if (stub->StartInstance(&context, request, &reply).ok()) ++started;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  return started;
}

// One stream from `after`, counting events and their lags until told to
// stop or, with `until_caught_up`, until its first heartbeat.
class Consumer {
 public:
  Consumer(const std::string& address, int64_t after, absl::Duration per_item,
           bool until_caught_up)
      : stub_(v1::EventService::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {
    context_.AddMetadata("x-signoff-user", kWatcher);
    v1::WatchEventsRequest request;
    request.set_after_global_seq(after);
    request.add_kinds("instance_started");
    request.add_kinds("task_created");
    request.add_kinds("step_entered");
    request.mutable_heartbeat_interval()->set_seconds(1);
    reader_ = stub_->WatchEvents(&context_, request);
    thread_ = std::thread([this, per_item, until_caught_up] { Read(per_item, until_caught_up); });
  }
  ~Consumer() { Stop(); }

  void Stop() {
    if (!thread_.joinable()) return;
    context_.TryCancel();
    thread_.join();
  }
  void Join() { thread_.join(); }

  int64_t events() const { return events_; }
  int64_t cursor() const { return cursor_; }
  absl::Duration elapsed() const { return last_ - first_; }
  std::vector<absl::Duration> lags() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lags_;
  }

 private:
  void Read(absl::Duration per_item, bool until_caught_up) {
    v1::WatchEventsResponse item;
    first_ = absl::Now();
    while (reader_->Read(&item)) {
      const absl::Time now = absl::Now();
      if (item.has_heartbeat()) {
        if (until_caught_up) break;
        continue;
      }
      ++events_;
      cursor_ = item.cursor();
      last_ = now;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        lags_.push_back(now - TimeOf(item.event().event().time()));
      }
      if (per_item > absl::ZeroDuration()) absl::SleepFor(per_item);
    }
    context_.TryCancel();
    while (reader_->Read(&item)) {
    }
    reader_->Finish();
  }

  std::unique_ptr<v1::EventService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::WatchEventsResponse>> reader_;
  std::thread thread_;
  std::atomic<int64_t> events_{0};
  std::atomic<int64_t> cursor_{0};
  absl::Time first_;
  absl::Time last_;
  std::mutex mutex_;
  std::vector<absl::Duration> lags_;
};

double Percentile(std::vector<absl::Duration> values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t at = std::min(values.size() - 1, static_cast<size_t>(fraction * values.size()));
  return absl::ToDoubleMilliseconds(values[at]);
}

int Run(absl::Duration phase) {
  const auto dir = std::filesystem::temp_directory_path() /
                   absl::StrCat("signoff-stream-bench-", ::getpid());
  std::filesystem::create_directories(dir);
  ChildProcess signoffd;
  if (absl::Status started = signoffd.Start(ServeCommand(dir / "signoff.db"), dir / "signoffd",
                                            absl::Seconds(60));
      !started.ok()) {
    std::fprintf(stderr, "stream_bench: %s\n", started.ToString().c_str());
    return 1;
  }
  const std::string address = signoffd.address();
  std::printf("stream benchmark: SQLite (synchronous=FULL), %d writers, phases of %.0f s, "
              "%u cores\n",
              kWriters, absl::ToDoubleSeconds(phase), std::thread::hardware_concurrency());

  const int64_t alone = Write(address, phase);
  Consumer catch_up(address, 0, absl::ZeroDuration(), /*until_caught_up=*/true);
  catch_up.Join();
  std::printf("catch-up: %lld events (3 kinds of %lld starts) read by one consumer in %.2f s: "
              "%.0f events/s\n",
              static_cast<long long>(catch_up.events()), static_cast<long long>(alone),
              absl::ToDoubleSeconds(catch_up.elapsed()),
              catch_up.events() / std::max(1e-9, absl::ToDoubleSeconds(catch_up.elapsed())));

  Consumer live(address, catch_up.cursor(), absl::ZeroDuration(), false);
  const int64_t with_live = Write(address, phase);
  absl::SleepFor(absl::Seconds(1));
  live.Stop();
  const auto lags = live.lags();
  std::printf("live: %lld events delivered while 8 writers ran; lag p50 %.1f ms, p99 %.1f ms, "
              "max %.1f ms\n",
              static_cast<long long>(live.events()), Percentile(lags, 0.5),
              Percentile(lags, 0.99), Percentile(lags, 1.0));

  Consumer slow(address, live.cursor(), absl::Milliseconds(5), false);
  const int64_t with_slow = Write(address, phase);
  slow.Stop();
  const double seconds = absl::ToDoubleSeconds(phase);
  Consumer rest(address, slow.cursor(), absl::ZeroDuration(), /*until_caught_up=*/true);
  rest.Join();
  // Alone once more, on the grown database: the first phase ran on a
  // smaller one, and writers slow down as it grows.
  const int64_t alone_again = Write(address, phase);
  const double baseline = (alone + alone_again) / 2.0;
  std::printf("writers: %.0f starts/s alone (%.0f first, %.0f last), %.0f with a live consumer "
              "(%.2fx), %.0f with a consumer taking 5 ms an item (%.2fx); that consumer read "
              "%lld events and was %lld behind when the writers stopped\n",
              baseline / seconds, alone / seconds, alone_again / seconds, with_live / seconds,
              with_live / std::max(1.0, baseline), with_slow / seconds,
              with_slow / std::max(1.0, baseline), static_cast<long long>(slow.events()),
              static_cast<long long>(rest.events()));
  signoffd.Stop();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace signoff::bench

int main(int argc, char** argv) {
  int seconds = 10;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--seconds" && i + 1 < argc &&
        absl::SimpleAtoi(argv[i + 1], &seconds) && seconds > 0) {
      ++i;
      continue;
    }
    std::fprintf(stderr, "usage: stream_bench [--seconds N]\n");
    return 2;
  }
  signoff::bench::UseSignoffdBinary(SIGNOFFD_BINARY);
  return signoff::bench::Run(absl::Seconds(seconds));
}
