#include "server/event_stream.h"

#include <grpcpp/impl/codegen/server_callback_handlers.h>

#include <cstdio>
#include <deque>
#include <optional>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/byte_buffers.h"
#include "server/grpc_status.h"
#include "server/json_log.h"
#include "signoff/v1/events.grpc.pb.h"
#include "workflow/errors.h"
#include "workflow/limits.h"
#include "workflow/status_macros.h"

namespace signoff::server {

namespace {

// Events looked at per read; what a stream holds at most.
constexpr int kEventsPerFill = 256;



absl::StatusOr<v1::WatchEventsRequest> ParseRequest(const grpc::ByteBuffer* buffer) {
  std::optional<std::string> bytes = BytesOf(*buffer);
  v1::WatchEventsRequest request;
  if (!bytes || !request.ParseFromString(*bytes)) {
    return absl::InvalidArgumentError(
        "the request could not be parsed as signoff.v1.WatchEventsRequest");
  }
  SIGNOFF_RETURN_IF_ERROR(workflow::CheckRequestInput(request));
  return request;
}

class EventServiceRoutes final : public v1::EventService::Service {
 public:
  template <typename Begin>
  explicit EventServiceRoutes(Begin begin) {
    MarkMethodRawCallback(
        0, new grpc::internal::CallbackServerStreamingHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
               std::move(begin)));
  }
};

}  // namespace

// One stream. Every call into gRPC happens under mutex_ and never after
// Finish; the reactor deletes itself once gRPC is done with it and no task
// of it is queued or running.
class WatchReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  WatchReactor(EventStreams& streams, app::Caller caller) : streams_(streams), caller_(caller) {}

  void Start(absl::StatusOr<v1::WatchEventsRequest> request) {
    if (!request.ok()) return End(request.status());
    const bool submitted = Submit([this, request = *std::move(request)] { Setup(request); });
    if (!submitted) End(absl::ResourceExhaustedError("signoffd is overloaded; retry later"));
  }

  void End(const absl::Status& status) {
    std::lock_guard<std::mutex> lock(mutex_);
    FinishLocked(status);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mutex_);
    writing_ = false;
    if (!ok) return FinishLocked(absl::CancelledError("the stream's reader went away"));
    KickLocked();
  }

  void OnCancel() override { End(absl::CancelledError("the caller cancelled the stream")); }

  void OnDone() override {
    uint64_t subscription = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      subscription = subscription_;
      subscription_ = 0;
    }
    // Outside mutex_: the feed holds its own lock while it calls us.
    if (subscription != 0) streams_.events_.feed().Unsubscribe(subscription);
    streams_.Forget(this);
    bool last = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      Log();
      done_ = true;
      last = pending_ == 0;
    }
    if (last) delete this;
  }

 private:
  // Runs `work` on the streams' executor, keeping the reactor alive for it.
  template <typename Work>
  bool Submit(Work work) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (finished_) return false;
      ++pending_;
    }
    const bool queued = streams_.executor_.TrySubmit([this, work = std::move(work)]() mutable {
      work();
      Release();
    });
    if (!queued) {
      std::lock_guard<std::mutex> lock(mutex_);
      --pending_;
    }
    return queued;
  }

  void Release() {
    bool last = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last = --pending_ == 0 && done_;
    }
    if (last) delete this;
  }

  void Setup(const v1::WatchEventsRequest& request) {
    absl::StatusOr<std::unique_ptr<app::EventWatch>> watch =
        streams_.events_.WatchEvents(caller_, request);
    if (!watch.ok()) return End(watch.status());
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (finished_) return;
      watch_ = *std::move(watch);
      cursor_ = watch_->cursor();
      last_sent_ = absl::Now();
    }
    const uint64_t subscription = streams_.events_.feed().Subscribe(
        {[this] { Kick(); }, [this](absl::Time now) { Tick(now); },
         [this] { End(absl::UnavailableError("signoffd is shutting down; resume elsewhere")); }});
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!finished_) {
        subscription_ = subscription;
        // The headers now, so that a client knows the stream is set up
        // before the first event or heartbeat.
        StartSendInitialMetadata();
        KickLocked();
        return;
      }
    }
    // Finished meanwhile, and OnDone saw no subscription to end.
    streams_.events_.feed().Unsubscribe(subscription);
  }

  void Kick() {
    std::lock_guard<std::mutex> lock(mutex_);
    KickLocked();
  }

  void KickLocked() {
    if (finished_ || writing_ || watch_ == nullptr) return;
    if (!queue_.empty()) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      last_sent_ = absl::Now();
      StartWrite(&current_);
      return;
    }
    if (busy_ || cursor_ >= streams_.events_.feed().head()) return;
    busy_ = true;
    SubmitLocked([this] { Fill(); });
  }

  // Submit, from under mutex_.
  template <typename Work>
  void SubmitLocked(Work work) {
    ++pending_;
    const bool queued = streams_.executor_.TrySubmit([this, work = std::move(work)]() mutable {
      work();
      Release();
    });
    // A full executor: the next tick tries again.
    if (!queued) {
      --pending_;
      busy_ = false;
    }
  }

  void Fill() {
    absl::StatusOr<std::vector<v1::WatchEventsResponse>> items = watch_->Next(kEventsPerFill);
    std::lock_guard<std::mutex> lock(mutex_);
    busy_ = false;
    if (!items.ok()) return FinishLocked(items.status());
    for (const auto& item : *items) queue_.push_back(BufferOf(item.SerializeAsString()));
    sent_ += static_cast<int64_t>(items->size());
    cursor_ = watch_->cursor();
    KickLocked();
  }

  void Tick(absl::Time now) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_ || watch_ == nullptr) return;
    // Heartbeats only at the tail: one tells the client that everything
    // committed so far was sent.
    if (!writing_ && queue_.empty() && !busy_ && cursor_ >= streams_.events_.feed().head() &&
        now - last_sent_ >= watch_->heartbeat_interval()) {
      busy_ = true;
      SubmitLocked([this] { Heartbeat(); });
      return;
    }
    KickLocked();
  }

  // Checks the caller again, since the directory may have changed since
  // the stream began, then sends a heartbeat.
  void Heartbeat() {
    const absl::Status allowed = watch_->StillAllowed();
    std::lock_guard<std::mutex> lock(mutex_);
    busy_ = false;
    if (!allowed.ok()) return FinishLocked(allowed);
    queue_.push_back(BufferOf(watch_->Heartbeat(absl::Now()).SerializeAsString()));
    KickLocked();
  }

  void FinishLocked(const absl::Status& status) {
    if (finished_) return;
    finished_ = true;
    final_status_ = status;
    Finish(ToGrpcStatus(status));
  }

  void Log() const {
    if (!streams_.log_calls_) return;
    const std::string line = absl::StrFormat(
        "{\"time\":\"%s\",\"level\":\"info\",\"method\":\"/signoff.v1.EventService/WatchEvents\","
        "\"user\":\"%s\",\"code\":\"%s\",\"ms\":%.3f,\"items\":%d,\"message\":\"%s\"}\n",
        absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()),
        JsonEscape(workflow::ShortForMessage(caller_.user)),
        absl::StatusCodeToString(final_status_.code()),
        absl::ToDoubleMilliseconds(absl::Now() - started_), sent_,
        JsonEscape(std::string(final_status_.message().substr(0, 1024))));
    std::fputs(line.c_str(), stderr);
  }

  EventStreams& streams_;
  const app::Caller caller_;
  const absl::Time started_ = absl::Now();
  uint64_t subscription_ = 0;
  std::mutex mutex_;
  std::unique_ptr<app::EventWatch> watch_;
  // The watch's cursor as of the last fill, for reading under mutex_.
  int64_t cursor_ = 0;
  std::deque<grpc::ByteBuffer> queue_;
  grpc::ByteBuffer current_;
  absl::Time last_sent_;
  int64_t sent_ = 0;
  // A write is with gRPC.
  bool writing_ = false;
  // A fill or a heartbeat is queued or running: it alone uses watch_.
  bool busy_ = false;
  bool finished_ = false;
  bool done_ = false;
  int pending_ = 0;
  absl::Status final_status_;
};

