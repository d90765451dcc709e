#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/core.h"

namespace signoff::server {

// Loads an organisation file, then publishes each definition file whose
// content differs from its latest version. `definitions` holds files or
// folders (every *.yaml in them, except the organisation file). Prints one
// line per definition to stdout.
absl::Status Seed(Core& core, const std::string& organisation_file,
                  const std::vector<std::string>& definitions);

}  // namespace signoff::server
