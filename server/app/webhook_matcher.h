#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app/access_control.h"
#include "server/app/app_context.h"
#include "server/app/event_feed.h"
#include "storage/webhooks.h"

namespace signoff::app {

// Turns feed items into deliveries: for each subscription, one delivery per
// committed event after its start whose kind (or notifications) and
// definition it asks for and its owner may watch, as the JSON its receiver
// gets: the WatchEventsResponse the owner would read on the stream, with
// the same redaction.
class WebhookMatcher {
 public:
  explicit WebhookMatcher(AppContext& context) : context_(context), access_(context) {}

  // Errors are the store's or the catalog's; an owner who may no longer
  // watch (disabled, or without the permission) gets nothing.
  absl::StatusOr<std::vector<storage::NewDelivery>> Match(
      const std::vector<FeedItem>& items, const std::vector<storage::StoredWebhook>& webhooks,
      absl::Time now);

 private:
  // nullopt for an owner who may not watch.
  absl::StatusOr<std::optional<WatchScope>> ScopeOf(const std::string& owner);

  AppContext& context_;
  AccessControl access_;
};

}  // namespace signoff::app
