// DirectoryService's standing delegations (out of office): who sets them,
// what makes one valid, and the admin trail's record of each change.

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/app/admin_events.h"
#include "server/app/directory_service.h"
#include "workflow/errors.h"
#include "workflow/roles.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::app {

namespace {

std::string NewDelegationId(absl::Time now) {
  static thread_local absl::BitGen random;
  return absl::StrFormat("dg%013x%06x", absl::ToUnixMicros(now),
                         absl::Uniform<uint32_t>(random, 0, 1u << 24));
}

const v1::Delegation* FindDelegation(const workflow::Directory& directory,
                                     const std::string& id) {
  for (const auto& delegation : directory.delegations()) {
    if (delegation.id() == id) return &delegation;
  }
  return nullptr;
}

void CheckPerson(const workflow::Directory& directory, const std::string& field,
                 const std::string& id, std::vector<workflow::FieldViolation>& violations) {
  if (id.empty()) {
    violations.push_back({field, "is required"});
    return;
  }
  const v1::User* user = directory.FindUser(id);
  if (user == nullptr) {
    violations.push_back({field, absl::StrCat("unknown user '", workflow::ShortForMessage(id), "'")});
  } else if (user->disabled()) {
    violations.push_back({field, absl::StrCat("user '", id, "' is disabled")});
  } else if (user->service()) {
    violations.push_back({field, absl::StrCat("'", id, "' is a service account")});
  }
}

std::vector<workflow::FieldViolation> ProblemsOf(const v1::Delegation& delegation,
                                                 const workflow::Directory& directory) {
  std::vector<workflow::FieldViolation> violations;
  CheckPerson(directory, "delegation.delegator", delegation.delegator(), violations);
  CheckPerson(directory, "delegation.delegate", delegation.delegate(), violations);
  if (!delegation.delegate().empty() && delegation.delegate() == delegation.delegator()) {
    violations.push_back({"delegation.delegate", "must be someone other than the delegator"});
  }
  if (!delegation.has_starts_at()) violations.push_back({"delegation.starts_at", "is required"});
  if (!delegation.has_ends_at()) {
    violations.push_back({"delegation.ends_at", "is required"});
  } else if (delegation.has_starts_at() &&
             workflow::FromTimestamp(delegation.ends_at()) <=
                 workflow::FromTimestamp(delegation.starts_at())) {
    violations.push_back({"delegation.ends_at", "must be after starts_at"});
  }
  for (int i = 0; i < delegation.definition_keys_size(); ++i) {
    if (delegation.definition_keys(i).empty()) {
      violations.push_back({absl::StrCat("delegation.definition_keys[", i, "]"),
                            "must not be empty"});
    }
  }
  return violations;
}

}  // namespace

absl::Status DirectoryService::MayManageDelegationsOf(const Caller& caller,
                                                      const std::string& delegator) const {
  if (!caller.system && caller.user == delegator) return absl::OkStatus();
  if (context_.RequireAdmin(caller).ok()) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "only ", workflow::ShortForMessage(delegator), " or a ", workflow::kDefaultAdminRole,
      " may change their delegations"));
}

