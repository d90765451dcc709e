#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app/caller.h"
#include "server/app/event_service.h"
#include "server/executor.h"
#include "signoff/v1/events.pb.h"

namespace signoff::server {

// Where a stream's items go: the one piece of a watch that differs between
// gRPC and the HTTP gateway. The pump calls it under its own lock, never
// after Finish and never after the transport closed the pump.
class WatchSink {
 public:
  virtual ~WatchSink() = default;
  // The watch is set up: a client may take the headers as that sign.
  virtual void SendHeaders() = 0;
  // One serialized WatchEventsResponse. The pump writes the next only after
  // the transport calls WriteDone.
  virtual void Write(std::string item) = 0;
  virtual void Finish(const absl::Status& status) = 0;
};

// Drives one EventWatch for a transport: woken by the application's event
// feed, it fills from the feed's window or the store on the streams'
// executor (never on a transport's or the feed's thread), writes one item
// at a time, and sends heartbeats only at the tail, after checking the
// caller again. It holds at most one page of items, so a slow reader holds
// up only itself and catches up from the store.
class WatchPump : public std::enable_shared_from_this<WatchPump> {
 public:
  WatchPump(app::EventService& events, BoundedExecutor& executor, app::Caller caller,
            WatchSink& sink);

  // Sets the watch up on the executor, or finishes with the request's
  // error.
  void Start(absl::StatusOr<v1::WatchEventsRequest> request);
  // Finishes the stream with `status`, unless it finished already.
  void End(const absl::Status& status);
  // The transport finished the last Write; `ok` false when the reader went
  // away.
  void WriteDone(bool ok);
  // The transport is done with the stream and its sink: the pump stops
  // following the feed and never calls the sink again.
  void Close();

  const app::Caller& caller() const { return caller_; }
  absl::Status final_status() const;
  int64_t sent() const;

 private:
  template <typename Work>
  bool SubmitLocked(Work work);
  void Setup(const v1::WatchEventsRequest& request);
  void Kick();
  void KickLocked();
  void Fill();
  void Tick(absl::Time now);
  void Heartbeat();
  void FinishLocked(const absl::Status& status);

  app::EventService& events_;
  BoundedExecutor& executor_;
  const app::Caller caller_;
  WatchSink& sink_;
  mutable std::mutex mutex_;
  uint64_t subscription_ = 0;
  std::unique_ptr<app::EventWatch> watch_;
  // The watch's cursor as of the last fill, for reading under mutex_.
  int64_t cursor_ = 0;
  // The same, for the feed's lag metric, which reads it on another thread.
  const std::shared_ptr<std::atomic<int64_t>> position_ = std::make_shared<std::atomic<int64_t>>(0);
  std::deque<std::string> queue_;
  absl::Time last_sent_;
  int64_t sent_ = 0;
  // A write is with the transport.
  bool writing_ = false;
  // A fill or a heartbeat is queued or running: it alone uses watch_.
  bool busy_ = false;
  bool finished_ = false;
  bool closed_ = false;
  absl::Status final_status_;
};

}  // namespace signoff::server
