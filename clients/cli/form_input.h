#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "signoff/v1/definition.pb.h"

namespace signoff::cli {

// Payload key marking a status as a usage error (exit code 2).
inline constexpr char kUsageError[] = "signoff.cli/usage";
absl::Status UsageError(const std::string& message);

absl::StatusOr<std::string> ReadFile(const std::string& path);

// `status` with "prefix: " before its message, payloads kept.
absl::Status Annotate(const absl::Status& status, const std::string& prefix);

// Form values from a YAML or JSON file and/or name=value pairs (pairs win).
// Pair values take the type of their field in `form`: numbers, true/false,
// and comma-separated lists; anything else stays a string.
absl::StatusOr<google::protobuf::Struct> BuildForm(const std::vector<std::string>& pairs,
                                                   const std::string& file,
                                                   const signoff::v1::Form& form);

}  // namespace signoff::cli
