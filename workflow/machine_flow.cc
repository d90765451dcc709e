// The flow of steps: entering a step and creating its tasks, applying a
// step's policy, finishing, routing, parallel branches and joins, and
// finishing the instance.
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"
#include "workflow/calendar.h"
#include "workflow/conditions.h"
#include "workflow/errors.h"
#include "workflow/form.h"
#include "workflow/machine.h"

namespace signoff::workflow::internal {

// ------------------------------------------------------------ flow

absl::Status Machine::EnterStep(const std::string& id, const std::string& parent,
                       const std::string& branch) {
  const v1::Step* step = index_.Find(id);
  if (step == nullptr) return absl::InternalError(absl::StrCat("unknown step ", id));
  const std::string token = absl::StrCat("k", state_.next_token() + 1);
  if (step->has_parallel()) return StartParallel(*step, token, parent, branch);
  v1::Event event = NewEvent(id);
  auto* entered = event.mutable_step_entered();
  entered->mutable_step()->set_token(token);
  entered->mutable_step()->set_step_id(id);
  entered->mutable_step()->set_parent_token(parent);
  entered->mutable_step()->set_branch(branch);
  entered->set_kind(KindOf(*step));
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  if (step->has_end()) return FinishStep(token, false, "");
  if (step->has_wait()) return StartWait(*step, token);
  SIGNOFF_RETURN_IF_ERROR(StartClock(*step, token));
  return CreateTasks(*step, token);
}

const google::protobuf::RepeatedPtrField<v1::ApproverRule>& Machine::RulesOf(const v1::Step& step) {
  if (step.has_approval()) return step.approval().approvers();
  if (step.has_task()) return step.task().assignees();
  return step.system().workers();
}

absl::Status Machine::CreateTasks(const v1::Step& step, const std::string& token) {
  if (!step.system().job_type().empty()) return CreateJob(step, token);
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<Candidate> candidates, CandidatesFor(step));
  if (candidates.empty()) {
    return FinishStep(token, false, "no approvers resolved; the step auto-approves");
  }
  const bool sequential = step.approval().policy() == v1::SEQUENTIAL;
  for (size_t i = 0; i < candidates.size(); ++i) {
    v1::Task task = NewTask({}, candidates[i].user);
    task.set_step_id(step.id());
    task.set_step_name(step.name());
    task.set_kind(KindOf(step));
    task.set_token(token);
    task.set_slot(static_cast<int>(i));
    task.set_chosen_by(candidates[i].chosen_by);
    task.set_delegated_from(candidates[i].delegated_from);
    if (const v1::StepClock* clock = FindClock(token)) ShowClock(*clock, task);
    if (candidates[i].is_group()) *task.mutable_candidate_group() = candidates[i].group;
    task.set_status(sequential && i > 0 ? v1::WAITING : v1::PENDING);
    std::string reason;
    if (!task.delegated_from().empty()) {
      reason = absl::StrCat("standing delegation: ", task.assignee(), " acts on behalf of ",
                            task.delegated_from());
    }
    SIGNOFF_RETURN_IF_ERROR(EmitTask(task, v1::Event::kTaskCreated, "", reason));
  }
  return Reconcile(token);
}

void Machine::ApplyDelegations(const v1::Step& step, std::vector<Candidate>& candidates) const {
  const bool forbid_self =
      step.has_approval() && !definition_.policies().allow_self_approval();
  std::set<std::string> chosen;
  for (const auto& candidate : candidates) chosen.insert(candidate.user);
  for (auto& candidate : candidates) {
    if (candidate.is_group()) continue;
    const v1::Delegation* delegation =
        directory().DelegationFor(candidate.user, definition_.key(), context_.now);
    if (delegation == nullptr) continue;
    const v1::User* delegate = directory().FindUser(delegation->delegate());
    // A delegate who cannot take the task leaves it with the delegator: a
    // disabled one, the applicant where they may not approve, or someone
    // who already has a task of this step.
    if (delegate == nullptr || delegate->disabled() ||
        (forbid_self && delegate->id() == state_.applicant()) ||
        chosen.count(delegate->id()) > 0) {
      continue;
    }
    chosen.insert(delegate->id());
    candidate.delegated_from = candidate.user;
    candidate.user = delegate->id();
    absl::StrAppend(&candidate.chosen_by, " (standing delegation ", delegation->id(), " of ",
                    candidate.delegated_from, " to ", candidate.user, ")");
  }
}

