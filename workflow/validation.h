#pragma once

#include <vector>

#include "signoff/v1/definition.pb.h"
#include "signoff/v1/service.pb.h"
#include "workflow/calendar.h"
#include "workflow/directory.h"

namespace signoff::workflow {

// Every problem of a definition, each with its path. An empty result means
// the definition can be published. With a directory, named users,
// departments and roles must also exist in it; with calendars, the named
// business calendars must be among them.
std::vector<signoff::v1::Problem> ValidateDefinition(
    const signoff::v1::WorkflowDefinition& definition,
    const Directory* directory = nullptr, const CalendarSet* calendars = nullptr);

}  // namespace signoff::workflow
