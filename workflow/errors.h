#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/rpc/status.pb.h"

namespace signoff::workflow {

// Type URL under which a google.rpc.BadRequest rides on an absl::Status.
inline constexpr char kBadRequestTypeUrl[] =
    "type.googleapis.com/google.rpc.BadRequest";

struct FieldViolation {
  std::string field;
  std::string description;
};

// INVALID_ARGUMENT carrying one violation per bad field, so that callers
// can show each next to its input.
absl::Status InvalidArgumentWithViolations(
    const std::string& message, const std::vector<FieldViolation>& violations);

// At most a short, printable prefix of caller-supplied text, for error
// messages and logs: an id of a megabyte must not come back in a header.
std::string ShortForMessage(const std::string& text);

// The violations attached by InvalidArgumentWithViolations; empty if none.
std::vector<FieldViolation> ViolationsOf(const absl::Status& status);

}  // namespace signoff::workflow
