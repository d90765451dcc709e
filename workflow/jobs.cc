#include "workflow/jobs.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "workflow/approvers.h"
#include "workflow/engine.h"
#include "workflow/errors.h"
#include "workflow/roles.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;

int32_t RetriesOf(const v1::SystemStep& step) {
  return step.retries() == 0 ? kDefaultJobRetries : static_cast<int32_t>(step.retries());
}

const v1::ErrorRoute* ErrorRouteOf(const v1::SystemStep& step, const std::string& code) {
  for (const auto& route : step.errors()) {
    if (route.code() == code) return &route;
  }
  return nullptr;
}

bool IsJob(const v1::Task& task) { return !task.job().type().empty(); }

std::string IncidentId(const std::string& task_id, int32_t number) {
  return absl::StrCat(task_id, ".i", number);
}

std::string TaskOfIncident(const std::string& incident_id) {
  const size_t mark = incident_id.rfind(".i");
  int32_t number = 0;
  if (mark == std::string::npos || !absl::SimpleAtoi(incident_id.substr(mark + 2), &number) ||
      number < 1) {
    return "";
  }
  std::string task_id = incident_id.substr(0, mark);
  return InstanceIdOfTask(task_id).empty() ? "" : task_id;
}

std::string JobKey(const std::string& task_id, int64_t attempt) {
  return absl::StrCat(task_id, ".", attempt);
}

std::optional<std::pair<std::string, int64_t>> ParseJobKey(const std::string& key) {
  const size_t mark = key.rfind('.');
  if (mark == std::string::npos) return std::nullopt;
  const std::string digits = key.substr(mark + 1);
  int64_t attempt = 0;
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
      !absl::SimpleAtoi(digits, &attempt) || attempt < 1) {
    return std::nullopt;
  }
  std::string task_id = key.substr(0, mark);
  if (InstanceIdOfTask(task_id).empty()) return std::nullopt;
  return std::make_pair(std::move(task_id), attempt);
}

std::optional<v1::Incident> OpenIncidentOf(const v1::Task& task) {
  if (task.job().incident_id().empty()) return std::nullopt;
  v1::Incident incident;
  incident.set_id(task.job().incident_id());
  incident.set_instance_id(task.instance_id());
  incident.set_definition_key(task.definition_key());
  incident.set_step_id(task.step_id());
  incident.set_task_id(task.id());
  incident.set_job_type(task.job().type());
  incident.set_message(task.job().incident_message());
  incident.set_status(v1::INCIDENT_OPEN);
  *incident.mutable_created_at() = task.job().incident_raised_at();
  return incident;
}

absl::Status CheckJobWorker(const Directory& directory, const std::string& user,
                            const v1::WorkflowDefinition& definition, const v1::Step& step,
                            const RuleBasis& basis) {
  const v1::User* found = directory.FindUser(user);
  if (found == nullptr || !found->service()) {
    return absl::PermissionDeniedError(
        absl::StrCat(ShortForMessage(user), " is not a service account; only service accounts "
                                            "work jobs"));
  }
  if (directory.HoldsRoleFor(user, kCompleteSystemStepsPermission, definition.key())) {
    return absl::OkStatus();
  }
  const auto& workers = step.system().workers();
  if (workers.empty()) {
    const auto& listed = definition.service_accounts();
    if (std::find(listed.begin(), listed.end(), user) != listed.end()) return absl::OkStatus();
  }
  for (const auto& worker : ResolveApprovers(workers, basis, directory)) {
    if (worker.user == user) return absl::OkStatus();
    if (worker.is_group() && directory.InGroup(user, worker.group)) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "service account ", user, " is not among the workers of step ", step.id(),
      " of definition ", definition.key(), " and holds no ", kCompleteSystemStepsPermission,
      " grant for it"));
}

}  // namespace signoff::workflow
