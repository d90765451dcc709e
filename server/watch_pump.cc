#include "server/watch_pump.h"

#include "absl/time/clock.h"

namespace signoff::server {

namespace {

// Events looked at per read; what a stream holds at most.
constexpr int kEventsPerFill = 256;

}  // namespace

WatchPump::WatchPump(app::EventService& events, BoundedExecutor& executor, app::Caller caller,
                     WatchSink& sink)
    : events_(events), executor_(executor), caller_(std::move(caller)), sink_(sink) {}

void WatchPump::Start(absl::StatusOr<v1::WatchEventsRequest> request) {
  if (!request.ok()) return End(request.status());
  std::lock_guard<std::mutex> lock(mutex_);
  const bool submitted = SubmitLocked(
      [self = shared_from_this(), request = *std::move(request)] { self->Setup(request); });
  if (!submitted) FinishLocked(absl::ResourceExhaustedError("signoffd is overloaded; retry later"));
}

void WatchPump::End(const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mutex_);
  FinishLocked(status);
}

void WatchPump::WriteDone(bool ok) {
  std::lock_guard<std::mutex> lock(mutex_);
  writing_ = false;
  if (!ok) return FinishLocked(absl::CancelledError("the stream's reader went away"));
  KickLocked();
}

void WatchPump::Close() {
  uint64_t subscription = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    finished_ = true;
    subscription = subscription_;
    subscription_ = 0;
  }
  // Outside mutex_: the feed holds its own lock while it calls us, and
  // once Unsubscribe returns it never calls us again.
  if (subscription != 0) events_.feed().Unsubscribe(subscription);
}

absl::Status WatchPump::final_status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return final_status_;
}

int64_t WatchPump::sent() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sent_;
}

template <typename Work>
bool WatchPump::SubmitLocked(Work work) {
  if (finished_) return false;
  return executor_.TrySubmit(std::move(work));
}

void WatchPump::Setup(const v1::WatchEventsRequest& request) {
  absl::StatusOr<std::unique_ptr<app::EventWatch>> watch = events_.WatchEvents(caller_, request);
  if (!watch.ok()) return End(watch.status());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) return;
    watch_ = *std::move(watch);
    cursor_ = watch_->cursor();
    position_->store(cursor_);
    last_sent_ = absl::Now();
  }
  // The feed's callbacks hold a plain pointer: Close unsubscribes before
  // the transport lets the pump go.
  const uint64_t subscription = events_.feed().Subscribe(
      {[this] { Kick(); }, [this](absl::Time now) { Tick(now); },
       [this] { End(absl::UnavailableError("signoffd is shutting down; resume elsewhere")); },
       position_});
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!closed_) {
      subscription_ = subscription;
      if (!finished_) {
        sink_.SendHeaders();
        KickLocked();
      }
      return;
    }
  }
  // Closed meanwhile, and Close saw no subscription to end.
  events_.feed().Unsubscribe(subscription);
}

void WatchPump::Kick() {
  std::lock_guard<std::mutex> lock(mutex_);
  KickLocked();
}

void WatchPump::KickLocked() {
  if (finished_ || writing_ || watch_ == nullptr) return;
  if (!queue_.empty()) {
    std::string item = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    last_sent_ = absl::Now();
    sink_.Write(std::move(item));
    return;
  }
  if (busy_ || cursor_ >= events_.feed().head()) return;
  busy_ = true;
  // A full executor: the next tick tries again.
  if (!SubmitLocked([self = shared_from_this()] { self->Fill(); })) busy_ = false;
}

void WatchPump::Fill() {
  absl::StatusOr<std::vector<v1::WatchEventsResponse>> items = watch_->Next(kEventsPerFill);
  std::lock_guard<std::mutex> lock(mutex_);
  busy_ = false;
  if (!items.ok()) return FinishLocked(items.status());
  for (const auto& item : *items) queue_.push_back(item.SerializeAsString());
  sent_ += static_cast<int64_t>(items->size());
  cursor_ = watch_->cursor();
  position_->store(cursor_);
  KickLocked();
}

void WatchPump::Tick(absl::Time now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_ || watch_ == nullptr) return;
  // Heartbeats only at the tail: one tells the client that everything
  // committed so far was sent.
  if (!writing_ && queue_.empty() && !busy_ && cursor_ >= events_.feed().head() &&
      now - last_sent_ >= watch_->heartbeat_interval()) {
    busy_ = true;
    if (!SubmitLocked([self = shared_from_this()] { self->Heartbeat(); })) busy_ = false;
    return;
  }
  KickLocked();
}

// Checks the caller again, since the directory may have changed since the
// stream began, then sends a heartbeat.
void WatchPump::Heartbeat() {
  const absl::Status allowed = watch_->StillAllowed();
  std::lock_guard<std::mutex> lock(mutex_);
  busy_ = false;
  if (!allowed.ok()) return FinishLocked(allowed);
  queue_.push_back(watch_->Heartbeat(absl::Now()).SerializeAsString());
  KickLocked();
}

void WatchPump::FinishLocked(const absl::Status& status) {
  if (finished_) return;
  finished_ = true;
  final_status_ = status;
  if (!closed_) sink_.Finish(status);
}

}  // namespace signoff::server
