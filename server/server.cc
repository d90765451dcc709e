#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "server/byte_buffers.h"
#include "server/grpc_status.h"
#include "server/job_log.h"
#include "server/json_log.h"
#include "server/listen_address.h"
#include "signoff/v1/events.grpc.pb.h"
#include "signoff/v1/jobs.grpc.pb.h"
#include "signoff/v1/service.grpc.pb.h"
#include "signoff/v1/ledgers.grpc.pb.h"
#include "signoff/v1/reports.grpc.pb.h"
#include "signoff/v1/webhooks.grpc.pb.h"
#include "signoff/v1/attachments.grpc.pb.h"
#include "workflow/errors.h"

namespace signoff::server {

// Bridges gRPC calls to the dispatcher: identity from metadata, the answer
// back through the reactor.
class Transport {
 public:
  Transport(const CallerIdentity& identity, const RpcDispatcher& dispatcher)
      : identity_(identity), dispatcher_(dispatcher) {}

  grpc::ServerUnaryReactor* Handle(const std::string& method,
                                   grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    std::optional<std::string> bytes = BytesOf(*request);
    if (!bytes) {
      reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError("the request's bytes could not be read")));
      return reactor;
    }
    std::string trace_id;
    const auto& metadata = context->client_metadata();
    if (auto traceparent = metadata.find("traceparent"); traceparent != metadata.end()) {
      trace_id = TraceIdOf(absl::string_view(traceparent->second.data(),
                                             traceparent->second.size()));
    }
    dispatcher_.Dispatch(method, identity_.CallerOf(*context), *std::move(bytes), "grpc",
                         std::move(trace_id),
                         [reactor, response](absl::StatusOr<std::string> result) {
                           if (result.ok()) *response = BufferOf(*result);
                           reactor->Finish(ToGrpcStatus(result.status()));
                         });
    return reactor;
  }

 private:
  const CallerIdentity& identity_;
  const RpcDispatcher& dispatcher_;
};

namespace {

// A generated service whose every method is served as raw bytes through
// the routes, so that a request that does not parse gets INVALID_ARGUMENT
// from signoffd rather than an opaque error from the codec.
template <typename GeneratedService>
class RoutedService final : public GeneratedService {
 public:
  RoutedService(const std::string& service_name, const std::map<std::string, Route>& routes,
                Transport& transport) {
    const auto* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
    for (int i = 0; i < descriptor->method_count(); ++i) {
      const std::string method =
          absl::StrCat("/", service_name, "/", descriptor->method(i)->name());
      (void)routes.at(method);
      methods_.push_back(method);
      const std::string& name = methods_.back();
      this->MarkMethodRawCallback(
          i, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                 [&transport, &name](grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) {
                   return transport.Handle(name, context, request, response);
                 }));
    }
  }

 private:
  // Stable addresses for the handlers' references.
  std::deque<std::string> methods_;
};

IdentityOptions IdentityOptionsOf(const ServerOptions& options) {
  return {options.auth, options.jwks_file, options.jwt, options.client_certificate_identity};
}

}  // namespace

absl::Status SignoffServer::CheckOptions(const ServerOptions& options) {
  auto address = ParseListenAddress(options.listen);
  if (!address.ok()) return address.status();
  if (options.auth == "dev" && !address->loopback) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--auth=dev trusts a plain header, so it only listens on loopback, not ",
        options.listen, "; use --auth=jwt"));
  }
  auto identity = CallerIdentity::Create(IdentityOptionsOf(options));
  if (!identity.ok()) return identity.status();
  if (options.client_certificate_identity != "none" && options.tls.client_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-client-identity needs --tls-client-ca-file: only a certificate that CA "
        "verified may name a caller");
  }
  if (absl::Status http = CheckHttpOptions(options.http, options.auth == "dev"); !http.ok()) {
    return http;
  }
  return ListenerCredentials(options.tls).status();
}

