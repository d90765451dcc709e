#include "storage/encoded_mutation.h"

#include "storage/codec.h"
#include "workflow/status_macros.h"

namespace signoff::storage {
namespace {

using signoff::v1::AdminEvent;
using signoff::v1::Event;
using signoff::v1::Task;

// The case set in the message's oneof `body`, which Event.type and
// AdminEvent.action document as their value.
std::string BodyCase(const google::protobuf::Message& message) {
  const auto* oneof = message.GetDescriptor()->FindOneofByName("body");
  const auto* field = message.GetReflection()->GetOneofFieldDescriptor(message, oneof);
  return field == nullptr ? std::string() : field->name();
}

// Events and tasks may leave instance_id empty to mean the mutation's
// instance.
std::string InstanceIdOr(const Mutation& mutation, const std::string& id) {
  if (!id.empty() || !mutation.instance) return id;
  return mutation.instance->id();
}

absl::Status PrepareEvent(const Mutation& mutation, Event& event, std::string& body) {
  event.set_instance_id(InstanceIdOr(mutation, event.instance_id()));
  if (event.instance_id().empty()) return absl::InvalidArgumentError("event has no instance_id");
  if (event.type().empty()) event.set_type(BodyCase(event));
  event.clear_global_seq();
  event.clear_prev_hash();
  event.clear_hash();
  Event positionless = event;
  positionless.clear_instance_id();
  positionless.clear_instance_seq();
  SIGNOFF_ASSIGN_OR_RETURN(body, EncodeBody(positionless));
  return absl::OkStatus();
}

absl::Status PrepareTask(const Mutation& mutation, Task& task, std::string& body) {
  task.set_instance_id(InstanceIdOr(mutation, task.instance_id()));
  if (task.id().empty() || task.instance_id().empty()) {
    return absl::InvalidArgumentError("task needs an id and an instance_id");
  }
  // Overdue is computed when a task is read, never stored.
  task.clear_overdue();
  SIGNOFF_ASSIGN_OR_RETURN(body, EncodeBody(task));
  return absl::OkStatus();
}

absl::Status PrepareAdminEvent(AdminEvent& event, std::string& body) {
  event.set_action(BodyCase(event));
  if (event.action().empty()) return absl::InvalidArgumentError("an admin event has no body");
  event.clear_seq();
  event.clear_prev_hash();
  event.clear_hash();
  SIGNOFF_ASSIGN_OR_RETURN(body, EncodeBody(event));
  return absl::OkStatus();
}

absl::Status CheckTimers(const Mutation& mutation) {
  for (const signoff::v1::Timer& timer : mutation.timers_set) {
    if (timer.id().empty() || !mutation.instance || mutation.instance->id().empty()) {
      return absl::InvalidArgumentError("a timer needs an id and the mutation's instance");
    }
  }
  return absl::OkStatus();
}

template <typename Message>
absl::StatusOr<std::vector<std::string>> EncodeAll(const std::vector<Message>& messages) {
  std::vector<std::string> bodies;
  bodies.reserve(messages.size());
  for (const Message& message : messages) {
    SIGNOFF_ASSIGN_OR_RETURN(bodies.emplace_back(), EncodeBody(message));
  }
  return bodies;
}

// The columns hold the id, the event's global_seq and the read mark.
absl::Status PrepareNotification(const Mutation& mutation,
                                 const workflow::PendingNotification& pending, std::string& body) {
  if (pending.event_index < 0 ||
      pending.event_index >= static_cast<int>(mutation.events.size())) {
    return absl::InvalidArgumentError("a notification names no event of its mutation");
  }
  if (pending.notification.recipient().empty()) {
    return absl::InvalidArgumentError("a notification has no recipient");
  }
  v1::Notification stripped = pending.notification;
  stripped.clear_id();
  stripped.clear_global_seq();
  stripped.clear_read();
  stripped.clear_read_at();
  SIGNOFF_ASSIGN_OR_RETURN(body, EncodeBody(stripped));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EncodedMutation> EncodeMutation(Mutation mutation) {
  EncodedMutation encoded;
  if (mutation.instance) {
    if (mutation.instance->id().empty()) {
      return absl::InvalidArgumentError("instance has no id");
    }
    SIGNOFF_ASSIGN_OR_RETURN(encoded.instance_body, EncodeBody(*mutation.instance));
  }
  encoded.event_bodies.resize(mutation.events.size());
  for (size_t i = 0; i < mutation.events.size(); ++i) {
    SIGNOFF_RETURN_IF_ERROR(PrepareEvent(mutation, mutation.events[i], encoded.event_bodies[i]));
  }
  encoded.task_bodies.resize(mutation.tasks.size());
  for (size_t i = 0; i < mutation.tasks.size(); ++i) {
    SIGNOFF_RETURN_IF_ERROR(PrepareTask(mutation, mutation.tasks[i], encoded.task_bodies[i]));
  }
  SIGNOFF_RETURN_IF_ERROR(CheckTimers(mutation));
  SIGNOFF_ASSIGN_OR_RETURN(encoded.user_bodies, EncodeAll(mutation.users));
  SIGNOFF_ASSIGN_OR_RETURN(encoded.department_bodies, EncodeAll(mutation.departments));
  SIGNOFF_ASSIGN_OR_RETURN(encoded.delegation_bodies, EncodeAll(mutation.delegations));
  encoded.admin_event_bodies.resize(mutation.admin_events.size());
  for (size_t i = 0; i < mutation.admin_events.size(); ++i) {
    SIGNOFF_RETURN_IF_ERROR(
        PrepareAdminEvent(mutation.admin_events[i], encoded.admin_event_bodies[i]));
  }
  encoded.notification_bodies.resize(mutation.notifications.size());
  for (size_t i = 0; i < mutation.notifications.size(); ++i) {
    SIGNOFF_RETURN_IF_ERROR(
        PrepareNotification(mutation, mutation.notifications[i], encoded.notification_bodies[i]));
  }
  encoded.mutation = std::move(mutation);
  return encoded;
}

}  // namespace signoff::storage
