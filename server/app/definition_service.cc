#include "server/app/definition_service.h"

#include "absl/strings/str_cat.h"
#include "workflow/errors.h"
#include "workflow/problems.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"
#include "workflow/validation.h"
#include "workflow/yaml_mapping.h"

namespace signoff::app {

namespace {

absl::StatusOr<v1::WorkflowDefinition> DefinitionFromSource(const v1::DefinitionSource& source) {
  switch (source.source_case()) {
    case v1::DefinitionSource::kDefinition:
      return source.definition();
    case v1::DefinitionSource::kYaml:
      return workflow::ParseDefinitionYaml(source.yaml());
    default:
      return workflow::InvalidArgumentWithViolations("no definition given",
                                                     {{"source", "set definition or yaml"}});
  }
}

}  // namespace

absl::StatusOr<v1::ValidateDefinitionResponse> DefinitionService::ValidateDefinition(
    const Caller& caller, const v1::ValidateDefinitionRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  v1::ValidateDefinitionResponse response;
  absl::StatusOr<v1::WorkflowDefinition> definition = DefinitionFromSource(request.source());
  if (!definition.ok()) {
    if (!absl::IsInvalidArgument(definition.status())) return definition.status();
    for (const auto& violation : workflow::ViolationsOf(definition.status())) {
      auto* problem = response.add_problems();
      problem->set_path(violation.field);
      problem->set_message(violation.description);
    }
    if (response.problems_size() == 0) {
      response.add_problems()->set_message(std::string(definition.status().message()));
    }
    return response;
  }
  auto directory = context_.directory();
  auto calendars = context_.calendars();
  for (auto& problem :
       workflow::ValidateDefinition(*definition, directory.get(), calendars.get())) {
    *response.add_problems() = std::move(problem);
  }
  response.set_valid(response.problems_size() == 0);
  *response.mutable_definition() = std::move(*definition);
  return response;
}

absl::StatusOr<v1::PublishDefinitionResponse> DefinitionService::PublishDefinition(
    const Caller& caller, const v1::PublishDefinitionRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.RequireAdmin(caller));
  SIGNOFF_ASSIGN_OR_RETURN(v1::WorkflowDefinition definition,
                           DefinitionFromSource(request.source()));
  auto directory = context_.directory();
  auto calendars = context_.calendars();
  auto problems = workflow::ValidateDefinition(definition, directory.get(), calendars.get());
  if (!problems.empty()) {
    return workflow::ProblemsToStatus("the definition", problems, "definition.");
  }
  return documents_.Publish(caller, definition, "", request, request.request_id());
}

absl::StatusOr<v1::GetDefinitionResponse> DefinitionService::GetDefinition(
    const Caller& caller, const v1::GetDefinitionRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  if (request.key().empty()) {
    return workflow::InvalidArgumentWithViolations("no key", {{"key", "is required"}});
  }
  if (request.version() < 0) {
    return workflow::InvalidArgumentWithViolations(
        "bad version", {{"version", "must be 0 (latest) or a published version"}});
  }
  SIGNOFF_ASSIGN_OR_RETURN(auto published, context_.Definition(request.key(), request.version()));
  v1::GetDefinitionResponse response;
  *response.mutable_published() = *published;
  return response;
}

absl::StatusOr<v1::ListDefinitionsResponse> DefinitionService::ListDefinitions(
    const Caller& caller, const v1::ListDefinitionsRequest&) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  SIGNOFF_ASSIGN_OR_RETURN(auto summaries, context_.store().ListDefinitions());
  v1::ListDefinitionsResponse response;
  for (auto& summary : summaries) *response.add_definitions() = std::move(summary);
  return response;
}

absl::StatusOr<FilePublished> DefinitionService::PublishFromFile(
    const v1::WorkflowDefinition& definition, const std::string& origin) {
  auto directory = context_.directory();
  auto calendars = context_.calendars();
  auto problems = workflow::ValidateDefinition(definition, directory.get(), calendars.get());
  if (!problems.empty()) {
    return workflow::ProblemsToStatus("the definition", problems, "definition.");
  }
  return documents_.PublishFromFile(definition, origin);
}

}  // namespace signoff::app
