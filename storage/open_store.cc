#include "storage/open_store.h"

#include <libpq-fe.h>

#include <filesystem>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace signoff::storage {
namespace {

constexpr char kSqlitePrefix[] = "sqlite:";

std::string SqlitePath(const std::string& db) {
  return absl::StartsWith(db, kSqlitePrefix) ? db.substr(sizeof(kSqlitePrefix) - 1) : db;
}

absl::StatusOr<SqliteOptions> SqliteOptionsOf(const DatabaseOptions& options) {
  SqliteOptions sqlite;
  sqlite.path = SqlitePath(options.db);
  if (sqlite.path.empty()) return absl::InvalidArgumentError("--db names no database");
  sqlite.synchronous = options.sqlite_synchronous;
  sqlite.max_pages = options.sqlite_max_pages;
  const auto parent = std::filesystem::path(sqlite.path).parent_path();
  std::error_code error;
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat("cannot create the database folder ",
                                                   parent.string(), ": ", error.message()));
  }
  return sqlite;
}

PostgresqlOptions PostgresqlOptionsOf(const DatabaseOptions& options) {
  PostgresqlOptions postgresql;
  postgresql.connection = options.db;
  return postgresql;
}

}  // namespace

bool IsPostgresqlUrl(const std::string& db) {
  return absl::StartsWith(db, "postgresql://") || absl::StartsWith(db, "postgres://");
}

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const DatabaseOptions& options) {
  if (IsPostgresqlUrl(options.db)) return OpenPostgresqlStore(PostgresqlOptionsOf(options));
  absl::StatusOr<SqliteOptions> sqlite = SqliteOptionsOf(options);
  if (!sqlite.ok()) return sqlite.status();
  return OpenSqliteStore(*sqlite);
}

absl::StatusOr<int> MigrateDatabase(const DatabaseOptions& options) {
  if (IsPostgresqlUrl(options.db)) return MigratePostgresql(PostgresqlOptionsOf(options));
  absl::StatusOr<SqliteOptions> sqlite = SqliteOptionsOf(options);
  if (!sqlite.ok()) return sqlite.status();
  return MigrateSqlite(sqlite->path);
}

std::string DescribeDatabase(const std::string& db) {
  if (!IsPostgresqlUrl(db)) return SqlitePath(db);
  PQconninfoOption* parsed = PQconninfoParse(db.c_str(), nullptr);
  if (parsed == nullptr) return "postgresql (an unparsable URL)";
  std::map<std::string, std::string> values;
  for (PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
    if (option->val != nullptr) values[option->keyword] = option->val;
  }
  PQconninfoFree(parsed);
  return absl::StrCat("postgresql ", values["host"], ":",
                      values.count("port") ? values["port"] : "5432", "/", values["dbname"]);
}

}  // namespace signoff::storage
