#include "workflow/notifications.h"

#include <set>
#include <string>

#include "workflow/roles.h"

namespace signoff::workflow {

namespace {

using v1::Event;
using v1::NotificationKind;

// Collects one event's notifications, each recipient told once per kind.
class Collector {
 public:
  Collector(const Event& event, int index, const v1::InstanceState& after,
            const Directory& directory, std::vector<PendingNotification>& out)
      : event_(event), index_(index), after_(after), directory_(directory), out_(out) {}

  void Tell(const std::string& recipient, NotificationKind kind, const std::string& detail,
            const v1::Task* task = nullptr) {
    if (recipient.empty() || recipient == event_.actor()) return;
    const v1::User* user = directory_.FindUser(recipient);
    if (user == nullptr || user->disabled() || user->service()) return;
    if (!told_.insert({recipient, kind}).second) return;
    PendingNotification pending;
    pending.event_index = index_;
    v1::Notification& notification = pending.notification;
    notification.set_recipient(recipient);
    notification.set_kind(kind);
    notification.set_instance_id(after_.id());
    notification.set_definition_key(after_.definition_key());
    notification.set_task_id(task != nullptr ? task->id() : event_.task_id());
    notification.set_step_id(task != nullptr ? task->step_id() : event_.step_id());
    *notification.mutable_created_at() = event_.time();
    notification.set_actor(event_.actor());
    notification.set_detail(detail);
    out_.push_back(std::move(pending));
  }

  void TellGroup(const v1::CandidateGroup& group, NotificationKind kind, const std::string& detail,
                 const v1::Task* task) {
    for (const auto& member : directory_.HoldersOf(group.role(), group.department())) {
      Tell(member, kind, detail, task);
    }
  }

  // A pending task is now someone's to act on: its assignee's, or its
  // candidate group's to claim.
  void TellHolders(const v1::Task& task, NotificationKind kind, const std::string& detail) {
    if (task.status() != v1::PENDING) return;
    if (!task.assignee().empty()) {
      Tell(task.assignee(), kind, detail, &task);
    } else if (task.has_candidate_group()) {
      TellGroup(task.candidate_group(), kind == v1::TASK_ASSIGNED ? v1::TASK_OFFERED : kind,
                detail, &task);
    }
  }

  // The process administrators of the instance's definition.
  std::vector<std::string> ProcessAdmins() const {
    std::vector<std::string> admins;
    for (const auto& holder : directory_.HoldersOf(kProcessAdminRole, "")) {
      if (directory_.HoldsRoleFor(holder, kProcessAdminRole, after_.definition_key())) {
        admins.push_back(holder);
      }
    }
    return admins;
  }

  const v1::Task* TaskAfter(const std::string& id) const {
    for (const auto& task : after_.tasks()) {
      if (task.id() == id) return &task;
    }
    return nullptr;
  }

 private:
  const Event& event_;
  const int index_;
  const v1::InstanceState& after_;
  const Directory& directory_;
  std::vector<PendingNotification>& out_;
  std::set<std::pair<std::string, int>> told_;
};

void TaskUpdated(const Event& event, Collector& collect) {
  const v1::Task& task = event.task_updated().task();
  const std::string& reason = event.reason();
  if (reason == "their turn" || reason == "transferred") {
    collect.TellHolders(task, v1::TASK_ASSIGNED, task.step_name());
  } else if (reason == "delegated") {
    collect.TellHolders(task, v1::TASK_ASSIGNED, task.step_name());
    collect.Tell(task.delegated_from(), v1::TASK_DELEGATED, task.assignee(), &task);
  } else if (reason == "escalated") {
    collect.TellHolders(task, v1::TASK_ESCALATED, reason);
  }
}

void Outcome(const Event& event, const v1::InstanceState& after, Collector& collect) {
  if (event.has_instance_finished()) {
    collect.Tell(after.applicant(), v1::INSTANCE_OUTCOME,
                 v1::InstanceStatus_Name(event.instance_finished().status()));
  } else if (event.has_instance_returned() && event.instance_returned().to_step().empty()) {
    collect.Tell(after.applicant(), v1::INSTANCE_OUTCOME, "RETURNED");
  }
}

void Collect(const Event& event, const v1::InstanceState& after, Collector& collect) {
  switch (event.body_case()) {
    case Event::kTaskCreated:
      collect.TellHolders(event.task_created().task(), v1::TASK_ASSIGNED,
                          event.task_created().task().step_name());
      break;
    case Event::kTaskUpdated:
      TaskUpdated(event, collect);
      break;
    case Event::kTaskReminded:
      if (const v1::Task* task = collect.TaskAfter(event.task_id())) {
        collect.TellHolders(*task, v1::TASK_REMINDED, event.reason());
      }
      break;
    case Event::kTaskEscalated: {
      const auto& escalated = event.task_escalated();
      const v1::Task* task = collect.TaskAfter(event.task_id());
      for (const auto& user : escalated.users()) {
        collect.Tell(user, v1::TASK_ESCALATED, event.reason(), task);
      }
      if (escalated.has_group()) {
        collect.TellGroup(escalated.group(), v1::TASK_ESCALATED, event.reason(), task);
      }
      break;
    }
    case Event::kCcSent:
      for (const auto& user : event.cc_sent().users()) {
        collect.Tell(user, v1::CC_RECEIVED, event.comment());
      }
      break;
    case Event::kIncidentRaised:
      for (const auto& admin : collect.ProcessAdmins()) {
        collect.Tell(admin, v1::INCIDENT_RAISED, event.incident_raised().task().job().incident_message(),
                     &event.incident_raised().task());
      }
      break;
    case Event::kInstanceFinished:
    case Event::kInstanceReturned:
      Outcome(event, after, collect);
      break;
    default:
      break;
  }
}

}  // namespace

std::vector<PendingNotification> NotificationsOf(const std::vector<v1::Event>& events,
                                                 const v1::InstanceState& after,
                                                 const Directory& directory) {
  std::vector<PendingNotification> out;
  for (int i = 0; i < static_cast<int>(events.size()); ++i) {
    Collector collect(events[i], i, after, directory, out);
    Collect(events[i], after, collect);
  }
  return out;
}

}  // namespace signoff::workflow
