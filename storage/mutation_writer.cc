#include "storage/mutation_writer.h"

#include <soci/soci.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/admin_trail.h"
#include "storage/migrations.h"
#include "workflow/status_macros.h"

namespace signoff::storage {
namespace {

// How often a batch that lost a deadlock or serialization race is run
// again before its callers are told ABORTED.
constexpr int kRetryableAttempts = 4;
constexpr absl::Duration kRaceBackoff = absl::Milliseconds(20);

bool AppendsEvents(const std::vector<absl::StatusOr<CommitResult>>& results) {
  for (const auto& result : results) {
    if (result.ok() && !result->events.empty()) return true;
  }
  return false;
}

// The mutations whose changes are written, not replays of a request.
bool Written(const absl::StatusOr<CommitResult>& result) {
  return result.ok() && !result->duplicate_request;
}

bool AppendsAdminEvents(const std::vector<const EncodedMutation*>& batch,
                        const std::vector<absl::StatusOr<CommitResult>>& results) {
  for (size_t i = 0; i < batch.size(); ++i) {
    if (Written(results[i]) && !batch[i]->mutation.admin_events.empty()) return true;
  }
  return false;
}

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

MutationWriter::~MutationWriter() {
  // Statements go before the connection they were compiled on.
  statements_.reset();
}

absl::Status MutationWriter::EnsureConnected() {
  if (session_ != nullptr) return absl::OkStatus();
  absl::Status opened = Guarded(dialect_, [&] {
    session_ = dialect_.OpenWriteSession();
    return absl::OkStatus();
  });
  if (opened.ok()) return opened;
  return absl::UnavailableError(
      absl::StrCat("the database cannot be reached; nothing was written: ", opened.message()));
}

bool MutationWriter::ForgetConnectionIfLost() {
  if (session_ == nullptr || dialect_.IsAlive(*session_)) return false;
  statements_.reset();
  session_.reset();
  return true;
}

// Most batches commit whole, so a batch first runs without savepoints,
// two round trips per mutation fewer; only when a member fails is it run
// again with a savepoint around each mutation.
std::vector<absl::StatusOr<CommitResult>> MutationWriter::CommitBatch(
    const std::vector<const EncodedMutation*>& batch) {
  std::optional<std::vector<absl::StatusOr<CommitResult>>> whole = CommitInOneGo(batch);
  if (whole.has_value()) return std::move(*whole);
  return CommitEachInSavepoint(batch);
}

std::optional<std::vector<absl::StatusOr<CommitResult>>> MutationWriter::CommitInOneGo(
    const std::vector<const EncodedMutation*>& batch) {
  if (absl::Status begun = Begin(); !begun.ok()) return AllFailed(batch.size(), begun);
  std::vector<absl::StatusOr<CommitResult>> results;
  for (const EncodedMutation* mutation : batch) {
    absl::StatusOr<CommitResult> result =
        Guarded(dialect_, [&] { return ApplyMutation(*session_, dialect_, *statements_, *mutation); });
    if (!result.ok()) {
      Abandon();
      return std::nullopt;
    }
    results.push_back(std::move(result));
  }
  if (absl::Status finished = Finish(batch, results); !finished.ok()) {
    return AllFailed(batch.size(), finished);
  }
  return results;
}

std::vector<absl::StatusOr<CommitResult>> MutationWriter::CommitEachInSavepoint(
    const std::vector<const EncodedMutation*>& batch) {
  for (int attempt = 1;; ++attempt) {
    if (absl::Status begun = Begin(); !begun.ok()) return AllFailed(batch.size(), begun);
    std::vector<absl::StatusOr<CommitResult>> results;
    bool lost_race = false;
    for (const EncodedMutation* mutation : batch) {
      absl::StatusOr<CommitResult> result;
      absl::Status transaction = ApplyInSavepoint(*mutation, &result, &lost_race);
      if (!transaction.ok()) {
        Abandon();
        return AllFailed(batch.size(), transaction);
      }
      if (lost_race) break;
      results.push_back(std::move(result));
    }
    if (lost_race) {
      // Only ending the transaction gives up the locks the other side
      // waits for; the batch then runs again, and finds what it raced.
      Abandon();
      if (attempt < kRetryableAttempts) {
        // The other side gets to finish first, instead of meeting this
        // batch's locks again at once.
        absl::SleepFor(kRaceBackoff * attempt);
        continue;
      }
      return AllFailed(batch.size(),
                       absl::AbortedError("the database kept failing this change to resolve "
                                          "conflicts with concurrent ones; nothing was written"));
    }
    if (absl::Status finished = Finish(batch, results); !finished.ok()) {
      return AllFailed(batch.size(), finished);
    }
    return results;
  }
}

// A connection the server closed while it sat idle is found here, before
// anything was sent: it is replaced once at no cost to the batch.
absl::Status MutationWriter::Begin() {
  for (int attempt = 1;; ++attempt) {
    SIGNOFF_RETURN_IF_ERROR(EnsureConnected());
    absl::Status begun = Guarded(dialect_, [&] {
      if (statements_ == nullptr) {
        statements_ = std::make_unique<WriteStatements>(*session_, dialect_);
      }
      dialect_.BeginWrite(*session_);
      return absl::OkStatus();
    });
    if (begun.ok()) return begun;
    RollbackQuietly();
    if (!ForgetConnectionIfLost() || attempt > 1) return begun;
  }
}

absl::Status MutationWriter::Finish(const std::vector<const EncodedMutation*>& batch,
                                    std::vector<absl::StatusOr<CommitResult>>& results) {
  absl::Status finished = AppendBatchEvents(batch, results);
  if (finished.ok()) finished = AppendBatchAdminEvents(batch, results);
  if (finished.ok()) finished = Execute("COMMIT");
  if (!finished.ok()) Abandon();
  return finished;
}

void MutationWriter::Abandon() {
  RollbackQuietly();
  ForgetConnectionIfLost();
}

absl::Status MutationWriter::AppendBatchEvents(
    const std::vector<const EncodedMutation*>& batch,
    std::vector<absl::StatusOr<CommitResult>>& results) {
  if (!AppendsEvents(results)) return absl::OkStatus();
  return Guarded(dialect_, [&] {
    dialect_.OrderEventAppends(*session_);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (Written(results[i])) AppendEvents(*statements_, *batch[i], *results[i]);
    }
    return absl::OkStatus();
  });
}

absl::Status MutationWriter::AppendBatchAdminEvents(
    const std::vector<const EncodedMutation*>& batch,
    std::vector<absl::StatusOr<CommitResult>>& results) {
  if (!AppendsAdminEvents(batch, results)) return absl::OkStatus();
  return Guarded(dialect_, [&] {
    AdminChainHead head = LockAdminChainHead(*session_);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (Written(results[i])) AppendAdminEvents(*session_, dialect_, *batch[i], *results[i], head);
    }
    SaveAdminChainHead(*session_, head);
    return absl::OkStatus();
  });
}

