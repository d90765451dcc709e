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
  // Rewrites rows where SQL alone cannot, e.g. re-encoding bodies. Runs at
  // the script's kRewriteRowsMark, in the migration's transaction. Throws
  // on failure.
  using RowRewrite = void (*)(soci::session&);

  int version;
  const char* name;
  const char* sql;
  RowRewrite rewrite_rows = nullptr;
};

// The line in a migration script where its RowRewrite runs.
inline constexpr char kRewriteRowsMark[] = "-- signoff:rewrite-rows";

// Generated at build time from storage/migrations/sqlite/*.sql, in order.
const std::vector<Migration>& SqliteMigrations();
// Generated from storage/migrations/postgresql/*.sql.
const std::vector<Migration>& PostgresqlMigrations();

// Splits a migration script into statements. SQLite prepares one statement
// at a time, so scripts are run statement by statement on every backend.
// Handles `--` comments and quoted strings; not trigger bodies.
std::vector<std::string> SplitSqlScript(const std::string& script);

// Applies the dialect's migrations that the schema_version table does not
// list yet, each in its own write transaction, and returns the version
// reached. Safe to run concurrently from several processes.
// FAILED_PRECONDITION for a database a newer release has migrated past
// what this one knows: writing it could lose what that release stores.
absl::StatusOr<int> ApplyMigrations(soci::session& session, const Dialect& dialect);

// ApplyMigrations on a write connection of its own, for `signoffd migrate`.
absl::StatusOr<int> MigrateOnOwnConnection(const Dialect& dialect);

}  // namespace signoff::storage
