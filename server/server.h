#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/app/application.h"
#include "server/auth/jwt_verifier.h"
#include "server/caller_identity.h"
#include "server/executor.h"
#include "server/http_gateway.h"
#include "server/metrics.h"
#include "server/readiness.h"
#include "server/event_stream.h"
#include "server/routes.h"
#include "server/rpc_dispatcher.h"
#include "server/timer_scheduler.h"
#include "server/tls_credentials.h"
#include "server/webhook_delivery.h"

namespace signoff::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";
  // "dev" trusts the x-signoff-user header, and only on loopback; "jwt"
  // takes the caller from a bearer token signed by a key in `jwks_file`.
  std::string auth = "dev";
  std::string jwks_file;
  auth::JwtOptions jwt;
  // Plaintext unless a certificate and key are given.
  TlsFiles tls;
  // "none", "uri" or "dns": whether, and by which SANs, a client certificate
  // (so tls.client_ca_file is needed) names the service account a call that
  // names no caller of its own comes from.
  std::string client_certificate_identity = "none";
  // A worker waits while its commit is on disk, and a commit batch holds
  // what the waiting workers queued: the workers bound how many commits
  // share one disk sync, so there are enough to fill a batch.
  int workers = 64;
  size_t max_queued = 1024;
  // Validating and publishing definitions and calendars parse and check
  // whole documents; they get workers of their own, so that many of them
  // at once cannot hold up decisions and reads.
  int document_workers = 2;
  size_t max_queued_documents = 64;
  // JobService.ActivateJobs long-polls (up to a minute each) on workers
  // of its own, so that waiting workers never hold up decisions and reads.
  int job_poll_workers = 32;
  size_t max_queued_job_polls = 256;
  int max_message_bytes = 4 << 20;
  // Uploads for ATTACHMENT fields: the cap on one file, and how long an
  // unused upload is kept.
  app::AttachmentOptions attachments;
  // Log one JSON line per call to stderr.
  bool log_calls = true;
  // How often due timers are looked for; zero leaves firing to the
  // caller (tests call TimerFiring::FireDueTimers themselves).
  absl::Duration timer_poll = absl::Seconds(1);
  // How often readiness checks that the database can be written; zero
  // leaves readiness SERVING.
  absl::Duration readiness_poll = absl::Seconds(2);
  // How often the cached directory, calendars and definitions are checked
  // for changes made by other processes; zero: never.
  absl::Duration cache_poll = absl::Seconds(1);
  // Clients are asked to reconnect after this long, so that a balancer can
  // spread them over replicas added since; zero: never.
  absl::Duration max_connection_age = absl::ZeroDuration();
  // Threads for event streams' reads: setting a watch up, catching up from
  // the store, checking the caller before heartbeats.
  int stream_workers = 2;
  // How often the event feed looks for events other processes committed
  // to a shared database; zero when this process is its only writer.
  absl::Duration feed_follow = absl::ZeroDuration();
  // How many of the newest events the feed keeps in memory for streams at
  // the tail; streams further behind read the store.
  int feed_window = 8192;
  // Posting the event feed to webhook subscriptions (concurrency 0: not in
  // this process).
  WebhookDeliveryOptions webhooks;
  // gRPC-web, Connect and the portal over HTTP/1.1 (listen empty: off).
  HttpOptions http;
};

class Transport;

// signoffd's gRPC server: the seven services, health and reflection, over
// the application.
class SignoffServer {
 public:
  // FAILED_PRECONDITION for --auth=dev off loopback; INVALID_ARGUMENT for
  // a bad --listen, a jwt mode without its issuer, audience or usable keys,
  // unusable TLS files, and a certificate identity without a client CA;
  // UNAVAILABLE when the address cannot be listened on.
  // The checks Start makes of the options alone (the listen address, the
  // identity mode and its keys, TLS files), for a caller to make before it
  // opens anything.
  static absl::Status CheckOptions(const ServerOptions& options);
  static absl::StatusOr<std::unique_ptr<SignoffServer>> Start(
      std::shared_ptr<app::Application> application, const ServerOptions& options);
  ~SignoffServer();

  int port() const { return port_; }
  // The HTTP listener's port; 0 without one.
  int http_port() const { return gateway_ == nullptr ? 0 : gateway_->port(); }
  // Null without an HTTP listener.
  const HttpGateway* http_gateway() const { return gateway_.get(); }
  // What /metrics serves.
  Metrics& metrics() { return *metrics_; }
  std::shared_ptr<grpc::Channel> InProcessChannel();
  void Wait();
  // Stops taking calls, finishes those under way, then stops the workers.
  void Shutdown();

 private:
  SignoffServer() = default;

  std::shared_ptr<app::Application> application_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<BoundedExecutor> executor_;
  std::unique_ptr<BoundedExecutor> document_executor_;
  std::unique_ptr<BoundedExecutor> job_poll_executor_;
  std::map<std::string, Route> routes_;
  std::unique_ptr<RpcDispatcher> dispatcher_;
  std::unique_ptr<CallerIdentity> identity_;
  std::unique_ptr<Transport> transport_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<EventStreams> streams_;
  std::unique_ptr<HttpGateway> gateway_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<TimerScheduler> scheduler_;
  std::unique_ptr<ReadinessProbe> readiness_;
  std::unique_ptr<CatalogFollower> catalog_follower_;
  std::unique_ptr<WebhookDelivery> webhooks_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace signoff::server