absl::StatusOr<std::vector<Candidate>> Machine::CandidatesFor(const v1::Step& step) {
  std::vector<PassedOver> passed_over;
  std::vector<Candidate> resolved =
      ResolveApprovers(RulesOf(step), Basis(), directory(), &passed_over);
  for (const auto& passed : passed_over) {
    v1::Event event = NewEvent(step.id());
    event.set_reason(passed.reason);
    event.mutable_approver_skipped()->set_user(passed.user);
    event.mutable_approver_skipped()->set_rule(passed.chosen_by);
    SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
  }
  std::vector<Candidate> candidates;
  const bool forbid_self =
      step.has_approval() && !definition_.policies().allow_self_approval();
  for (auto& candidate : resolved) {
    if (forbid_self && candidate.user == state_.applicant()) {
      v1::Event event = NewEvent(step.id());
      event.set_reason("self-approval is not allowed");
      event.mutable_approver_skipped()->set_user(candidate.user);
      event.mutable_approver_skipped()->set_rule(candidate.chosen_by);
      SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
      continue;
    }
    candidates.push_back(std::move(candidate));
  }
  const uint32_t quorum = step.approval().policy() == v1::QUORUM ? step.approval().quorum() : 0;
  if (!candidates.empty() && candidates.size() < quorum) {
    // A quorum that cannot be reached is no quorum: the step is treated as
    // one that resolved no approvers, and the trail says why.
    v1::Event event = NewEvent(step.id());
    event.set_reason(absl::StrCat("quorum of ", quorum, " cannot be met: only ",
                                  candidates.size(), " approver(s) resolved"));
    event.mutable_quorum_short()->set_quorum(quorum);
    event.mutable_quorum_short()->set_resolved(static_cast<int32_t>(candidates.size()));
    SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event), kSystemActor));
    candidates.clear();
  }
  if (!candidates.empty()) {
    ApplyDelegations(step, candidates);
    return candidates;
  }
  switch (step.on_empty()) {
    case v1::AUTO_APPROVE:
      return candidates;
    case v1::TO_ADMIN_ROLE: {
      const std::string role =
          step.empty_fallback_role().empty() ? AdminRole(definition_) : step.empty_fallback_role();
      if (!directory().HoldersOf(role, "").empty()) {
        return std::vector<Candidate>{
            Candidate::ForGroup(role, "", absl::StrCat("empty fallback role:", role))};
      }
      return absl::FailedPreconditionError(absl::StrCat(
          "step ", step.id(), " resolves no approvers and no one holds the fallback role ",
          role));
    }
    default:
      return absl::FailedPreconditionError(absl::StrCat(
          "step ", step.id(), " resolves no approvers for applicant ", state_.applicant(),
          "; fix the directory or the definition's approver rules"));
  }
}

v1::Task Machine::NewTask(const v1::Task& like, const std::string& assignee) {
  v1::Task task = like;
  task.set_id(absl::StrCat(state_.id(), "-t", state_.next_task() + 1));
  task.set_instance_id(state_.id());
  task.set_definition_key(state_.definition_key());
  task.set_definition_version(state_.definition_version());
  task.set_applicant(state_.applicant());
  task.set_subject(state_.subject());
  task.set_assignee(assignee);
  task.clear_candidate_group();
  task.clear_delegated_from();
  task.clear_comment();
  task.clear_decision();
  task.clear_reason_code();
  task.clear_completed_at();
  task.clear_result();
  task.set_reminders(0);
  *task.mutable_created_at() = ToTimestamp(context_.now);
  return task;
}

Machine::SlotTally Machine::Tally(const std::string& token) const {
  std::map<int, std::vector<v1::Task>> slots;
  for (const auto& task : state_.tasks()) {
    if (task.token() == token && task.status() != v1::TASK_CANCELLED) {
      slots[task.slot()].push_back(task);
    }
  }
  SlotTally tally;
  for (auto& [slot, tasks] : slots) {
    ++tally.slots;
    const bool rejected = std::any_of(tasks.begin(), tasks.end(), Rejects);
    const bool approved = std::all_of(tasks.begin(), tasks.end(), Approves);
    if (rejected) {
      ++tally.rejected;
    } else if (approved) {
      ++tally.approved;
    } else {
      std::vector<v1::Task> open;
      for (auto& task : tasks) {
        if (IsOpen(task)) open.push_back(task);
      }
      tally.open.push_back(std::move(open));
    }
  }
  return tally;
}

