#pragma once

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "server/app/command_pipeline.h"
#include "signoff/v1/service.pb.h"

namespace signoff::app {

// DefinitionService: validating and publishing process definitions.
// Publishing is immutable: each publish makes a new version.
class DefinitionService {
 public:
  DefinitionService(AppContext& context, CommandPipeline& pipeline)
      : context_(context), pipeline_(pipeline) {}

  absl::StatusOr<v1::ValidateDefinitionResponse> ValidateDefinition(
      const Caller& caller, const v1::ValidateDefinitionRequest& request);
  absl::StatusOr<v1::PublishDefinitionResponse> PublishDefinition(
      const Caller& caller, const v1::PublishDefinitionRequest& request);
  absl::StatusOr<v1::GetDefinitionResponse> GetDefinition(
      const Caller& caller, const v1::GetDefinitionRequest& request);
  absl::StatusOr<v1::ListDefinitionsResponse> ListDefinitions(
      const Caller& caller, const v1::ListDefinitionsRequest& request);

  // Start-up seeding: publishes unless the latest version is already
  // identical. Returns the version.
  absl::StatusOr<int32_t> PublishIfChanged(const v1::WorkflowDefinition& definition);

 private:
  AppContext& context_;
  CommandPipeline& pipeline_;
};

}  // namespace signoff::app
