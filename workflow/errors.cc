#include "workflow/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

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

std::string ShortForMessage(const std::string& text) {
  constexpr size_t kShown = 64;
  if (text.size() <= kShown) return absl::Utf8SafeCHexEscape(text);
  size_t cut = kShown;
  // Back off to the start of a UTF-8 character.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(absl::Utf8SafeCHexEscape(text.substr(0, cut)), "... (", text.size(),
                      " bytes)");
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
