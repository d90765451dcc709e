#pragma once

// The directory roles that signoff itself gives meaning to. Any other role
// name is the organisation's own (approver and candidate groups).
namespace signoff::workflow {

// Reads every instance, history and task, and the admin audit trail;
// changes nothing.
inline constexpr char kAuditorRole[] = "auditor";
// Reads and cancels the instances of the definitions its grant lists (all
// definitions when it lists none), and resolves their incidents.
inline constexpr char kProcessAdminRole[] = "process-admin";

// A service account's permissions, each scoped by its grant's definitions.
inline constexpr char kSignalPermission[] = "signal";
inline constexpr char kCompleteSystemStepsPermission[] = "complete-system-steps";
inline constexpr char kWatchEventsPermission[] = "watch-events";

}  // namespace signoff::workflow
