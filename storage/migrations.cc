#include "storage/migrations.h"

#include <soci/soci.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "storage/codec.h"
#include "storage/dialect.h"
#include "workflow/status_macros.h"

namespace signoff::storage {
namespace {

constexpr char kCreateSchemaVersion[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_us BIGINT NOT NULL)";

// Scans one SQL script, tracking quotes and comments so that a ';' inside
// them does not end a statement.
class ScriptSplitter {
 public:
  explicit ScriptSplitter(const std::string& script) : script_(script) {}

  std::vector<std::string> Split() {
    while (pos_ < script_.size()) Step();
    Flush();
    return statements_;
  }

 private:
  void Step() {
    const char c = script_[pos_];
    if (c == '-' && Next() == '-') return SkipUntil("\n");
    if (c == '/' && Next() == '*') return SkipUntil("*/");
    if (c == '\'' || c == '"') return CopyQuoted(c);
    if (c == ';') {
      Flush();
      ++pos_;
      return;
    }
    current_ += c;
    ++pos_;
  }

  char Next() const { return pos_ + 1 < script_.size() ? script_[pos_ + 1] : '\0'; }

  void SkipUntil(const std::string& end) {
    const size_t found = script_.find(end, pos_ + 2);
    pos_ = found == std::string::npos ? script_.size() : found + end.size();
    current_ += ' ';
  }

  // A doubled quote inside a quoted run is an escaped quote, which the
  // loop handles by closing and reopening the run.
  void CopyQuoted(char quote) {
    const size_t close = script_.find(quote, pos_ + 1);
    const size_t end = close == std::string::npos ? script_.size() : close + 1;
    current_.append(script_, pos_, end - pos_);
    pos_ = end;
  }

  void Flush() {
    std::string statement(absl::StripAsciiWhitespace(current_));
    if (!statement.empty()) statements_.push_back(std::move(statement));
    current_.clear();
  }

  const std::string& script_;
  size_t pos_ = 0;
  std::string current_;
  std::vector<std::string> statements_;
};

int AppliedVersion(soci::session& session) {
  int version = 0;
  soci::indicator ind = soci::i_ok;
  session << "SELECT MAX(version) FROM schema_version", soci::into(version, ind);
  return ind == soci::i_ok ? version : 0;
}

bool IsApplied(soci::session& session, int version) {
  int count = 0;
  session << "SELECT COUNT(*) FROM schema_version WHERE version = :v",
      soci::use(version), soci::into(count);
  return count > 0;
}

void RunScript(soci::session& session, const std::string& script) {
  for (const std::string& statement : SplitSqlScript(script)) session << statement;
}

// The script up to its rewrite-rows mark, the rewrite, then the rest.
void RunMigration(soci::session& session, const Migration& migration) {
  const std::string script = migration.sql;
  const size_t mark = script.find(kRewriteRowsMark);
  if (mark == std::string::npos) {
    if (migration.rewrite_rows != nullptr) {
      throw std::logic_error(absl::StrCat("migration ", migration.name,
                                          " has a row rewrite but no place to run it"));
    }
    return RunScript(session, script);
  }
  if (migration.rewrite_rows == nullptr) {
    throw std::logic_error(absl::StrCat("migration ", migration.name,
                                        " needs a row rewrite that this build does not have"));
  }
  RunScript(session, script.substr(0, mark));
  migration.rewrite_rows(session);
  RunScript(session, script.substr(mark + std::strlen(kRewriteRowsMark)));
}

void ApplyOne(soci::session& session, const Dialect& dialect, const Migration& migration) {
  dialect.BeginWrite(session);
  try {
    // Re-checked under the write lock: another process may have won.
    if (!IsApplied(session, migration.version)) {
      RunMigration(session, migration);
      const std::string name = migration.name;
      const int64_t now = NowMicros();
      session << "INSERT INTO schema_version (version, name, applied_us)"
                 " VALUES (:v, :n, :t)",
          soci::use(migration.version), soci::use(name), soci::use(now);
    }
    session << "COMMIT";
  } catch (...) {
    try {
      session << "ROLLBACK";
    } catch (...) {
      // The failure being reported is the first one.
    }
    throw;
  }
}

// Holds the dialect's migration lock for its lifetime.
class MigrationLock {
 public:
  MigrationLock(soci::session& session, const Dialect& dialect)
      : session_(session), dialect_(dialect) {
    dialect_.LockMigrations(session_);
  }
  ~MigrationLock() {
    try {
      dialect_.UnlockMigrations(session_);
    } catch (...) {
      // A connection that failed drops the lock with it.
    }
  }

 private:
  soci::session& session_;
  const Dialect& dialect_;
};

absl::Status CheckOrdered(const std::vector<Migration>& migrations) {
  int previous = 0;
  for (const Migration& migration : migrations) {
    if (migration.version <= previous) {
      return absl::InternalError(absl::StrCat("migration ", migration.name,
                                              " is out of order or duplicated"));
    }
    previous = migration.version;
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> SplitSqlScript(const std::string& script) {
  return ScriptSplitter(script).Split();
}

absl::StatusOr<int> ApplyMigrations(soci::session& session, const Dialect& dialect) {
  SIGNOFF_RETURN_IF_ERROR(CheckOrdered(dialect.Migrations()));
  return Guarded(dialect, [&]() -> absl::StatusOr<int> {
    MigrationLock lock(session, dialect);
    session << kCreateSchemaVersion;
    const int applied = AppliedVersion(session);
    const int known = dialect.Migrations().empty() ? 0 : dialect.Migrations().back().version;
    if (applied > known) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the database is at schema version ", applied, ", newer than the ", known,
          " this signoffd knows; run the release that migrated it, or a newer one"));
    }
    for (const Migration& migration : dialect.Migrations()) {
      if (migration.version > applied) ApplyOne(session, dialect, migration);
    }
    return AppliedVersion(session);
  });
}

absl::StatusOr<int> MigrateOnOwnConnection(const Dialect& dialect) {
  SIGNOFF_ASSIGN_OR_RETURN(
      std::unique_ptr<soci::session> session,
      Guarded(dialect, [&]() -> absl::StatusOr<std::unique_ptr<soci::session>> {
        return dialect.OpenWriteSession();
      }));
  return ApplyMigrations(*session, dialect);
}

}  // namespace signoff::storage
