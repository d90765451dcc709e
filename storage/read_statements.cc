#include "storage/read_statements.h"

#include <soci/soci.h>

#include "storage/statement_runs.h"

namespace signoff::storage {

struct ReadStatements::Bound {
  explicit Bound(soci::session& session)
      : find_idempotency(
            (session.prepare << "SELECT method, fingerprint, reply FROM idempotency"
                                " WHERE caller = :c AND request_id = :r",
             soci::use(caller), soci::use(key), soci::into(record.method),
             soci::into(record.fingerprint), soci::into(record.reply))),
        instance_body((session.prepare << "SELECT state FROM instances WHERE id = :i",
                       soci::use(key), soci::into(body))),
        task_body((session.prepare << "SELECT body FROM tasks WHERE id = :i", soci::use(key),
                   soci::into(body))) {}

  // Bound values first, so that they outlive the statements.
  std::string caller;
  std::string key;
  IdempotencyRecord record;
  std::string body;

  soci::statement find_idempotency;
  soci::statement instance_body;
  soci::statement task_body;
};

ReadStatements::ReadStatements(soci::session& session)
    : bound_(std::make_unique<Bound>(session)) {}

ReadStatements::~ReadStatements() = default;

std::optional<IdempotencyRecord> ReadStatements::FindIdempotency(const std::string& caller,
                                                                 const std::string& request_id) {
  bound_->caller = caller;
  bound_->key = request_id;
  if (!RunForOneRow(bound_->find_idempotency)) return std::nullopt;
  IdempotencyRecord found = bound_->record;
  found.caller = caller;
  found.request_id = request_id;
  return found;
}

std::optional<std::string> ReadStatements::InstanceBody(const std::string& id) {
  bound_->key = id;
  if (!RunForOneRow(bound_->instance_body)) return std::nullopt;
  return std::move(bound_->body);
}

std::optional<std::string> ReadStatements::TaskBody(const std::string& id) {
  bound_->key = id;
  if (!RunForOneRow(bound_->task_body)) return std::nullopt;
  return std::move(bound_->body);
}

}  // namespace signoff::storage
