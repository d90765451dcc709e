#pragma once

// What the store keeps for webhook subscriptions: the subscriptions, the
// outbox of deliveries, and the dispatcher's position in the event feed.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "signoff/v1/webhooks.pb.h"

namespace signoff::storage {

struct StoredWebhook {
  signoff::v1::Webhook webhook;
  // The HMAC key; never leaves signoffd but in signatures.
  std::string secret;
  bool deleted = false;
};

// How far webhook dispatch has matched the feed. `generation` moves on
// with every subscription created or deleted, so that a dispatcher that
// matched against an older set of subscriptions cannot advance.
struct WebhookDispatchPosition {
  int64_t after_global_seq = 0;
  int64_t generation = 0;
};

// One item of the feed matched to one subscription. Its id is made from
// both, so writing it twice writes it once.
struct NewDelivery {
  std::string id;
  std::string webhook_id;
  int64_t global_seq = 0;
  // 0 for the event, 1.. for the notifications it made: the order within
  // one global_seq.
  int32_t item_index = 0;
  std::string kind;
  // The JSON the receiver gets, fixed when matched.
  std::string body;
  absl::Time created_at;
};

// Moves the dispatch position from `from` to `to` and writes the
// deliveries matched in between; ABORTED, with nothing written, when the
// position or the generation is no longer `from`.
struct WebhookDispatchAdvance {
  WebhookDispatchPosition from;
  int64_t to = 0;
  std::vector<NewDelivery> deliveries;
};

struct WebhookDeletion {
  std::string id;
  absl::Time at;
};

// Leases the oldest pending delivery of each live subscription, when it is
// due, to `owner`: deliveries of one subscription go out one at a time, in
// feed order.
struct DeliveryClaim {
  absl::Time now;
  std::string owner;
  absl::Duration lease;
  int limit = 16;
};

struct ClaimedDelivery {
  // attempts counts those made before this one.
  signoff::v1::Delivery delivery;
  std::string body;
  std::string url;
  std::string secret;
  int32_t max_attempts = 8;
};

// The end of one attempt, applied only while `owner` still holds the lease
// and the delivery is pending.
struct DeliveryOutcome {
  std::string id;
  std::string owner;
  absl::Time at;
  bool delivered = false;
  // For a failed attempt: why, whether it was the last, and when to retry.
  std::string error;
  bool dead = false;
  absl::Time next_attempt_at;
};

// Dead letters of one subscription made pending again with no attempts.
struct DeliveryReplay {
  std::string webhook_id;
  std::vector<std::string> delivery_ids;
  absl::Time at;
};

// A commit's webhook writes (see Mutation::webhooks).
struct WebhookWrites {
  // Stored, and the dispatch position moved back to its
  // start_after_global_seq when it had gone past it, so that nothing
  // committed after that is matched without it.
  std::optional<StoredWebhook> create;
  std::optional<WebhookDeletion> deletion;
  std::optional<WebhookDispatchAdvance> advance;
  std::optional<DeliveryClaim> claim;
  std::vector<DeliveryOutcome> outcomes;
  std::optional<DeliveryReplay> replay;

  bool empty() const {
    return !create && !deletion && !advance && !claim && outcomes.empty() && !replay;
  }
};

struct WebhookWriteResult {
  std::vector<ClaimedDelivery> claimed;
  int32_t replayed = 0;
};

struct DeliveryFilter {
  std::string webhook_id;
  bool dead_only = false;
  int32_t page_size = 100;
  std::string page_token;
};

}  // namespace signoff::storage