EventStreams::EventStreams(app::EventService& events, const app::AppContext& app_context,
                           const CallerIdentity& identity, int threads, bool log_calls)
    : events_(events),
      app_context_(app_context),
      identity_(identity),
      log_calls_(log_calls),
      executor_(threads, 4096),
      service_(std::make_unique<EventServiceRoutes>(
          [this](grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
            return Begin(context, request);
          })) {}

EventStreams::~EventStreams() {
  Shutdown();
  executor_.Stop();
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* EventStreams::Begin(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  absl::StatusOr<app::Caller> caller = identity_.CallerOf(*context);
  const absl::Status admitted =
      caller.ok() ? app_context_.Authenticate(*caller) : caller.status();
  auto* reactor = new WatchReactor(*this, caller.value_or(app::Caller{}));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_) {
      reactor->End(absl::UnavailableError("signoffd is shutting down; resume elsewhere"));
      return reactor;
    }
    open_.insert(reactor);
  }
  if (!admitted.ok()) {
    reactor->End(admitted);
    return reactor;
  }
  reactor->Start(ParseRequest(request));
  return reactor;
}

void EventStreams::Forget(WatchReactor* reactor) {
  std::lock_guard<std::mutex> lock(mutex_);
  open_.erase(reactor);
}

void EventStreams::Shutdown() {
  std::lock_guard<std::mutex> lock(mutex_);
  shut_down_ = true;
  for (WatchReactor* reactor : open_) {
    reactor->End(absl::UnavailableError("signoffd is shutting down; resume elsewhere"));
  }
}

}  // namespace signoff::server
