#include "connection.h"

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "google/rpc/status.pb.h"
#include "workflow/errors.h"

namespace signoff::cli {

Connection::Connection(const GlobalOptions& options, const Transport& transport)
    : options_(options), token_(transport.token) {
  auto channel =
      grpc::CreateCustomChannel(transport.address, transport.credentials, transport.arguments);
  definitions_ = v1::DefinitionService::NewStub(channel);
  instances_ = v1::InstanceService::NewStub(channel);
  tasks_ = v1::TaskService::NewStub(channel);
  directory_ = v1::DirectoryService::NewStub(channel);
  calendars_ = v1::CalendarService::NewStub(channel);
  audit_ = v1::AuditService::NewStub(channel);
  jobs_ = v1::JobService::NewStub(channel);
  events_ = v1::EventService::NewStub(channel);
  notifications_ = v1::NotificationService::NewStub(channel);
  webhooks_ = v1::WebhookService::NewStub(channel);
  reports_ = v1::ReportService::NewStub(channel);
  ledgers_ = v1::LedgerService::NewStub(channel);
  attachments_ = v1::AttachmentService::NewStub(channel);
  health_ = grpc::health::v1::Health::NewStub(channel);
}

void Connection::PrepareStream(grpc::ClientContext& context) const {
  if (!options_.user.empty()) context.AddMetadata("x-signoff-user", options_.user);
  if (!token_.empty()) context.AddMetadata("authorization", "Bearer " + token_);
}

void Connection::Prepare(grpc::ClientContext& context) const {
  PrepareStream(context);
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(options_.timeout_seconds * 1000)));
}

absl::Status Connection::FromGrpc(const grpc::Status& status) {
  absl::Status converted(static_cast<absl::StatusCode>(status.error_code()),
                         status.error_message());
  converted.SetPayload(kRpcFailure, absl::Cord("1"));
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      if (any.type_url() == workflow::kBadRequestTypeUrl) {
        converted.SetPayload(workflow::kBadRequestTypeUrl, absl::Cord(any.value()));
      }
    }
  }
  return converted;
}

std::string NewRequestId() {
  static absl::BitGen random;
  return absl::StrFormat("ctl-%016x%016x", absl::Uniform<uint64_t>(random),
                         absl::Uniform<uint64_t>(random));
}

}  // namespace signoff::cli
