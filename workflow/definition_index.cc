#include "workflow/definition_index.h"

#include <algorithm>

#include <deque>
#include <set>

namespace signoff::workflow {

namespace v1 = ::signoff::v1;

DefinitionIndex::DefinitionIndex(const v1::WorkflowDefinition& definition)
    : definition_(definition) {
  for (const auto& step : definition.steps()) {
    steps_.emplace(step.id(), &step);
    if (step.has_wait() && !step.wait().signal().empty()) signals_.insert(step.wait().signal());
  }
  for (const auto& signal : definition.buffered_signals()) signals_.insert(signal);
  start_step_ = definition.start_step();
  if (start_step_.empty() && definition.steps_size() > 0) {
    start_step_ = definition.steps(0).id();
  }
  AssignBranchScopes();
}

void DefinitionIndex::AssignBranchScopes() {
  for (const auto& step : definition_.steps()) {
    if (!step.has_parallel()) continue;
    for (const auto& branch : step.parallel().branches()) {
      std::deque<std::string> queue = {branch.start()};
      std::set<std::string> seen;
      while (!queue.empty()) {
        std::string id = queue.front();
        queue.pop_front();
        const v1::Step* member = Find(id);
        if (member == nullptr || id == step.id() || !seen.insert(id).second) continue;
        StepScope scope{step.id(), branch.id()};
        auto [it, inserted] = scopes_.emplace(id, scope);
        if (!inserted && (it->second.parallel != scope.parallel ||
                          it->second.branch != scope.branch)) {
          conflicts_.push_back(id);
        }
        for (const std::string& target : TargetsOf(*member)) queue.push_back(target);
      }
    }
  }
}

std::vector<std::string> TargetsOf(const v1::Step& step) {
  std::vector<std::string> targets;
  for (const auto& route : step.next()) targets.push_back(route.to());
  for (const auto& error : step.system().errors()) targets.push_back(error.to());
  if (step.has_wait() && !step.wait().on_timeout().empty()) {
    targets.push_back(step.wait().on_timeout());
  }
  if (step.sla().on_timeout().action() == v1::TIMEOUT_GO_TO) {
    targets.push_back(step.sla().on_timeout().to_step());
  }
  for (const auto& entry : step.ledger_entries()) {
    if (!entry.on_exceeded().empty()) targets.push_back(entry.on_exceeded());
  }
  return targets;
}

const v1::FormField* FindFormField(const v1::WorkflowDefinition& definition,
                                   const std::string& name) {
  for (const auto& field : definition.form().fields()) {
    if (field.name() == name) return &field;
  }
  return nullptr;
}

const v1::FormField* FindDataField(const v1::WorkflowDefinition& definition,
                                   const std::string& name) {
  if (const v1::FormField* field = FindFormField(definition, name)) return field;
  for (const auto& step : definition.steps()) {
    for (const auto& field : step.system().result_fields()) {
      if (field.name() == name) return &field;
    }
    for (const auto& field : step.task().result_fields()) {
      if (field.name() == name) return &field;
    }
  }
  return nullptr;
}

const v1::Step* DefinitionIndex::Find(const std::string& id) const {
  auto it = steps_.find(id);
  return it == steps_.end() ? nullptr : it->second;
}

const StepScope& DefinitionIndex::ScopeOf(const std::string& id) const {
  static const StepScope kTopLevel;
  auto it = scopes_.find(id);
  return it == scopes_.end() ? kTopLevel : it->second;
}

v1::StepKind KindOf(const v1::Step& step) {
  switch (step.kind_case()) {
    case v1::Step::kApproval:
      return v1::STEP_APPROVAL;
    case v1::Step::kTask:
      return v1::STEP_TASK;
    case v1::Step::kSystem:
      return v1::STEP_SYSTEM;
    case v1::Step::kParallel:
      return v1::STEP_PARALLEL;
    case v1::Step::kEnd:
      return v1::STEP_END;
    case v1::Step::kWait:
      return v1::STEP_WAIT;
    default:
      return v1::STEP_KIND_UNSPECIFIED;
  }
}

namespace {

std::vector<v1::Action> ToActions(const google::protobuf::RepeatedField<int>& values) {
  std::vector<v1::Action> actions;
  for (int value : values) actions.push_back(static_cast<v1::Action>(value));
  return actions;
}

}  // namespace

std::vector<v1::Action> AllowedActions(const v1::Step& step) {
  if (step.actions().allowed_size() > 0) return ToActions(step.actions().allowed());
  if (step.has_approval()) {
    return {v1::APPROVE, v1::REJECT, v1::RETURN, v1::COMMENT, v1::REMIND};
  }
  if (step.has_system()) return {v1::COMPLETE, v1::REJECT, v1::COMMENT, v1::REMIND};
  return {v1::COMPLETE, v1::COMMENT, v1::REMIND};
}

std::vector<v1::Action> CommentRequired(const v1::Step& step) {
  if (step.actions().require_comment_size() > 0) {
    return ToActions(step.actions().require_comment());
  }
  return {v1::REJECT, v1::RETURN};
}

v1::TaskActions TaskActionsFor(const v1::WorkflowDefinition& definition, const v1::Task& task,
                               const v1::InstanceState* state) {
  v1::TaskActions actions;
  const v1::Step* step = nullptr;
  for (const auto& candidate : definition.steps()) {
    if (candidate.id() == task.step_id()) step = &candidate;
  }
  if (step == nullptr) return actions;
  const std::vector<v1::Action> allowed = AllowedActions(*step);
  for (v1::Action action : allowed) actions.add_allowed(action);
  for (v1::Action action : CommentRequired(*step)) actions.add_comment_required(action);
  auto allows = [&](v1::Action action) {
    return std::find(allowed.begin(), allowed.end(), action) != allowed.end();
  };
  if (allows(v1::REJECT)) {
    *actions.mutable_reject_reasons() = definition.reject_reasons();
    if (definition.reject_reasons_size() > 0) actions.add_reason_required(v1::REJECT);
  }
  if (allows(v1::RETURN)) {
    *actions.mutable_return_reasons() = definition.return_reasons();
    if (definition.return_reasons_size() > 0) actions.add_reason_required(v1::RETURN);
    if (state != nullptr) *actions.mutable_return_steps() = state->completed_steps();
  }
  return actions;
}

}  // namespace signoff::workflow
