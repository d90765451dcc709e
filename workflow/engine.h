#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "signoff/v1/command.pb.h"
#include "signoff/v1/definition.pb.h"
#include "signoff/v1/instance.pb.h"
#include "signoff/v1/service.pb.h"
#include "workflow/calendar.h"
#include "workflow/directory.h"
#include "workflow/ledgers.h"

namespace signoff::workflow {

// The actor recorded on decisions the engine makes by itself.
inline constexpr char kSystemActor[] = "system";
inline constexpr char kDefaultAdminRole[] = "workflow-admin";

// Everything Apply needs from outside: the engine itself reads no clock and
// generates no ids.
struct Context {
  absl::Time now;
  // The directory user issuing the command.
  std::string actor;
  const Directory* directory = nullptr;
  // The business calendars spans may count on; may be null when the
  // definition uses none.
  const CalendarSet* calendars = nullptr;
  // The id a Start command gives its instance.
  std::string new_instance_id;
  // The balances of the instance's ledgers as committed; may be null when
  // the definition declares none (an absent balance reads as untouched).
  const LedgerBalances* ledgers = nullptr;
};

struct Transition {
  // The state after the command; folding `events` onto the old state gives
  // it.
  signoff::v1::InstanceState state;
  std::vector<signoff::v1::Event> events;

  // The effects a store needs to keep its indexes in step, recorded as the
  // engine emitted the events.
  // Tasks created or changed, as the new state holds them, by id.
  std::vector<signoff::v1::Task> tasks_touched;
  // Timers set or moved, as they now stand, and those cancelled or fired.
  std::vector<signoff::v1::Timer> timers_set;
  std::vector<std::string> timers_removed;
  // Set while the instance holds its subject under a definition that
  // allows one open instance per subject; empty otherwise.
  std::string subject_key;
  // The ledger movements, in order; the commit applies them only while
  // no balance goes past its limit.
  std::vector<signoff::v1::LedgerMoved> ledger_moves;
};

// Applies one command to an instance. Deterministic: the same inputs always
// give the same transition. On error nothing is to be stored.
//
// Timers: the transition's events set and cancel timers (timer_set,
// timer_cancelled); a FireTimer command acts on one that came due.
//
// Errors: INVALID_ARGUMENT (bad form or request, with field violations),
// FAILED_PRECONDITION (action not allowed in this state), PERMISSION_DENIED
// (not the caller's task or instance), NOT_FOUND (no such task).
absl::StatusOr<Transition> Apply(const signoff::v1::WorkflowDefinition& definition,
                                 const signoff::v1::InstanceState& state,
                                 const signoff::v1::Command& command,
                                 const Context& context);

// Folds one event into a state. Replaying an instance's events onto an
// empty state rebuilds it.
absl::Status Evolve(signoff::v1::InstanceState& state, const signoff::v1::Event& event);
absl::StatusOr<signoff::v1::InstanceState> Replay(
    const std::vector<signoff::v1::Event>& events);

// Who would act at each step for this form and applicant, assuming every
// step is approved: Apply on a scratch instance.
absl::StatusOr<signoff::v1::PreviewRouteResponse> PreviewRoute(
    const signoff::v1::WorkflowDefinition& definition,
    const google::protobuf::Struct& form, const std::string& applicant,
    const Context& context);

// The instance a task belongs to: task ids are "<instance id>-t<n>". Empty
// for a string that is not a task id.
std::string InstanceIdOfTask(const std::string& task_id);

// The role whose holders administer instances of this definition.
std::string AdminRole(const signoff::v1::WorkflowDefinition& definition);

// How many more appeals the definition allows the instance: none when it
// allows no appeals or the instance has used them all. Whether the window
// is still open is a separate question.
int AppealsLeft(const signoff::v1::WorkflowDefinition& definition,
                const signoff::v1::InstanceState& state);

}  // namespace signoff::workflow
