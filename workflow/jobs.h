#pragma once

// Jobs: SYSTEM steps that name a job_type, done by workers through
// JobService. The names, bounds and formats the engine, the store and the
// services share.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "signoff/v1/definition.pb.h"
#include "signoff/v1/instance.pb.h"
#include "signoff/v1/jobs.pb.h"
#include "workflow/approvers.h"
#include "workflow/directory.h"

namespace signoff::workflow {

// Retries a job step has when its definition says 0.
inline constexpr int32_t kDefaultJobRetries = 3;
// Upper bound on a step's retries, a failure's retries_left and a retry's
// fresh retries.
inline constexpr int32_t kMaxJobRetries = 100;
inline constexpr absl::Duration kMaxJobBackoff = absl::Hours(24);

// An incident's resolution, also the incident_resolved event's reason.
inline constexpr char kIncidentRetried[] = "retried";
inline constexpr char kIncidentCancelled[] = "cancelled";
// The resolution recorded when the job's task ended some other way (the
// instance was cancelled, withdrawn or returned).
inline constexpr char kIncidentAbandoned[] = "task ended";

int32_t RetriesOf(const signoff::v1::SystemStep& step);

// The step's route for a thrown error code; null when it has none.
const signoff::v1::ErrorRoute* ErrorRouteOf(const signoff::v1::SystemStep& step,
                                            const std::string& code);

bool IsJob(const signoff::v1::Task& task);

// "<task id>.i<n>": incidents are numbered per job.
std::string IncidentId(const std::string& task_id, int32_t number);
// The task an incident id names; empty for a string that is not one.
std::string TaskOfIncident(const std::string& incident_id);

// An activation's key, "<task id>.<attempt>": a new key per activation, so
// that a worker whose lease ran out cannot act on the next one's job.
std::string JobKey(const std::string& task_id, int64_t attempt);
// The task id and attempt of a key; nullopt for a string that is not one.
std::optional<std::pair<std::string, int64_t>> ParseJobKey(const std::string& key);

// The job's open incident as ListIncidents shows it; nullopt when it has
// none.
std::optional<signoff::v1::Incident> OpenIncidentOf(const signoff::v1::Task& task);

// OK when `user`, a service account, may work the jobs of `step`: the
// step's workers name it (resolved from `basis`) or, when
// it names none, the definition lists it in service_accounts; or its
// complete-system-steps grant covers the definition. PERMISSION_DENIED
// saying why not.
absl::Status CheckJobWorker(const Directory& directory, const std::string& user,
                            const signoff::v1::WorkflowDefinition& definition,
                            const signoff::v1::Step& step, const RuleBasis& basis);

}  // namespace signoff::workflow
