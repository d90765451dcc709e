#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <set>

#include "server/app/app_context.h"
#include "server/app/event_service.h"
#include "server/caller_identity.h"
#include "server/executor.h"
#include "server/watch_pump.h"

namespace signoff::server {

class Metrics;
class WatchReactor;

// The request of a WatchEvents call: INVALID_ARGUMENT when the bytes are not
// one, or break the request limits.
absl::StatusOr<v1::WatchEventsRequest> ParseWatchRequest(absl::string_view bytes);


// Serves EventService.WatchEvents over gRPC: a reactor per stream, woken
// by the application's event feed. Reads that may block (setting a watch
// up, catching up from the store, checking the caller again before a
// heartbeat) run on a small executor of the streams' own, never on gRPC's
// threads or the feed's. A stream holds at most one page of items: a slow
// reader holds up only itself, and catches up from the store.
class EventStreams {
 public:
  EventStreams(app::EventService& events, const app::AppContext& app_context,
               const CallerIdentity& identity, int threads, bool log_calls,
               Metrics* metrics);
  ~EventStreams();

  grpc::Service* service() { return service_.get(); }
  app::EventService& events() { return events_; }
  BoundedExecutor& executor() { return executor_; }
  const app::AppContext& app_context() const { return app_context_; }
  // A stream of any transport ended: its log line and its call metrics.
  void RecordEnded(const char* protocol, const WatchPump& pump, absl::Time started) const;
  // Streams of other transports join the set Shutdown ends; false when
  // shutting down already.
  bool Remember(WatchPump* pump);
  void Forget(WatchPump* pump);
  // Ends every open stream with UNAVAILABLE, and refuses new ones.
  void Shutdown();

 private:
  friend class WatchReactor;

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Begin(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request);

  app::EventService& events_;
  const app::AppContext& app_context_;
  const CallerIdentity& identity_;
  const bool log_calls_;
  Metrics* const metrics_;
  BoundedExecutor executor_;
  std::unique_ptr<grpc::Service> service_;
  std::mutex mutex_;
  bool shut_down_ = false;
  std::set<WatchPump*> open_;
};

}  // namespace signoff::server
