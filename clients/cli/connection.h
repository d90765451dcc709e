#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "signoff/v1/attachments.grpc.pb.h"
#include "signoff/v1/events.grpc.pb.h"
#include "signoff/v1/jobs.grpc.pb.h"
#include "signoff/v1/service.grpc.pb.h"
#include "signoff/v1/ledgers.grpc.pb.h"
#include "signoff/v1/reports.grpc.pb.h"
#include "signoff/v1/webhooks.grpc.pb.h"
#include "transport.h"

namespace signoff::cli {

struct GlobalOptions {
  TransportOptions transport;
  std::string user;
  std::string output = "table";
  double timeout_seconds = 15;
  // --tz: show every time in this zone rather than each calendar's own.
  std::string time_zone;
};

// Payload key marking a status that came back from signoffd, as opposed to
// a local failure; the exit code depends on it.
inline constexpr char kRpcFailure[] = "signoff.cli/rpc";

// The stubs of one signoffd, and calls with identity and deadline.
class Connection {
 public:
  Connection(const GlobalOptions& options, const Transport& transport);

  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(Stub& stub,
                                grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                             Response*),
                                const Request& request) {
    grpc::ClientContext context;
    Prepare(context);
    Response response;
    grpc::Status status = (stub.*method)(&context, request, &response);
    if (!status.ok()) return FromGrpc(status);
    return response;
  }

  v1::DefinitionService::Stub& definitions() { return *definitions_; }
  v1::InstanceService::Stub& instances() { return *instances_; }
  v1::TaskService::Stub& tasks() { return *tasks_; }
  v1::DirectoryService::Stub& directory() { return *directory_; }
  v1::CalendarService::Stub& calendars() { return *calendars_; }
  v1::AuditService::Stub& audit() { return *audit_; }
  v1::JobService::Stub& jobs() { return *jobs_; }
  v1::EventService::Stub& events() { return *events_; }
  v1::NotificationService::Stub& notifications() { return *notifications_; }
  v1::WebhookService::Stub& webhooks() { return *webhooks_; }
  v1::ReportService::Stub& reports() { return *reports_; }
  v1::LedgerService::Stub& ledgers() { return *ledgers_; }
  v1::AttachmentService::Stub& attachments() { return *attachments_; }
  grpc::health::v1::Health::Stub& health() { return *health_; }

  // Identity for a stream, which has no deadline: it runs until the caller
  // stops it or signoffd ends it.
  void PrepareStream(grpc::ClientContext& context) const;
  static absl::Status FromGrpc(const grpc::Status& status);

 private:
  void Prepare(grpc::ClientContext& context) const;

  GlobalOptions options_;
  std::string token_;
  std::unique_ptr<v1::DefinitionService::Stub> definitions_;
  std::unique_ptr<v1::InstanceService::Stub> instances_;
  std::unique_ptr<v1::TaskService::Stub> tasks_;
  std::unique_ptr<v1::DirectoryService::Stub> directory_;
  std::unique_ptr<v1::CalendarService::Stub> calendars_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::EventService::Stub> events_;
  std::unique_ptr<v1::NotificationService::Stub> notifications_;
  std::unique_ptr<v1::WebhookService::Stub> webhooks_;
  std::unique_ptr<v1::ReportService::Stub> reports_;
  std::unique_ptr<v1::LedgerService::Stub> ledgers_;
  std::unique_ptr<v1::AttachmentService::Stub> attachments_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

// A fresh id for a mutating call, unless the user gave one.
std::string NewRequestId();

}  // namespace signoff::cli
