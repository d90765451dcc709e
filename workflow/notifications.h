#pragma once

#include <vector>

#include "signoff/v1/events.pb.h"
#include "signoff/v1/instance.pb.h"
#include "workflow/directory.h"

namespace signoff::workflow {

// A notification made by one of a transition's events; the store numbers
// it and links it to that event's global_seq when it commits.
struct PendingNotification {
  // Index into the transition's events.
  int event_index = 0;
  signoff::v1::Notification notification;
};

// Who must be told what after `events` moved an instance to `after`:
// assignees of tasks that became theirs (after delegation), members of
// candidate groups offered a task, reminded and escalated assignees,
// copied users, the delegator of a delegated task, and the applicant when
// the request finished or came back to them. Disabled users and service
// accounts are not told, nor is anybody of their own action.
// Deterministic: the same inputs give the same list.
std::vector<PendingNotification> NotificationsOf(const std::vector<signoff::v1::Event>& events,
                                                 const signoff::v1::InstanceState& after,
                                                 const Directory& directory);

}  // namespace signoff::workflow
