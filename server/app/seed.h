#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/app/application.h"

namespace signoff::app {

struct SeedSources {
  std::string organisation_file;
  // Files or folders of calendars (every *.yaml in a folder).
  std::vector<std::string> calendars;
  // Files or folders of definitions (every *.yaml in a folder, except the
  // organisation file). A definitions folder's `calendars` subfolder is
  // published with the calendars, so shipped definitions bring theirs.
  std::vector<std::string> definitions;
};

// Loads the organisation, then publishes each calendar and definition
// whose content differs from its latest version, calendars first since
// definitions count on them. Prints one line per item to stdout.
absl::Status Seed(Application& app, const SeedSources& sources);

}  // namespace signoff::app
