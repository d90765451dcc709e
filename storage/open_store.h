#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace signoff::storage {

// Which database a process uses, as `--db` names it: a postgresql:// (or
// postgres://) URL selects PostgreSQL; a plain path, or sqlite:PATH,
// selects the embedded SQLite file.
struct DatabaseOptions {
  std::string db;
  // SQLite only.
  std::string sqlite_synchronous = "FULL";
  int64_t sqlite_max_pages = 0;
};

bool IsPostgresqlUrl(const std::string& db);

// Opens the store, creating an SQLite file's folder if needed, and applies
// pending migrations. INVALID_ARGUMENT for a `db` that names nothing usable.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(const DatabaseOptions& options);
// Applies pending migrations and returns the schema version reached.
absl::StatusOr<int> MigrateDatabase(const DatabaseOptions& options);

// The database for logs and messages, without a password: the file, or
// "postgresql <host>:<port>/<database>".
std::string DescribeDatabase(const std::string& db);

}  // namespace signoff::storage
