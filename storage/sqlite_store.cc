// The SQLite backend: connection set-up, write locking and error mapping.
// Everything else is shared with the other SOCI backends in SociStore.

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <mutex>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/binary_bodies_migration.h"
#include "storage/dialect.h"
#include "storage/migrations.h"
#include "storage/soci_store.h"
#include "storage/sqlite_dialect.h"
#include "storage/store.h"
#include "workflow/status_macros.h"

namespace signoff::storage {
namespace {

// SQLite primary result codes, from sqlite3.h.
constexpr int kSqliteBusy = 5;
constexpr int kSqliteLocked = 6;
constexpr int kSqliteReadOnly = 8;
constexpr int kSqliteIoError = 10;
constexpr int kSqliteCorrupt = 11;
constexpr int kSqliteFull = 13;
constexpr int kSqliteCantOpen = 14;
constexpr int kSqliteConstraint = 19;
constexpr int kSqliteNotADatabase = 26;

// What the write-ahead log file is cut back to once checkpointed, so that
// one burst does not keep it at its largest size.
constexpr int kWalSizeLimitBytes = 16 << 20;
// The writer's page cache: the pages of the indexes every commit touches.
constexpr int kWriterCacheKib = 32 * 1024;

// Less free space than this on the database's file system and signoffd
// stops reporting ready, before commits start failing.
constexpr uint64_t kMinFreeBytes = 1 << 20;

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
  if (options.max_pages < 0) {
    return absl::InvalidArgumentError("SQLite max_pages must not be negative");
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
    if (options_.max_pages > 0) {
      *session << "PRAGMA max_page_count = " + std::to_string(options_.max_pages);
    }
    *session << "PRAGMA journal_size_limit = " + std::to_string(kWalSizeLimitBytes);
    *session << "PRAGMA cache_size = " + std::to_string(-kWriterCacheKib);
    RememberFile();
    return session;
  }

  std::string BodyParameter(const std::string& placeholder) const override {
    return absl::StrCat("CAST(", placeholder, " AS BLOB)");
  }

  std::string BytesAsHex(const std::string& column) const override {
    return absl::StrCat("hex(", column, ")");
  }

  absl::Status CheckWritable() const override {
    struct stat now;
    if (stat(options_.path.c_str(), &now) != 0) {
      return absl::UnavailableError(
          absl::StrCat("the database file ", options_.path, " is gone"));
    }
    {
      std::lock_guard<std::mutex> lock(file_mutex_);
      if (opened_ && (now.st_dev != opened_dev_ || now.st_ino != opened_ino_)) {
        return absl::UnavailableError(absl::StrCat(
            "the database file ", options_.path, " was replaced since it was opened"));
      }
    }
    const std::string folder = FolderOf(options_.path);
    if (access(options_.path.c_str(), W_OK) != 0 || access(folder.c_str(), W_OK) != 0) {
      return absl::UnavailableError(
          absl::StrCat("the database file ", options_.path, " or its folder is read-only"));
    }
    struct statvfs disk;
    if (statvfs(folder.c_str(), &disk) == 0 &&
        static_cast<uint64_t>(disk.f_bavail) * disk.f_frsize < kMinFreeBytes) {
      return absl::UnavailableError(
          absl::StrCat("the disk holding ", options_.path, " is full"));
    }
    return absl::OkStatus();
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
    const int code = sqlite_error->result() & 0xff;
    const std::string message = WithoutBoundValues(error.what());
    switch (code) {
      case kSqliteBusy:
      case kSqliteLocked:
        return absl::UnavailableError(absl::StrCat("sqlite database is busy: ", message));
      case kSqliteFull:
        return absl::ResourceExhaustedError(
            "the database is full (no disk space left, or its size limit reached); nothing "
            "was written");
      case kSqliteReadOnly:
      case kSqliteIoError:
      case kSqliteCantOpen:
        return absl::UnavailableError(
            absl::StrCat("the database cannot be written (sqlite error ", code,
                         "); nothing was written"));
      case kSqliteCorrupt:
      case kSqliteNotADatabase:
        return absl::DataLossError(
            absl::StrCat("the database file is damaged (sqlite error ", code, ")"));
      case kSqliteConstraint:
        if (IsUniqueViolation(error)) {
          return absl::AbortedError(absl::StrCat("a concurrent change took the same key: ", message));
        }
        return absl::InternalError(absl::StrCat("sqlite error ", code, ": ", message));
      default:
        return absl::InternalError(absl::StrCat("sqlite error ", code, ": ", message));
    }
  }

  bool IsUniqueViolation(const std::exception& error) const override {
    const auto* sqlite_error = dynamic_cast<const soci::sqlite3_soci_error*>(&error);
    return sqlite_error != nullptr && sqlite_error->result() == kSqliteConstraint &&
           (absl::StrContains(error.what(), "UNIQUE constraint failed") ||
            absl::StrContains(error.what(), "PRIMARY KEY"));
  }

  bool ViolatesUniqueColumn(const std::exception& error, const std::string& table,
                            const std::string& column) const override {
    return IsUniqueViolation(error) &&
           absl::StrContains(error.what(),
                             absl::StrCat("UNIQUE constraint failed: ", table, ".", column));
  }

  const std::vector<Migration>& Migrations() const override { return SqliteMigrationsWithSteps(); }

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

  static std::string FolderOf(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
  }

  // Which file the writer opened, to tell later whether it was removed or
  // replaced underneath it.
  void RememberFile() const {
    struct stat opened;
    if (stat(options_.path.c_str(), &opened) != 0) return;
    std::lock_guard<std::mutex> lock(file_mutex_);
    opened_ = true;
    opened_dev_ = opened.st_dev;
    opened_ino_ = opened.st_ino;
  }

  const SqliteOptions options_;
  mutable std::mutex file_mutex_;
  mutable bool opened_ = false;
  mutable dev_t opened_dev_ = 0;
  mutable ino_t opened_ino_ = 0;
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
  return MigrateOnOwnConnection(*dialect);
}

}  // namespace signoff::storage
