#pragma once

// The write side of jobs and incidents: the rows the jobs and incidents
// tables get from a mutation's events, leases, and the check that a
// mutation made under an activation's key still holds the job. Run inside
// the writer's transaction; database errors are thrown, as by SOCI.

#include <vector>

#include "absl/status/status.h"
#include "storage/store.h"

namespace soci {
class session;
}

namespace signoff::storage {

class Dialect;

// OK while the activation `check` names holds its job; otherwise
// FAILED_PRECONDITION or PERMISSION_DENIED (see JobLeaseCheck). Locks the
// job's row until the transaction ends.
absl::Status CheckJobLease(soci::session& session, const Dialect& dialect,
                           const JobLeaseCheck& check);

// Keeps the jobs and incidents tables in step with what `events` did to
// jobs: created, failed (with a backoff), incidents raised and resolved,
// and jobs ended.
void RecordJobEvents(soci::session& session, const std::vector<signoff::v1::Event>& events);

// One statement leases the claim's jobs and returns them, oldest available
// first.
std::vector<ActivatedJob> ClaimJobs(soci::session& session, const Dialect& dialect,
                                    const JobClaim& claim);

}  // namespace signoff::storage
