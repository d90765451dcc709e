#include "server/app/seed.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "workflow/status_macros.h"
#include "workflow/yaml_mapping.h"

namespace signoff::app {

namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status WithFile(const absl::Status& status, const fs::path& path) {
  if (status.ok()) return status;
  absl::Status annotated(status.code(), absl::StrCat(path.string(), ": ", status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    annotated.SetPayload(url, payload);
  });
  return annotated;
}

std::vector<fs::path> YamlFiles(const std::vector<std::string>& inputs,
                                const fs::path& organisation_file) {
  std::vector<fs::path> files;
  std::error_code ignored;
  for (const auto& input : inputs) {
    if (!fs::is_directory(input)) {
      files.emplace_back(input);
      continue;
    }
    for (const auto& entry : fs::directory_iterator(input)) {
      if (entry.path().extension() != ".yaml") continue;
      if (!organisation_file.empty() && fs::equivalent(entry.path(), organisation_file, ignored)) {
        continue;
      }
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> CalendarInputs(const SeedSources& sources) {
  std::vector<std::string> inputs = sources.calendars;
  for (const auto& input : sources.definitions) {
    const fs::path bundled = fs::path(input) / "calendars";
    if (fs::is_directory(bundled)) inputs.push_back(bundled.string());
  }
  return inputs;
}

// Publishes each file whose content changed since that file was last
// published, printing one line per file such as "calendar cn-mainland:
// version 1", and a warning when a later version came through the API.
template <typename Message>
absl::Status PublishFiles(
    const std::vector<fs::path>& files, const char* kind,
    absl::StatusOr<Message> (*parse)(const std::string&),
    const std::function<absl::StatusOr<FilePublished>(const Message&, const std::string&)>& publish,
    const std::function<std::string(const Message&)>& name) {
  for (const auto& file : files) {
    SIGNOFF_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
    absl::StatusOr<Message> parsed = parse(text);
    SIGNOFF_RETURN_IF_ERROR(WithFile(parsed.status(), file));
    // The file's name, not its path, so that the same file read from
    // another folder is still recognised.
    const std::string origin = absl::StrCat("file:", file.filename().string());
    absl::StatusOr<FilePublished> outcome = publish(*parsed, origin);
    SIGNOFF_RETURN_IF_ERROR(WithFile(outcome.status(), file));
    std::printf("%s %s: version %d%s\n", kind, name(*parsed).c_str(), outcome->version,
                outcome->published ? " (published from the file)" : "");
    if (outcome->newer_version > 0) {
      std::fprintf(stderr,
                   "warning: %s is older than %s %s version %d, published since; the file is "
                   "not published over it\n",
                   file.string().c_str(), kind, name(*parsed).c_str(), outcome->newer_version);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Seed(Application& app, const SeedSources& sources) {
  const std::string& organisation_file = sources.organisation_file;
  if (!organisation_file.empty()) {
    SIGNOFF_ASSIGN_OR_RETURN(std::string text, ReadFile(organisation_file));
    auto organisation = workflow::ParseOrganisationYaml(text);
    SIGNOFF_RETURN_IF_ERROR(WithFile(organisation.status(), organisation_file));
    SIGNOFF_RETURN_IF_ERROR(WithFile(app.directory().SeedOrganisation(*organisation), organisation_file));
    std::printf("directory: %d departments, %d users from %s\n",
                organisation->departments_size(), organisation->users_size(),
                organisation_file.c_str());
  }
  SIGNOFF_RETURN_IF_ERROR(PublishFiles<v1::Calendar>(
      YamlFiles(CalendarInputs(sources), {}), "calendar", &workflow::ParseCalendarYaml,
      [&](const v1::Calendar& calendar, const std::string& origin) {
        return app.calendars().PublishFromFile(calendar, origin);
      },
      [](const v1::Calendar& calendar) { return calendar.name(); }));
  SIGNOFF_RETURN_IF_ERROR(PublishFiles<v1::WorkflowDefinition>(
      YamlFiles(sources.definitions, organisation_file), "definition",
      &workflow::ParseDefinitionYaml,
      [&](const v1::WorkflowDefinition& definition, const std::string& origin) {
        return app.definitions().PublishFromFile(definition, origin);
      },
      [](const v1::WorkflowDefinition& definition) { return definition.key(); }));
  std::fflush(stdout);
  return absl::OkStatus();
}

}  // namespace signoff::app
