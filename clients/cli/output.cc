#include "output.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"

namespace signoff::cli {

void Table::Print() const {
  std::vector<size_t> widths(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header_);
  for (const auto& row : rows_) measure(row);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() && !row[i].empty() ? row[i] : "-";
      line += cell;
      if (i + 1 < widths.size()) line += std::string(widths[i] - cell.size() + 2, ' ');
    }
    std::cout << line << "\n";
  };
  print(header_);
  for (const auto& row : rows_) print(row);
}

void PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    std::cerr << "cannot print JSON: " << status.ToString() << "\n";
    return;
  }
  std::cout << json;
  if (json.empty() || json.back() != '\n') std::cout << "\n";
}

std::string LocalTime(const google::protobuf::Timestamp& stamp) {
  if (stamp.seconds() == 0 && stamp.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(stamp.seconds()),
                          absl::LocalTimeZone());
}

std::string Age(const google::protobuf::Timestamp& stamp, absl::Time now) {
  if (stamp.seconds() == 0) return "-";
  const int64_t seconds = std::max<int64_t>(0, absl::ToUnixSeconds(now) - stamp.seconds());
  if (seconds < 60) return absl::StrCat(seconds, "s");
  if (seconds < 3600) return absl::StrCat(seconds / 60, "m");
  if (seconds < 86400) return absl::StrCat(seconds / 3600, "h", (seconds % 3600) / 60, "m");
  return absl::StrCat(seconds / 86400, "d", (seconds % 86400) / 3600, "h");
}

std::string Name(const std::string& enum_name) {
  for (const char* prefix : {"TASK_", "STEP_"}) {
    if (enum_name.rfind(prefix, 0) == 0 && enum_name != "TASK_STATUS_UNSPECIFIED") {
      return enum_name.substr(std::string(prefix).size());
    }
  }
  return enum_name;
}

std::string Assignee(const v1::Task& task) {
  if (!task.assignee().empty()) {
    return task.delegated_from().empty()
               ? task.assignee()
               : absl::StrCat(task.assignee(), " (for ", task.delegated_from(), ")");
  }
  if (task.has_candidate_group()) {
    return absl::StrCat("group:", task.candidate_group().role(),
                        task.candidate_group().department().empty() ? "" : "@",
                        task.candidate_group().department());
  }
  return "";
}

std::string Due(const v1::Task& task) {
  if (task.clock_paused()) return "paused";
  if (!task.has_due_at()) return "-";
  return absl::StrCat(LocalTime(task.due_at()), task.overdue() ? " (overdue)" : "");
}

namespace {

// A step's SLA clock in a few words, e.g. "running, deadline after 16h of
// working time on cn-mainland".
std::string ClockState(const v1::StepClock& clock) {
  std::vector<std::string> parts = {
      clock.has_running_since() ? "running" : absl::StrCat("paused since ", LocalTime(clock.paused_at()))};
  if (clock.due_offset_seconds() > 0) {
    parts.push_back(absl::StrCat(
        "deadline after ", absl::FormatDuration(absl::Seconds(clock.due_offset_seconds())),
        clock.calendar().empty() ? "" : " of working time on " + clock.calendar()));
  }
  if (clock.breached()) parts.push_back("breached");
  return absl::StrJoin(parts, ", ");
}

}  // namespace

void PrintInstances(const std::vector<v1::InstanceView>& instances) {
  const absl::Time now = absl::Now();
  Table table({"ID", "DEFINITION", "SUBJECT", "STATUS", "SLA", "STEP", "ASSIGNEES", "APPLICANT",
               "AGE", "UPDATED"});
  for (const auto& instance : instances) {
    std::vector<std::string> assignees;
    for (const auto& task : instance.pending_tasks()) {
      if (task.status() == v1::PENDING) assignees.push_back(Assignee(task));
    }
    table.Add({instance.id(), absl::StrCat(instance.definition_key(), "@", instance.definition_version()),
               instance.subject(), v1::InstanceStatus_Name(instance.status()),
               instance.sla_breached() ? "breached" : "", absl::StrJoin(instance.active_steps(), ","),
               absl::StrJoin(assignees, ","),
               instance.applicant(), Age(instance.created_at(), now),
               LocalTime(instance.updated_at())});
  }
  table.Print();
}

