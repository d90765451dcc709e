// Route preview: the engine run on a scratch instance in which everyone
// approves, recording who each step would go to.
#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "workflow/definition_index.h"
#include "workflow/engine.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;

namespace {

constexpr char kPreviewId[] = "preview";
// Longer than any real route; stops a definition that loops on approval.
constexpr int kMaxRounds = 200;

class PreviewRecorder {
 public:
  explicit PreviewRecorder(const v1::WorkflowDefinition& definition) : index_(definition) {}

  void Record(const std::vector<v1::Event>& events) {
    for (const auto& event : events) {
      if (event.has_step_entered()) Enter(event.step_entered().step());
      if (event.has_parallel_started()) EnterParallel(event.parallel_started().parallel());
      if (event.has_task_created()) AddTask(event.task_created().task());
      if (event.has_approver_skipped()) Skip(event);
      if (event.has_task_completed() && event.actor() == kSystemActor) {
        Note(event.task_completed().task(), event.reason());
      }
      if (event.has_step_completed() && event.actor() == kSystemActor && !event.reason().empty()) {
        NoteStep(event.step_completed().token(), event.reason());
      }
    }
  }

  v1::PreviewRouteResponse Take(v1::InstanceStatus status) {
    response_.set_final_status(status);
    return std::move(response_);
  }

 private:
  v1::PreviewStep& NewStep(const std::string& token, const std::string& step_id,
                           const std::string& branch) {
    const v1::Step* step = index_.Find(step_id);
    auto* preview = response_.add_steps();
    preview->set_step_id(step_id);
    preview->set_branch(branch);
    if (step != nullptr) {
      preview->set_name(step->name());
      preview->set_kind(KindOf(*step));
      if (step->has_approval()) {
        preview->set_policy(step->approval().policy() == v1::APPROVAL_POLICY_UNSPECIFIED
                                ? v1::ANY
                                : step->approval().policy());
      }
    }
    by_token_[token] = response_.steps_size() - 1;
    return *preview;
  }

  void Enter(const v1::ActiveStep& step) {
    NewStep(step.token(), step.step_id(), step.branch());
    by_step_[step.step_id()] = response_.steps_size() - 1;
  }

  void EnterParallel(const v1::ActiveParallel& parallel) {
    NewStep(parallel.token(), parallel.step_id(), parallel.branch());
  }

  v1::PreviewStep* StepFor(const std::string& token) {
    auto it = by_token_.find(token);
    return it == by_token_.end() ? nullptr : response_.mutable_steps(it->second);
  }

  void AddTask(const v1::Task& task) {
    v1::PreviewStep* step = StepFor(task.token());
    if (step == nullptr) return;
    auto* approver = step->add_approvers();
    approver->set_user(task.assignee());
    if (task.has_candidate_group()) *approver->mutable_candidate_group() = task.candidate_group();
    approver->set_chosen_by(task.chosen_by());
    approver_of_task_[task.id()] = approver;
  }

  void Skip(const v1::Event& event) {
    auto it = by_step_.find(event.step_id());
    if (it == by_step_.end()) return;
    auto* approver = response_.mutable_steps(it->second)->add_approvers();
    approver->set_user(event.approver_skipped().user());
    approver->set_chosen_by(event.approver_skipped().rule());
    approver->set_note(absl::StrCat("skipped: ", event.reason()));
  }

  void Note(const v1::Task& task, const std::string& reason) {
    auto it = approver_of_task_.find(task.id());
    if (it != approver_of_task_.end()) it->second->set_note(absl::StrCat("auto: ", reason));
  }

  void NoteStep(const std::string& token, const std::string& reason) {
    v1::PreviewStep* step = StepFor(token);
    if (step == nullptr) return;
    auto* approver = step->add_approvers();
    approver->set_note(absl::StrCat("auto: ", reason));
  }

  DefinitionIndex index_;
  v1::PreviewRouteResponse response_;
  std::map<std::string, int> by_token_;
  std::map<std::string, int> by_step_;
  std::map<std::string, v1::PreviewApprover*> approver_of_task_;
};

// The first pending task and who would decide it, or nothing.
std::optional<std::pair<v1::Task, std::string>> NextDecision(const v1::InstanceState& state,
                                                             const Directory& directory) {
  for (const auto& task : state.tasks()) {
    if (task.status() != v1::PENDING) continue;
    if (!task.assignee().empty()) return std::make_pair(task, task.assignee());
    auto holders =
        directory.HoldersOf(task.candidate_group().role(), task.candidate_group().department());
    if (!holders.empty()) return std::make_pair(task, holders.front());
  }
  return std::nullopt;
}

const v1::Timer* PendingWait(const v1::InstanceState& state) {
  for (const auto& timer : state.timers()) {
    if (timer.kind() == v1::TIMER_WAIT) return &timer;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<v1::PreviewRouteResponse> PreviewRoute(const v1::WorkflowDefinition& definition,
                                                      const google::protobuf::Struct& form,
                                                      const std::string& applicant,
                                                      const Context& context) {
  PreviewRecorder recorder(definition);
  const DefinitionIndex index(definition);
  Context scratch = context;
  scratch.actor = applicant;
  scratch.new_instance_id = kPreviewId;
  v1::Command start;
  *start.mutable_start()->mutable_form() = form;
  SIGNOFF_ASSIGN_OR_RETURN(Transition transition, Apply(definition, {}, start, scratch));
  recorder.Record(transition.events);
  v1::InstanceState state = std::move(transition.state);
  for (int round = 0; round < kMaxRounds && state.status() == v1::RUNNING; ++round) {
    auto next = NextDecision(state, *context.directory);
    if (!next) {
      // Nobody decides a WAIT: preview it as running out.
      const v1::Timer* wait = PendingWait(state);
      if (wait == nullptr) break;
      v1::Command fire;
      fire.mutable_fire_timer()->set_timer_id(wait->id());
      scratch.now = std::max(scratch.now, FromTimestamp(wait->fire_at()));
      SIGNOFF_ASSIGN_OR_RETURN(transition, Apply(definition, state, fire, scratch));
      recorder.Record(transition.events);
      state = std::move(transition.state);
      continue;
    }
    // A task that reports declared results picks the route with them: what
    // comes after it is not known before it is done.
    const v1::Step* step = index.Find(next->first.step_id());
    if (step != nullptr && step->task().result_fields_size() > 0) break;
    v1::Command decide;
    decide.mutable_decide()->set_task_id(next->first.id());
    decide.mutable_decide()->set_action(next->first.kind() == v1::STEP_APPROVAL ? v1::APPROVE
                                                                                : v1::COMPLETE);
    // Steps may require a comment with the decision; the previewed one has
    // one, so that such a step does not end the preview.
    decide.mutable_decide()->set_comment("preview");
    scratch.actor = next->second;
    SIGNOFF_ASSIGN_OR_RETURN(transition, Apply(definition, state, decide, scratch));
    recorder.Record(transition.events);
    state = std::move(transition.state);
  }
  return recorder.Take(state.status());
}

}  // namespace signoff::workflow
