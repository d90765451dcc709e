#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"
#include "signoff/v1/calendar.pb.h"
#include "signoff/v1/definition.pb.h"
#include "signoff/v1/directory.pb.h"
#include "signoff/v1/service.pb.h"

namespace signoff::workflow {

// Parses YAML text into `message` through protobuf's JSON mapping. The YAML
// is walked against the message's descriptor first, so that every unknown
// field, wrong type and bad enum name is reported with its path, not just
// the first. Returns the problems; empty means `message` was filled.
std::vector<signoff::v1::Problem> ParseYamlInto(const std::string& yaml,
                                                google::protobuf::Message& message);

// The same, giving INVALID_ARGUMENT (with one violation per problem) on
// failure.
absl::StatusOr<signoff::v1::WorkflowDefinition> ParseDefinitionYaml(
    const std::string& yaml);
absl::StatusOr<signoff::v1::Organisation> ParseOrganisationYaml(
    const std::string& yaml);
absl::StatusOr<signoff::v1::Calendar> ParseCalendarYaml(const std::string& yaml);
// Form values (or a signal's payload, a step's result) from YAML or JSON
// text (JSON is YAML); `what` names them in the error.
absl::StatusOr<google::protobuf::Struct> ParseFormYaml(const std::string& yaml,
                                                       const std::string& what = "the form");

}  // namespace signoff::workflow
