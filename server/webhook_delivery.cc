#include "server/webhook_delivery.h"

#include <unistd.h>

#include <cstdio>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/json_log.h"
#include "server/webhook_http_transport.h"

namespace signoff::server {
namespace {

void LogFailure(const char* part, const absl::Status& status) {
  std::fprintf(stderr,
               "{\"level\":\"warn\",\"component\":\"webhooks\",\"part\":\"%s\","
               "\"code\":\"%s\",\"message\":\"%s\"}\n",
               part, absl::StatusCodeToString(status.code()).c_str(),
               JsonEscape(std::string(status.message())).c_str());
}

// Unique per process, for the leases it takes on deliveries.
std::string LeaseOwner() {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  absl::BitGen random;
  return absl::StrFormat("%s/%d/%06x", host, ::getpid(),
                         absl::Uniform<uint32_t>(random, 0, 1u << 24));
}

}  // namespace

WebhookDelivery::WebhookDelivery(app::Application& application,
                                 const WebhookDeliveryOptions& options)
    : feed_(application.feed()) {
  transport_ = std::make_unique<BeastWebhookTransport>();
  app::WebhookSenderOptions sending;
  sending.concurrency = options.concurrency;
  sending.backoff_base = options.backoff_base;
  sending.timeout = options.timeout;
  sending.poll = options.poll;
  sending.lease_owner = LeaseOwner();
  sending.report_failure = [](const absl::Status& status) { LogFailure("sender", status); };
  sender_ = std::make_unique<app::WebhookSender>(application.context().store(), *transport_,
                                                 std::move(sending));
  app::WebhookDispatcherOptions matching;
  matching.poll = options.poll;
  matching.report_failure = [](const absl::Status& status) { LogFailure("dispatch", status); };
  app::EventFeed& feed = application.feed();
  dispatcher_ = std::make_unique<app::WebhookDispatcher>(
      application.context(),
      [&feed](int64_t after, int limit) { return feed.Read(after, limit); },
      std::move(matching));
  dispatcher_->OnDeliveriesWritten([sender = sender_.get()] { sender->Nudge(); });
  sender_->Start();
  dispatcher_->Start();
  subscription_ = feed.Subscribe(
      {[dispatcher = dispatcher_.get()] { dispatcher->Nudge(); }, [](absl::Time) {}, [] {}});
}

WebhookDelivery::~WebhookDelivery() {
  feed_.Unsubscribe(subscription_);
  dispatcher_->Stop();
  sender_->Stop();
}

}  // namespace signoff::server
