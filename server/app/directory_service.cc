#include "server/app/directory_service.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/app/admin_events.h"
#include "workflow/directory.h"
#include "workflow/engine.h"
#include "workflow/errors.h"
#include "workflow/roles.h"
#include "workflow/status_macros.h"

namespace signoff::app {

namespace {

bool HasEnabledAdmin(const v1::Organisation& organisation) {
  const workflow::Directory directory(organisation);
  for (const auto& user : organisation.users()) {
    if (!user.disabled() && directory.HoldsRole(user.id(), workflow::kDefaultAdminRole)) {
      return true;
    }
  }
  return false;
}

// What non-admins learn of a disabled user: that the id exists and is
// disabled, so that old tasks and histories naming them still read.
v1::User DisabledUserOutline(const v1::User& user) {
  v1::User outline;
  outline.set_id(user.id());
  outline.set_disabled(true);
  return outline;
}

// The departments and users of `change` that differ from the directory's:
// what merging it in changes.
v1::DirectoryChange ChangedEntries(const workflow::Directory& current,
                                   const v1::Organisation& change) {
  using google::protobuf::util::MessageDifferencer;
  v1::DirectoryChange changed;
  for (const auto& department : change.departments()) {
    const v1::Department* stored = current.FindDepartment(department.id());
    if (stored == nullptr || !MessageDifferencer::Equals(*stored, department)) {
      *changed.add_departments() = department;
    }
  }
  for (const auto& user : change.users()) {
    const v1::User* stored = current.FindUser(user.id());
    if (stored == nullptr || !MessageDifferencer::Equals(*stored, user)) {
      *changed.add_users() = user;
    }
  }
  return changed;
}

const Caller kSignoffd{"", /*system=*/true};

}  // namespace

void DirectoryService::RecordInAdminTrail(storage::Mutation& mutation, const Caller& caller,
                                          v1::DirectoryChange change, AdminRecordCase record_as) {
  v1::AdminEvent& recorded = mutation.admin_events.emplace_back(
      AdminEventOf(caller, context_.Now(), DirectoryTarget(change)));
  *(recorded.*record_as)() = std::move(change);
}

absl::StatusOr<v1::Organisation> DirectoryService::CheckedChange(
    const v1::Organisation& change) const {
  // Held while its organisation is read: a reload may replace it.
  const auto snapshot = context_.directory();
  const v1::Organisation& current = snapshot->organisation();
  v1::Organisation merged = workflow::MergeOrganisation(current, change);
  auto violations = workflow::CheckOrganisation(merged);
  if (HasEnabledAdmin(current) && !HasEnabledAdmin(merged)) {
    violations.push_back({"users", absl::StrCat("the change would leave no enabled holder of ",
                                                workflow::kDefaultAdminRole)});
  }
  if (!violations.empty()) {
    return workflow::InvalidArgumentWithViolations(
        absl::StrCat("the directory change has ", violations.size(),
                     " problem(s); first: ", violations.front().field, ": ",
                     violations.front().description),
        violations);
  }
  return merged;
}

absl::Status DirectoryService::CommitChange(const Caller& caller, const PlainChange& change,
                                            google::protobuf::Message& reply) {
  SIGNOFF_RETURN_IF_ERROR(pipeline_.Run(caller, change, reply));
  return context_.ReloadDirectory();
}

absl::StatusOr<v1::UpsertUsersResponse> DirectoryService::UpsertUsers(
    const Caller& caller, const v1::UpsertUsersRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.RequireAdmin(caller));
  std::lock_guard<std::mutex> changing(change_mutex_);
  v1::Organisation change;
  *change.mutable_users() = request.users();
  SIGNOFF_RETURN_IF_ERROR(CheckedChange(change).status());
  PlainChange commit;
  commit.method = "UpsertUsers";
  commit.request = &request;
  commit.request_id = request.request_id();
  commit.build = [&](google::protobuf::Message& out) -> absl::StatusOr<storage::Mutation> {
    storage::Mutation mutation;
    mutation.users.assign(request.users().begin(), request.users().end());
    v1::DirectoryChange upserted;
    *upserted.mutable_users() = request.users();
    RecordInAdminTrail(mutation, caller, std::move(upserted),
                       &v1::AdminEvent::mutable_users_upserted);
    static_cast<v1::UpsertUsersResponse&>(out).set_upserted(request.users_size());
    return mutation;
  };
  v1::UpsertUsersResponse reply;
  SIGNOFF_RETURN_IF_ERROR(CommitChange(caller, commit, reply));
  return reply;
}

