#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace signoff::app {

// Where a webhook posts: an http:// URL split into what a connection
// needs. Only the parts a receiver is addressed by; no user info, and no
// fragment (it never reaches a server).
struct WebhookUrl {
  std::string host;
  // 80 when the URL names none.
  int port = 80;
  // The path and query, "/" when empty: the request target.
  std::string target;
};

// INVALID_ARGUMENT, saying what is wrong, for anything but an absolute
// http:// URL with a host. https:// is refused with its own message: this
// signoffd posts over plain TCP only.
absl::StatusOr<WebhookUrl> ParseWebhookUrl(const std::string& url);

}  // namespace signoff::app
