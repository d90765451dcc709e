#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/caller_identity.h"
#include "server/event_stream.h"
#include "server/rpc_dispatcher.h"
#include "server/static_files.h"
#include "server/web_protocols.h"

namespace signoff::server {

struct HttpOptions {
  // host:port; empty: no HTTP listener.
  std::string listen;
  // The built portal, served at "/"; empty: none.
  std::string web_root;
  // Origins (scheme://host[:port]) whose pages may call signoffd from a
  // browser. The portal signoffd serves is same-origin and needs none.
  std::vector<std::string> cors_origins;
  int threads = 2;
  // Connections open at once; one more is answered 503 and closed.
  int max_connections = 1024;
  // How long a kept-alive connection may wait for its next request.
  absl::Duration idle_timeout = absl::Seconds(60);
  // How long a request may take to arrive once it began, and an answer to
  // be taken by the client.
  absl::Duration request_timeout = absl::Seconds(30);
  // The Prometheus text served at /metrics; unset: no /metrics.
  std::function<std::string()> metrics;
};

// The checks HttpGateway::Start makes of the options alone.
// INVALID_ARGUMENT for a bad address, limit or origin; FAILED_PRECONDITION
// for dev identities off loopback.
absl::Status CheckHttpOptions(const HttpOptions& options, bool trusts_header);

// signoffd's HTTP/1.1 listener: every unary RPC over gRPC-web (binary and
// text) and the Connect protocol (JSON and binary, GET for reads),
// EventService.WatchEvents as a gRPC-web or Connect server stream, and the
// portal's files. Calls go through the same dispatcher, identity and event
// streams as gRPC; this class only speaks HTTP. Built on Boost.Beast: one
// io_context run by a few threads, a strand per connection.
class HttpGateway {
 public:
  // UNAVAILABLE when the address cannot be listened on.
  static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(const HttpOptions& options,
                                                            const RpcDispatcher& dispatcher,
                                                            const CallerIdentity& identity,
                                                            EventStreams& streams,
                                                            size_t max_message_bytes);
  ~HttpGateway();

  int port() const;
  // Connections and event streams open now.
  int connections() const;
  int open_streams() const;
  // Stops taking connections; calls under way keep their connections.
  void StopAccepting();
  // Closes every connection and joins the threads.
  void Shutdown();

  class Impl;

 private:
  explicit HttpGateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace signoff::server
