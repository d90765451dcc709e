// Definitions and the directory: the administrative half of Core.
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/core.h"
#include "workflow/errors.h"
#include "workflow/problems.h"
#include "workflow/status_macros.h"
#include "workflow/validation.h"
#include "workflow/yaml_mapping.h"

namespace signoff::server {

namespace {

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  google::protobuf::Timestamp stamp;
  const int64_t micros = absl::ToUnixMicros(time);
  stamp.set_seconds(micros / 1000000);
  stamp.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return stamp;
}

}  // namespace

absl::StatusOr<v1::WorkflowDefinition> Core::DefinitionFromSource(
    const v1::DefinitionSource& source) const {
  switch (source.source_case()) {
    case v1::DefinitionSource::kDefinition:
      return source.definition();
    case v1::DefinitionSource::kYaml:
      return workflow::ParseDefinitionYaml(source.yaml());
    default:
      return workflow::InvalidArgumentWithViolations(
          "no definition given", {{"source", "set definition or yaml"}});
  }
}

absl::StatusOr<v1::ValidateDefinitionResponse> Core::ValidateDefinition(
    const Caller& caller, const v1::ValidateDefinitionRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
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
  auto current_directory = directory();
  auto current_calendars = calendars();
  for (auto& problem : workflow::ValidateDefinition(*definition, current_directory.get(),
                                                    current_calendars.get())) {
    *response.add_problems() = std::move(problem);
  }
  response.set_valid(response.problems_size() == 0);
  *response.mutable_definition() = std::move(*definition);
  return response;
}

absl::StatusOr<v1::PublishDefinitionResponse> Core::PublishDefinition(
    const Caller& caller, const v1::PublishDefinitionRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  RETURN_IF_ERROR(RequireAdmin(caller));
  ASSIGN_OR_RETURN(v1::WorkflowDefinition definition, DefinitionFromSource(request.source()));
  auto current_directory = directory();
  auto current_calendars = calendars();
  auto problems = workflow::ValidateDefinition(definition, current_directory.get(),
                                               current_calendars.get());
  if (!problems.empty()) {
    return workflow::ProblemsToStatus("the definition", problems, "definition.");
  }
  auto attempt = [&]() -> absl::StatusOr<std::pair<storage::Mutation, v1::PublishDefinitionResponse>> {
    auto latest = store_->GetDefinition(definition.key(), 0);
    if (!latest.ok() && !absl::IsNotFound(latest.status())) return latest.status();
    v1::PublishedDefinition published;
    published.set_key(definition.key());
    // A concurrent publish of the same version makes the commit ABORTED,
    // and the attempt is retried with the next number.
    published.set_version(latest.ok() ? latest->version() + 1 : 1);
    *published.mutable_definition() = definition;
    *published.mutable_published_at() = ToTimestamp(clock_());
    published.set_published_by(caller.system ? workflow::kSystemActor : caller.user);
    storage::Mutation mutation;
    mutation.definition = published;
    v1::PublishDefinitionResponse response;
    *response.mutable_published() = std::move(published);
    return std::make_pair(std::move(mutation), std::move(response));
  };
  return Idempotent<v1::PublishDefinitionResponse>(caller, "PublishDefinition", request,
                                                   request.request_id(), attempt);
}

absl::StatusOr<v1::GetDefinitionResponse> Core::GetDefinition(
    const Caller& caller, const v1::GetDefinitionRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  if (request.key().empty()) {
    return workflow::InvalidArgumentWithViolations("no key", {{"key", "is required"}});
  }
  if (request.version() < 0) {
    return workflow::InvalidArgumentWithViolations(
        "bad version", {{"version", "must be 0 (latest) or a published version"}});
  }
  ASSIGN_OR_RETURN(auto published, Definition(request.key(), request.version()));
  v1::GetDefinitionResponse response;
  *response.mutable_published() = *published;
  return response;
}

absl::StatusOr<v1::ListDefinitionsResponse> Core::ListDefinitions(
    const Caller& caller, const v1::ListDefinitionsRequest&) {
  RETURN_IF_ERROR(Authenticate(caller));
  ASSIGN_OR_RETURN(auto summaries, store_->ListDefinitions());
  v1::ListDefinitionsResponse response;
  for (auto& summary : summaries) *response.add_definitions() = std::move(summary);
  return response;
}

absl::StatusOr<int32_t> Core::PublishIfChanged(const v1::WorkflowDefinition& definition) {
  auto latest = store_->GetDefinition(definition.key(), 0);
  if (latest.ok() &&
      google::protobuf::util::MessageDifferencer::Equals(latest->definition(), definition)) {
    return latest->version();
  }
  if (!latest.ok() && !absl::IsNotFound(latest.status())) return latest.status();
  v1::PublishDefinitionRequest request;
  request.set_request_id(absl::StrCat(kServiceRequestPrefix, "seed-", definition.key(), "-",
                                      latest.ok() ? latest->version() + 1 : 1));
  *request.mutable_source()->mutable_definition() = definition;
  ASSIGN_OR_RETURN(auto response, PublishDefinition(Caller{"", true}, request));
  return response.published().version();
}

