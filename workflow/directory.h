#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "signoff/v1/directory.pb.h"
#include "signoff/v1/instance.pb.h"
#include "workflow/errors.h"

namespace signoff::workflow {

// An immutable, indexed view of the organisation that the engine resolves
// approvers against. Built once per directory change and shared.
class Directory {
 public:
  explicit Directory(signoff::v1::Organisation organisation,
                     std::vector<signoff::v1::Delegation> delegations = {});
  // Holds pointers into its own organisation, so it is never copied.
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;

  const signoff::v1::User* FindUser(const std::string& id) const;
  const signoff::v1::Department* FindDepartment(const std::string& id) const;

  // Enabled holders of `role` in `department`, sorted; an empty department
  // means any department.
  std::vector<std::string> HoldersOf(const std::string& role,
                                     const std::string& department) const;
  bool HoldsRole(const std::string& user, const std::string& role) const;
  // Whether an enabled user holds `role` with a grant whose definitions
  // include `definition_key`, or list none (every definition).
  bool HoldsRoleFor(const std::string& user, const std::string& role,
                    const std::string& definition_key) const;
  // The definition keys `user`'s grants of `role` name; `all` is set when
  // one grant covers every definition.
  struct RoleScope {
    bool all = false;
    std::set<std::string> definitions;
    bool empty() const { return !all && definitions.empty(); }
  };
  RoleScope ScopeOf(const std::string& user, const std::string& role) const;
  bool InGroup(const std::string& user,
               const signoff::v1::CandidateGroup& group) const;
  // The candidate groups whose tasks appear in this user's inbox.
  std::vector<signoff::v1::CandidateGroup> GroupsOf(const std::string& user) const;

  // Managers from the direct one upwards; stops at a cycle.
  std::vector<std::string> ManagerChain(const std::string& user) const;

  const signoff::v1::Organisation& organisation() const { return organisation_; }

  // The standing delegation that sends `user`'s new tasks of
  // `definition_key` to someone else at `now` (starts_at <= now < ends_at),
  // or null. One naming the definition wins over one covering every
  // definition, then the one that started last.
  const signoff::v1::Delegation* DelegationFor(const std::string& user,
                                               const std::string& definition_key,
                                               absl::Time now) const;
  const std::vector<signoff::v1::Delegation>& delegations() const { return delegations_; }

 private:
  signoff::v1::Organisation organisation_;
  std::vector<signoff::v1::Delegation> delegations_;
  std::map<std::string, const signoff::v1::User*> users_;
  std::map<std::string, const signoff::v1::Department*> departments_;
  // (role, department) -> holders
  std::map<std::pair<std::string, std::string>, std::set<std::string>> holders_;
};

// Problems with an organisation as a whole: missing ids, references to
// unknown departments or users, manager cycles. One violation per problem.
std::vector<FieldViolation> CheckOrganisation(
    const signoff::v1::Organisation& organisation);

// `base` with `change`'s departments and users replacing those of the same
// id.
signoff::v1::Organisation MergeOrganisation(
    const signoff::v1::Organisation& base,
    const signoff::v1::Organisation& change);

// The delegation among `delegations`, other than `candidate` itself (the
// same id), that would leave a new task's delegate ambiguous next to it:
// the same delegator, the same scope (a definition both name, or both
// covering every definition) and time ranges that share an instant.
// Ranges exclude their end, so one ending when the other starts does not
// overlap. A delegation naming definitions never conflicts with one
// covering every definition: the named one wins (DelegationFor).
const signoff::v1::Delegation* ConflictingDelegation(
    const std::vector<signoff::v1::Delegation>& delegations,
    const signoff::v1::Delegation& candidate);

}  // namespace signoff::workflow
