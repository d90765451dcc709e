#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "signoff/v1/service.pb.h"

namespace signoff::cli {

// Columns aligned with two spaces between them, a header in capitals.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// One JSON document in protobuf's JSON mapping.
void PrintJson(const google::protobuf::Message& message);

// Local time, minute precision; "-" when unset.
std::string LocalTime(const google::protobuf::Timestamp& stamp);
// How long ago, e.g. "3d4h", "12m".
std::string Age(const google::protobuf::Timestamp& stamp, absl::Time now);
// An enum value's name without its type prefix, e.g. "PENDING".
std::string Name(const std::string& enum_name);

std::string Assignee(const v1::Task& task);
// When the task falls due, e.g. "2026-03-02 15:00 (overdue)", or "paused".
std::string Due(const v1::Task& task);

void PrintInstances(const std::vector<v1::InstanceView>& instances);
void PrintInstance(const v1::InstanceView& instance);
void PrintTasks(const std::vector<v1::Task>& tasks);
void PrintTask(const v1::Task& task);
// A task and its step's SLA clock, after a clock operation.
void PrintClock(const v1::ClockResponse& response);
void PrintHistory(const std::vector<v1::Event>& events, bool verified);
void PrintUsers(const std::vector<v1::User>& users);
void PrintPreview(const v1::PreviewRouteResponse& preview);

}  // namespace signoff::cli
