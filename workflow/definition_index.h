#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "signoff/v1/definition.pb.h"
#include "signoff/v1/instance.pb.h"

namespace signoff::workflow {

// Where a step sits: at the top level, or inside a branch of a parallel.
struct StepScope {
  std::string parallel;  // empty at the top level
  std::string branch;
};

// Lookups over a definition that the validator and the engine share.
class DefinitionIndex {
 public:
  explicit DefinitionIndex(const signoff::v1::WorkflowDefinition& definition);

  const signoff::v1::Step* Find(const std::string& id) const;
  const std::string& start_step() const { return start_step_; }
  // Steps reachable inside each branch, keyed by parallel step and branch.
  const StepScope& ScopeOf(const std::string& id) const;
  // A signal some WAIT step waits for, or one the definition buffers.
  bool KnowsSignal(const std::string& name) const { return signals_.count(name) > 0; }
  // Steps claimed by more than one scope; the validator reports them.
  const std::vector<std::string>& conflicting_steps() const { return conflicts_; }
  const signoff::v1::WorkflowDefinition& definition() const { return definition_; }

 private:
  void AssignBranchScopes();

  const signoff::v1::WorkflowDefinition& definition_;
  std::map<std::string, const signoff::v1::Step*> steps_;
  std::map<std::string, StepScope> scopes_;
  std::set<std::string> signals_;
  std::vector<std::string> conflicts_;
  std::string start_step_;
};

signoff::v1::StepKind KindOf(const signoff::v1::Step& step);

// Where a step can lead without a rejection: its routes, a WAIT's timeout
// step, an SLA's go-to step and where an exceeded ledger goes.
std::vector<std::string> TargetsOf(const signoff::v1::Step& step);

// A field of the form; or (FindDataField) of the form or of some job's
// result, which joins the instance's data. Null when there is none.
const signoff::v1::FormField* FindFormField(const signoff::v1::WorkflowDefinition& definition,
                                            const std::string& name);
const signoff::v1::FormField* FindDataField(const signoff::v1::WorkflowDefinition& definition,
                                            const std::string& name);

// The actions a step allows and those that need a comment, with the
// defaults applied.
std::vector<signoff::v1::Action> AllowedActions(const signoff::v1::Step& step);
std::vector<signoff::v1::Action> CommentRequired(const signoff::v1::Step& step);

// What the assignee of `task` may do under `definition`, and what each
// action needs. `state`, when given, adds the steps a return may name.
signoff::v1::TaskActions TaskActionsFor(const signoff::v1::WorkflowDefinition& definition,
                                        const signoff::v1::Task& task,
                                        const signoff::v1::InstanceState* state);

}  // namespace signoff::workflow