// ------------------------------------------------------------ directory

absl::StatusOr<v1::Organisation> Core::CheckedDirectoryChange(
    const v1::Organisation& change) const {
  v1::Organisation merged = workflow::MergeOrganisation(directory()->organisation(), change);
  auto violations = workflow::CheckOrganisation(merged);
  if (!violations.empty()) {
    return workflow::InvalidArgumentWithViolations(
        absl::StrCat("the directory change has ", violations.size(),
                     " problem(s); first: ", violations.front().field, ": ",
                     violations.front().description),
        violations);
  }
  return merged;
}

absl::StatusOr<v1::UpsertUsersResponse> Core::UpsertUsers(const Caller& caller,
                                                          const v1::UpsertUsersRequest& request) {
  RETURN_IF_ERROR(RequireAdmin(caller));
  if (!caller.system && directory()->organisation().users_size() > 0) {
    RETURN_IF_ERROR(Authenticate(caller));
  }
  v1::Organisation change;
  *change.mutable_users() = request.users();
  RETURN_IF_ERROR(CheckedDirectoryChange(change).status());
  auto attempt = [&]() -> absl::StatusOr<std::pair<storage::Mutation, v1::UpsertUsersResponse>> {
    storage::Mutation mutation;
    mutation.users.assign(request.users().begin(), request.users().end());
    v1::UpsertUsersResponse response;
    response.set_upserted(request.users_size());
    return std::make_pair(std::move(mutation), std::move(response));
  };
  ASSIGN_OR_RETURN(auto response,
                   Idempotent<v1::UpsertUsersResponse>(caller, "UpsertUsers", request,
                                                       request.request_id(), attempt));
  RETURN_IF_ERROR(ReloadDirectory());
  return response;
}

absl::StatusOr<v1::UpsertDepartmentsResponse> Core::UpsertDepartments(
    const Caller& caller, const v1::UpsertDepartmentsRequest& request) {
  RETURN_IF_ERROR(RequireAdmin(caller));
  if (!caller.system && directory()->organisation().users_size() > 0) {
    RETURN_IF_ERROR(Authenticate(caller));
  }
  v1::Organisation change;
  *change.mutable_departments() = request.departments();
  RETURN_IF_ERROR(CheckedDirectoryChange(change).status());
  auto attempt =
      [&]() -> absl::StatusOr<std::pair<storage::Mutation, v1::UpsertDepartmentsResponse>> {
    storage::Mutation mutation;
    mutation.departments.assign(request.departments().begin(), request.departments().end());
    v1::UpsertDepartmentsResponse response;
    response.set_upserted(request.departments_size());
    return std::make_pair(std::move(mutation), std::move(response));
  };
  ASSIGN_OR_RETURN(auto response,
                   Idempotent<v1::UpsertDepartmentsResponse>(caller, "UpsertDepartments", request,
                                                             request.request_id(), attempt));
  RETURN_IF_ERROR(ReloadDirectory());
  return response;
}

absl::Status Core::SeedOrganisation(const v1::Organisation& organisation) {
  RETURN_IF_ERROR(CheckedDirectoryChange(organisation).status());
  storage::Mutation mutation;
  mutation.departments.assign(organisation.departments().begin(),
                              organisation.departments().end());
  mutation.users.assign(organisation.users().begin(), organisation.users().end());
  RETURN_IF_ERROR(store_->Commit(std::move(mutation)).status());
  return ReloadDirectory();
}

absl::StatusOr<v1::GetUserResponse> Core::GetUser(const Caller& caller,
                                                  const v1::GetUserRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  auto current = directory();
  const v1::User* user = current->FindUser(request.id());
  if (user == nullptr) return absl::NotFoundError(absl::StrCat("no user '", request.id(), "'"));
  v1::GetUserResponse response;
  *response.mutable_user() = *user;
  if (const v1::Department* department = current->FindDepartment(user->department())) {
    *response.mutable_department() = *department;
  }
  for (const auto& manager : current->ManagerChain(user->id())) {
    response.add_manager_chain(manager);
  }
  return response;
}

absl::StatusOr<v1::ListUsersResponse> Core::ListUsers(const Caller& caller,
                                                      const v1::ListUsersRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  storage::UserFilter filter;
  filter.department = request.department();
  filter.role = request.role();
  filter.page_size = request.page_size() > 0 ? request.page_size() : 100;
  filter.page_token = request.page_token();
  ASSIGN_OR_RETURN(auto page, store_->ListUsers(filter));
  v1::ListUsersResponse response;
  for (auto& user : page.items) *response.add_users() = std::move(user);
  response.set_next_page_token(page.next_page_token);
  return response;
}

}  // namespace signoff::server
