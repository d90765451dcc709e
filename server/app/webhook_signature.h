#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace signoff::app {

// The Signoff-Signature header (see proto/signoff/v1/webhooks.proto):
// "t=<unix seconds>,v1=<lowercase hex HMAC-SHA256 of "<t>.<body>">", the
// HMAC keyed with the subscription's secret.
std::string WebhookSignature(absl::string_view secret, int64_t unix_seconds,
                             absl::string_view body);

// What a receiver does with the header: OK when it parses, its time is
// within `tolerance` of `now`, and its HMAC matches (compared in constant
// time); UNAUTHENTICATED saying which check failed otherwise.
absl::Status VerifyWebhookSignature(absl::string_view secret, absl::string_view header,
                                    absl::string_view body, absl::Time now,
                                    absl::Duration tolerance);

}  // namespace signoff::app
