#include "server/app/webhook_matcher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "server/app/event_service.h"
#include "signoff/v1/events.pb.h"
#include "workflow/status_macros.h"

namespace signoff::app {
namespace {

constexpr char kNotificationKind[] = "notification";

bool Lists(const google::protobuf::RepeatedPtrField<std::string>& list,
           const std::string& value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

absl::StatusOr<std::string> JsonOf(const v1::WatchEventsResponse& item) {
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(item, &json);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("a feed item has no JSON form: ", status.ToString()));
  }
  return json;
}

// The same for every match of one item to one subscription, so that a
// match written twice is stored once.
std::string DeliveryId(const std::string& webhook_id, int64_t global_seq) {
  return absl::StrCat(webhook_id, ".", global_seq);
}

}  // namespace

absl::StatusOr<std::optional<WatchScope>> WebhookMatcher::ScopeOf(const std::string& owner) {
  absl::StatusOr<WatchScope> scope = access_.WatchScopeOf(Caller{owner});
  // Disabled, removed, or no longer holding the watch permission: the
  // subscription delivers nothing until the owner may watch again.
  if (absl::IsPermissionDenied(scope.status()) || absl::IsUnauthenticated(scope.status())) {
    return std::nullopt;
  }
  SIGNOFF_RETURN_IF_ERROR(scope.status());
  return std::move(*scope);
}

absl::StatusOr<std::vector<storage::NewDelivery>> WebhookMatcher::Match(
    const std::vector<FeedItem>& items, const std::vector<storage::StoredWebhook>& webhooks,
    absl::Time now) {
  std::map<std::string, std::optional<WatchScope>> scopes;
  for (const auto& stored : webhooks) {
    const std::string& owner = stored.webhook.owner();
    if (scopes.count(owner) > 0) continue;
    SIGNOFF_ASSIGN_OR_RETURN(scopes[owner], ScopeOf(owner));
  }
  std::vector<storage::NewDelivery> deliveries;
  for (const FeedItem& item : items) {
    const storage::FeedRecord& record = *item;
    const int64_t seq = record.event.global_seq();
    for (const auto& stored : webhooks) {
      const v1::Webhook& webhook = stored.webhook;
      const std::optional<WatchScope>& scope = scopes[webhook.owner()];
      if (seq <= webhook.start_after_global_seq() || !scope) continue;
      if (!scope->Covers(record.definition_key)) continue;
      if (!Lists(webhook.definition_keys(), record.definition_key)) continue;
      const bool wants_event = Lists(webhook.kinds(), record.event.type());
      const bool wants_notifications =
          Lists(webhook.kinds(), kNotificationKind) && !record.notifications.empty();
      if (!wants_event && !wants_notifications) continue;
      // One stream item: the event when its kind is wanted, and the
      // notifications it made when they are.
      v1::WatchEventsResponse stream_item;
      if (wants_event) {
        SIGNOFF_ASSIGN_OR_RETURN(*stream_item.mutable_event(),
                                 FeedEventFor(context_, *scope, record));
      }
      if (wants_notifications) {
        for (const auto& notification : record.notifications) {
          *stream_item.add_notifications() = notification;
        }
      }
      stream_item.set_cursor(seq);
      SIGNOFF_ASSIGN_OR_RETURN(std::string body, JsonOf(stream_item));
      deliveries.push_back(storage::NewDelivery{
          DeliveryId(webhook.id(), seq), webhook.id(), seq, 0,
          wants_event ? record.event.type() : kNotificationKind, std::move(body), now});
    }
  }
  return deliveries;
}

}  // namespace signoff::app
