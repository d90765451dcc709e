#include "workflow/directory.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "workflow/time_util.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;

Directory::Directory(v1::Organisation organisation, std::vector<v1::Delegation> delegations)
    : organisation_(std::move(organisation)), delegations_(std::move(delegations)) {
  for (const auto& department : organisation_.departments()) {
    departments_[department.id()] = &department;
  }
  for (const auto& user : organisation_.users()) {
    users_[user.id()] = &user;
    if (user.disabled()) continue;
    for (const auto& grant : user.roles()) {
      const std::string& department =
          grant.department().empty() ? user.department() : grant.department();
      holders_[{grant.role(), department}].insert(user.id());
      holders_[{grant.role(), ""}].insert(user.id());
    }
  }
}

const v1::User* Directory::FindUser(const std::string& id) const {
  auto it = users_.find(id);
  return it == users_.end() ? nullptr : it->second;
}

const v1::Department* Directory::FindDepartment(const std::string& id) const {
  auto it = departments_.find(id);
  return it == departments_.end() ? nullptr : it->second;
}

std::vector<std::string> Directory::HoldersOf(const std::string& role,
                                              const std::string& department) const {
  auto it = holders_.find({role, department});
  if (it == holders_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

bool Directory::HoldsRole(const std::string& user, const std::string& role) const {
  auto it = holders_.find({role, ""});
  return it != holders_.end() && it->second.count(user) > 0;
}

Directory::RoleScope Directory::ScopeOf(const std::string& user, const std::string& role) const {
  RoleScope scope;
  const v1::User* found = FindUser(user);
  if (found == nullptr || found->disabled()) return scope;
  for (const auto& grant : found->roles()) {
    if (grant.role() != role) continue;
    if (grant.definitions().empty()) scope.all = true;
    scope.definitions.insert(grant.definitions().begin(), grant.definitions().end());
  }
  return scope;
}

bool Directory::HoldsRoleFor(const std::string& user, const std::string& role,
                             const std::string& definition_key) const {
  const RoleScope scope = ScopeOf(user, role);
  return scope.all || scope.definitions.count(definition_key) > 0;
}

bool Directory::InGroup(const std::string& user,
                        const v1::CandidateGroup& group) const {
  auto it = holders_.find({group.role(), group.department()});
  return it != holders_.end() && it->second.count(user) > 0;
}

std::vector<v1::CandidateGroup> Directory::GroupsOf(const std::string& user) const {
  std::vector<v1::CandidateGroup> groups;
  const v1::User* found = FindUser(user);
  if (found == nullptr || found->disabled()) return groups;
  for (const auto& grant : found->roles()) {
    v1::CandidateGroup in_department;
    in_department.set_role(grant.role());
    in_department.set_department(grant.department().empty() ? found->department()
                                                            : grant.department());
    groups.push_back(in_department);
    v1::CandidateGroup anywhere;
    anywhere.set_role(grant.role());
    groups.push_back(anywhere);
  }
  return groups;
}

std::vector<std::string> Directory::ManagerChain(const std::string& user) const {
  std::vector<std::string> chain;
  std::set<std::string> seen = {user};
  const v1::User* current = FindUser(user);
  while (current != nullptr && !current->manager().empty() &&
         seen.insert(current->manager()).second) {
    chain.push_back(current->manager());
    current = FindUser(current->manager());
  }
  return chain;
}

namespace {

bool Covers(const v1::Delegation& delegation, const std::string& definition_key) {
  const auto& keys = delegation.definition_keys();
  return keys.empty() || std::find(keys.begin(), keys.end(), definition_key) != keys.end();
}

// Whether the two name a definition in common, or both cover every one.
bool SameScope(const v1::Delegation& a, const v1::Delegation& b) {
  if (a.definition_keys().empty() || b.definition_keys().empty()) {
    return a.definition_keys().empty() && b.definition_keys().empty();
  }
  for (const auto& key : a.definition_keys()) {
    if (Covers(b, key)) return true;
  }
  return false;
}

bool RunsAt(const v1::Delegation& delegation, absl::Time now) {
  return FromTimestamp(delegation.starts_at()) <= now && now < FromTimestamp(delegation.ends_at());
}

// Whether `a` is preferred to `b` for the same task.
bool Narrower(const v1::Delegation& a, const v1::Delegation& b) {
  const bool a_named = !a.definition_keys().empty();
  const bool b_named = !b.definition_keys().empty();
  if (a_named != b_named) return a_named;
  const absl::Time a_start = FromTimestamp(a.starts_at());
  const absl::Time b_start = FromTimestamp(b.starts_at());
  if (a_start != b_start) return a_start > b_start;
  return a.id() < b.id();
}

}  // namespace

const v1::Delegation* ConflictingDelegation(const std::vector<v1::Delegation>& delegations,
                                            const v1::Delegation& candidate) {
  const absl::Time starts = FromTimestamp(candidate.starts_at());
  const absl::Time ends = FromTimestamp(candidate.ends_at());
  for (const auto& other : delegations) {
    if (other.id() == candidate.id() || other.delegator() != candidate.delegator() ||
        !SameScope(other, candidate)) {
      continue;
    }
    // Both run from starts_at (included) until ends_at (excluded).
    if (starts < FromTimestamp(other.ends_at()) && FromTimestamp(other.starts_at()) < ends) {
      return &other;
    }
  }
  return nullptr;
}

const v1::Delegation* Directory::DelegationFor(const std::string& user,
                                               const std::string& definition_key,
                                               absl::Time now) const {
  const v1::Delegation* chosen = nullptr;
  for (const auto& delegation : delegations_) {
    if (delegation.delegator() != user || !Covers(delegation, definition_key) ||
        !RunsAt(delegation, now)) {
      continue;
    }
    if (chosen == nullptr || Narrower(delegation, *chosen)) chosen = &delegation;
  }
  return chosen;
}

namespace {

// Paths name elements by id, so that they stay meaningful after a change
// is merged into the whole organisation.
std::string ElementPath(const char* list, int index, const std::string& id) {
  return id.empty() ? absl::StrCat(list, "[", index, "]") : absl::StrCat(list, "[", id, "]");
}

void CheckDepartments(const v1::Organisation& org,
                      const std::set<std::string>& department_ids,
                      const std::set<std::string>& user_ids,
                      std::vector<FieldViolation>& out) {
  for (int i = 0; i < org.departments_size(); ++i) {
    const auto& department = org.departments(i);
    const std::string path = ElementPath("departments", i, department.id());
    if (department.id().empty()) out.push_back({path + ".id", "must not be empty"});
    if (!department.parent().empty() && !department_ids.count(department.parent())) {
      out.push_back({path + ".parent",
                     absl::StrCat("unknown department '", department.parent(), "'")});
    }
    if (!department.head().empty() && !user_ids.count(department.head())) {
      out.push_back({path + ".head",
                     absl::StrCat("unknown user '", department.head(), "'")});
    }
  }
}

// A department whose parents lead back to itself would make every
// "head of the department above" rule loop. Each department is walked once.
void CheckDepartmentCycles(const v1::Organisation& org, std::vector<FieldViolation>& out) {
  std::map<std::string, std::string> parent_of;
  for (const auto& department : org.departments()) parent_of[department.id()] = department.parent();
  enum Mark { kUnseen, kOnPath, kDone };
  std::map<std::string, Mark> marks;
  std::set<std::string> in_cycle;
  for (const auto& [id, unused] : parent_of) {
    std::vector<std::string> path;
    std::string at = id;
    while (!at.empty() && parent_of.count(at) && marks[at] == kUnseen) {
      marks[at] = kOnPath;
      path.push_back(at);
      at = parent_of[at];
    }
    if (!at.empty() && marks[at] == kOnPath) {
      // Everything on the path from `at` onwards is the loop.
      for (auto it = std::find(path.begin(), path.end(), at); it != path.end(); ++it) {
        in_cycle.insert(*it);
      }
    }
    for (const auto& visited : path) marks[visited] = kDone;
  }
  for (int i = 0; i < org.departments_size(); ++i) {
    if (in_cycle.count(org.departments(i).id())) {
      out.push_back({ElementPath("departments", i, org.departments(i).id()) + ".parent",
                     "the parent chain leads back to this department"});
    }
  }
}

void CheckUsers(const v1::Organisation& org,
                const std::set<std::string>& department_ids,
                const std::set<std::string>& user_ids,
                std::vector<FieldViolation>& out) {
  Directory directory(org);
  for (int i = 0; i < org.users_size(); ++i) {
    const auto& user = org.users(i);
    const std::string path = ElementPath("users", i, user.id());
    if (user.id().empty()) out.push_back({path + ".id", "must not be empty"});
    if (!user.department().empty() && !department_ids.count(user.department())) {
      out.push_back({path + ".department",
                     absl::StrCat("unknown department '", user.department(), "'")});
    }
    if (!user.manager().empty() && !user_ids.count(user.manager())) {
      out.push_back({path + ".manager",
                     absl::StrCat("unknown user '", user.manager(), "'")});
    }
    if (user.manager() == user.id() && !user.id().empty()) {
      out.push_back({path + ".manager", "a user cannot manage themselves"});
    }
    for (int r = 0; r < user.roles_size(); ++r) {
      const auto& grant = user.roles(r);
      const std::string role_path = absl::StrCat(path, ".roles[", r, "]");
      if (grant.role().empty()) out.push_back({role_path + ".role", "must not be empty"});
      if (!grant.department().empty() && !department_ids.count(grant.department())) {
        out.push_back({role_path + ".department",
                       absl::StrCat("unknown department '", grant.department(), "'")});
      }
    }
    const auto chain = directory.ManagerChain(user.id());
    const v1::User* top = chain.empty() ? nullptr : directory.FindUser(chain.back());
    if (top != nullptr && !top->manager().empty() &&
        directory.FindUser(top->manager()) != nullptr) {
      out.push_back({path + ".manager", "the manager chain forms a cycle"});
    }
  }
}

}  // namespace

std::vector<FieldViolation> CheckOrganisation(const v1::Organisation& org) {
  std::set<std::string> department_ids;
  std::set<std::string> user_ids;
  std::vector<FieldViolation> out;
  for (int i = 0; i < org.departments_size(); ++i) {
    if (!department_ids.insert(org.departments(i).id()).second) {
      out.push_back({absl::StrCat("departments[", i, "].id"), "duplicate id"});
    }
  }
  for (int i = 0; i < org.users_size(); ++i) {
    if (!user_ids.insert(org.users(i).id()).second) {
      out.push_back({absl::StrCat("users[", i, "].id"), "duplicate id"});
    }
  }
  CheckDepartments(org, department_ids, user_ids, out);
  CheckDepartmentCycles(org, out);
  CheckUsers(org, department_ids, user_ids, out);
  return out;
}

v1::Organisation MergeOrganisation(const v1::Organisation& base,
                                   const v1::Organisation& change) {
  std::map<std::string, v1::Department> departments;
  std::map<std::string, v1::User> users;
  for (const auto& d : base.departments()) departments[d.id()] = d;
  for (const auto& d : change.departments()) departments[d.id()] = d;
  for (const auto& u : base.users()) users[u.id()] = u;
  for (const auto& u : change.users()) users[u.id()] = u;
  v1::Organisation merged;
  for (auto& [id, d] : departments) *merged.add_departments() = std::move(d);
  for (auto& [id, u] : users) *merged.add_users() = std::move(u);
  return merged;
}

}  // namespace signoff::workflow
