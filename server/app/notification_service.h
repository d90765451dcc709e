#pragma once

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "signoff/v1/events.pb.h"

namespace signoff::app {

// NotificationService: people's notifications, read and marked read.
class NotificationService {
 public:
  explicit NotificationService(AppContext& context) : context_(context) {}

  // The caller's own; auditors may name any recipient (PERMISSION_DENIED
  // for anyone else naming another).
  absl::StatusOr<v1::ListNotificationsResponse> ListNotifications(
      const Caller& caller, const v1::ListNotificationsRequest& request);
  // Only ever the caller's own notifications; ids of others' are ignored,
  // as are ids already read.
  absl::StatusOr<v1::MarkNotificationsReadResponse> MarkNotificationsRead(
      const Caller& caller, const v1::MarkNotificationsReadRequest& request);

 private:
  AppContext& context_;
};

}  // namespace signoff::app