absl::StatusOr<v1::UpsertDepartmentsResponse> DirectoryService::UpsertDepartments(
    const Caller& caller, const v1::UpsertDepartmentsRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.RequireAdmin(caller));
  std::lock_guard<std::mutex> changing(change_mutex_);
  v1::Organisation change;
  *change.mutable_departments() = request.departments();
  SIGNOFF_RETURN_IF_ERROR(CheckedChange(change).status());
  PlainChange commit;
  commit.method = "UpsertDepartments";
  commit.request = &request;
  commit.request_id = request.request_id();
  commit.build = [&](google::protobuf::Message& out) -> absl::StatusOr<storage::Mutation> {
    storage::Mutation mutation;
    mutation.departments.assign(request.departments().begin(), request.departments().end());
    v1::DirectoryChange upserted;
    *upserted.mutable_departments() = request.departments();
    RecordInAdminTrail(mutation, caller, std::move(upserted),
                       &v1::AdminEvent::mutable_departments_upserted);
    static_cast<v1::UpsertDepartmentsResponse&>(out).set_upserted(request.departments_size());
    return mutation;
  };
  v1::UpsertDepartmentsResponse reply;
  SIGNOFF_RETURN_IF_ERROR(CommitChange(caller, commit, reply));
  return reply;
}

absl::Status DirectoryService::SeedOrganisation(const v1::Organisation& organisation) {
  std::lock_guard<std::mutex> changing(change_mutex_);
  // Seeding runs at every start: the trail records what a run changed, and
  // a run that changed nothing records nothing.
  return CommitSeed(organisation, ChangedEntries(*context_.directory(), organisation),
                    &v1::AdminEvent::mutable_directory_seeded);
}

absl::Status DirectoryService::CommitSeed(const v1::Organisation& organisation,
                                          v1::DirectoryChange recorded,
                                          AdminRecordCase record_as) {
  SIGNOFF_RETURN_IF_ERROR(CheckedChange(organisation).status());
  storage::Mutation mutation;
  mutation.departments.assign(organisation.departments().begin(),
                              organisation.departments().end());
  mutation.users.assign(organisation.users().begin(), organisation.users().end());
  if (recorded.departments_size() > 0 || recorded.users_size() > 0) {
    RecordInAdminTrail(mutation, kSignoffd, std::move(recorded), record_as);
  }
  SIGNOFF_RETURN_IF_ERROR(context_.store().Commit(std::move(mutation)).status());
  return context_.ReloadDirectory();
}

absl::Status DirectoryService::GrantAdmin(const std::string& user,
                                          const std::string& department) {
  if (user.empty()) {
    return workflow::InvalidArgumentWithViolations("no user", {{"user", "is required"}});
  }
  std::lock_guard<std::mutex> changing(change_mutex_);
  auto directory = context_.directory();
  v1::User granted;
  if (const v1::User* existing = directory->FindUser(user)) {
    granted = *existing;
  } else {
    granted.set_id(user);
    granted.set_department(department);
  }
  if (granted.service()) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", user, "' is a service account and cannot administer"));
  }
  granted.set_disabled(false);
  if (!directory->HoldsRole(user, workflow::kDefaultAdminRole)) {
    granted.add_roles()->set_role(workflow::kDefaultAdminRole);
  }
  v1::Organisation change;
  *change.add_users() = std::move(granted);
  v1::DirectoryChange recorded;
  *recorded.mutable_users() = change.users();
  return CommitSeed(change, std::move(recorded), &v1::AdminEvent::mutable_admin_granted);
}

bool DirectoryService::SeesDisabledUsers(const Caller& caller) const {
  if (caller.system) return true;
  const auto current = context_.directory();
  return current->HoldsRole(caller.user, workflow::kDefaultAdminRole) ||
         current->HoldsRole(caller.user, workflow::kAuditorRole);
}

absl::StatusOr<v1::GetUserResponse> DirectoryService::GetUser(const Caller& caller,
                                                             const v1::GetUserRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  auto current = context_.directory();
  const v1::User* user = current->FindUser(request.id());
  if (user == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no user '", workflow::ShortForMessage(request.id()), "'"));
  }
  v1::GetUserResponse response;
  if (user->disabled() && !SeesDisabledUsers(caller)) {
    *response.mutable_user() = DisabledUserOutline(*user);
    return response;
  }
  *response.mutable_user() = *user;
  if (const v1::Department* department = current->FindDepartment(user->department())) {
    *response.mutable_department() = *department;
  }
  for (const auto& manager : current->ManagerChain(user->id())) {
    response.add_manager_chain(manager);
  }
  return response;
}

absl::StatusOr<v1::ListUsersResponse> DirectoryService::ListUsers(
    const Caller& caller, const v1::ListUsersRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  storage::UserFilter filter;
  filter.department = request.department();
  filter.role = request.role();
  filter.page_size = request.page_size() > 0 ? request.page_size() : 100;
  filter.page_token = request.page_token();
  SIGNOFF_ASSIGN_OR_RETURN(auto page, context_.store().ListUsers(filter));
  v1::ListUsersResponse response;
  const bool sees_disabled = SeesDisabledUsers(caller);
  // A filtered list would tell which department or role a disabled user
  // had: there they are left out, not outlined.
  const bool filtered = !filter.department.empty() || !filter.role.empty();
  for (auto& user : page.items) {
    if (user.disabled() && !sees_disabled) {
      if (!filtered) *response.add_users() = DisabledUserOutline(user);
      continue;
    }
    *response.add_users() = std::move(user);
  }
  response.set_next_page_token(page.next_page_token);
  return response;
}

}  // namespace signoff::app
