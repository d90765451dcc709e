// The SQLite backend: connection set-up, write locking and error mapping.
// Everything else is shared with the other SOCI backends in SociStore.

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/dialect.h"
#include "storage/migrations.h"
#include "storage/soci_store.h"
#include "storage/sqlite_dialect.h"
#include "storage/store.h"
#include "workflow/status_macros.h"

namespace signoff::storage {
namespace {

// SQLite result codes, from sqlite3.h.
constexpr int kSqliteBusy = 5;
constexpr int kSqliteLocked = 6;
constexpr int kSqliteConstraint = 19;

// SOCI appends the statement and every bound value to its message; the
// values can be whole instance states with personal data, and errors
// travel to clients and logs, so only the statement is kept.
std::string WithoutBoundValues(const std::string& message) {
  const size_t values = message.find("\" with :");
  return values == std::string::npos ? message : message.substr(0, values + 1);
}

absl::Status ValidateOptions(const SqliteOptions& options) {
  static const std::set<std::string> kSynchronousModes = {"OFF", "NORMAL", "FULL", "EXTRA"};
  if (options.path.empty()) return absl::InvalidArgumentError("SQLite path is empty");
  if (kSynchronousModes.count(absl::AsciiStrToUpper(options.synchronous)) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SQLite synchronous must be OFF, NORMAL, FULL or EXTRA, got ", options.synchronous));
  }
  if (options.busy_timeout_ms < 0) {
    return absl::InvalidArgumentError("SQLite busy_timeout_ms must not be negative");
  }
  return absl::OkStatus();
}

class SqliteDialect final : public Dialect {
 public:
  explicit SqliteDialect(SqliteOptions options) : options_(std::move(options)) {}

  std::string Name() const override { return "sqlite"; }

  std::unique_ptr<soci::session> OpenWriteSession() const override {
    auto session = Connect();
    std::string journal_mode;
    *session << "PRAGMA journal_mode = WAL", soci::into(journal_mode);
    if (absl::AsciiStrToLower(journal_mode) != "wal") {
      throw std::runtime_error(absl::StrCat("SQLite database ", options_.path,
                                            " cannot use WAL mode (got ", journal_mode, ")"));
    }
    // Validated against a fixed list, so splicing it in is safe.
    *session << "PRAGMA synchronous = " + absl::AsciiStrToUpper(options_.synchronous);
    return session;
  }

  std::unique_ptr<soci::session> OpenReadSession() const override {
    auto session = Connect();
    *session << "PRAGMA query_only = ON";
    return session;
  }

  // IMMEDIATE takes the write lock at BEGIN; a deferred transaction that
  // upgrades later can fail with SQLITE_BUSY regardless of busy_timeout.
  void BeginWrite(soci::session& session) const override {
    session << "BEGIN IMMEDIATE";
  }

  void BeginRead(soci::session& session) const override { session << "BEGIN"; }

  absl::Status ToStatus(const std::exception& error) const override {
    const auto* sqlite_error = dynamic_cast<const soci::sqlite3_soci_error*>(&error);
    if (sqlite_error == nullptr) {
      return absl::InternalError(absl::StrCat("sqlite: ", error.what()));
    }
    const int code = sqlite_error->result();
    const std::string message = WithoutBoundValues(error.what());
    if (code == kSqliteBusy || code == kSqliteLocked) {
      return absl::UnavailableError(absl::StrCat("sqlite database is busy: ", message));
    }
    return absl::InternalError(absl::StrCat("sqlite error ", code, ": ", message));
  }

  bool IsUniqueViolation(const std::exception& error) const override {
    const auto* sqlite_error = dynamic_cast<const soci::sqlite3_soci_error*>(&error);
    return sqlite_error != nullptr && sqlite_error->result() == kSqliteConstraint &&
           (absl::StrContains(error.what(), "UNIQUE constraint failed") ||
            absl::StrContains(error.what(), "PRIMARY KEY"));
  }

  const std::vector<Migration>& Migrations() const override { return SqliteMigrations(); }

 private:
  std::unique_ptr<soci::session> Connect() const {
    auto session = std::make_unique<soci::session>(soci::sqlite3, ConnectString());
    *session << "PRAGMA busy_timeout = " + std::to_string(options_.busy_timeout_ms);
    *session << "PRAGMA foreign_keys = ON";
    return session;
  }

  std::string ConnectString() const {
    std::string escaped;
    for (char c : options_.path) {
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    return absl::StrCat("db=\"", escaped, "\"");
  }

  const SqliteOptions options_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Dialect>> MakeSqliteDialect(const SqliteOptions& options) {
  SIGNOFF_RETURN_IF_ERROR(ValidateOptions(options));
  return std::make_unique<SqliteDialect>(options);
}

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  SIGNOFF_ASSIGN_OR_RETURN(std::unique_ptr<Dialect> dialect, MakeSqliteDialect(options));
  SociStoreOptions store_options;
  store_options.read_pool_size = options.read_pool_size;
  store_options.max_batch = options.max_batch;
  return OpenSociStore(std::move(dialect), store_options);
}

absl::StatusOr<int> MigrateSqlite(const std::string& path) {
  SqliteOptions options;
  options.path = path;
  SIGNOFF_ASSIGN_OR_RETURN(std::unique_ptr<Dialect> dialect, MakeSqliteDialect(options));
  SIGNOFF_ASSIGN_OR_RETURN(std::unique_ptr<soci::session> session,
                   Guarded(*dialect, [&]() -> absl::StatusOr<std::unique_ptr<soci::session>> {
                     return dialect->OpenWriteSession();
                   }));
  return ApplyMigrations(*session, *dialect);
}

}  // namespace signoff::storage
