#include "server/app/report_request.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "server/app/report_projection.h"
#include "workflow/errors.h"
#include "workflow/status_macros.h"

namespace signoff::app {
namespace {

using workflow::FieldViolation;

// A quarter with room to spare: a year and a day.
constexpr int kMaxReportDays = 366;

std::optional<absl::CivilDay> ParseDay(const std::string& text) {
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day)) return std::nullopt;
  return day;
}

bool IsPeriod(v1::ReportGrouping grouping) {
  return grouping == v1::BY_DAY || grouping == v1::BY_WEEK || grouping == v1::BY_MONTH;
}

void CheckGrouping(v1::ReportGrouping grouping, int raw, ReportShape shape,
                   std::vector<FieldViolation>& violations) {
  if (!v1::ReportGrouping_IsValid(raw)) {
    violations.push_back({"group_by", absl::StrCat("unknown grouping ", raw)});
  } else if (shape == ReportShape::kNoPeriods && IsPeriod(grouping)) {
    violations.push_back({"group_by", "the backlog is a state now and cannot be grouped by period"});
  } else if (shape == ReportShape::kInstances &&
             (grouping == v1::BY_STEP || grouping == v1::BY_APPROVER)) {
    violations.push_back({"group_by", "service KPIs are per instance, not per step or approver"});
  }
}

// The days, unless the shape has no period.
void CheckDays(const v1::ReportRequest& request, ReportShape shape,
               std::optional<absl::CivilDay>& from, std::optional<absl::CivilDay>& to,
               std::vector<FieldViolation>& violations) {
  if (shape == ReportShape::kNoPeriods) return;
  from = ParseDay(request.from());
  to = ParseDay(request.to());
  if (!from) violations.push_back({"from", "must be a date, YYYY-MM-DD"});
  if (!to) violations.push_back({"to", "must be a date, YYYY-MM-DD"});
  if (!from || !to) return;
  if (*to < *from) {
    violations.push_back({"to", "must not be before from"});
  } else if (*to - *from >= kMaxReportDays) {
    violations.push_back({"to", absl::StrCat("a report covers at most ", kMaxReportDays, " days")});
  }
}

// Everyone who reads every instance of the definition sees all of it; a
// department head sees the cases of applicants in the departments below.
absl::Status ScopeCaller(AppContext& context, const Caller& caller, ReportShape shape,
                         ReportScope& scope) {
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Reader reader, context.ReaderOf(caller));
  const std::string& key = scope.definition->definition().key();
  if (reader.reads_every_definition || reader.definitions.count(key) > 0) return absl::OkStatus();
  if (shape == ReportShape::kLedgers) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the ledger report on ", key, " is for auditors, its process admins and viewers"));
  }
  std::set<std::string> headed = DepartmentsHeadedBy(*context.directory(), caller.user);
  if (headed.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "reports on ", key, " are for auditors, its process admins and department heads"));
  }
  scope.departments = std::move(headed);
  return absl::OkStatus();
}

}  // namespace

std::set<std::string> DepartmentsHeadedBy(const workflow::Directory& directory,
                                          const std::string& user) {
  std::set<std::string> headed;
  const auto& departments = directory.organisation().departments();
  for (const v1::Department& department : departments) {
    if (!user.empty() && department.head() == user) headed.insert(department.id());
  }
  // Add children until nothing changes: the tree is small.
  for (bool grew = !headed.empty(); grew;) {
    grew = false;
    for (const v1::Department& department : departments) {
      if (headed.count(department.parent()) > 0 && headed.insert(department.id()).second) {
        grew = true;
      }
    }
  }
  return headed;
}

absl::StatusOr<ReportScope> ResolveReportScope(AppContext& context, const Caller& caller,
                                               const v1::ReportRequest& request,
                                               ReportShape shape) {
  SIGNOFF_RETURN_IF_ERROR(context.Authenticate(caller));
  std::vector<FieldViolation> violations;
  ReportScope scope;
  scope.grouping = request.group_by();
  CheckGrouping(request.group_by(), static_cast<int>(request.group_by()), shape, violations);
  std::optional<absl::CivilDay> from, to;
  CheckDays(request, shape, from, to, violations);
  if (request.definition_key().empty()) {
    violations.push_back({"definition_key", "must name a definition"});
  } else {
    absl::StatusOr<std::shared_ptr<const v1::PublishedDefinition>> definition =
        context.Definition(request.definition_key(), 0);
    if (absl::IsNotFound(definition.status())) {
      violations.push_back({"definition_key",
                            absl::StrCat("no definition '",
                                         workflow::ShortForMessage(request.definition_key()),
                                         "'")});
    } else if (!definition.ok()) {
      return definition.status();
    } else {
      scope.definition = *std::move(definition);
    }
  }
  if (!violations.empty()) {
    return workflow::InvalidArgumentWithViolations("the report request is not valid", violations);
  }
  scope.zone = ReportZoneOf(*context.calendars(), scope.definition->definition());
  if (from && to) {
    scope.day_from = static_cast<int32_t>(*from - absl::CivilDay(1970, 1, 1));
    scope.day_to = static_cast<int32_t>(*to - absl::CivilDay(1970, 1, 1));
  }
  SIGNOFF_RETURN_IF_ERROR(ScopeCaller(context, caller, shape, scope));
  return scope;
}

}  // namespace signoff::app
