#pragma once

#include <mutex>

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "server/app/command_pipeline.h"
#include "signoff/v1/service.pb.h"

namespace signoff::app {

// DirectoryService: users and departments. Changes need an administrator,
// always: the first one comes from the organisation file or
// `signoffd admin`, never from an anonymous call.
class DirectoryService {
 public:
  DirectoryService(AppContext& context, CommandPipeline& pipeline)
      : context_(context), pipeline_(pipeline) {}

  absl::StatusOr<v1::UpsertUsersResponse> UpsertUsers(const Caller& caller,
                                                      const v1::UpsertUsersRequest& request);
  absl::StatusOr<v1::UpsertDepartmentsResponse> UpsertDepartments(
      const Caller& caller, const v1::UpsertDepartmentsRequest& request);
  absl::StatusOr<v1::GetUserResponse> GetUser(const Caller& caller,
                                              const v1::GetUserRequest& request);
  absl::StatusOr<v1::ListUsersResponse> ListUsers(const Caller& caller,
                                                  const v1::ListUsersRequest& request);

  // Standing delegations (delegations.cc).
  absl::StatusOr<v1::SetDelegationResponse> SetDelegation(
      const Caller& caller, const v1::SetDelegationRequest& request);
  absl::StatusOr<v1::ListDelegationsResponse> ListDelegations(
      const Caller& caller, const v1::ListDelegationsRequest& request);
  absl::StatusOr<v1::RemoveDelegationResponse> RemoveDelegation(
      const Caller& caller, const v1::RemoveDelegationRequest& request);

  // Start-up seeding and `signoffd admin`: merges an organisation in as
  // signoffd itself.
  absl::Status SeedOrganisation(const v1::Organisation& organisation);

  // `signoffd admin`: makes `user` an enabled administrator, creating the
  // user (in `department`, which may be empty) when there is none. The way
  // to the first administrator of an empty directory.
  absl::Status GrantAdmin(const std::string& user, const std::string& department);

 private:
  // PERMISSION_DENIED unless the caller is `delegator` or a workflow admin.
  absl::Status MayManageDelegationsOf(const Caller& caller, const std::string& delegator) const;
  // Workflow admins and auditors see disabled users in full.
  bool SeesDisabledUsers(const Caller& caller) const;
  // The directory after `change`, or INVALID_ARGUMENT listing what would
  // break: unknown references, cycles, or no enabled administrator left.
  absl::StatusOr<v1::Organisation> CheckedChange(const v1::Organisation& change) const;
  absl::Status CommitChange(const Caller& caller, const PlainChange& change,
                            google::protobuf::Message& reply);
  // Which of an admin event's bodies records a directory change.
  using AdminRecordCase = v1::DirectoryChange* (v1::AdminEvent::*)();
  // Adds to `mutation` the admin event by `caller` that records `change`
  // as `record_as`.
  void RecordInAdminTrail(storage::Mutation& mutation, const Caller& caller,
                          v1::DirectoryChange change, AdminRecordCase record_as);
  // Checks and commits a change as signoffd itself, recording `recorded`
  // as `record_as` unless it is empty; change_mutex_ held.
  absl::Status CommitSeed(const v1::Organisation& organisation, v1::DirectoryChange recorded,
                          AdminRecordCase record_as);

  AppContext& context_;
  CommandPipeline& pipeline_;
  // Directory changes are checked against the directory they change, so
  // one is checked, committed and reloaded before the next is checked: two
  // at once could each keep an administrator the other removes.
  std::mutex change_mutex_;
};

}  // namespace signoff::app
