#include "workflow/approvers.h"

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

std::string ApplicantDepartment(const std::string& applicant,
                                const Directory& directory) {
  const v1::User* user = directory.FindUser(applicant);
  return user == nullptr ? "" : user->department();
}

std::vector<std::string> DepartmentHeads(const v1::DepartmentHeadRule& rule,
                                         const std::string& applicant,
                                         const Struct& form,
                                         const Directory& directory) {
  std::vector<std::string> departments;
  if (!rule.from_field().empty()) {
    departments = StringsOf(form, rule.from_field());
  } else if (!rule.department().empty()) {
    departments.push_back(rule.department());
  } else {
    departments.push_back(ApplicantDepartment(applicant, directory));
  }
  std::vector<std::string> heads;
  for (const auto& id : departments) {
    const v1::Department* department = directory.FindDepartment(id);
    if (department != nullptr && !department->head().empty()) {
      heads.push_back(department->head());
    }
  }
  return heads;
}

std::vector<std::string> UsersOf(const v1::ApproverRule& rule,
                                 const std::string& applicant, const Struct& form,
                                 const Directory& directory) {
  switch (rule.rule_case()) {
    case v1::ApproverRule::kUser:
      return {rule.user()};
    case v1::ApproverRule::kRole: {
      const std::string department = rule.role().department().empty()
                                         ? ApplicantDepartment(applicant, directory)
                                         : rule.role().department();
      return directory.HoldersOf(rule.role().name(), department);
    }
    case v1::ApproverRule::kManagerLevel: {
      auto chain = directory.ManagerChain(applicant);
      const uint32_t level = rule.manager_level();
      if (level == 0 || level > chain.size()) return {};
      return {chain[level - 1]};
    }
    case v1::ApproverRule::kDepartmentHead:
      return DepartmentHeads(rule.department_head(), applicant, form, directory);
    case v1::ApproverRule::kFormField:
      return StringsOf(form, rule.form_field());
    case v1::ApproverRule::kApplicant:
      return rule.applicant() ? std::vector<std::string>{applicant}
                              : std::vector<std::string>{};
    default:
      return {};
  }
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
    default:
      return "(empty rule)";
  }
}

std::vector<Candidate> ResolveApprovers(
    const google::protobuf::RepeatedPtrField<v1::ApproverRule>& rules,
    const std::string& applicant, const Struct& form, const Directory& directory) {
  std::vector<Candidate> candidates;
  std::set<std::string> seen;
  for (const auto& rule : rules) {
    const std::string chosen_by = DescribeRule(rule);
    if (rule.has_role() && rule.role().candidate_group()) {
      Candidate group{"", {}, chosen_by};
      group.group.set_role(rule.role().name());
      group.group.set_department(rule.role().department().empty()
                                     ? ApplicantDepartment(applicant, directory)
                                     : rule.role().department());
      if (!directory.HoldersOf(group.group.role(), group.group.department()).empty() &&
          seen.insert("group:" + group.group.role() + "@" + group.group.department())
              .second) {
        candidates.push_back(std::move(group));
      }
      continue;
    }
    for (const auto& user : UsersOf(rule, applicant, form, directory)) {
      const v1::User* found = directory.FindUser(user);
      if (found == nullptr || found->disabled()) continue;
      if (seen.insert(user).second) candidates.push_back({user, {}, chosen_by});
    }
  }
  return candidates;
}

}  // namespace signoff::workflow
