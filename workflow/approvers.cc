#include "workflow/approvers.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;
using google::protobuf::Struct;
using google::protobuf::Value;

namespace {

std::vector<std::string> StringsOf(const Struct& form, const std::string& field) {
  std::vector<std::string> out;
  auto it = form.fields().find(field);
  if (it == form.fields().end()) return out;
  const Value& value = it->second;
  if (value.kind_case() == Value::kStringValue) out.push_back(value.string_value());
  if (value.kind_case() == Value::kListValue) {
    for (const auto& item : value.list_value().values()) {
      if (item.kind_case() == Value::kStringValue) out.push_back(item.string_value());
    }
  }
  return out;
}

std::string DepartmentOf(const std::string& user, const Directory& directory) {
  const v1::User* found = directory.FindUser(user);
  return found == nullptr ? "" : found->department();
}

std::vector<std::string> HeadsOf(const std::vector<std::string>& departments,
                                 const Directory& directory) {
  std::vector<std::string> heads;
  for (const auto& id : departments) {
    const v1::Department* department = directory.FindDepartment(id);
    if (department != nullptr && !department->head().empty()) {
      heads.push_back(department->head());
    }
  }
  return heads;
}

std::vector<std::string> DepartmentHeads(const v1::DepartmentHeadRule& rule,
                                         const RuleBasis& basis, const Directory& directory) {
  if (!rule.from_field().empty()) return HeadsOf(StringsOf(basis.form, rule.from_field()), directory);
  if (!rule.department().empty()) return HeadsOf({rule.department()}, directory);
  return HeadsOf({DepartmentOf(basis.applicant, directory)}, directory);
}

std::vector<std::string> ManagerAt(const std::string& user, uint32_t level,
                                   const Directory& directory) {
  if (user.empty()) return {};
  auto chain = directory.ManagerChain(user);
  if (level == 0 || level > chain.size()) return {};
  return {chain[level - 1]};
}

std::vector<std::string> UsersOf(const v1::ApproverRule& rule, const RuleBasis& basis,
                                 const Directory& directory) {
  switch (rule.rule_case()) {
    case v1::ApproverRule::kUser:
      return {rule.user()};
    case v1::ApproverRule::kRole: {
      const std::string department = rule.role().department().empty()
                                         ? DepartmentOf(basis.applicant, directory)
                                         : rule.role().department();
      return directory.HoldersOf(rule.role().name(), department);
    }
    case v1::ApproverRule::kManagerLevel:
      return ManagerAt(basis.applicant, rule.manager_level(), directory);
    case v1::ApproverRule::kDepartmentHead:
      return DepartmentHeads(rule.department_head(), basis, directory);
    case v1::ApproverRule::kFormField:
      return StringsOf(basis.form, rule.form_field());
    case v1::ApproverRule::kApplicant:
      return rule.applicant() ? std::vector<std::string>{basis.applicant}
                              : std::vector<std::string>{};
    case v1::ApproverRule::kSubjectManagerLevel:
      return ManagerAt(basis.subject_user, rule.subject_manager_level(), directory);
    case v1::ApproverRule::kSubjectDepartmentHead:
      if (!rule.subject_department_head() || basis.subject_user.empty()) return {};
      return HeadsOf({DepartmentOf(basis.subject_user, directory)}, directory);
    case v1::ApproverRule::kSubject:
      if (!rule.subject() || basis.subject_user.empty()) return {};
      return {basis.subject_user};
    default:
      return {};
  }
}

// The nearest enabled manager above a disabled user; empty when none is
// left.
std::string NearestEnabledManager(const std::string& user, const Directory& directory) {
  for (const auto& manager : directory.ManagerChain(user)) {
    const v1::User* found = directory.FindUser(manager);
    if (found != nullptr && !found->disabled()) return manager;
  }
  return "";
}

}  // namespace