void PrintInstance(const v1::InstanceView& instance) {
  std::cout << "Instance:    " << instance.id() << "\n"
            << "Definition:  " << instance.definition_key() << "@" << instance.definition_version() << "\n"
            << "Status:      " << v1::InstanceStatus_Name(instance.status()) << "\n"
            << "Applicant:   " << instance.applicant() << "\n"
            << "Subject:     " << (instance.subject().empty() ? "-" : instance.subject()) << "\n"
            << "Steps:       " << absl::StrJoin(instance.active_steps(), ", ") << "\n"
            << "Created:     " << LocalTime(instance.created_at()) << "\n"
            << "Updated:     " << LocalTime(instance.updated_at()) << "\n";
  if (instance.has_finished_at()) std::cout << "Finished:    " << LocalTime(instance.finished_at()) << "\n";
  if (!instance.outcome_reason().empty()) std::cout << "Reason:      " << instance.outcome_reason() << "\n";
  if (instance.has_appeal_until()) std::cout << "Appeal by:   " << LocalTime(instance.appeal_until()) << "\n";
  if (instance.sla_breached()) std::cout << "SLA:         breached\n";
  std::cout << "Form (revision " << instance.form_revision() << "):\n";
  std::map<std::string, google::protobuf::Value> sorted(instance.form().fields().begin(),
                                                       instance.form().fields().end());
  for (const auto& [name, value] : sorted) {
    std::string json;
    google::protobuf::util::MessageToJsonString(value, &json);
    std::cout << "  " << name << ": " << json << "\n";
  }
  if (instance.pending_tasks_size() > 0) {
    std::cout << "Tasks:\n";
    PrintTasks({instance.pending_tasks().begin(), instance.pending_tasks().end()});
  }
  if (instance.clocks_size() > 0) {
    std::cout << "Clocks:\n";
    Table table({"STEP", "DUE", "CLOCK"});
    for (const auto& clock : instance.clocks()) {
      const std::string due = !clock.has_running_since() ? "paused"
                              : clock.has_due_at()       ? LocalTime(clock.due_at())
                                                         : "-";
      table.Add({clock.step_id(), due, ClockState(clock)});
    }
    table.Print();
  }
}

void PrintTasks(const std::vector<v1::Task>& tasks) {
  const absl::Time now = absl::Now();
  Table table({"ID", "DEFINITION", "SUBJECT", "STEP", "ASSIGNEE", "STATUS", "DUE", "AGE", "CREATED"});
  for (const auto& task : tasks) {
    table.Add({task.id(), task.definition_key(), task.subject(), task.step_id(), Assignee(task),
               Name(v1::TaskStatus_Name(task.status())), Due(task), Age(task.created_at(), now),
               LocalTime(task.created_at())});
  }
  table.Print();
}

void PrintTask(const v1::Task& task) {
  std::cout << "Task:        " << task.id() << "\n"
            << "Instance:    " << task.instance_id() << " (" << task.definition_key() << ")\n"
            << "Step:        " << task.step_id()
            << (task.step_name().empty() ? "" : " - " + task.step_name()) << "\n"
            << "Kind:        " << Name(v1::StepKind_Name(task.kind())) << "\n"
            << "Status:      " << Name(v1::TaskStatus_Name(task.status())) << "\n"
            << "Assignee:    " << (Assignee(task).empty() ? "-" : Assignee(task)) << "\n"
            << "Chosen by:   " << task.chosen_by() << "\n"
            << "Applicant:   " << task.applicant() << "\n"
            << "Created:     " << LocalTime(task.created_at()) << "\n";
  if (task.has_due_at() || task.clock_paused()) std::cout << "Due:         " << Due(task) << "\n";
  if (task.sla_breached()) std::cout << "SLA:         breached\n";
  if (task.status() == v1::DONE) {
    std::cout << "Decision:    " << v1::Action_Name(task.decision()) << "\n"
              << "Completed:   " << LocalTime(task.completed_at()) << "\n";
  }
  if (!task.comment().empty()) std::cout << "Comment:     " << task.comment() << "\n";
  if (!task.reason_code().empty()) std::cout << "Reason code: " << task.reason_code() << "\n";
  if (task.reminders() > 0) std::cout << "Reminders:   " << task.reminders() << "\n";
}

void PrintClock(const v1::ClockResponse& response) {
  PrintTask(response.task());
  std::cout << "Clock:       " << ClockState(response.clock()) << "\n";
}

