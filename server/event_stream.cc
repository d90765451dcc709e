#include "server/event_stream.h"

#include <grpcpp/impl/codegen/server_callback_handlers.h>

#include <cstdio>
#include <optional>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/byte_buffers.h"
#include "server/grpc_status.h"
#include "server/json_log.h"
#include "server/metrics.h"
#include "signoff/v1/events.grpc.pb.h"
#include "workflow/errors.h"
#include "workflow/limits.h"
#include "workflow/status_macros.h"

namespace signoff::server {

namespace {

constexpr char kWatchMethod[] = "/signoff.v1.EventService/WatchEvents";

absl::StatusOr<v1::WatchEventsRequest> ParseRequest(const grpc::ByteBuffer* buffer) {
  std::optional<std::string> bytes = BytesOf(*buffer);
  if (!bytes) {
    return absl::InvalidArgumentError("the request's bytes could not be read");
  }
  return ParseWatchRequest(*bytes);
}

}  // namespace

absl::StatusOr<v1::WatchEventsRequest> ParseWatchRequest(absl::string_view bytes) {
  v1::WatchEventsRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(
        "the request could not be parsed as signoff.v1.WatchEventsRequest");
  }
  SIGNOFF_RETURN_IF_ERROR(workflow::CheckRequestInput(request));
  return request;
}

void EventStreams::RecordEnded(const char* protocol, const WatchPump& pump,
                               absl::Time started) const {
  const absl::Status status = pump.final_status();
  const absl::Duration lasted = absl::Now() - started;
  if (metrics_ != nullptr) metrics_->RecordCall(kWatchMethod, protocol, status.code(), lasted);
  if (!log_calls_) return;
  const std::string line = absl::StrFormat(
      "{\"time\":\"%s\",\"level\":\"info\",\"method\":\"%s\","
      "\"protocol\":\"%s\",\"user\":\"%s\",\"code\":\"%s\",\"ms\":%.3f,\"items\":%d,"
      "\"message\":\"%s\"}\n",
      absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()), kWatchMethod,
      protocol, JsonEscape(workflow::ShortForMessage(pump.caller().user)),
      absl::StatusCodeToString(status.code()), absl::ToDoubleMilliseconds(lasted), pump.sent(),
      JsonEscape(std::string(status.message().substr(0, 1024))));
  std::fputs(line.c_str(), stderr);
}

namespace {

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

// One gRPC stream: the pump decides what to send, this reactor sends it.
// gRPC deletes nothing; the reactor deletes itself in OnDone, after closing
// the pump, whose queued work keeps the pump (not the reactor) alive.
class WatchReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer>, public WatchSink {
 public:
  WatchReactor(EventStreams& streams, app::Caller caller)
      : streams_(streams),
        pump_(std::make_shared<WatchPump>(streams.events_, streams.executor_, std::move(caller),
                                          *this)) {}

  WatchPump& pump() { return *pump_; }

  void SendHeaders() override { StartSendInitialMetadata(); }
  void Write(std::string item) override {
    current_ = BufferOf(item);
    StartWrite(&current_);
  }
  void Finish(const absl::Status& status) override {
    grpc::ServerWriteReactor<grpc::ByteBuffer>::Finish(ToGrpcStatus(status));
  }

  void OnWriteDone(bool ok) override { pump_->WriteDone(ok); }
  void OnCancel() override { pump_->End(absl::CancelledError("the caller cancelled the stream")); }
  void OnDone() override {
    pump_->Close();
    streams_.Forget(pump_.get());
    streams_.RecordEnded("grpc", *pump_, started_);
    delete this;
  }

 private:
  EventStreams& streams_;
  const absl::Time started_ = absl::Now();
  std::shared_ptr<WatchPump> pump_;
  grpc::ByteBuffer current_;
};

EventStreams::EventStreams(app::EventService& events, const app::AppContext& app_context,
                           const CallerIdentity& identity, int threads, bool log_calls,
                           Metrics* metrics)
    : events_(events),
      app_context_(app_context),
      identity_(identity),
      log_calls_(log_calls),
      metrics_(metrics),
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
  if (!Remember(&reactor->pump())) {
    reactor->pump().End(absl::UnavailableError("signoffd is shutting down; resume elsewhere"));
    return reactor;
  }
  if (!admitted.ok()) {
    reactor->pump().End(admitted);
    return reactor;
  }
  reactor->pump().Start(ParseRequest(request));
  return reactor;
}

void EventStreams::Forget(WatchPump* pump) {
  std::lock_guard<std::mutex> lock(mutex_);
  open_.erase(pump);
}

bool EventStreams::Remember(WatchPump* pump) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (shut_down_) return false;
  open_.insert(pump);
  return true;
}

void EventStreams::Shutdown() {
  std::lock_guard<std::mutex> lock(mutex_);
  shut_down_ = true;
  for (WatchPump* pump : open_) {
    pump->End(absl::UnavailableError("signoffd is shutting down; resume elsewhere"));
  }
}

}  // namespace signoff::server