std::optional<bool> Machine::PolicyOutcome(const v1::Step& step, const SlotTally& tally) {
  const auto policy = step.has_approval() ? step.approval().policy() : v1::ANY;
  switch (policy) {
    case v1::ALL:
    case v1::SEQUENTIAL:
      if (tally.rejected > 0) return true;
      if (tally.approved == tally.slots) return false;
      return std::nullopt;
    case v1::QUORUM: {
      const int quorum = std::min<int>(static_cast<int>(step.approval().quorum()), tally.slots);
      if (tally.approved >= quorum) return false;
      if (tally.slots - tally.rejected < quorum) return true;
      return std::nullopt;
    }
    default:
      if (tally.approved > 0) return false;
      if (tally.rejected > 0) return true;
      return std::nullopt;
  }
}

// The approvals held are those since the last return to an earlier step
// (the fold empties them there), so a step returned to asks again.
bool Machine::AlreadyApproved(const v1::Task& task) const {
  if (task.kind() != v1::STEP_APPROVAL || task.assignee().empty() ||
      definition_.policies().disable_dedupe()) {
    return false;
  }
  for (const auto& approval : state_.approvals()) {
    if (approval.user() == task.assignee() &&
        approval.form_revision() == state_.form_revision()) {
      return true;
    }
  }
  return false;
}

absl::Status Machine::Reconcile(const std::string& token) {
  for (int guard = 0; guard < 10000; ++guard) {
    std::optional<v1::ActiveStep> active = FindActive(token);
    if (!active) return absl::OkStatus();
    const v1::Step& step = StepOf(active->step_id());
    SlotTally tally = Tally(token);
    if (auto rejected = PolicyOutcome(step, tally)) return FinishStep(token, *rejected, "");
    SIGNOFF_ASSIGN_OR_RETURN(bool changed, AdvanceSlots(step, tally));
    if (!changed) return absl::OkStatus();
  }
  return absl::InternalError("reconcile did not settle");
}

absl::StatusOr<bool> Machine::AdvanceSlots(const v1::Step& step, const SlotTally& tally) {
  const bool sequential = step.approval().policy() == v1::SEQUENTIAL;
  for (const auto& open : tally.open) {
    int first = open.front().order();
    for (const auto& task : open) first = std::min(first, task.order());
    for (const auto& task : open) {
      if (task.order() != first) continue;
      if (task.status() == v1::WAITING) {
        v1::Task active = task;
        active.set_status(v1::PENDING);
        SIGNOFF_RETURN_IF_ERROR(EmitTask(active, v1::Event::kTaskUpdated, kSystemActor, "their turn"));
        return true;
      }
      if (AlreadyApproved(task)) {
        v1::Task approved = task;
        approved.set_status(v1::DONE);
        approved.set_decision(v1::APPROVE);
        *approved.mutable_completed_at() = ToTimestamp(context_.now);
        SIGNOFF_RETURN_IF_ERROR(EmitTask(approved, v1::Event::kTaskCompleted, kSystemActor,
                                 "already approved this instance with the same form"));
        return true;
      }
    }
    if (sequential) break;
  }
  return false;
}

absl::Status Machine::CancelTasksOf(const std::string& token, const std::string& reason) {
  std::vector<v1::Task> open;
  for (const auto& task : state_.tasks()) {
    if (task.token() == token && IsOpen(task)) open.push_back(task);
  }
  for (auto& task : open) {
    task.set_status(v1::TASK_CANCELLED);
    SIGNOFF_RETURN_IF_ERROR(EmitTask(task, v1::Event::kTaskCancelled, kSystemActor, reason));
  }
  return absl::OkStatus();
}

const v1::Task* Machine::LastRejection(const std::string& token) const {
  const v1::Task* last = nullptr;
  for (const auto& task : state_.tasks()) {
    if (task.token() == token && Rejects(task)) last = &task;
  }
  return last;
}

