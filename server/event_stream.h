#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <set>

#include "server/app/app_context.h"
#include "server/app/event_service.h"
#include "server/caller_identity.h"
#include "server/executor.h"

namespace signoff::server {

class WatchReactor;

// Serves EventService.WatchEvents over gRPC: a reactor per stream, woken
// by the application's event feed. Reads that may block (setting a watch
// up, catching up from the store, checking the caller again before a
// heartbeat) run on a small executor of the streams' own, never on gRPC's
// threads or the feed's. A stream holds at most one page of items: a slow
// reader holds up only itself, and catches up from the store.
class EventStreams {
 public:
  EventStreams(app::EventService& events, const app::AppContext& app_context,
               const CallerIdentity& identity, int threads, bool log_calls);
  ~EventStreams();

  grpc::Service* service() { return service_.get(); }
  // Ends every open stream with UNAVAILABLE, and refuses new ones.
  void Shutdown();

 private:
  friend class WatchReactor;

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Begin(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request);
  void Forget(WatchReactor* reactor);

  app::EventService& events_;
  const app::AppContext& app_context_;
  const CallerIdentity& identity_;
  const bool log_calls_;
  BoundedExecutor executor_;
  std::unique_ptr<grpc::Service> service_;
  std::mutex mutex_;
  bool shut_down_ = false;
  std::set<WatchReactor*> open_;
};

}  // namespace signoff::server
