#pragma once

#include <string>
#include <vector>

#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/struct.pb.h"
#include "signoff/v1/definition.pb.h"
#include "signoff/v1/instance.pb.h"
#include "workflow/directory.h"

namespace signoff::workflow {

// Someone a step's task goes to: one user, or a candidate group whose
// members claim the task.
struct Candidate {
  std::string user;
  signoff::v1::CandidateGroup group;
  // The rule that chose them, for the audit trail, e.g. "manager_level:2".
  std::string chosen_by;
  // The disabled user the rule chose, when the task went up the chain to
  // this one, their nearest enabled manager, instead.
  std::string stands_in_for;
  // Whose task this is when a standing delegation sent it to `user`.
  std::string delegated_from;

  bool is_group() const { return user.empty(); }

  static Candidate ForUser(std::string user, std::string chosen_by) {
    Candidate candidate;
    candidate.user = std::move(user);
    candidate.chosen_by = std::move(chosen_by);
    return candidate;
  }
  static Candidate ForGroup(std::string role, std::string department, std::string chosen_by) {
    Candidate candidate;
    candidate.group.set_role(std::move(role));
    candidate.group.set_department(std::move(department));
    candidate.chosen_by = std::move(chosen_by);
    return candidate;
  }
};

// Whom rules resolve relative to.
struct RuleBasis {
  std::string applicant;
  // The instance's subject when it is a directory user; empty otherwise.
  std::string subject_user;
  const google::protobuf::Struct& form;
};

// A user a rule chose who gets no task of their own, and why.
struct PassedOver {
  std::string user;
  std::string chosen_by;
  std::string reason;
};

// Resolves rules in order. A user chosen by two rules appears once, under
// the first; unknown users are left out. A disabled user's task goes to
// their nearest enabled manager; each disabled user is reported in
// `passed_over` (when given), with where their task went or that nobody
// was left above them.
std::vector<Candidate> ResolveApprovers(
    const google::protobuf::RepeatedPtrField<signoff::v1::ApproverRule>& rules,
    const RuleBasis& basis, const Directory& directory,
    std::vector<PassedOver>* passed_over = nullptr);

// Whether the rule resolves from the instance's subject.
bool IsSubjectRule(const signoff::v1::ApproverRule& rule);
// Whether any of the definition's rules (approvers, assignees, workers,
// CCs) resolves from the subject.
bool UsesSubjectRules(const signoff::v1::WorkflowDefinition& definition);

std::string DescribeRule(const signoff::v1::ApproverRule& rule);

}  // namespace signoff::workflow