absl::Status Machine::FinishStep(const std::string& token, bool rejected, const std::string& reason) {
  std::optional<v1::ActiveStep> active = FindActive(token);
  if (!active) return absl::InternalError(absl::StrCat("no active step ", token));
  const v1::Step& step = StepOf(active->step_id());
  SIGNOFF_RETURN_IF_ERROR(StopTimers(token));
  SIGNOFF_RETURN_IF_ERROR(CancelTasksOf(token, "the step was decided"));
  v1::Event event = NewEvent(step.id());
  event.set_reason(reason);
  event.mutable_step_completed()->set_token(token);
  event.mutable_step_completed()->set_rejected(rejected);
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event), reason.empty() ? "" : kSystemActor));
  if (!rejected) {
    SIGNOFF_ASSIGN_OR_RETURN(std::optional<std::string> exceeded_to, MoveLedgers(step));
    if (exceeded_to) return EnterStep(*exceeded_to, active->parent_token(), active->branch());
  }
  if (step.has_end()) {
    return FinishInstance(step.end().rejected() ? v1::REJECTED : v1::APPROVED, carried_comment_,
                          step.id(), carried_reason_, step.end().outcome());
  }
  if (rejected) {
    if (step.on_reject().empty()) {
      // An approver's rejection ends the instance with their reason code
      // and comment, so that both show on the instance.
      const v1::Task* rejecting = LastRejection(token);
      if (reason.empty() && rejecting != nullptr) {
        return FinishInstance(v1::REJECTED, rejecting->comment(), step.id(),
                              rejecting->reason_code());
      }
      return FinishInstance(v1::REJECTED, "", step.id(), reason);
    }
    const v1::Step* target = index_.Find(step.on_reject());
    if (target != nullptr && target->has_end()) {
      const v1::Task* rejecting = LastRejection(token);
      carried_reason_ = reason.empty() && rejecting != nullptr ? rejecting->reason_code() : reason;
      carried_comment_ = reason.empty() && rejecting != nullptr ? rejecting->comment() : "";
    }
    SIGNOFF_RETURN_IF_ERROR(CancelEverything());
    return EnterStep(step.on_reject(), "", "");
  }
  SIGNOFF_RETURN_IF_ERROR(SendCc(step.cc(), step.id()));
  return Advance(step, active->parent_token(), active->branch());
}

absl::Status Machine::Advance(const v1::Step& step, const std::string& parent,
                     const std::string& branch) {
  for (const auto& route : step.next()) {
    if (route.has_when()) SIGNOFF_RETURN_IF_ERROR(RecordSamples(route.when(), step.id()));
    bool taken = !route.has_when();
    if (!taken) {
      SIGNOFF_ASSIGN_OR_RETURN(taken, Holds(route.when()));
    }
    if (taken) return EnterStep(route.to(), parent, branch);
  }
  if (step.next_size() == 0 && !parent.empty()) return CompleteBranch(parent, branch);
  return absl::FailedPreconditionError(
      absl::StrCat("no route out of step ", step.id(), " holds for this form"));
}

absl::Status Machine::StartParallel(const v1::Step& step, const std::string& token,
                           const std::string& parent, const std::string& branch) {
  std::vector<const v1::Branch*> branches;
  for (const auto& candidate : step.parallel().branches()) {
    if (candidate.has_when()) SIGNOFF_RETURN_IF_ERROR(RecordSamples(candidate.when(), step.id()));
    bool runs = !candidate.has_when();
    if (!runs) {
      SIGNOFF_ASSIGN_OR_RETURN(runs, Holds(candidate.when()));
    }
    if (runs) branches.push_back(&candidate);
  }
  v1::Event event = NewEvent(step.id());
  auto* parallel = event.mutable_parallel_started()->mutable_parallel();
  parallel->set_token(token);
  parallel->set_step_id(step.id());
  parallel->set_parent_token(parent);
  parallel->set_branch(branch);
  for (const auto* started : branches) parallel->add_running_branches(started->id());
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  if (branches.empty()) return JoinParallel(token);
  for (const auto* started : branches) {
    if (!FindParallel(token)) break;
    SIGNOFF_RETURN_IF_ERROR(EnterStep(started->start(), token, started->id()));
  }
  return absl::OkStatus();
}

absl::Status Machine::CompleteBranch(const std::string& parallel_token, const std::string& branch) {
  v1::Event event = NewEvent();
  event.mutable_branch_completed()->set_parallel_token(parallel_token);
  event.mutable_branch_completed()->set_branch(branch);
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  std::optional<v1::ActiveParallel> parallel = FindParallel(parallel_token);
  if (!parallel) return absl::InternalError("branch of an unknown parallel");
  const auto& spec = StepOf(parallel->step_id()).parallel();
  const int done = parallel->completed_branches_size();
  const int total = done + parallel->running_branches_size();
  int needed = total;
  if (spec.join() == v1::JOIN_ANY) needed = std::min(1, total);
  if (spec.join() == v1::JOIN_N) needed = std::min<int>(static_cast<int>(spec.n()), total);
  if (done >= needed) return JoinParallel(parallel_token);
  return absl::OkStatus();
}