std::string DescribeRule(const v1::ApproverRule& rule) {
  switch (rule.rule_case()) {
    case v1::ApproverRule::kUser:
      return absl::StrCat("user:", rule.user());
    case v1::ApproverRule::kRole:
      return absl::StrCat("role:", rule.role().name(), "@",
                          rule.role().department().empty() ? "(applicant's department)"
                                                           : rule.role().department());
    case v1::ApproverRule::kManagerLevel:
      return absl::StrCat("manager_level:", rule.manager_level());
    case v1::ApproverRule::kDepartmentHead:
      if (!rule.department_head().from_field().empty()) {
        return absl::StrCat("department_head:form.", rule.department_head().from_field());
      }
      return absl::StrCat("department_head:", rule.department_head().department().empty()
                                                  ? "(applicant's department)"
                                                  : rule.department_head().department());
    case v1::ApproverRule::kFormField:
      return absl::StrCat("form_field:", rule.form_field());
    case v1::ApproverRule::kApplicant:
      return "applicant";
    case v1::ApproverRule::kSubjectManagerLevel:
      return absl::StrCat("subject_manager_level:", rule.subject_manager_level());
    case v1::ApproverRule::kSubjectDepartmentHead:
      return "subject_department_head";
    case v1::ApproverRule::kSubject:
      return "subject";
    default:
      return "(empty rule)";
  }
}

bool IsSubjectRule(const v1::ApproverRule& rule) {
  return rule.rule_case() == v1::ApproverRule::kSubjectManagerLevel ||
         rule.rule_case() == v1::ApproverRule::kSubjectDepartmentHead ||
         rule.rule_case() == v1::ApproverRule::kSubject;
}

bool UsesSubjectRules(const v1::WorkflowDefinition& definition) {
  auto any = [](const google::protobuf::RepeatedPtrField<v1::ApproverRule>& rules) {
    return std::any_of(rules.begin(), rules.end(), IsSubjectRule);
  };
  if (any(definition.cc_on_finish())) return true;
  for (const auto& step : definition.steps()) {
    if (any(step.approval().approvers()) || any(step.task().assignees()) ||
        any(step.system().workers()) || any(step.cc())) {
      return true;
    }
  }
  return false;
}

std::vector<Candidate> ResolveApprovers(
    const google::protobuf::RepeatedPtrField<v1::ApproverRule>& rules, const RuleBasis& basis,
    const Directory& directory, std::vector<PassedOver>* passed_over) {
  std::vector<Candidate> candidates;
  std::set<std::string> seen;
  auto pass_over = [&](const std::string& user, const std::string& chosen_by,
                       std::string reason) {
    if (passed_over != nullptr) passed_over->push_back({user, chosen_by, std::move(reason)});
  };
  for (const auto& rule : rules) {
    std::string chosen_by = DescribeRule(rule);
    if (IsSubjectRule(rule)) absl::StrAppend(&chosen_by, " of subject ", basis.subject_user);
    if (rule.has_role() && rule.role().candidate_group()) {
      Candidate group = Candidate::ForGroup(rule.role().name(),
                                         rule.role().department().empty()
                                             ? DepartmentOf(basis.applicant, directory)
                                             : rule.role().department(),
                                         chosen_by);
      if (!directory.HoldersOf(group.group.role(), group.group.department()).empty() &&
          seen.insert("group:" + group.group.role() + "@" + group.group.department())
              .second) {
        candidates.push_back(std::move(group));
      }
      continue;
    }
    for (const auto& user : UsersOf(rule, basis, directory)) {
      const v1::User* found = directory.FindUser(user);
      if (found == nullptr) continue;
      if (!found->disabled()) {
        if (seen.insert(user).second) candidates.push_back(Candidate::ForUser(user, chosen_by));
        continue;
      }
      const std::string manager = NearestEnabledManager(user, directory);
      if (manager.empty()) {
        pass_over(user, chosen_by,
                  absl::StrCat(user, " is disabled and no enabled manager is above them"));
        continue;
      }
      pass_over(user, chosen_by,
                absl::StrCat(user, " is disabled; the task goes up the chain to ", manager));
      if (seen.insert(manager).second) {
        Candidate climbed = Candidate::ForUser(
            manager, absl::StrCat(chosen_by, " (up the chain for disabled ", user, ")"));
        climbed.stands_in_for = user;
        candidates.push_back(std::move(climbed));
      }
    }
  }
  return candidates;
}

}  // namespace signoff::workflow
