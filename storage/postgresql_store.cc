// The PostgreSQL backend: connections, transactions, locks shared between
// replicas, and error mapping. Everything else is shared with SQLite in
// SociStore.

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <mutex>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/dialect.h"
#include "storage/instance_access_migration.h"
#include "storage/migrations.h"
#include "storage/postgresql_dialect.h"
#include "storage/soci_store.h"
#include "storage/store.h"
#include "workflow/status_macros.h"

namespace signoff::storage {
namespace {

// Advisory lock keys; advisory locks are per database, so these only need
// to differ from each other and from what else uses the database.
constexpr char kMigrationLock[] = "7238000101";
constexpr char kEventOrderLock[] = "7238000102";

absl::Status ValidateOptions(const PostgresqlOptions& options) {
  if (options.connection.empty()) {
    return absl::InvalidArgumentError("the PostgreSQL connection string is empty");
  }
  if (options.read_pool_size < 1) {
    return absl::InvalidArgumentError("PostgreSQL read_pool_size must be at least 1");
  }
  if (options.writers < 1) {
    return absl::InvalidArgumentError("PostgreSQL writers must be at least 1");
  }
  if (options.connect_timeout_seconds < 1) {
    return absl::InvalidArgumentError("PostgreSQL connect_timeout_seconds must be at least 1");
  }
  return absl::OkStatus();
}

std::string QuotedConninfoValue(const std::string& value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

bool StartsWithClass(const std::string& sqlstate, const char* error_class) {
  return absl::StartsWith(sqlstate, error_class);
}

// SOCI reports a failed connection attempt, and a statement on a
// connection that broke, without a SQLSTATE; libpq's wording varies.
bool LooksLikeLostConnection(const std::string& message) {
  const std::string lower = absl::AsciiStrToLower(message);
  for (const char* sign : {"connection", "server closed", "ssl syscall", "could not receive",
                           "could not send", "no connection"}) {
    if (absl::StrContains(lower, sign)) return true;
  }
  return false;
}

// Libpq defaults for what signoff sets unless the connection string does.
// Keepalives and a TCP user timeout turn a silent network partition into
// an error within about a minute, instead of a writer blocked for the
// kernel's retransmission time.
constexpr std::pair<const char*, const char*> kConnectionDefaults[] = {
    {"application_name", "signoffd"},
    {"keepalives_idle", "30"},
    {"keepalives_interval", "10"},
    {"keepalives_count", "3"},
    {"tcp_user_timeout", "60000"},
};

class PostgresqlDialect final : public Dialect {
 public:
  PostgresqlDialect(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  std::string Name() const override { return "postgresql"; }

  std::unique_ptr<soci::session> OpenWriteSession() const override { return Connect(); }

  // Read connections cannot write, whatever a query says.
  std::unique_ptr<soci::session> OpenReadSession() const override {
    auto session = Connect();
    *session << "SET default_transaction_read_only = on";
    return session;
  }

  // READ COMMITTED: each instance is guarded by its version check, and a
  // statement that waited on another replica's lock sees what it committed.
  void BeginWrite(soci::session& session) const override { session << "BEGIN"; }

  void OrderEventAppends(soci::session& session) const override {
    session << absl::StrCat("SELECT pg_advisory_xact_lock(", kEventOrderLock, ")");
  }

  void BeginRead(soci::session& session) const override {
    session << "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  }

  absl::Status ToStatus(const std::exception& error) const override {
    const std::string message = WithoutBoundValues(error.what());
    const auto* pg_error = dynamic_cast<const soci::postgresql_soci_error*>(&error);
    const std::string sqlstate = pg_error == nullptr ? "" : pg_error->sqlstate();
    if (sqlstate == "23505") {
      return absl::AbortedError(absl::StrCat("a concurrent change took the same key: ", message));
    }
    if (sqlstate == "40001" || sqlstate == "40P01") {
      return absl::AbortedError(
          "the database failed this change to resolve a conflict with a concurrent one; "
          "nothing was written");
    }
    // Cancelled by a statement or lock timeout, or by an operator.
    if (sqlstate == "57014" || sqlstate == "55P03") {
      return absl::UnavailableError(
          absl::StrCat("the database cancelled the statement; nothing was written: ", message));
    }
    if (StartsWithClass(sqlstate, "08") || StartsWithClass(sqlstate, "57P") ||
        (StartsWithClass(sqlstate, "53") && sqlstate != "53100") || sqlstate == "25006" ||
        (sqlstate.find_first_not_of(' ') == std::string::npos &&
         LooksLikeLostConnection(message))) {
      return absl::UnavailableError(
          absl::StrCat("the database cannot be reached or cannot take writes now: ", message));
    }
    if (sqlstate == "53100") {
      return absl::ResourceExhaustedError(
          "the database's disk is full; nothing was written");
    }
    if (sqlstate == "XX001" || sqlstate == "XX002") {
      return absl::DataLossError(absl::StrCat("the database is damaged: ", message));
    }
    return absl::InternalError(absl::StrCat("postgresql error ", sqlstate, ": ", message));
  }

  bool IsUniqueViolation(const std::exception& error) const override {
    const auto* pg_error = dynamic_cast<const soci::postgresql_soci_error*>(&error);
    return pg_error != nullptr && pg_error->sqlstate() == "23505";
  }

  // PostgreSQL names a column's UNIQUE constraint table_column_key.
  bool ViolatesUniqueColumn(const std::exception& error, const std::string& table,
                            const std::string& column) const override {
    return IsUniqueViolation(error) &&
           absl::StrContains(error.what(), absl::StrCat("\"", table, "_", column, "_key\""));
  }

  bool IsRetryable(const std::exception& error) const override {
    const auto* pg_error = dynamic_cast<const soci::postgresql_soci_error*>(&error);
    if (pg_error == nullptr) return false;
    const std::string sqlstate = pg_error->sqlstate();
    return sqlstate == "40001" || sqlstate == "40P01";
  }

  bool IsAlive(soci::session& session) const override { return session.is_connected(); }

  void LockMigrations(soci::session& session) const override {
    session << absl::StrCat("SELECT pg_advisory_lock(", kMigrationLock, ")");
  }
  void UnlockMigrations(soci::session& session) const override {
    session << absl::StrCat("SELECT pg_advisory_unlock(", kMigrationLock, ")");
  }

  const std::vector<Migration>& Migrations() const override {
    static const auto* const kMigrations =
        new std::vector<Migration>(WithInstanceAccessStep(PostgresqlMigrations()));
    return *kMigrations;
  }

  // Asked by the readiness probe every few seconds, on a connection of its
  // own so that a probe never waits behind reads.
  // A probe connection the server closed while idle is replaced once
  // before the database counts as away.
  absl::Status CheckWritable() const override {
    std::lock_guard<std::mutex> lock(probe_mutex_);
    for (int attempt = 1;; ++attempt) {
      try {
        if (probe_ == nullptr) probe_ = OpenWriteSession();
        int in_recovery = 0;
        *probe_ << "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END",
            soci::into(in_recovery);
        if (in_recovery != 0) {
          return absl::UnavailableError("the database is a standby and takes no writes");
        }
        return absl::OkStatus();
      } catch (const std::exception& error) {
        const bool had_connection = probe_ != nullptr;
        probe_.reset();
        if (!had_connection || attempt > 1) {
          return absl::UnavailableError(
              absl::StrCat("the database cannot be reached: ", WithoutBoundValues(error.what())));
        }
      }
    }
  }

  std::string BodyParameter(const std::string& placeholder) const override {
    return absl::StrCat("decode(", placeholder, ", 'hex')");
  }

  // SOCI binds every value as text, which cannot carry a zero byte.
  void PrepareBodyValue(std::string* body) const override {
    *body = absl::BytesToHexString(*body);
  }

  std::string BytesAsHex(const std::string& column) const override {
    return absl::StrCat("encode(", column, ", 'hex')");
  }

  std::string LockSkipLockedClause() const override { return " FOR UPDATE SKIP LOCKED"; }
  std::string LockRowsClause() const override { return " FOR UPDATE"; }
  std::string JoinTextAggregate(const std::string& column) const override {
    return "string_agg(" + column + ", ',')";
  }

 private:
  // libpq prints the server's notices (e.g. "already exists, skipping")
  // to stderr, between signoffd's JSON log lines; warnings and errors
  // still come through.
  std::unique_ptr<soci::session> Connect() const {
    auto session = std::make_unique<soci::session>(soci::postgresql, conninfo_);
    *session << "SET client_min_messages = warning";
    // Bodies are read back in hex form whatever the database's default.
    *session << "SET bytea_output = 'hex'";
    return session;
  }

  const std::string conninfo_;
  mutable std::mutex probe_mutex_;
  mutable std::unique_ptr<soci::session> probe_;
};

}  // namespace

absl::StatusOr<std::string> NormalizeConnectionString(const std::string& connection,
                                                      int connect_timeout_seconds) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(connection.c_str(), &error);
  if (options == nullptr) {
    std::string reason = error == nullptr ? "out of memory" : error;
    PQfreemem(error);
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    return absl::InvalidArgumentError(
        absl::StrCat("the PostgreSQL connection string does not parse: ", reason));
  }
  std::string conninfo;
  std::set<std::string> given;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
    given.insert(option->keyword);
    absl::StrAppend(&conninfo, conninfo.empty() ? "" : " ", option->keyword, "=",
                    QuotedConninfoValue(option->val));
  }
  PQconninfoFree(options);
  if (given.count("connect_timeout") == 0) {
    absl::StrAppend(&conninfo, " connect_timeout=", connect_timeout_seconds);
  }
  for (const auto& [keyword, value] : kConnectionDefaults) {
    if (given.count(keyword) == 0) absl::StrAppend(&conninfo, " ", keyword, "=", value);
  }
  return conninfo;
}

absl::StatusOr<std::unique_ptr<Dialect>> MakePostgresqlDialect(const PostgresqlOptions& options) {
  SIGNOFF_RETURN_IF_ERROR(ValidateOptions(options));
  SIGNOFF_ASSIGN_OR_RETURN(std::string conninfo,
                           NormalizeConnectionString(options.connection,
                                                     options.connect_timeout_seconds));
  return std::make_unique<PostgresqlDialect>(std::move(conninfo));
}

absl::StatusOr<std::unique_ptr<Store>> OpenPostgresqlStore(const PostgresqlOptions& options) {
  SIGNOFF_ASSIGN_OR_RETURN(std::unique_ptr<Dialect> dialect, MakePostgresqlDialect(options));
  SociStoreOptions store_options;
  store_options.read_pool_size = options.read_pool_size;
  store_options.max_batch = options.max_batch;
  store_options.writers = options.writers;
  return OpenSociStore(std::move(dialect), store_options);
}

absl::StatusOr<int> MigratePostgresql(const PostgresqlOptions& options) {
  SIGNOFF_ASSIGN_OR_RETURN(std::unique_ptr<Dialect> dialect, MakePostgresqlDialect(options));
  return MigrateOnOwnConnection(*dialect);
}

}  // namespace signoff::storage