absl::StatusOr<std::unique_ptr<SignoffServer>> SignoffServer::Start(
    std::shared_ptr<app::Application> application, const ServerOptions& options) {
  if (absl::Status checked = CheckOptions(options); !checked.ok()) return checked;
  auto address = ParseListenAddress(options.listen);
  if (!address.ok()) return address.status();
  auto identity = CallerIdentity::Create(IdentityOptionsOf(options));
  if (!identity.ok()) return identity.status();
  auto credentials = ListenerCredentials(options.tls);
  if (!credentials.ok()) return credentials.status();
  std::unique_ptr<SignoffServer> server(new SignoffServer());
  server->identity_ = *std::move(identity);
  server->application_ = std::move(application);
  server->executor_ = std::make_unique<BoundedExecutor>(options.workers, options.max_queued);
  server->document_executor_ = std::make_unique<BoundedExecutor>(options.document_workers,
                                                                 options.max_queued_documents);
  server->job_poll_executor_ = std::make_unique<BoundedExecutor>(
      options.job_poll_workers, options.max_queued_job_polls);
  server->metrics_ = std::make_unique<Metrics>(*server->application_);
  server->application_->pipeline().AddPostCommitHook(LogJobEvents);
  server->metrics_->WatchExecutor("calls", server->executor_.get());
  server->metrics_->WatchExecutor("documents", server->document_executor_.get());
  server->metrics_->WatchExecutor("job_polls", server->job_poll_executor_.get());
  server->routes_ = BuildRoutes(*server->application_);
  server->dispatcher_ = std::make_unique<RpcDispatcher>(
      server->routes_, server->application_->context(), *server->executor_,
      *server->document_executor_, *server->job_poll_executor_, options.log_calls,
      server->metrics_.get());
  server->transport_ = std::make_unique<Transport>(*server->identity_, *server->dispatcher_);
  auto& routes = server->routes_;
  auto& transport = *server->transport_;
  auto& services = server->services_;
  services.push_back(std::make_unique<RoutedService<v1::DefinitionService::Service>>(
      "signoff.v1.DefinitionService", routes, transport));
  services.push_back(std::make_unique<RoutedService<v1::InstanceService::Service>>(
      "signoff.v1.InstanceService", routes, transport));
  services.push_back(std::make_unique<RoutedService<v1::TaskService::Service>>(
      "signoff.v1.TaskService", routes, transport));
  services.push_back(std::make_unique<RoutedService<v1::DirectoryService::Service>>(
      "signoff.v1.DirectoryService", routes, transport));
  services.push_back(std::make_unique<RoutedService<v1::CalendarService::Service>>(
      "signoff.v1.CalendarService", routes, transport));
  services.push_back(std::make_unique<RoutedService<v1::AuditService::Service>>(
      "signoff.v1.AuditService", routes, transport));
  services.push_back(std::make_unique<RoutedService<v1::NotificationService::Service>>(
      "signoff.v1.NotificationService", routes, transport));
  app::EventFeedOptions feed_options;
  feed_options.follow_other_writers = options.feed_follow;
  feed_options.window = options.feed_window;
  if (absl::Status started = server->application_->feed().Start(feed_options); !started.ok()) {
    return started;
  }
  server->streams_ = std::make_unique<EventStreams>(
      server->application_->events(), server->application_->context(), *server->identity_,
      options.stream_workers, options.log_calls, server->metrics_.get());
  services.push_back(std::make_unique<RoutedService<v1::JobService::Service>>(
      "signoff.v1.JobService", routes, transport));
  services.push_back(std::make_unique<RoutedService<v1::WebhookService::Service>>(
      "signoff.v1.WebhookService", routes, transport));
  services.push_back(std::make_unique<RoutedService<v1::ReportService::Service>>(
      "signoff.v1.ReportService", routes, transport));
  services.push_back(std::make_unique<RoutedService<v1::LedgerService::Service>>(
      "signoff.v1.LedgerService", routes, transport));
  app::AttachmentOptions attachments = options.attachments;
  // Half the largest message leaves room for the rest of the request,
  // and for gRPC-web's base64 form of it.
  attachments.chunk_bytes =
      std::min<int64_t>(attachments.chunk_bytes, options.max_message_bytes / 2);
  server->application_->attachments().set_options(attachments);
  services.push_back(std::make_unique<RoutedService<v1::AttachmentService::Service>>(
      "signoff.v1.AttachmentService", routes, transport));
  server->application_->report_projector().Follow(
      server->application_->feed(), [](const absl::Status& status) {
        std::fprintf(stderr,
                     "{\"level\":\"warn\",\"component\":\"reports\",\"code\":\"%s\","
                     "\"message\":\"%s\"}\n",
                     absl::StatusCodeToString(status.code()).c_str(),
                     JsonEscape(std::string(status.message())).c_str());
      });
  // It follows the feed started above.
  if (options.webhooks.concurrency > 0) {
    server->webhooks_ =
        std::make_unique<WebhookDelivery>(*server->application_, options.webhooks);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, *credentials, &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  // A port another process holds is an error, not a port to share.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (options.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               static_cast<int>(absl::ToInt64Milliseconds(
                                   std::min(options.max_connection_age, absl::Hours(24 * 24)))));
    // Calls under way when the age is reached get this long to finish.
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, 30 * 1000);
  }
  for (auto& service : services) builder.RegisterService(service.get());
  builder.RegisterService(server->streams_->service());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || (address->unix_path.empty() && server->port_ == 0)) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen,
        " (the port may be taken, or the socket's folder missing)"));
  }
  if (!options.http.listen.empty()) {
    HttpOptions http = options.http;
    Metrics* metrics = server->metrics_.get();
    http.metrics = [metrics] { return metrics->Scrape(); };
    auto gateway = HttpGateway::Start(http, *server->dispatcher_, *server->identity_,
                                      *server->streams_,
                                      static_cast<size_t>(options.max_message_bytes));
    if (!gateway.ok()) return gateway.status();
    server->gateway_ = *std::move(gateway);
    server->metrics_->WatchGateway(server->gateway_.get());
  }
  auto* health = server->server_->GetHealthCheckService();
  health->SetServingStatus("liveness", true);
  health->SetServingStatus("readiness", true);
  if (options.readiness_poll > absl::ZeroDuration()) {
    server->readiness_ = std::make_unique<ReadinessProbe>(*server->application_, *health,
                                                           options.readiness_poll);
  }
  if (options.cache_poll > absl::ZeroDuration()) {
    server->catalog_follower_ =
        std::make_unique<CatalogFollower>(*server->application_, options.cache_poll);
  }
  if (options.timer_poll > absl::ZeroDuration()) {
    server->scheduler_ = std::make_unique<TimerScheduler>(*server->application_,
                                                          options.timer_poll,
                                                          server->metrics_.get());
  }
  return server;
}

SignoffServer::~SignoffServer() { Shutdown(); }

std::shared_ptr<grpc::Channel> SignoffServer::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

void SignoffServer::Wait() { server_->Wait(); }

void SignoffServer::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  scheduler_.reset();
  webhooks_.reset();
  readiness_.reset();
  catalog_follower_.reset();
  if (gateway_ != nullptr) gateway_->StopAccepting();
  // A server that never started listening has nothing to stop but its
  // workers.
  if (server_ != nullptr) {
    if (auto* health = server_->GetHealthCheckService()) {
      health->SetServingStatus("readiness", false);
    }
    // Streams never end by themselves: end them, or the server would wait
    // out its deadline for them.
    if (streams_ != nullptr) streams_->Shutdown();
    // Long polls for jobs end now, with what they have, instead of
    // holding the shutdown for their timeout.
    application_->job_board().Close();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }
  if (executor_ != nullptr) executor_->Stop();
  if (document_executor_ != nullptr) document_executor_->Stop();
  if (job_poll_executor_ != nullptr) job_poll_executor_->Stop();
  // After the workers: answers they finished go out on its connections.
  gateway_.reset();
  streams_.reset();
}

}  // namespace signoff::server
