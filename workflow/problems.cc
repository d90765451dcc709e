#include "workflow/problems.h"

#include "absl/strings/str_cat.h"
#include "workflow/errors.h"

namespace signoff::workflow {

signoff::v1::Problem ProblemAt(const std::string& path, const std::string& message) {
  signoff::v1::Problem problem;
  problem.set_path(path);
  problem.set_message(message);
  return problem;
}

absl::Status ProblemsToStatus(const std::string& what,
                              const std::vector<signoff::v1::Problem>& problems,
                              const std::string& field_prefix) {
  std::vector<FieldViolation> violations;
  for (const auto& problem : problems) {
    violations.push_back({absl::StrCat(field_prefix, problem.path()), problem.message()});
  }
  std::string message = absl::StrCat(what, " has ", problems.size(), " problem(s)");
  if (!problems.empty()) {
    absl::StrAppend(&message, "; first: ", problems[0].path(), ": ", problems[0].message());
  }
  return InvalidArgumentWithViolations(message, violations);
}

}  // namespace signoff::workflow
