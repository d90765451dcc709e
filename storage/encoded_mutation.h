#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace signoff::storage {

// A mutation made ready for the single writer on the committing thread:
// ids filled in and the bodies of instances, tasks, events, users,
// departments and admin events encoded, so that for commands the writer only chains events,
// binds values and steps statements. Definitions and calendars, published
// seldom, are encoded by the writer.
struct EncodedMutation {
  // Events and tasks name their instance; events carry their type, admin
  // events their action.
  Mutation mutation;
  std::string instance_body;
  // One per mutation.tasks, in order.
  std::vector<std::string> task_bodies;
  // One per mutation.events: the event without the columns the chain and
  // the database assign (instance_id, instance_seq, global_seq, prev_hash,
  // hash), so that it can be encoded before its place in the chain is
  // known.
  std::vector<std::string> event_bodies;
  std::vector<std::string> user_bodies;
  std::vector<std::string> department_bodies;
  std::vector<std::string> delegation_bodies;
  // One per mutation.admin_events: the event without the columns the chain
  // assigns (seq, prev_hash, hash).
  std::vector<std::string> admin_event_bodies;
  // One per mutation.notifications.
  std::vector<std::string> notification_bodies;
};

// INVALID_ARGUMENT for a mutation no store could write: a task or timer
// without an id, an event or task that names no instance, an admin event
// without a body.
absl::StatusOr<EncodedMutation> EncodeMutation(Mutation mutation);

}  // namespace signoff::storage
