#include "output.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"

namespace signoff::cli {

namespace {

// How many bytes a UTF-8 sequence starting with `lead` takes; 0 when
// `lead` starts none.
size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 0;
}

// The code point that starts at text[at], and how many bytes it takes; a
// byte that starts no valid sequence stands for itself.
std::pair<char32_t, size_t> DecodeUtf8(const std::string& text, size_t at) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  const size_t length = SequenceLength(lead);
  if (length <= 1 || at + length > text.size()) return {lead, 1};
  char32_t point = lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return {lead, 1};
    point = (point << 6) | (byte(at + i) & 0x3F);
  }
  return {point, length};
}

// East Asian wide and fullwidth characters (CJK, Hangul, fullwidth forms,
// emoji) take two columns; combining marks take none.
int ColumnsOf(char32_t point) {
  if ((point >= 0x0300 && point <= 0x036F) || point == 0x200B) return 0;
  const bool wide = (point >= 0x1100 && point <= 0x115F) || (point >= 0x2E80 && point <= 0x303E) ||
                    (point >= 0x3041 && point <= 0x33FF) || (point >= 0x3400 && point <= 0x4DBF) ||
                    (point >= 0x4E00 && point <= 0x9FFF) || (point >= 0xA000 && point <= 0xA4CF) ||
                    (point >= 0xAC00 && point <= 0xD7A3) || (point >= 0xF900 && point <= 0xFAFF) ||
                    (point >= 0xFE30 && point <= 0xFE4F) || (point >= 0xFF00 && point <= 0xFF60) ||
                    (point >= 0xFFE0 && point <= 0xFFE6) || (point >= 0x1F300 && point <= 0x1F64F) ||
                    (point >= 0x1F900 && point <= 0x1F9FF) || (point >= 0x20000 && point <= 0x3FFFD);
  return wide ? 2 : 1;
}

// A cell on one line: line breaks become " ↵ ", other control characters
// spaces.
std::string OneLine(const std::string& text) {
  std::string line;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (c == '\n' || c == '\r') {
      line += " \u21b5 ";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      line += ' ';
    } else {
      line += c;
    }
  }
  return line;
}

}  // namespace

size_t DisplayWidth(const std::string& text) {
  size_t columns = 0;
  for (size_t at = 0; at < text.size();) {
    const auto [point, length] = DecodeUtf8(text, at);
    columns += ColumnsOf(point);
    at += length;
  }
  return columns;
}

void Table::Add(std::vector<std::string> row) {
  for (auto& cell : row) cell = OneLine(cell);
  rows_.push_back(std::move(row));
}

void Table::Print() const {
  std::vector<size_t> widths(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  };
  measure(header_);
  for (const auto& row : rows_) measure(row);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() && !row[i].empty() ? row[i] : "-";
      line += cell;
      if (i + 1 < widths.size()) line += std::string(widths[i] - DisplayWidth(cell) + 2, ' ');
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

std::string ShowTime(const google::protobuf::Timestamp& stamp, absl::TimeZone zone) {
  if (stamp.seconds() == 0 && stamp.nanos() == 0) return "-";
  const absl::Time time = absl::FromUnixSeconds(stamp.seconds());
  // Zones without a letter abbreviation (tzdata writes "+04" for them)
  // show their offset in full instead.
  const std::string abbreviation = absl::FormatTime("%Z", time, zone);
  const bool lettered = !abbreviation.empty() && std::all_of(abbreviation.begin(), abbreviation.end(), [](char c) {
    return absl::ascii_isalpha(static_cast<unsigned char>(c));
  });
  return absl::FormatTime(lettered ? "%Y-%m-%d %H:%M %Z" : "%Y-%m-%d %H:%M %Ez", time, zone);
}

namespace {

// The shortest decimal that reads back as `number`: 1200 rather than
// 1200.0 or 1.2e+03, 0.93 rather than 0.93000000000000005.
std::string ShortestNumber(double number) {
  if (std::isfinite(number) && number == std::floor(number) && std::fabs(number) < 1e15) {
    return absl::StrFormat("%.0f", number);
  }
  for (int precision = 1; precision < 17; ++precision) {
    const std::string text = absl::StrFormat("%.*g", precision, number);
    double back = 0;
    if (absl::SimpleAtod(text, &back) && back == number) return text;
  }
  return absl::StrFormat("%.17g", number);
}

// Lines of `text`, without carriage returns or other trailing blanks.
std::vector<std::string> LinesOf(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  for (auto& line : lines) absl::StripTrailingAsciiWhitespace(&line);
  return lines;
}

// `label` padded to `width`, then `text`; further lines of the text start
// under its first.
void PrintLabelled(const std::string& label, const std::string& text, size_t width) {
  const std::string pad(width > DisplayWidth(label) ? width - DisplayWidth(label) : 1, ' ');
  if (text.empty()) {
    std::cout << label << "\n";
    return;
  }
  const std::vector<std::string> lines = LinesOf(text);
  std::cout << label << pad << lines[0] << "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    std::cout << std::string(DisplayWidth(label) + pad.size(), ' ') << lines[i] << "\n";
  }
}

// A detail view's line, "Label:      value", the values starting at one
// column.
void PrintField(const std::string& label, const std::string& text) {
  constexpr size_t kLabelWidth = 13;
  PrintLabelled(label, text.empty() ? "-" : text, kLabelWidth);
}

}  // namespace