namespace {

std::string Detail(const v1::Event& event) {
  std::vector<std::string> parts;
  if (event.has_task_created() || event.has_task_updated() || event.has_task_completed() ||
      event.has_task_cancelled()) {
    const v1::Task& task = event.has_task_created()     ? event.task_created().task()
                           : event.has_task_updated()   ? event.task_updated().task()
                           : event.has_task_completed() ? event.task_completed().task()
                                                        : event.task_cancelled().task();
    parts.push_back(absl::StrCat("assignee=", Assignee(task)));
    if (event.has_task_created()) parts.push_back(absl::StrCat("by ", task.chosen_by()));
    if (event.has_task_completed()) parts.push_back(v1::Action_Name(task.decision()));
  }
  if (event.has_instance_finished()) {
    parts.push_back(v1::InstanceStatus_Name(event.instance_finished().status()));
  }
  if (event.has_instance_returned()) {
    parts.push_back(absl::StrCat("to ", event.instance_returned().to_step().empty()
                                            ? "applicant"
                                            : event.instance_returned().to_step()));
  }
  if (event.has_instance_resubmitted()) {
    std::vector<std::string> fields;
    for (const auto& change : event.instance_resubmitted().changes()) fields.push_back(change.field());
    parts.push_back(absl::StrCat("changed: ", absl::StrJoin(fields, ",")));
  }
  if (event.has_cc_sent()) parts.push_back(absl::StrCat("to ", absl::StrJoin(event.cc_sent().users(), ",")));
  if (event.has_approver_skipped()) parts.push_back(event.approver_skipped().user());
  if (event.has_signal_received()) {
    parts.push_back(absl::StrCat("signal ", event.signal_received().name(),
                                 event.signal_received().buffered() ? " (buffered)" : ""));
  }
  if (event.has_task_escalated() && event.task_escalated().users_size() > 0) {
    parts.push_back(absl::StrCat("to ", absl::StrJoin(event.task_escalated().users(), ",")));
  }
  if (!event.on_behalf_of().empty()) parts.push_back(absl::StrCat("for ", event.on_behalf_of()));
  if (!event.reason().empty()) parts.push_back(absl::StrCat("reason: ", event.reason()));
  if (!event.comment().empty()) parts.push_back(absl::StrCat("\"", event.comment(), "\""));
  return absl::StrJoin(parts, " ");
}

}  // namespace

void PrintHistory(const std::vector<v1::Event>& events, bool verified) {
  Table table({"SEQ", "TIME", "ACTOR", "EVENT", "STEP", "TASK", "DETAIL"});
  for (const auto& event : events) {
    table.Add({absl::StrCat(event.instance_seq()), LocalTime(event.time()), event.actor(),
               event.type(), event.step_id(), event.task_id(), Detail(event)});
  }
  table.Print();
  std::cout << (verified ? "hash chain verified\n" : "HASH CHAIN BROKEN: the trail was altered\n");
}

void PrintUsers(const std::vector<v1::User>& users) {
  Table table({"ID", "NAME", "DEPARTMENT", "MANAGER", "ROLES", "FLAGS"});
  for (const auto& user : users) {
    std::vector<std::string> roles;
    for (const auto& grant : user.roles()) {
      roles.push_back(grant.department().empty() ? grant.role()
                                                 : absl::StrCat(grant.role(), "@", grant.department()));
    }
    std::string flags = user.service() ? "service" : "";
    if (user.disabled()) flags += flags.empty() ? "disabled" : ",disabled";
    table.Add({user.id(), user.display_name(), user.department(), user.manager(),
               absl::StrJoin(roles, ","), flags});
  }
  table.Print();
}

void PrintPreview(const v1::PreviewRouteResponse& preview) {
  Table table({"STEP", "KIND", "POLICY", "BRANCH", "APPROVER", "CHOSEN BY", "NOTE"});
  for (const auto& step : preview.steps()) {
    const std::string policy =
        step.policy() == v1::APPROVAL_POLICY_UNSPECIFIED ? "" : v1::ApprovalPolicy_Name(step.policy());
    if (step.approvers_size() == 0) {
      table.Add({step.step_id(), Name(v1::StepKind_Name(step.kind())), policy, step.branch()});
    }
    for (const auto& approver : step.approvers()) {
      std::string who = approver.user();
      if (who.empty() && approver.has_candidate_group()) {
        who = absl::StrCat("group:", approver.candidate_group().role(), "@",
                           approver.candidate_group().department());
      }
      table.Add({step.step_id(), Name(v1::StepKind_Name(step.kind())), policy, step.branch(), who,
                 approver.chosen_by(), approver.note()});
    }
  }
  table.Print();
  std::cout << "outcome if everyone approves: " << v1::InstanceStatus_Name(preview.final_status())
            << "\n";
}

}  // namespace signoff::cli