absl::Status MutationWriter::ApplyInSavepoint(const EncodedMutation& mutation,
                                              absl::StatusOr<CommitResult>* result,
                                              bool* lost_race) {
  SIGNOFF_RETURN_IF_ERROR(Guarded(dialect_, [&] {
    statements_->Savepoint();
    return absl::OkStatus();
  }));
  try {
    *result = ApplyMutation(*session_, dialect_, *statements_, mutation);
  } catch (const std::exception& error) {
    if (dialect_.IsRetryable(error)) {
      *lost_race = true;
      return absl::OkStatus();
    }
    *result = dialect_.ToStatus(error);
  }
  // A duplicate request wrote nothing, but undoing is the safe default.
  if (result->ok() && !(*result)->duplicate_request) return ReleaseSavepoint();
  // If the database already abandoned the whole transaction (SQLite does
  // when the disk is full and on some I/O errors), this fails and the
  // batch fails with it, reporting what made the database give up rather
  // than the missing savepoint.
  absl::Status undone = Guarded(dialect_, [&] {
    statements_->RollbackToSavepoint();
    return absl::OkStatus();
  });
  if (!undone.ok()) return AbandonedBecause(*result, undone);
  return ReleaseSavepoint();
}

absl::Status MutationWriter::ReleaseSavepoint() {
  return Guarded(dialect_, [&] {
    statements_->ReleaseSavepoint();
    return absl::OkStatus();
  });
}

absl::Status MutationWriter::Execute(const char* sql) {
  if (session_ == nullptr) return absl::UnavailableError("the database connection was lost");
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
