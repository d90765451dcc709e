#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "signoff/v1/service.pb.h"

namespace signoff::cli {

// Columns aligned with two spaces between them, a header in capitals. A
// cell is one line (line breaks show as "↵"), and wide characters such as
// Chinese count two columns, so that columns line up on a terminal.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row);
  void Print() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// One JSON document in protobuf's JSON mapping.
void PrintJson(const google::protobuf::Message& message);

// The zone to show the times of an instance or task of version `version`
// of the definition `key` in.
using ZoneOf = std::function<absl::TimeZone(const std::string& key, int32_t version)>;

// A time to the minute with its zone, e.g. "2026-01-05 17:00 CST", or
// "2026-01-05 17:00 +04:00" where the zone has no abbreviation; "-" when
// unset.
std::string ShowTime(const google::protobuf::Timestamp& stamp, absl::TimeZone zone);
// Terminal columns `text` takes: wide (East Asian) characters count two.
size_t DisplayWidth(const std::string& text);
// A form value, result or payload as plain text: strings as they are (no
// quotes or escapes), numbers without a needless ".0", lists
// comma-separated, nested mappings in braces.
std::string PlainText(const google::protobuf::Value& value);
// Form values, a result or a payload one field a line, sorted by name, at
// `indent` spaces; multi-line text continues under its first line.
void PrintValues(const google::protobuf::Struct& values, int indent);
// How long ago, e.g. "3d4h", "12m".
std::string Age(const google::protobuf::Timestamp& stamp, absl::Time now);
// An enum value's name without its type prefix, e.g. "PENDING".
std::string Name(const std::string& enum_name);

std::string Assignee(const v1::Task& task);
// When the task falls due, e.g. "2026-03-02 15:00 CST (overdue)", or
// "paused".
std::string Due(const v1::Task& task, absl::TimeZone zone);
// The signoffctl commands for `actions`, e.g. "approve, reject, pause, resume".
std::string ActionVerbs(const google::protobuf::RepeatedField<int>& actions);

void PrintInstances(const std::vector<v1::InstanceView>& instances, const ZoneOf& zone_of);
void PrintInstance(const v1::InstanceView& instance, absl::TimeZone zone);
void PrintTasks(const std::vector<v1::Task>& tasks, const ZoneOf& zone_of);
void PrintTask(const v1::Task& task, absl::TimeZone zone);
// A task and its step's SLA clock, after a clock operation.
void PrintClock(const v1::ClockResponse& response, absl::TimeZone zone);
void PrintHistory(const std::vector<v1::Event>& events, bool verified, absl::TimeZone zone);
void PrintUsers(const std::vector<v1::User>& users);
void PrintPreview(const v1::PreviewRouteResponse& preview);

}  // namespace signoff::cli
