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

  bool is_group() const { return user.empty(); }
};

// Resolves rules in order. A user chosen by two rules appears once, under
// the first; disabled users are left out.
std::vector<Candidate> ResolveApprovers(
    const google::protobuf::RepeatedPtrField<signoff::v1::ApproverRule>& rules,
    const std::string& applicant, const google::protobuf::Struct& form,
    const Directory& directory);

std::string DescribeRule(const signoff::v1::ApproverRule& rule);

}  // namespace signoff::workflow
