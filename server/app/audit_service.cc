#include "server/app/audit_service.h"

#include "server/app/log_pages.h"
#include "storage/store.h"
#include "workflow/roles.h"
#include "workflow/status_macros.h"

namespace signoff::app {

absl::StatusOr<v1::ListAdminEventsResponse> AuditService::ListAdminEvents(
    const Caller& caller, const v1::ListAdminEventsRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.RequireRole(caller, workflow::kAuditorRole));
  SIGNOFF_ASSIGN_OR_RETURN(const int page_size,
                           LogPageSize("after_seq", request.after_seq(), request.page_size()));
  SIGNOFF_ASSIGN_OR_RETURN(storage::AdminTrailPage page,
                           context_.store().ListAdminEvents(request.after_seq(), page_size));
  v1::ListAdminEventsResponse response;
  response.set_chain_verified(storage::VerifyAdminTrailPage(page));
  response.set_event_count(page.event_count);
  response.set_head_hash(page.head_hash);
  response.set_next_after_seq(page.events.empty() ? request.after_seq()
                                                  : page.events.back().seq());
  for (auto& event : page.events) *response.add_events() = std::move(event);
  return response;
}

}  // namespace signoff::app
