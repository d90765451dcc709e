#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace soci {
class session;
class statement;
}  // namespace soci

namespace signoff::storage {

class Dialect;

// The columns of one instance row the writer reads and writes.
struct InstanceRow {
  std::string id;
  std::string definition_key;
  int32_t definition_version = 0;
  int status = 0;
  std::string applicant;
  std::string subject;
  // Empty writes NULL: the instance holds no subject.
  std::string open_subject;
  int64_t version = 0;
  std::string state;
  int64_t created_us = 0;
  int64_t updated_us = 0;
  int sla_breached = 0;
  std::string outcome;
  // The chain head: how many events the instance has, and the last hash.
  int64_t event_count = 0;
  std::string chain_head;
};

// What the writer reads of an instance before it changes it.
struct InstanceHead {
  int64_t version = 0;
  int64_t event_count = 0;
  std::string chain_head;
};

struct EventRow {
  std::string instance_id;
  int64_t instance_seq = 0;
  std::string type;
  int64_t time_us = 0;
  std::string actor;
  std::string body;
  std::string prev_hash;
  std::string hash;
};

struct TaskRow {
  std::string id;
  std::string instance_id;
  std::string step_id;
  int status = 0;
  std::string assignee;
  std::string candidate_role;
  std::string candidate_department;
  int64_t created_us = 0;
  std::string body;
  // Absent writes NULL: the task has no deadline.
  std::optional<int64_t> due_us;
};

struct NotificationRow {
  int64_t global_seq = 0;
  std::string recipient;
  std::string instance_id;
  int kind = 0;
  int64_t created_us = 0;
  std::string body;
};

struct TimerRow {
  std::string id;
  std::string instance_id;
  int kind = 0;
  std::string token;
  std::string step_id;
  int64_t fire_us = 0;
};

struct IdempotencyRow {
  std::string caller;
  std::string request_id;
  std::string method;
  std::string fingerprint;
  std::string reply;
  int64_t created_us = 0;
};

// The statements of the write path, compiled once per connection and run
// again with new values for every row: compiling SQL costs more than
// running these statements does. Each method copies its row into the
// values the statement is bound to, then runs it. Database errors are
// thrown, as by SOCI. Not thread-safe: the single writer owns it.
class WriteStatements {
 public:
  WriteStatements(soci::session& session, const Dialect& dialect);
  ~WriteStatements();
  WriteStatements(const WriteStatements&) = delete;
  WriteStatements& operator=(const WriteStatements&) = delete;

  void Savepoint();
  void ReleaseSavepoint();
  void RollbackToSavepoint();

  // False when the caller already used the request_id; nothing is written
  // then.
  bool InsertIdempotency(const IdempotencyRow& row);
  std::optional<InstanceHead> FindInstanceHead(const std::string& instance_id);
  // The instance other than `instance_id` that holds `subject`, if any.
  std::optional<std::string> FindSubjectHolder(const std::string& subject,
                                               const std::string& instance_id);
  void InsertInstance(InstanceRow row);
  // False when the instance is no longer at `expected_version`.
  bool UpdateInstance(InstanceRow row, int64_t expected_version);
  // For events appended to an instance the mutation does not rewrite.
  // False when the instance no longer has `expected_count` events.
  bool UpdateChainHead(const std::string& instance_id, int64_t expected_count,
                       int64_t event_count, const std::string& chain_head);
  // Returns the event's global_seq.
  int64_t InsertEvent(EventRow row);
  void UpsertTask(TaskRow row);
  // Adds one reason to read an instance; one already recorded is kept.
  void InsertAccessGrant(const std::string& instance_id, const std::string& principal, int kind);
  void InsertNotification(NotificationRow row);
  void UpsertTimer(const TimerRow& row);
  void DeleteTimer(const std::string& id);

 private:
  struct Bound;
  std::unique_ptr<Bound> bound_;
};

}  // namespace signoff::storage
