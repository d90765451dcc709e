#include "storage/mutation_writer.h"

#include <soci/soci.h>

#include "storage/migrations.h"
#include "workflow/status_macros.h"

namespace signoff::storage {
namespace {

std::vector<absl::StatusOr<CommitResult>> AllFailed(size_t size, const absl::Status& error) {
  return std::vector<absl::StatusOr<CommitResult>>(size, error);
}

// What to tell the whole batch when the database abandoned its
// transaction: the mutation's own error when it was the database's (full,
// unwritable, damaged), which every member shares; otherwise the failed
// rollback, so that one caller's bad input is not reported to the others.
absl::Status AbandonedBecause(const absl::StatusOr<CommitResult>& result,
                              const absl::Status& rollback) {
  if (result.ok()) return rollback;
  const absl::StatusCode code = result.status().code();
  const bool database_gave_up = code == absl::StatusCode::kResourceExhausted ||
                                code == absl::StatusCode::kUnavailable ||
                                code == absl::StatusCode::kDataLoss;
  return database_gave_up ? result.status() : rollback;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MutationWriter>> MutationWriter::Open(
    const Dialect& dialect) {
  SIGNOFF_ASSIGN_OR_RETURN(std::unique_ptr<soci::session> session,
                   Guarded(dialect, [&]() -> absl::StatusOr<std::unique_ptr<soci::session>> {
                     return dialect.OpenWriteSession();
                   }));
  SIGNOFF_RETURN_IF_ERROR(ApplyMigrations(*session, dialect).status());
  return std::unique_ptr<MutationWriter>(new MutationWriter(dialect, std::move(session)));
}

MutationWriter::MutationWriter(const Dialect& dialect,
                               std::unique_ptr<soci::session> session)
    : dialect_(dialect), session_(std::move(session)) {}

MutationWriter::~MutationWriter() = default;

std::vector<absl::StatusOr<CommitResult>> MutationWriter::CommitBatch(
    const std::vector<const Mutation*>& batch) {
  absl::Status begun = Guarded(dialect_, [&] {
    dialect_.BeginWrite(*session_);
    return absl::OkStatus();
  });
  if (!begun.ok()) return AllFailed(batch.size(), begun);

  std::vector<absl::StatusOr<CommitResult>> results;
  for (const Mutation* mutation : batch) {
    absl::StatusOr<CommitResult> result;
    absl::Status transaction = ApplyInSavepoint(*mutation, &result);
    if (!transaction.ok()) {
      RollbackQuietly();
      return AllFailed(batch.size(), transaction);
    }
    results.push_back(std::move(result));
  }

  absl::Status committed = Execute("COMMIT");
  if (!committed.ok()) {
    RollbackQuietly();
    return AllFailed(batch.size(), committed);
  }
  return results;
}

absl::Status MutationWriter::ApplyInSavepoint(const Mutation& mutation,
                                              absl::StatusOr<CommitResult>* result) {
  SIGNOFF_RETURN_IF_ERROR(Execute("SAVEPOINT mutation"));
  *result = Guarded(dialect_, [&] { return ApplyMutation(*session_, dialect_, mutation); });
  // A duplicate request wrote nothing, but undoing is the safe default.
  if (result->ok() && !(*result)->duplicate_request) {
    return Execute("RELEASE SAVEPOINT mutation");
  }
  // If the database already abandoned the whole transaction (SQLite does
  // when the disk is full and on some I/O errors), this fails and the
  // batch fails with it, reporting what made the database give up rather
  // than the missing savepoint.
  absl::Status undone = Execute("ROLLBACK TO SAVEPOINT mutation");
  if (!undone.ok()) return AbandonedBecause(*result, undone);
  return Execute("RELEASE SAVEPOINT mutation");
}

absl::Status MutationWriter::Execute(const char* sql) {
  return Guarded(dialect_, [&] {
    *session_ << sql;
    return absl::OkStatus();
  });
}

void MutationWriter::RollbackQuietly() {
  // The error worth reporting is the one that made us roll back; this may
  // fail simply because no transaction is open any more.
  Execute("ROLLBACK").IgnoreError();
}

}  // namespace signoff::storage
