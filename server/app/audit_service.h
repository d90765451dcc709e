#pragma once

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "signoff/v1/service.pb.h"

namespace signoff::app {

// AuditService: the admin audit trail, for auditors. Administrators make
// the changes it records, so they cannot read it unless they also hold the
// auditor role.
class AuditService {
 public:
  explicit AuditService(AppContext& context) : context_(context) {}

  absl::StatusOr<v1::ListAdminEventsResponse> ListAdminEvents(
      const Caller& caller, const v1::ListAdminEventsRequest& request);

 private:
  AppContext& context_;
};

}  // namespace signoff::app
