#pragma once

#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "signoff/v1/reports.pb.h"

namespace signoff::app {

// Which groupings a report offers.
enum class ReportShape {
  // Volume, timing, SLA, quality: every grouping.
  kAny,
  // Backlog: a state now, so no period groupings.
  kNoPeriods,
  // Service KPIs: per instance, so no steps or approvers.
  kInstances,
  // Ledger balances: not kept per department, so only for those who see
  // every case of the definition.
  kLedgers,
};

// A report request checked and resolved: its definition, the days it
// covers, and which departments' cases the caller may count.
struct ReportScope {
  std::shared_ptr<const v1::PublishedDefinition> definition;
  absl::TimeZone zone;
  int32_t day_from = 0;
  int32_t day_to = 0;
  v1::ReportGrouping grouping = v1::REPORT_GROUPING_UNSPECIFIED;
  // Unset: every department's cases.
  std::optional<std::set<std::string>> departments;

  bool Covers(const std::string& department) const {
    return !departments || departments->count(department) > 0;
  }
};

// INVALID_ARGUMENT with a violation per bad field (dates, definition,
// grouping); PERMISSION_DENIED for a caller who may see none of the
// definition's cases through a report (nor, for kLedgers, all of them).
absl::StatusOr<ReportScope> ResolveReportScope(AppContext& context, const Caller& caller,
                                               const v1::ReportRequest& request,
                                               ReportShape shape);

// The departments a user heads, with every department below them.
std::set<std::string> DepartmentsHeadedBy(const workflow::Directory& directory,
                                          const std::string& user);

}  // namespace signoff::app
