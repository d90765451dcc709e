#pragma once

#include <memory>
#include <optional>
#include <string>

#include "storage/store.h"

namespace soci {
class session;
}

namespace signoff::storage {

// The reads every command makes, compiled once per read connection: the
// idempotency check and the loads of an instance or a task by id. Returns
// bodies undecoded; database errors are thrown, as by SOCI. Not
// thread-safe: it belongs to the connection's current lease.
class ReadStatements {
 public:
  explicit ReadStatements(soci::session& session);
  ~ReadStatements();
  ReadStatements(const ReadStatements&) = delete;
  ReadStatements& operator=(const ReadStatements&) = delete;

  std::optional<IdempotencyRecord> FindIdempotency(const std::string& caller,
                                                   const std::string& request_id);
  std::optional<std::string> InstanceBody(const std::string& id);
  std::optional<std::string> TaskBody(const std::string& id);

 private:
  struct Bound;
  std::unique_ptr<Bound> bound_;
};

}  // namespace signoff::storage
