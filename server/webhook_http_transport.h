#pragma once

#include "server/app/webhook_sender.h"

namespace signoff::server {

// Posts webhook deliveries with Boost.Beast over plain TCP, one connection
// per post, the whole exchange (resolving, connecting, sending, reading
// the answer) bounded by the post's timeout.
class BeastWebhookTransport final : public app::WebhookTransport {
 public:
  absl::Status Post(const app::WebhookPost& post) override;
};

}  // namespace signoff::server
