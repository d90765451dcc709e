#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/dialect.h"
#include "storage/encoded_mutation.h"
#include "storage/store.h"
#include "storage/write_statements.h"

namespace soci {
class session;
}

namespace signoff::storage {

// Owns the write connection and commits batches of mutations. Runs only on
// the group-commit thread.
class MutationWriter {
 public:
  // Opens the write connection and applies pending migrations on it.
  static absl::StatusOr<std::unique_ptr<MutationWriter>> Open(const Dialect& dialect);
  ~MutationWriter();

  // One transaction for the whole batch; each mutation runs inside its own
  // savepoint, so a mutation that fails is undone alone and the others
  // still commit. If the transaction itself fails, every mutation gets
  // that error.
  std::vector<absl::StatusOr<CommitResult>> CommitBatch(
      const std::vector<const EncodedMutation*>& batch);

 private:
  // The batch in one transaction with no savepoints; nullopt, with the
  // transaction rolled back, when a member failed.
  std::optional<std::vector<absl::StatusOr<CommitResult>>> CommitInOneGo(
      const std::vector<const EncodedMutation*>& batch);
  // The batch with a savepoint around each member, so that a failed
  // member is undone alone.
  std::vector<absl::StatusOr<CommitResult>> CommitEachInSavepoint(
      const std::vector<const EncodedMutation*>& batch);
  absl::Status Begin();
  // Appends the batch's events and admin events, and commits.
  absl::Status Finish(const std::vector<const EncodedMutation*>& batch,
                      std::vector<absl::StatusOr<CommitResult>>& results);
  // Rolls back, and drops the connection if it was lost.
  void Abandon();
  // The returned Status is a transaction failure; *result is the
  // mutation's own outcome. *lost_race is set, and nothing else, when the
  // database failed the mutation to break a deadlock or a serialization
  // conflict: the whole transaction must then end and run again.
  absl::Status ApplyInSavepoint(const EncodedMutation& mutation,
                                absl::StatusOr<CommitResult>* result, bool* lost_race);
  MutationWriter(const Dialect& dialect, std::unique_ptr<soci::session> session);

  // Opens a new connection when the last one was lost. UNAVAILABLE while
  // the database cannot be reached.
  absl::Status EnsureConnected();
  // Drops the connection if the database closed it, so that the next batch
  // reconnects. True when it did.
  bool ForgetConnectionIfLost();
  absl::Status ReleaseSavepoint();
  // Takes the event-order lock and inserts the events of every mutation
  // that succeeded.
  absl::Status AppendBatchEvents(const std::vector<const EncodedMutation*>& batch,
                                 std::vector<absl::StatusOr<CommitResult>>& results);
  // Locks the admin trail's head and appends the admin events of every
  // mutation that succeeded. After the events, so that every writer takes
  // the two locks in one order.
  absl::Status AppendBatchAdminEvents(const std::vector<const EncodedMutation*>& batch,
                                      std::vector<absl::StatusOr<CommitResult>>& results);
  absl::Status Execute(const char* sql);
  void RollbackQuietly();

  const Dialect& dialect_;
  std::unique_ptr<soci::session> session_;
  // Null after the connection was lost, until a batch reconnects.
  // Compiled on the first batch, after the migrations have run, and
  // dropped with the session.
  std::unique_ptr<WriteStatements> statements_;
};

// Inserts the events ApplyMutation chained into `result`, and sets their
// global_seq. The writer runs this for a whole batch at its end, so that
// the lock that orders event appends between replicas is held only for
// the inserts and the commit.
void AppendEvents(WriteStatements& statements, const EncodedMutation& mutation,
                  CommitResult& result);

// Applies one mutation's writes, but for its events (AppendEvents), inside
// the caller's transaction. Check
// failures come back as Status (ABORTED, ALREADY_EXISTS, INVALID_ARGUMENT);
// database errors are thrown.
absl::StatusOr<CommitResult> ApplyMutation(soci::session& session, const Dialect& dialect,
                                           WriteStatements& statements,
                                           const EncodedMutation& mutation);

}  // namespace signoff::storage
