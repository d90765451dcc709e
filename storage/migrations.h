#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace soci {
class session;
}

namespace signoff::storage {

class Dialect;

// One numbered schema change, embedded from storage/migrations/<dialect>/.
struct Migration {
  // Rewrites rows where SQL alone cannot, e.g. re-encoding bodies; runs
  // after `sql`, in the same transaction. Throws on failure.
  using Step = void (*)(soci::session&);

  int version;
  const char* name;
  const char* sql;
  Step after_sql = nullptr;
};

// Generated at build time from storage/migrations/sqlite/*.sql, in order.
const std::vector<Migration>& SqliteMigrations();

// Splits a migration script into statements. SQLite prepares one statement
// at a time, so scripts are run statement by statement on every backend.
// Handles `--` comments and quoted strings; not trigger bodies.
std::vector<std::string> SplitSqlScript(const std::string& script);

// Applies the dialect's migrations that the schema_version table does not
// list yet, each in its own write transaction, and returns the version
// reached. Safe to run concurrently from several processes.
absl::StatusOr<int> ApplyMigrations(soci::session& session, const Dialect& dialect);

}  // namespace signoff::storage
