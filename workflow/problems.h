#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "signoff/v1/service.pb.h"

namespace signoff::workflow {

// One problem of a document (a definition, a calendar, YAML text) at its
// path, e.g. "steps[2].sla.due".
signoff::v1::Problem ProblemAt(const std::string& path, const std::string& message);

// INVALID_ARGUMENT saying how many problems `what` ("the definition") has
// and naming the first, with one field violation per problem. Each
// violation's field is the problem's path after `field_prefix` (e.g.
// "definition."), so it names the request field the problem sits in.
absl::Status ProblemsToStatus(const std::string& what,
                              const std::vector<signoff::v1::Problem>& problems,
                              const std::string& field_prefix = "");

}  // namespace signoff::workflow
