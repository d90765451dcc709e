#pragma once

// The engine's working state for one command. Internal to workflow/: the
// public entry points are in engine.h. Its members are defined by topic:
// engine.cc (events, lookups, commands), machine_decisions.cc,
// machine_flow.cc (entering, finishing and joining steps),
// machine_waits.cc (signals, timers, waits, samples, appeal windows) and
// machine_sla.cc (SLA clocks and their operations).

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "workflow/approvers.h"
#include "workflow/definition_index.h"
#include "workflow/engine.h"
#include "workflow/ledgers.h"
#include "workflow/sla_clock.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::workflow::internal {

namespace v1 = ::signoff::v1;

inline bool IsOpen(const v1::Task& task) {
  return task.status() == v1::PENDING || task.status() == v1::WAITING;
}

inline bool Approves(const v1::Task& task) {
  return task.status() == v1::DONE &&
         (task.decision() == v1::APPROVE || task.decision() == v1::COMPLETE);
}

inline bool Rejects(const v1::Task& task) {
  return task.status() == v1::DONE && task.decision() == v1::REJECT;
}

template <typename T>
inline bool Contains(const std::vector<T>& items, const T& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// One command's worth of decisions. Every change goes through Emit, which
// folds the event into the scratch state, so later decisions in the same
// command see earlier ones.
class Machine {
 public:
  Machine(const v1::WorkflowDefinition& definition, v1::InstanceState state,
          const Context& context)
      : definition_(definition),
        index_(definition),
        state_(std::move(state)),
        context_(context),
        balances_(context.ledgers == nullptr ? LedgerBalances{} : *context.ledgers) {}

  absl::Status Execute(const v1::Command& command) {
    switch (command.kind_case()) {
      case v1::Command::kStart:
        return Start(command.start(), command.scheduled_period());
      case v1::Command::kDecide:
        return Decide(command.decide());
      case v1::Command::kClaim:
        return Claim(command.claim());
      case v1::Command::kUnclaim:
        return Unclaim(command.unclaim());
      case v1::Command::kRemind:
        return Remind(command.remind());
      case v1::Command::kWithdraw:
        return Withdraw(command.withdraw());
      case v1::Command::kResubmit:
        return Resubmit(command.resubmit());
      case v1::Command::kAppeal:
        return Appeal(command.appeal());
      case v1::Command::kCancel:
        return Cancel(command.cancel());
      case v1::Command::kSignal:
        return Signal(command.signal());
      case v1::Command::kPauseClock:
        return PauseClock(command.pause_clock());
      case v1::Command::kResumeClock:
        return ResumeClock(command.resume_clock());
      case v1::Command::kExtendDeadline:
        return ExtendDeadline(command.extend_deadline());
      case v1::Command::kFireTimer:
        return FireTimer(command.fire_timer());
      case v1::Command::kCompleteJob:
        return CompleteJob(command.complete_job());
      case v1::Command::kFailJob:
        return FailJob(command.fail_job());
      case v1::Command::kThrowJobError:
        return ThrowJobError(command.throw_job_error());
      case v1::Command::kResolveIncident:
        return ResolveIncident(command.resolve_incident());
      default:
        return absl::InvalidArgumentError("empty command");
    }
  }

  Transition Take();

 private:
  v1::Event NewEvent(const std::string& step_id = "", const std::string& task_id = "");

  absl::Status Emit(v1::Event event, const std::string& actor = "");

  // Notes what an emitted event changes beyond the state: tasks for the
  // inbox index, timers for the scheduler.
  void NoteEffects(const v1::Event& event);

  absl::Status EmitTask(const v1::Task& task, v1::Event::BodyCase kind,
                        const std::string& actor = "", const std::string& reason = "",
                        const std::string& comment = "");

  const v1::Task* FindTask(const std::string& id) const;

  std::optional<v1::ActiveStep> FindActive(const std::string& token) const;

  std::optional<v1::ActiveParallel> FindParallel(const std::string& token) const;

  const v1::Step& StepOf(const std::string& id) const;

  const Directory& directory() const { return *context_.directory; }

  bool IsAdmin(const std::string& user) const;

  absl::Status RequireStatus(std::initializer_list<v1::InstanceStatus> allowed) const;

  absl::Status RequireApplicant(const char* what) const;

  absl::Status Start(const v1::StartInstanceRequest& request,
                     const std::string& scheduled_period);

  absl::Status Decide(const v1::DecideTaskRequest& request);

  absl::Status Claim(const v1::ClaimTaskRequest& request);

  absl::Status Unclaim(const v1::UnclaimTaskRequest& request);

  // A pending candidate-group task of the running instance, to claim or
  // give back.
  absl::StatusOr<v1::Task> OpenGroupTask(const std::string& id) const;

  // FAILED_PRECONDITION (or INVALID_ARGUMENT) when an approver rule
  // resolves from the subject and the instance has no subject user.
  absl::Status RequireSubjectForRules(const v1::StartInstanceRequest& request) const;

  // What the definition's rules resolve relative to.
  RuleBasis Basis() const;

  // Sends candidates whose standing delegation runs now to their delegates.
  void ApplyDelegations(const v1::Step& step, std::vector<Candidate>& candidates) const;

  absl::Status Remind(const v1::RemindTaskRequest& request);

  absl::Status Withdraw(const v1::WithdrawInstanceRequest& request);

  absl::Status Cancel(const v1::CancelInstanceRequest& request);

  absl::Status Resubmit(const v1::ResubmitInstanceRequest& request);

  absl::Status Appeal(const v1::AppealInstanceRequest& request);

  absl::Status RequireDecidable(const v1::Task& task) const;

  // FAILED_PRECONDITION for a job's task: JobService works it.
  static absl::Status RequireNotJob(const v1::Task& task);

  // The assignee may act; a candidate-group member claims the task by
  // acting on it.
  absl::Status Authorize(const v1::Task& task);

  // APPROVE belongs to approvals, COMPLETE to work; the other is refused.
  static absl::Status CheckActionFitsStep(const v1::Step& step, v1::Action action);

  absl::Status CheckActionAllowed(const v1::Step& step, v1::Action action,
                                  const std::string& comment) const;

  v1::Task Decided(v1::Task task, v1::Action action, const v1::DecideTaskRequest& request);

  absl::Status Complete(const v1::Task& task, v1::Action action,
                        const v1::DecideTaskRequest& request);

  static absl::Status RequireReasonCode(
      const google::protobuf::RepeatedPtrField<v1::ReasonCode>& codes, const std::string& given,
      const char* what);

  absl::Status Reject(const v1::Task& task, const v1::DecideTaskRequest& request);

  absl::Status Return(const v1::Task& task, const v1::DecideTaskRequest& request);

  // A user who may take over a task: exists, is enabled, and does not break
  // separation of duties.
  absl::StatusOr<std::string> TargetUser(const v1::Task& task,
                                         const v1::DecideTaskRequest& request) const;

  absl::Status Reassign(const v1::Task& task, v1::Action action,
                        const v1::DecideTaskRequest& request);

  absl::Status AddSigner(const v1::Task& task, const v1::DecideTaskRequest& request);

  // Makes room at `from` in a slot: open tasks there and after move down,
  // and a task that stops being first waits.
  absl::Status ShiftSlot(const v1::Task& task, int from);

  absl::Status CarbonCopy(const v1::Task& task, const v1::DecideTaskRequest& request);

  absl::Status Signal(const v1::SignalInstanceRequest& request);

  bool IsServiceAccount(const std::string& user) const;

  // PERMISSION_DENIED for a service account the definition does not list
  // in service_accounts; anyone else passes.
  // A service account may act on this definition's instances when the
  // definition lists it, or its directory grant of `permission` covers
  // the definition.
  absl::Status RequireListedIfService(const std::string& user, const char* permission) const;
  bool SubjectIsUser() const;

  const v1::Timer* FindTimer(const std::string& id) const;

  const v1::StepClock* FindClock(const std::string& token) const;

  std::string NextTimerId() const;

  absl::Status SetTimer(const std::string& id, v1::TimerKind kind, const std::string& token,
                        const std::string& step_id, absl::Time fire_at);

  absl::Status CancelTimer(const std::string& id, const std::string& step_id);

  // Cancels the pending timers of a step that is ending.
  absl::Status StopTimers(const std::string& token);

  absl::Status FireTimer(const v1::FireTimer& request);

  absl::Status StartWait(const v1::Step& step, const std::string& token);

  absl::StatusOr<std::optional<absl::Time>> WaitDeadline(const v1::WaitStep& wait) const;

  absl::Status WaitRanOut(const std::string& token);

  absl::StatusOr<SlaClock> ClockOf(const v1::Step& step) const;

  absl::Status StartClock(const v1::Step& step, const std::string& token);

  // Records a clock as changed: replaces its timer with one for its next
  // point, and shows the deadline on the step's open tasks.
  absl::Status RecordClock(const SlaClock& sla, v1::StepClock clock, v1::Event::BodyCase kind,
                           const std::string& actor, const std::string& reason,
                           const std::string& comment);

  static void ShowClock(const v1::StepClock& clock, v1::Task& task);

  absl::Status ShowClockOnTasks(const v1::StepClock& clock);

  // A clock timer fired: reminders, escalation rungs and the deadline that
  // the clock has reached, then the timer for the next point.
  absl::Status AdvanceClock(const std::string& token);

  absl::Status RemindOpenTasks(const v1::Step& step, const std::string& token, int32_t count);

  absl::Status Breach(const v1::Step& step, const v1::StepClock& clock);

  // Who an escalation of `task` goes to: one user, a candidate group, or
  // (notifying a role) its holders.
  Candidate EscalationTargetOf(const v1::EscalationTarget& target, const v1::Task& task) const;

  absl::Status Escalate(const std::string& token, v1::EscalationKind kind,
                        const v1::EscalationTarget& target, int rung);

  absl::Status Reassign(const v1::Task& task, const Candidate& to,
                        const std::vector<std::string>& users, int rung);

  bool HoldsOpenTask(const std::string& token, const std::string& user) const;

  absl::Status RecordEscalation(const v1::Task& task, v1::EscalationKind kind, int rung,
                                const std::vector<std::string>& users,
                                const v1::CandidateGroup& group, const std::string& reason);

  // The open task a clock operation names, its step's clock, and whether
  // the caller may operate it.
  absl::StatusOr<v1::StepClock> ClockOperand(const std::string& task_id, v1::Action needed) const;

  // A clock brought up to date: points that came due before their timer
  // fired (the scheduler polls) are handled first, so that a pause or an
  // extension never hides a missed deadline. FAILED_PRECONDITION when the
  // timeout action ended the step.
  absl::StatusOr<v1::StepClock> CaughtUp(const v1::StepClock& clock);

  // A WAIT step a clock operation names: its active step and pending
  // timer (none while paused or when only a signal ends it), once the step
  // is known to allow `needed` and the caller may use it.
  struct WaitOperand {
    v1::ActiveStep active;
    const v1::Step* step = nullptr;
    std::optional<v1::Timer> timer;
    std::optional<v1::PausedWait> paused;
  };
  absl::StatusOr<WaitOperand> FindWaitOperand(const v1::WaitRef& ref, v1::Action needed) const;

  // What a wait's time counts on: its duration's clock (working time on
  // a calendar), or elapsed time for a wait until a date.
  absl::StatusOr<ClockBasis> WaitBasis(const v1::Step& step) const;

  absl::Status PauseWait(const v1::ClockRequest& request);

  absl::Status ResumeWait(const v1::ClockRequest& request);

  absl::Status ExtendWait(const v1::ExtendDeadlineRequest& request);

  absl::Status EmitWaitChanged(const WaitOperand& wait, v1::Event::BodyCase kind,
                               std::optional<absl::Time> due_at, int64_t remaining_seconds,
                               const std::string& comment);

  absl::Status PauseClock(const v1::ClockRequest& request);

  absl::Status ResumeClock(const v1::ClockRequest& request);

  absl::Status ExtendDeadline(const v1::ExtendDeadlineRequest& request);

  absl::StatusOr<int64_t> ExtensionSeconds(const SlaClock& sla, const v1::StepClock& clock,
                                           const v1::ExtendDeadlineRequest& request) const;

  absl::Status RecordSamples(const v1::Condition& condition, const std::string& step_id);

  absl::StatusOr<std::optional<absl::Time>> AppealDeadline() const;

  // Jobs (machine_jobs.cc): SYSTEM steps with a job_type.
  absl::Status CreateJob(const v1::Step& step, const std::string& token);

  // The open job a worker's command names, once the caller may work it.
  absl::StatusOr<v1::Task> WorkableJob(const std::string& task_id) const;

  // CheckJobWorker (jobs.h) for the caller and this instance.
  absl::Status RequireJobWorker(const v1::Step& step) const;

  absl::Status CompleteJob(const v1::CompleteJob& request);

  absl::Status FailJob(const v1::FailJob& request);

  absl::Status ThrowJobError(const v1::ThrowJobError& request);

  absl::Status RaiseIncident(v1::Task task, const std::string& message);

  absl::Status ResolveIncident(const v1::ResolveIncidentRequest& request);

  absl::Status EnterStep(const std::string& id, const std::string& parent,
                         const std::string& branch);

  const google::protobuf::RepeatedPtrField<v1::ApproverRule>& RulesOf(const v1::Step& step);

  absl::Status CreateTasks(const v1::Step& step, const std::string& token);

  // The step's approvers after separation of duties and the empty policy.
  // Empty means the step auto-approves.
  absl::StatusOr<std::vector<Candidate>> CandidatesFor(const v1::Step& step);

  v1::Task NewTask(const v1::Task& like, const std::string& assignee);

  struct SlotTally {
    int slots = 0;
    int approved = 0;
    int rejected = 0;
    // Open slots in slot order, each with its open tasks.
    std::vector<std::vector<v1::Task>> open;
  };

  SlotTally Tally(const std::string& token) const;

  // nullopt while undecided; otherwise whether the step is rejected.
  static std::optional<bool> PolicyOutcome(const v1::Step& step, const SlotTally& tally);

  bool AlreadyApproved(const v1::Task& task) const;

  // Brings a step's tasks in line with its policy: decides the step when the
  // policy is met, activates whoever is next, and auto-approves approvers
  // who already approved this form.
  absl::Status Reconcile(const std::string& token);

  absl::StatusOr<bool> AdvanceSlots(const v1::Step& step, const SlotTally& tally);

  absl::Status CancelTasksOf(const std::string& token, const std::string& reason);

  absl::Status FinishStep(const std::string& token, bool rejected, const std::string& reason);

  // The task whose rejection decided step `token`, if one did.
  const v1::Task* LastRejection(const std::string& token) const;

  absl::Status Advance(const v1::Step& step, const std::string& parent,
                       const std::string& branch);

  absl::Status StartParallel(const v1::Step& step, const std::string& token,
                             const std::string& parent, const std::string& branch);

  absl::Status CompleteBranch(const std::string& parallel_token, const std::string& branch);

  absl::Status JoinParallel(const std::string& token);

  absl::Status CancelStep(const std::string& token, const std::string& step_id);

  // Cancels everything running inside a parallel's branches.
  absl::Status CancelUnder(const std::string& parallel_token);

  absl::Status CancelEverything();

  absl::Status FinishInstance(v1::InstanceStatus status, const std::string& comment,
                              const std::string& step_id, const std::string& reason = "",
                              const std::string& outcome = "");

  absl::Status SendCc(const google::protobuf::RepeatedPtrField<v1::ApproverRule>& rules,
                      const std::string& step_id);

  // Ledgers (machine_ledgers.cc).
  // What conditions read: the form and the ledger operands.
  absl::StatusOr<google::protobuf::Struct> ConditionData() const;
  absl::StatusOr<bool> Holds(const v1::Condition& condition) const;

  // Makes the movements of an approved or completed step. Returns the
  // on_exceeded step when one would overdraw its ledger and the step
  // routes that; FAILED_PRECONDITION when it does not.
  absl::StatusOr<std::optional<std::string>> MoveLedgers(const v1::Step& step);

  absl::StatusOr<std::optional<std::string>> MoveLedger(const v1::Step& step,
                                                        const v1::LedgerEntry& entry,
                                                        absl::TimeZone zone);

  absl::StatusOr<int64_t> EntryAmount(const v1::LedgerEntry& entry) const;

  // Gives back the holds on `ledger` (every ledger when empty), up to
  // `at_most` cents when positive, except at `keep`.
  absl::Status ReleaseHolds(const std::string& ledger, int64_t at_most, const std::string& step_id,
                            const std::string& keep = "");

  int64_t HeldAt(const v1::LedgerPosition& position) const;

  const v1::WorkflowDefinition& definition_;

  DefinitionIndex index_;

  v1::InstanceState state_;

  const Context& context_;

  std::vector<v1::Event> events_;

  std::string on_behalf_of_;
  // A rejection whose on_reject leads straight to an END step: that END
  // finishes the instance with the rejection's reason code and comment.
  std::string carried_reason_;
  std::string carried_comment_;

  // Effects noted by Emit, for Take.
  std::set<std::string> touched_tasks_;
  std::map<std::string, std::optional<v1::Timer>> changed_timers_;

  // The context's balances with this command's movements folded in.
  LedgerBalances balances_;
  std::vector<v1::LedgerMoved> ledger_moves_;
};

}  // namespace signoff::workflow::internal
