#pragma once

// The SQL behind the store's webhook reads and writes (storage/webhooks.h).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/dialect.h"
#include "storage/store.h"
#include "storage/webhooks.h"

namespace soci {
class session;
}

namespace signoff::storage {

absl::StatusOr<StoredWebhook> QueryWebhook(soci::session& session, const std::string& id);
absl::StatusOr<std::vector<StoredWebhook>> QueryWebhooks(soci::session& session,
                                                         const std::string& owner);
absl::StatusOr<Page<signoff::v1::Delivery>> QueryDeliveries(soci::session& session,
                                                            const DeliveryFilter& filter);
absl::StatusOr<WebhookDispatchPosition> QueryWebhookDispatchPosition(soci::session& session);

// Applies a mutation's webhook writes inside the writer's transaction.
// ABORTED for a dispatch advance that lost to another; database errors
// are thrown.
absl::StatusOr<WebhookWriteResult> ApplyWebhookWrites(soci::session& session,
                                                      const Dialect& dialect,
                                                      const WebhookWrites& writes);

}  // namespace signoff::storage
