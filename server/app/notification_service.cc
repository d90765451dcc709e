#include "server/app/notification_service.h"

#include "absl/strings/str_cat.h"
#include "workflow/errors.h"
#include "workflow/roles.h"
#include "workflow/status_macros.h"

namespace signoff::app {

namespace {

constexpr int kMaxPageSize = 500;
constexpr int kMaxIdsMarked = 1000;

}  // namespace

absl::StatusOr<v1::ListNotificationsResponse> NotificationService::ListNotifications(
    const Caller& caller, const v1::ListNotificationsRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  const std::string& recipient = request.recipient().empty() ? caller.user : request.recipient();
  if (recipient != caller.user) {
    SIGNOFF_RETURN_IF_ERROR(context_.RequireRole(caller, workflow::kAuditorRole));
  }
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return workflow::InvalidArgumentWithViolations(
        "page_size is out of range",
        {{"page_size", absl::StrCat("must be 0 (the default) to ", kMaxPageSize)}});
  }
  storage::NotificationFilter filter;
  filter.recipient = recipient;
  filter.unread_only = request.unread_only();
  filter.page_size = request.page_size();
  filter.page_token = request.page_token();
  SIGNOFF_ASSIGN_OR_RETURN(storage::NotificationPage page,
                           context_.store().ListNotifications(filter));
  v1::ListNotificationsResponse response;
  for (auto& notification : page.notifications) {
    *response.add_notifications() = std::move(notification);
  }
  response.set_next_page_token(std::move(page.next_page_token));
  response.set_unread_count(page.unread_count);
  return response;
}

absl::StatusOr<v1::MarkNotificationsReadResponse> NotificationService::MarkNotificationsRead(
    const Caller& caller, const v1::MarkNotificationsReadRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  std::vector<workflow::FieldViolation> violations;
  if (request.ids_size() == 0 && request.up_to_id() == 0) {
    violations.push_back({"ids", "name the notifications to mark, or set up_to_id"});
  }
  if (request.ids_size() > kMaxIdsMarked) {
    violations.push_back({"ids", absl::StrCat("at most ", kMaxIdsMarked, " at a time")});
  }
  for (int i = 0; i < request.ids_size() && i < kMaxIdsMarked; ++i) {
    if (request.ids(i) <= 0) {
      violations.push_back({absl::StrCat("ids[", i, "]"), "must be a notification's id"});
    }
  }
  if (request.up_to_id() < 0) violations.push_back({"up_to_id", "must not be negative"});
  if (!violations.empty()) {
    return workflow::InvalidArgumentWithViolations("nothing to mark read", violations);
  }
  storage::Mutation mutation;
  storage::NotificationReads& reads = mutation.notification_reads.emplace();
  reads.recipient = caller.user;
  reads.ids.assign(request.ids().begin(), request.ids().end());
  reads.up_to_id = request.up_to_id();
  reads.read_at = context_.Now();
  SIGNOFF_ASSIGN_OR_RETURN(storage::CommitResult result,
                           context_.store().Commit(std::move(mutation)));
  v1::MarkNotificationsReadResponse response;
  response.set_marked(result.notifications_marked);
  return response;
}

}  // namespace signoff::app
