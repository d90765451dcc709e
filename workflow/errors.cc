#include "workflow/errors.h"

#include "absl/strings/cord.h"

namespace signoff::workflow {

absl::Status InvalidArgumentWithViolations(
    const std::string& message, const std::vector<FieldViolation>& violations) {
  google::rpc::BadRequest bad_request;
  for (const auto& violation : violations) {
    auto* entry = bad_request.add_field_violations();
    entry->set_field(violation.field);
    entry->set_description(violation.description);
  }
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kBadRequestTypeUrl,
                    absl::Cord(bad_request.SerializeAsString()));
  return status;
}

std::vector<FieldViolation> ViolationsOf(const absl::Status& status) {
  std::vector<FieldViolation> violations;
  auto payload = status.GetPayload(kBadRequestTypeUrl);
  if (!payload.has_value()) return violations;
  google::rpc::BadRequest bad_request;
  if (!bad_request.ParseFromString(std::string(*payload))) return violations;
  for (const auto& entry : bad_request.field_violations()) {
    violations.push_back({entry.field(), entry.description()});
  }
  return violations;
}

}  // namespace signoff::workflow
