#pragma once

#include <vector>

#include "signoff/v1/definition.pb.h"
#include "signoff/v1/service.pb.h"

namespace signoff::workflow {

// The problems of a definition's ledgers, the ledger entries of its steps
// and its schedule, each with its path.
std::vector<signoff::v1::Problem> ValidateLedgersAndSchedule(
    const signoff::v1::WorkflowDefinition& definition);

}  // namespace signoff::workflow
