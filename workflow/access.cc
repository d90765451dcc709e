#include "workflow/access.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "workflow/engine.h"
#include "workflow/roles.h"

namespace signoff::workflow {
namespace {

void AddUser(std::vector<AccessGrant>& grants, const std::string& user, AccessKind kind) {
  if (!user.empty()) grants.push_back({UserPrincipal(user), kind});
}

void AddTaskParties(std::vector<AccessGrant>& grants, const v1::Task& task) {
  AddUser(grants, task.assignee(), AccessKind::kParty);
  AddUser(grants, task.delegated_from(), AccessKind::kParty);
  if (!task.candidate_group().role().empty()) {
    grants.push_back({GroupPrincipal(task.candidate_group()), AccessKind::kParty});
  }
}

bool DeclaresViewer(const v1::WorkflowDefinition& definition, const Directory& directory,
                    const std::string& user) {
  for (const auto& viewer : definition.visibility().viewers()) {
    if (viewer.department().empty()) {
      if (directory.HoldsRole(user, viewer.role())) return true;
      continue;
    }
    v1::CandidateGroup group;
    group.set_role(viewer.role());
    group.set_department(viewer.department());
    if (directory.InGroup(user, group)) return true;
  }
  return false;
}

bool AdministersByNamedRole(const v1::WorkflowDefinition& definition,
                            const Directory& directory, const std::string& user) {
  const std::string& named = definition.policies().admin_role();
  return !named.empty() && directory.HoldsRole(user, named);
}

}  // namespace

std::string UserPrincipal(const std::string& user) { return absl::StrCat("user:", user); }

std::string GroupPrincipal(const v1::CandidateGroup& group) {
  return absl::StrCat("group:", group.role(), "@", group.department());
}

std::vector<AccessGrant> AccessGrantsOf(const v1::Event& event) {
  std::vector<AccessGrant> grants;
  switch (event.body_case()) {
    case v1::Event::kInstanceStarted: {
      const auto& started = event.instance_started();
      AddUser(grants, started.applicant(), AccessKind::kParty);
      AddUser(grants, started.subject_user(), AccessKind::kParty);
      for (const auto& manager : started.managers_above()) {
        AddUser(grants, manager, AccessKind::kManagerAbove);
      }
      break;
    }
    case v1::Event::kTaskCreated:
      AddTaskParties(grants, event.task_created().task());
      break;
    case v1::Event::kTaskUpdated:
      AddTaskParties(grants, event.task_updated().task());
      break;
    case v1::Event::kTaskCompleted:
      AddTaskParties(grants, event.task_completed().task());
      break;
    case v1::Event::kCcSent:
      for (const auto& user : event.cc_sent().users()) AddUser(grants, user, AccessKind::kCopied);
      break;
    case v1::Event::kTaskEscalated:
      for (const auto& user : event.task_escalated().users()) {
        AddUser(grants, user, AccessKind::kCopied);
      }
      break;
    default:
      break;
  }
  std::sort(grants.begin(), grants.end());
  grants.erase(std::unique(grants.begin(), grants.end()), grants.end());
  return grants;
}

Reader ReaderFor(const Directory& directory, const std::string& user,
                 const std::vector<const v1::WorkflowDefinition*>& definitions) {
  Reader reader;
  reader.user = user;
  const v1::User* found = directory.FindUser(user);
  if (found == nullptr || found->disabled()) return reader;
  reader.principals.push_back(UserPrincipal(user));
  for (const auto& group : directory.GroupsOf(user)) {
    reader.principals.push_back(GroupPrincipal(group));
  }
  const Directory::RoleScope admin = directory.ScopeOf(user, kProcessAdminRole);
  reader.reads_every_definition = admin.all || directory.HoldsRole(user, kAuditorRole);
  if (reader.reads_every_definition) return reader;
  reader.administered = admin.definitions;
  for (const auto* definition : definitions) {
    if (AdministersByNamedRole(*definition, directory, user)) {
      reader.administered.insert(definition->key());
    }
  }
  reader.definitions = reader.administered;
  for (const auto* definition : definitions) {
    if (DeclaresViewer(*definition, directory, user)) reader.definitions.insert(definition->key());
  }
  return reader;
}

Readership ReadershipOf(const Reader& reader, const std::string& definition_key,
                        const std::vector<AccessGrant>& grants) {
  if (reader.principals.empty()) return Readership::kNone;
  if (reader.reads_every_definition || reader.definitions.count(definition_key) > 0) {
    return Readership::kFull;
  }
  Readership best = Readership::kNone;
  for (const auto& grant : grants) {
    if (std::find(reader.principals.begin(), reader.principals.end(), grant.principal) ==
        reader.principals.end()) {
      continue;
    }
    if (grant.kind == AccessKind::kParty) return Readership::kFull;
    best = Readership::kRedacted;
  }
  return best;
}

std::vector<std::string> RedactConfidential(const v1::WorkflowDefinition& definition,
                                            google::protobuf::Struct& form) {
  std::vector<std::string> redacted;
  for (const auto& field : definition.form().fields()) {
    if (field.confidential() && form.mutable_fields()->erase(field.name()) > 0) {
      redacted.push_back(field.name());
    }
  }
  std::sort(redacted.begin(), redacted.end());
  return redacted;
}

}  // namespace signoff::workflow
