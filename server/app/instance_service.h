#pragma once

#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "server/app/access_control.h"
#include "server/app/command_pipeline.h"
#include "signoff/v1/service.pb.h"

namespace signoff::app {

// InstanceService: starting, reading and steering instances.
class InstanceService {
 public:
  InstanceService(AppContext& context, CommandPipeline& pipeline)
      : context_(context), pipeline_(pipeline), access_(context) {}

  absl::StatusOr<v1::InstanceResponse> StartInstance(const Caller& caller,
                                                     const v1::StartInstanceRequest& request);
  absl::StatusOr<v1::PreviewRouteResponse> PreviewRoute(const Caller& caller,
                                                        const v1::PreviewRouteRequest& request);
  absl::StatusOr<v1::InstanceResponse> GetInstance(const Caller& caller,
                                                   const v1::GetInstanceRequest& request);
  absl::StatusOr<v1::ListInstancesResponse> ListInstances(
      const Caller& caller, const v1::ListInstancesRequest& request);
  absl::StatusOr<v1::GetHistoryResponse> GetHistory(const Caller& caller,
                                                    const v1::GetHistoryRequest& request);
  absl::StatusOr<v1::ListEventsResponse> ListEvents(const Caller& caller,
                                                    const v1::ListEventsRequest& request);
  absl::StatusOr<v1::InstanceResponse> WithdrawInstance(
      const Caller& caller, const v1::WithdrawInstanceRequest& request);
  absl::StatusOr<v1::InstanceResponse> ResubmitInstance(
      const Caller& caller, const v1::ResubmitInstanceRequest& request);
  absl::StatusOr<v1::InstanceResponse> AppealInstance(const Caller& caller,
                                                      const v1::AppealInstanceRequest& request);
  absl::StatusOr<v1::InstanceResponse> CancelInstance(const Caller& caller,
                                                      const v1::CancelInstanceRequest& request);
  absl::StatusOr<v1::InstanceResponse> SignalInstance(const Caller& caller,
                                                      const v1::SignalInstanceRequest& request);

 private:
  // Runs an instance command whose reply is the instance as committed.
  absl::StatusOr<v1::InstanceResponse> RunOnInstance(const Caller& caller,
                                                     const std::string& method,
                                                     const google::protobuf::Message& request,
                                                     const std::string& request_id,
                                                     const std::string& instance_id,
                                                     v1::Command command);

  // The view of a stored instance under the definition it runs on.
  absl::StatusOr<v1::InstanceView> View(const v1::InstanceState& state,
                                        workflow::Readership readership, absl::Time now);

  AppContext& context_;
  CommandPipeline& pipeline_;
  AccessControl access_;
};

}  // namespace signoff::app
