#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/app/access_control.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "server/app/command_pipeline.h"
#include "server/app/job_board.h"
#include "signoff/v1/jobs.pb.h"

namespace signoff::app {

// JobService: workers lease the jobs of SYSTEM steps (the store keeps the
// leases), then complete, fail or throw them through the engine; process
// administrators list and resolve incidents.
class JobService {
 public:
  JobService(AppContext& context, CommandPipeline& pipeline, JobBoard& board)
      : context_(context), pipeline_(pipeline), board_(board), access_(context) {}

  // Long-polls on the calling thread, at most the request's timeout.
  absl::StatusOr<v1::ActivateJobsResponse> ActivateJobs(const Caller& caller,
                                                        const v1::ActivateJobsRequest& request);
  absl::StatusOr<v1::JobResponse> CompleteJob(const Caller& caller,
                                              const v1::CompleteJobRequest& request);
  absl::StatusOr<v1::JobResponse> FailJob(const Caller& caller,
                                          const v1::FailJobRequest& request);
  absl::StatusOr<v1::JobResponse> ThrowError(const Caller& caller,
                                             const v1::ThrowErrorRequest& request);
  absl::StatusOr<v1::ListIncidentsResponse> ListIncidents(
      const Caller& caller, const v1::ListIncidentsRequest& request);
  absl::StatusOr<v1::IncidentResponse> ResolveIncident(
      const Caller& caller, const v1::ResolveIncidentRequest& request);

 private:
  // The definitions whose jobs of `type` the caller may work, by key.
  absl::StatusOr<std::vector<std::string>> WorkableDefinitions(const Caller& caller,
                                                               const std::string& type);
  absl::StatusOr<std::vector<v1::Job>> Lease(const Caller& caller,
                                             const v1::ActivateJobsRequest& request);
  absl::StatusOr<v1::Job> JobOf(const storage::ActivatedJob& activated,
                                const v1::ActivateJobsRequest& request);
  // Runs a worker's command under the activation `key` names.
  absl::StatusOr<v1::JobResponse> RunUnderKey(const Caller& caller, const std::string& method,
                                              const google::protobuf::Message& request,
                                              const std::string& request_id,
                                              const std::string& key, v1::Command command);

  AppContext& context_;
  CommandPipeline& pipeline_;
  JobBoard& board_;
  AccessControl access_;
};

// INVALID_ARGUMENT, one violation per bad field, for an activation request
// out of bounds.
absl::Status CheckActivation(const v1::ActivateJobsRequest& request);

}  // namespace signoff::app