absl::StatusOr<v1::SetDelegationResponse> DirectoryService::SetDelegation(
    const Caller& caller, const v1::SetDelegationRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  const auto directory = context_.directory();
  v1::Delegation delegation = request.delegation();
  if (delegation.delegator().empty()) delegation.set_delegator(caller.user);
  SIGNOFF_RETURN_IF_ERROR(MayManageDelegationsOf(caller, delegation.delegator()));
  if (!delegation.id().empty()) {
    const v1::Delegation* replaced = FindDelegation(*directory, delegation.id());
    if (replaced == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "no delegation '", workflow::ShortForMessage(delegation.id()), "'"));
    }
    SIGNOFF_RETURN_IF_ERROR(MayManageDelegationsOf(caller, replaced->delegator()));
  }
  auto violations = ProblemsOf(delegation, *directory);
  if (!violations.empty()) {
    return workflow::InvalidArgumentWithViolations(
        absl::StrCat("the delegation has ", violations.size(), " problem(s); first: ",
                     violations.front().field, ": ", violations.front().description),
        violations);
  }
  const absl::Time now = context_.Now();
  if (delegation.id().empty()) delegation.set_id(NewDelegationId(now));
  delegation.set_created_by(caller.system ? "system" : caller.user);
  *delegation.mutable_created_at() = workflow::ToTimestamp(now);
  // One change at a time, so that two overlapping delegations set at once
  // cannot both pass the check below.
  std::lock_guard<std::mutex> changing(change_mutex_);
  PlainChange commit;
  commit.method = "SetDelegation";
  commit.request = &request;
  commit.request_id = request.request_id();
  // Checked once the request id is known to be new, so that a retry of a
  // delegation that went through gets its first answer, not a conflict
  // with itself.
  commit.build = [&](google::protobuf::Message& out) -> absl::StatusOr<storage::Mutation> {
    if (const v1::Delegation* conflict =
            workflow::ConflictingDelegation(context_.directory()->delegations(), delegation)) {
      return absl::FailedPreconditionError(
          absl::StrCat("delegation ", conflict->id(), " of ", delegation.delegator(), " to ",
                       conflict->delegate(), " already runs from ",
                       workflow::FormatTimestamp(conflict->starts_at()), " until ",
                       workflow::FormatTimestamp(conflict->ends_at()),
                       " for the same definitions; change or remove it first"));
    }
    storage::Mutation mutation;
    mutation.delegations.push_back(delegation);
    *mutation.admin_events.emplace_back(AdminEventOf(caller, now, delegation.delegator()))
         .mutable_delegation_set() = delegation;
    *static_cast<v1::SetDelegationResponse&>(out).mutable_delegation() = delegation;
    return mutation;
  };
  v1::SetDelegationResponse reply;
  SIGNOFF_RETURN_IF_ERROR(CommitChange(caller, commit, reply));
  return reply;
}

absl::StatusOr<v1::ListDelegationsResponse> DirectoryService::ListDelegations(
    const Caller& caller, const v1::ListDelegationsRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  const auto directory = context_.directory();
  const bool sees_all = caller.system ||
                        directory->HoldsRole(caller.user, workflow::kDefaultAdminRole) ||
                        directory->HoldsRole(caller.user, workflow::kAuditorRole);
  v1::ListDelegationsResponse response;
  for (const auto& delegation : directory->delegations()) {
    if (!request.delegator().empty() && delegation.delegator() != request.delegator()) continue;
    if (!request.delegate().empty() && delegation.delegate() != request.delegate()) continue;
    if (!sees_all && delegation.delegator() != caller.user &&
        delegation.delegate() != caller.user) {
      continue;
    }
    *response.add_delegations() = delegation;
  }
  return response;
}

absl::StatusOr<v1::RemoveDelegationResponse> DirectoryService::RemoveDelegation(
    const Caller& caller, const v1::RemoveDelegationRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  if (request.id().empty()) {
    return workflow::InvalidArgumentWithViolations("no delegation id given",
                                                   {{"id", "is required"}});
  }
  const absl::Time now = context_.Now();
  PlainChange commit;
  commit.method = "RemoveDelegation";
  commit.request = &request;
  commit.request_id = request.request_id();
  // Looked up once the request id is known to be new, so that a retry of
  // a removal that went through gets its first answer, not NOT_FOUND.
  commit.build = [&](google::protobuf::Message& out) -> absl::StatusOr<storage::Mutation> {
    const auto directory = context_.directory();
    const v1::Delegation* found = FindDelegation(*directory, request.id());
    if (found == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("no delegation '", workflow::ShortForMessage(request.id()), "'"));
    }
    SIGNOFF_RETURN_IF_ERROR(MayManageDelegationsOf(caller, found->delegator()));
    storage::Mutation mutation;
    mutation.delegations_removed.push_back(found->id());
    *mutation.admin_events.emplace_back(AdminEventOf(caller, now, found->delegator()))
         .mutable_delegation_removed() = *found;
    *static_cast<v1::RemoveDelegationResponse&>(out).mutable_removed() = *found;
    return mutation;
  };
  v1::RemoveDelegationResponse reply;
  SIGNOFF_RETURN_IF_ERROR(CommitChange(caller, commit, reply));
  return reply;
}

}  // namespace signoff::app