std::string PlainText(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return value.string_value();
    case google::protobuf::Value::kNumberValue:
      return ShortestNumber(value.number_value());
    case google::protobuf::Value::kBoolValue:
      return value.bool_value() ? "true" : "false";
    case google::protobuf::Value::kListValue: {
      std::vector<std::string> items;
      for (const auto& item : value.list_value().values()) {
        items.push_back(item.has_list_value() ? absl::StrCat("[", PlainText(item), "]") : PlainText(item));
      }
      return absl::StrJoin(items, ", ");
    }
    case google::protobuf::Value::kStructValue: {
      std::map<std::string, google::protobuf::Value> sorted(value.struct_value().fields().begin(),
                                                           value.struct_value().fields().end());
      std::vector<std::string> fields;
      for (const auto& [name, field] : sorted) fields.push_back(absl::StrCat(name, ": ", PlainText(field)));
      return absl::StrCat("{", absl::StrJoin(fields, ", "), "}");
    }
    default:
      return "-";
  }
}

void PrintValues(const google::protobuf::Struct& values, int indent) {
  const std::string margin(indent, ' ');
  std::map<std::string, google::protobuf::Value> sorted(values.fields().begin(), values.fields().end());
  for (const auto& [name, value] : sorted) {
    if (value.has_struct_value() && value.struct_value().fields_size() > 0) {
      std::cout << margin << name << ":\n";
      PrintValues(value.struct_value(), indent + 2);
      continue;
    }
    const auto& items = value.list_value().values();
    const bool list_of_mappings = std::any_of(items.begin(), items.end(), [](const auto& item) {
      return item.has_struct_value() || item.has_list_value();
    });
    if (value.has_list_value() && list_of_mappings) {
      std::cout << margin << name << ":\n";
      for (const auto& item : items) PrintLabelled(margin + "  -", PlainText(item), indent + 4);
      continue;
    }
    PrintLabelled(absl::StrCat(margin, name, ":"), PlainText(value), indent + DisplayWidth(name) + 2);
  }
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

std::string Due(const v1::Task& task, absl::TimeZone zone) {
  if (task.clock_paused()) return "paused";
  if (!task.has_due_at()) return "-";
  return absl::StrCat(ShowTime(task.due_at(), zone), task.overdue() ? " (overdue)" : "");
}

std::string ActionVerbs(const google::protobuf::RepeatedField<int>& actions) {
  std::vector<std::string> verbs;
  for (int action : actions) {
    switch (static_cast<v1::Action>(action)) {
      case v1::PAUSE_CLOCK:
        verbs.push_back("pause, resume");
        break;
      case v1::EXTEND_DEADLINE:
        verbs.push_back("extend");
        break;
      case v1::ADD_SIGNER:
        verbs.push_back("add-signer");
        break;
      default:
        verbs.push_back(absl::AsciiStrToLower(v1::Action_Name(static_cast<v1::Action>(action))));
    }
  }
  return absl::StrJoin(verbs, ", ");
}

namespace {

// A step's SLA clock in a few words, e.g. "running, deadline after 16h of
// working time on cn-mainland".
std::string ClockState(const v1::StepClock& clock, absl::TimeZone zone) {
  std::vector<std::string> parts = {
      clock.has_running_since() ? "running" : absl::StrCat("paused since ", ShowTime(clock.paused_at(), zone))};
  if (clock.due_offset_seconds() > 0) {
    parts.push_back(absl::StrCat(
        "deadline after ", absl::FormatDuration(absl::Seconds(clock.due_offset_seconds())),
        clock.calendar().empty() ? "" : " of working time on " + clock.calendar()));
  }
  if (clock.breached()) parts.push_back("breached");
  return absl::StrJoin(parts, ", ");
}

}  // namespace

void PrintInstances(const std::vector<v1::InstanceView>& instances, const ZoneOf& zone_of) {
  const absl::Time now = absl::Now();
  Table table({"ID", "DEFINITION", "SUBJECT", "STATUS", "OUTCOME", "SLA", "STEP", "ASSIGNEES",
               "APPLICANT", "AGE", "UPDATED"});
  for (const auto& instance : instances) {
    std::vector<std::string> assignees;
    for (const auto& task : instance.pending_tasks()) {
      if (task.status() == v1::PENDING) assignees.push_back(Assignee(task));
    }
    const absl::TimeZone zone = zone_of(instance.definition_key(), instance.definition_version());
    table.Add({instance.id(), absl::StrCat(instance.definition_key(), "@", instance.definition_version()),
               instance.subject(), v1::InstanceStatus_Name(instance.status()), instance.outcome(),
               instance.sla_breached() ? "breached" : "", absl::StrJoin(instance.active_steps(), ","),
               absl::StrJoin(assignees, ","),
               instance.applicant(), Age(instance.created_at(), now),
               ShowTime(instance.updated_at(), zone)});
  }
  table.Print();
}

namespace {

// Who sent the instance back, from where, to where, why and when.
void PrintLastReturn(const v1::ReturnNote& note, absl::TimeZone zone) {
  std::cout << "Last return:\n";
  PrintField("  By:", note.by());
  PrintField("  At:", ShowTime(note.at(), zone));
  PrintField("  From step:", note.from_step());
  PrintField("  To:", note.to_step().empty() ? "the applicant" : note.to_step());
  if (!note.reason().empty()) PrintField("  Reason:", note.reason());
  if (!note.comment().empty()) PrintField("  Comment:", note.comment());
}

// The WAIT steps under way and when each runs out.
void PrintWaits(const google::protobuf::RepeatedPtrField<v1::WaitView>& waits, absl::TimeZone zone) {
  std::cout << "Waits:\n";
  Table table({"STEP", "SIGNAL", "DUE"});
  for (const auto& wait : waits) {
    std::string due = wait.has_due_at() ? ShowTime(wait.due_at(), zone) : "when signalled";
    if (wait.paused()) {
      due = absl::StrCat("paused (", absl::FormatDuration(absl::Seconds(wait.remaining_seconds())),
                         " left)");
    }
    table.Add({wait.step_id(), wait.signal(), due});
  }
  table.Print();
}

void PrintClocks(const google::protobuf::RepeatedPtrField<v1::StepClock>& clocks, absl::TimeZone zone) {
  std::cout << "Clocks:\n";
  Table table({"STEP", "DUE", "CLOCK"});
  for (const auto& clock : clocks) {
    const std::string due = !clock.has_running_since() ? "paused"
                            : clock.has_due_at()       ? ShowTime(clock.due_at(), zone)
                                                       : "-";
    table.Add({clock.step_id(), due, ClockState(clock, zone)});
  }
  table.Print();
}

}  // namespace

void PrintInstance(const v1::InstanceView& instance, absl::TimeZone zone) {
  PrintField("Instance:", instance.id());
  PrintField("Definition:", absl::StrCat(instance.definition_key(), "@", instance.definition_version()));
  PrintField("Status:", v1::InstanceStatus_Name(instance.status()));
  if (!instance.outcome().empty()) PrintField("Outcome:", instance.outcome());
  PrintField("Applicant:", instance.applicant());
  PrintField("Subject:", instance.subject());
  PrintField("Steps:", absl::StrJoin(instance.active_steps(), ", "));
  PrintField("Created:", ShowTime(instance.created_at(), zone));
  PrintField("Updated:", ShowTime(instance.updated_at(), zone));
  if (instance.has_finished_at()) PrintField("Finished:", ShowTime(instance.finished_at(), zone));
  if (!instance.outcome_reason().empty()) PrintField("Reason:", instance.outcome_reason());
  if (!instance.outcome_comment().empty()) PrintField("Comment:", instance.outcome_comment());
  if (instance.has_appeal_until()) PrintField("Appeal by:", ShowTime(instance.appeal_until(), zone));
  if (instance.sla_breached()) PrintField("SLA:", "breached");
  if (instance.has_last_return()) PrintLastReturn(instance.last_return(), zone);
  std::cout << "Form (revision " << instance.form_revision() << "):\n";
  PrintValues(instance.form(), 2);
  if (instance.pending_tasks_size() > 0) {
    std::cout << "Tasks:\n";
    PrintTasks({instance.pending_tasks().begin(), instance.pending_tasks().end()},
               [zone](const std::string&, int32_t) { return zone; });
  }
  if (instance.clocks_size() > 0) PrintClocks(instance.clocks(), zone);
  if (instance.waits_size() > 0) PrintWaits(instance.waits(), zone);
}

void PrintTasks(const std::vector<v1::Task>& tasks, const ZoneOf& zone_of) {
  const absl::Time now = absl::Now();
  Table table({"ID", "DEFINITION", "SUBJECT", "STEP", "ASSIGNEE", "STATUS", "DUE", "AGE", "CREATED"});
  for (const auto& task : tasks) {
    const absl::TimeZone zone = zone_of(task.definition_key(), task.definition_version());
    table.Add({task.id(), task.definition_key(), task.subject(), task.step_id(), Assignee(task),
               Name(v1::TaskStatus_Name(task.status())), Due(task, zone), Age(task.created_at(), now),
               ShowTime(task.created_at(), zone)});
  }
  table.Print();
}

namespace {

bool Has(const google::protobuf::RepeatedField<int>& actions, v1::Action action) {
  return std::find(actions.begin(), actions.end(), action) != actions.end();
}

std::string Codes(const google::protobuf::RepeatedPtrField<v1::ReasonCode>& reasons) {
  std::vector<std::string> codes;
  for (const auto& reason : reasons) codes.push_back(reason.code());
  return absl::StrJoin(codes, ", ");
}

// What the assignee of an open task may do, and what each action needs.
void PrintTaskActions(const v1::TaskActions& actions) {
  if (actions.allowed_size() == 0) return;
  PrintField("Actions:", ActionVerbs(actions.allowed()));
  if (actions.comment_required_size() > 0) {
    PrintField("Comment for:", ActionVerbs(actions.comment_required()));
  }
  if (Has(actions.allowed(), v1::REJECT) && actions.reject_reasons_size() > 0) {
    PrintField("Reject with:", absl::StrCat("--reason ", Codes(actions.reject_reasons())));
  }
  if (Has(actions.allowed(), v1::RETURN)) {
    if (actions.return_reasons_size() > 0) {
      PrintField("Return with:", absl::StrCat("--reason ", Codes(actions.return_reasons())));
    }
    std::vector<std::string> targets = {"the applicant"};
    for (const auto& step : actions.return_steps()) targets.push_back("--to " + step);
    PrintField("Return to:", absl::StrJoin(targets, ", "));
  }
}

}  // namespace

void PrintTask(const v1::Task& task, absl::TimeZone zone) {
  PrintField("Task:", task.id());
  PrintField("Instance:", absl::StrCat(task.instance_id(), " (", task.definition_key(),
                                      task.definition_version() > 0 ? absl::StrCat("@", task.definition_version()) : "",
                                      ")"));
  PrintField("Step:", task.step_id() + (task.step_name().empty() ? "" : " - " + task.step_name()));
  PrintField("Kind:", Name(v1::StepKind_Name(task.kind())));
  PrintField("Status:", Name(v1::TaskStatus_Name(task.status())));
  PrintField("Assignee:", Assignee(task));
  PrintField("Chosen by:", task.chosen_by());
  PrintField("Applicant:", task.applicant());
  PrintField("Created:", ShowTime(task.created_at(), zone));
  if (task.has_due_at() || task.clock_paused()) PrintField("Due:", Due(task, zone));
  if (task.sla_breached()) PrintField("SLA:", "breached");
  if (task.status() == v1::PENDING) PrintTaskActions(task.actions());
  if (task.status() == v1::DONE) {
    PrintField("Decision:", v1::Action_Name(task.decision()));
    PrintField("Completed:", ShowTime(task.completed_at(), zone));
  }
  if (!task.comment().empty()) PrintField("Comment:", task.comment());
  if (!task.reason_code().empty()) PrintField("Reason code:", task.reason_code());
  if (task.result().fields_size() > 0) {
    std::cout << "Result:\n";
    PrintValues(task.result(), 2);
  }
  if (task.reminders() > 0) PrintField("Reminders:", absl::StrCat(task.reminders()));
}

void PrintClock(const v1::ClockResponse& response, absl::TimeZone zone) {
  PrintTask(response.task(), zone);
  PrintField("Clock:", ClockState(response.clock(), zone));
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
    if (event.has_task_completed() && task.result().fields_size() > 0) {
      google::protobuf::Value result;
      *result.mutable_struct_value() = task.result();
      parts.push_back(absl::StrCat("result: ", PlainText(result)));
    }
  }
  if (event.has_instance_finished()) {
    parts.push_back(v1::InstanceStatus_Name(event.instance_finished().status()));
    if (!event.instance_finished().outcome().empty()) {
      parts.push_back(absl::StrCat("outcome ", event.instance_finished().outcome()));
    }
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
  if (!event.comment().empty()) parts.push_back(absl::StrCat("comment: ", event.comment()));
  return absl::StrJoin(parts, " ");
}

}  // namespace

void PrintHistory(const std::vector<v1::Event>& events, bool verified, absl::TimeZone zone) {
  Table table({"SEQ", "TIME", "ACTOR", "EVENT", "STEP", "TASK", "DETAIL"});
  for (const auto& event : events) {
    table.Add({absl::StrCat(event.instance_seq()), ShowTime(event.time(), zone), event.actor(),
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
