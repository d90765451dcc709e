#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "server/app/application.h"
#include "server/app/webhook_dispatcher.h"
#include "server/app/webhook_sender.h"

namespace signoff::server {

struct WebhookDeliveryOptions {
  // Deliveries posted at once; 0 turns webhook delivery off in this
  // process (another replica may deliver).
  int concurrency = 4;
  absl::Duration backoff_base = absl::Seconds(1);
  absl::Duration timeout = absl::Seconds(10);
  // How often the feed and the outbox are looked at with no wake-up.
  absl::Duration poll = absl::Seconds(1);
};

// Webhook delivery in signoffd: the dispatcher that writes the outbox from
// the event feed (woken by the feed's news), the sender that posts it, and
// the HTTP transport, started together and stopped together (the
// dispatcher first, so that nothing is matched after the sender stops).
class WebhookDelivery {
 public:
  WebhookDelivery(app::Application& application, const WebhookDeliveryOptions& options);
  ~WebhookDelivery();

 private:
  app::EventFeed& feed_;
  uint64_t subscription_ = 0;
  std::unique_ptr<app::WebhookTransport> transport_;
  std::unique_ptr<app::WebhookSender> sender_;
  std::unique_ptr<app::WebhookDispatcher> dispatcher_;
};

}  // namespace signoff::server