absl::Status Machine::JoinParallel(const std::string& token) {
  std::optional<v1::ActiveParallel> parallel = FindParallel(token);
  if (!parallel) return absl::InternalError("join of an unknown parallel");
  SIGNOFF_RETURN_IF_ERROR(CancelUnder(token));
  const v1::Step& step = StepOf(parallel->step_id());
  v1::Event event = NewEvent(step.id());
  event.mutable_parallel_joined()->set_parallel_token(token);
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  SIGNOFF_RETURN_IF_ERROR(SendCc(step.cc(), step.id()));
  return Advance(step, parallel->parent_token(), parallel->branch());
}

absl::Status Machine::CancelStep(const std::string& token, const std::string& step_id) {
  SIGNOFF_RETURN_IF_ERROR(StopTimers(token));
  SIGNOFF_RETURN_IF_ERROR(CancelTasksOf(token, "the instance moved on"));
  v1::Event event = NewEvent(step_id);
  event.mutable_step_cancelled()->set_token(token);
  return Emit(std::move(event), kSystemActor);
}

absl::Status Machine::CancelUnder(const std::string& parallel_token) {
  std::vector<v1::ActiveStep> steps;
  for (const auto& step : state_.active_steps()) {
    if (step.parent_token() == parallel_token) steps.push_back(step);
  }
  for (const auto& step : steps) SIGNOFF_RETURN_IF_ERROR(CancelStep(step.token(), step.step_id()));
  std::vector<v1::ActiveParallel> nested;
  for (const auto& parallel : state_.active_parallels()) {
    if (parallel.parent_token() == parallel_token) nested.push_back(parallel);
  }
  for (const auto& parallel : nested) {
    SIGNOFF_RETURN_IF_ERROR(CancelUnder(parallel.token()));
    SIGNOFF_RETURN_IF_ERROR(CancelStep(parallel.token(), parallel.step_id()));
  }
  return absl::OkStatus();
}

absl::Status Machine::CancelEverything() {
  std::vector<v1::ActiveStep> steps(state_.active_steps().begin(),
                                    state_.active_steps().end());
  for (const auto& step : steps) SIGNOFF_RETURN_IF_ERROR(CancelStep(step.token(), step.step_id()));
  std::vector<v1::ActiveParallel> parallels(state_.active_parallels().begin(),
                                            state_.active_parallels().end());
  for (const auto& parallel : parallels) {
    SIGNOFF_RETURN_IF_ERROR(CancelStep(parallel.token(), parallel.step_id()));
  }
  return absl::OkStatus();
}

absl::Status Machine::FinishInstance(v1::InstanceStatus status, const std::string& comment,
                            const std::string& step_id, const std::string& reason,
                            const std::string& outcome) {
  SIGNOFF_RETURN_IF_ERROR(CancelEverything());
  // A reservation lasts only while the instance runs.
  SIGNOFF_RETURN_IF_ERROR(ReleaseHolds("", 0, step_id));
  v1::Event event = NewEvent(step_id);
  event.set_comment(comment);
  event.set_reason(reason);
  event.mutable_instance_finished()->set_status(status);
  event.mutable_instance_finished()->set_outcome(outcome);
  if (status == v1::REJECTED) {
    SIGNOFF_ASSIGN_OR_RETURN(std::optional<absl::Time> appeal_until, AppealDeadline());
    if (appeal_until) {
      *event.mutable_instance_finished()->mutable_appeal_until() = ToTimestamp(*appeal_until);
    }
  }
  SIGNOFF_RETURN_IF_ERROR(Emit(std::move(event)));
  return SendCc(definition_.cc_on_finish(), step_id);
}

absl::Status Machine::SendCc(const google::protobuf::RepeatedPtrField<v1::ApproverRule>& rules,
                    const std::string& step_id) {
  if (rules.empty()) return absl::OkStatus();
  std::set<std::string> users;
  for (const auto& candidate :
       ResolveApprovers(rules, Basis(), directory())) {
    if (!candidate.is_group()) {
      users.insert(candidate.user);
      continue;
    }
    for (const auto& holder :
         directory().HoldersOf(candidate.group.role(), candidate.group.department())) {
      users.insert(holder);
    }
  }
  if (users.empty()) return absl::OkStatus();
  v1::Event event = NewEvent(step_id);
  for (const auto& user : users) event.mutable_cc_sent()->add_users(user);
  return Emit(std::move(event), kSystemActor);
}

}  // namespace signoff::workflow::internal
