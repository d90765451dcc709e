#pragma once

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "storage/migrations.h"

namespace soci {
class session;
}

namespace signoff::storage {

// What differs between database backends. SociStore holds the shared SQL
// and the group-commit writer; a Dialect supplies connections, transaction
// starts, error mapping and the embedded migrations.
class Dialect {
 public:
  virtual ~Dialect() = default;

  // A short backend name for messages, e.g. "sqlite".
  virtual std::string Name() const = 0;

  // Opens a configured connection. May throw; callers guard.
  virtual std::unique_ptr<soci::session> OpenWriteSession() const = 0;
  virtual std::unique_ptr<soci::session> OpenReadSession() const = 0;

  // Starts a transaction that will write, taking the write lock up front
  // so that it cannot fail half-way with a lock upgrade.
  virtual void BeginWrite(soci::session& session) const = 0;
  // Called in a write transaction just before it inserts events. On a
  // shared server, event global_seq numbers must become visible in the
  // order they were given out, so transactions hold a lock from here
  // until they end. SQLite already writes one transaction at a time.
  virtual void OrderEventAppends(soci::session& /*session*/) const {}
  // Starts a transaction in which several reads see one snapshot.
  virtual void BeginRead(soci::session& session) const = 0;

  // Maps a database exception to a Status: RESOURCE_EXHAUSTED when the
  // database is full, UNAVAILABLE for contention or a database that cannot
  // be written, DATA_LOSS for a damaged one, INTERNAL otherwise.
  virtual absl::Status ToStatus(const std::exception& error) const = 0;
  // True for a UNIQUE / PRIMARY KEY violation.
  virtual bool IsUniqueViolation(const std::exception& error) const = 0;
  // True for a violation of the single-column UNIQUE constraint on
  // table.column. The message alone cannot tell: it quotes the statement,
  // which names every column.
  virtual bool ViolatesUniqueColumn(const std::exception& error, const std::string& table,
                                    const std::string& column) const = 0;
  // True when the statement lost a race the database resolved by failing
  // it (a serialization failure or a deadlock): running it again may work.
  virtual bool IsRetryable(const std::exception& /*error*/) const { return false; }
  // False once the connection is unusable (the server went away); the
  // caller then drops it and opens a new one. Only asked after a failure.
  virtual bool IsAlive(soci::session& /*session*/) const { return true; }

  // Held around ApplyMigrations, so that replicas starting together apply
  // each migration once. SQLite's write lock already does this.
  virtual void LockMigrations(soci::session& /*session*/) const {}
  virtual void UnlockMigrations(soci::session& /*session*/) const {}

  virtual const std::vector<Migration>& Migrations() const = 0;

  // OK while a commit could be written now; UNAVAILABLE saying why not
  // (the database is gone, read-only, or its disk is full).
  virtual absl::Status CheckWritable() const = 0;

  // How a statement passes a body (binary protobuf) bound at `placeholder`
  // so that the database stores it as bytes: SQLite would otherwise keep a
  // bound string as text, which its text functions and dumps cut at the
  // first zero byte.
  virtual std::string BodyParameter(const std::string& placeholder) const { return placeholder; }
  // Rewrites a body, in place, into the form BodyParameter expects bound.
  virtual void PrepareBodyValue(std::string* /*body*/) const {}
  // An expression reading a bytes column as hex digits (either case):
  // SOCI reads neither backend's bytes back whole and unambiguous.
  virtual std::string BytesAsHex(const std::string& column) const = 0;

  // Appended to a SELECT that claims rows, so that concurrent claimers on
  // a shared server skip each other's rows instead of waiting. SQLite
  // already runs one writer at a time.
  virtual std::string LockSkipLockedClause() const { return ""; }
  // Appended to a SELECT in a write transaction that reads rows it will
  // rely on until the commit, so that a shared server's other writers
  // wait instead of changing them meanwhile.
  virtual std::string LockRowsClause() const { return ""; }
  // An aggregate joining a text column's values of a group with commas.
  virtual std::string JoinTextAggregate(const std::string& column) const {
    return "group_concat(" + column + ", ',')";
  }
};

// A database message without the values SOCI appends to it, nor the row
// PostgreSQL quotes in its DETAIL line: those can be whole instance states
// with personal data, and errors travel to clients and logs.
std::string WithoutBoundValues(const std::string& message);

// Runs fn, turning any exception into a Status through the dialect. fn
// returns absl::Status or absl::StatusOr<T>.
template <typename Fn>
auto Guarded(const Dialect& dialect, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& error) {
    return dialect.ToStatus(error);
  }
}

}  // namespace signoff::storage
