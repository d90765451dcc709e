#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "signoff/v1/definition.pb.h"

namespace signoff::cli {

// Payload key marking a status as a usage error (exit code 2).
inline constexpr char kUsageError[] = "signoff.cli/usage";
absl::Status UsageError(const std::string& message);

absl::StatusOr<std::string> ReadFile(const std::string& path);

// `status` with "prefix: " before its message, payloads kept.
absl::Status Annotate(const absl::Status& status, const std::string& prefix);

// A YAML or JSON mapping from a file, e.g. a task's result or a signal's
// payload; parse errors name the file.
absl::StatusOr<google::protobuf::Struct> ReadValuesFile(const std::string& path,
                                                       const std::string& what);

// NAME or NAME@VERSION, e.g. "probation-review@2"; version 0 means the
// latest. A bad version is a usage error whose message cites `example`.
struct Reference {
  std::string name;
  int32_t version = 0;
};
absl::StatusOr<Reference> ParseReference(const std::string& text, const std::string& example);

// A span such as "2d", "4h", "30m", "90s" or "1d4h", for `option`; anything
// else, or zero, is a usage error.
absl::StatusOr<signoff::v1::TimeSpan> ParseSpan(const std::string& option, const std::string& text);

// An RFC 3339 time such as "2026-03-02T15:00:00+08:00", for `option`.
absl::StatusOr<google::protobuf::Timestamp> ParseTimestamp(const std::string& option,
                                                          const std::string& text);

// Form values from a YAML or JSON file and/or name=value pairs (pairs win).
// Pair values take the type of their field in `form`: numbers, true/false,
// and comma-separated lists; anything else stays a string.
absl::StatusOr<google::protobuf::Struct> BuildForm(const std::vector<std::string>& pairs,
                                                   const std::string& file,
                                                   const signoff::v1::Form& form);

}  // namespace signoff::cli
