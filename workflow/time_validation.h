#pragma once

#include <vector>

#include "signoff/v1/definition.pb.h"
#include "signoff/v1/service.pb.h"
#include "workflow/calendar.h"
#include "workflow/definition_index.h"
#include "workflow/directory.h"
#include "workflow/sla_clock.h"

namespace signoff::workflow {

// Problems of a definition's time settings, each with its path: spans,
// SLAs (one calendar per SLA, a deadline for a timeout action, rungs in
// order, escalation targets, go-to steps in the same scope), WAIT steps,
// clock actions on steps without a clock, and buffered signals. With a
// directory, escalation targets must exist; with calendars, every calendar
// named must be among them.
std::vector<signoff::v1::Problem> ValidateTimeSettings(
    const signoff::v1::WorkflowDefinition& definition, const DefinitionIndex& index,
    const Directory* directory, const CalendarSet* calendars);

}  // namespace signoff::workflow
