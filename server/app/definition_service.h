#pragma once

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "server/app/command_pipeline.h"
#include "server/app/documents.h"
#include "signoff/v1/service.pb.h"

namespace signoff::app {

// DefinitionService: validating and publishing process definitions.
// Publishing is immutable: each publish makes a new version.
class DefinitionService {
 public:
  DefinitionService(AppContext& context, CommandPipeline& pipeline)
      : context_(context), documents_(context, pipeline) {}

  absl::StatusOr<v1::ValidateDefinitionResponse> ValidateDefinition(
      const Caller& caller, const v1::ValidateDefinitionRequest& request);
  absl::StatusOr<v1::PublishDefinitionResponse> PublishDefinition(
      const Caller& caller, const v1::PublishDefinitionRequest& request);
  absl::StatusOr<v1::GetDefinitionResponse> GetDefinition(
      const Caller& caller, const v1::GetDefinitionRequest& request);
  absl::StatusOr<v1::ListDefinitionsResponse> ListDefinitions(
      const Caller& caller, const v1::ListDefinitionsRequest& request);

  // Start-up seeding: publishes a file's definition unless what that file
  // published last is the same (see VersionedDocuments::PublishFromFile).
  absl::StatusOr<FilePublished> PublishFromFile(const v1::WorkflowDefinition& definition,
                                                const std::string& origin);

 private:
  AppContext& context_;
  VersionedDocuments<v1::PublishedDefinition> documents_;
};

}  // namespace signoff::app
