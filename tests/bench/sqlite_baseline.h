#pragma once

// The raw SQLite baseline: the transaction of one decision, in the shape
// signoffd writes it (an instance row updated with a state body of about
// 1.5 KB, two events appended, one task upserted, one idempotency record
// inserted), run straight on the sqlite3 C API with statements prepared
// once, WAL and synchronous=FULL as signoffd opens its database. Callers
// queue transactions with their bodies already made; one writer thread
// takes everything waiting and commits it as one transaction (group
// commit), and callers are told on another thread. Its rate bounds what any single-writer SQLite design can reach
// on this machine.

#include <sqlite3.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "load.h"

namespace signoff::bench {

class SqliteBaseline {
 public:
  // Creates the database at `path` (which must not exist) with
  // `instances` instance rows to update, and starts the writer.
  static absl::StatusOr<std::unique_ptr<SqliteBaseline>> Create(const std::filesystem::path& path,
                                                                int instances = 10000);
  // Stops the writer once the queue is empty.
  ~SqliteBaseline();
  SqliteBaseline(const SqliteBaseline&) = delete;
  SqliteBaseline& operator=(const SqliteBaseline&) = delete;

  // One decision-shaped transaction, measured from its queueing until its
  // batch committed; `sequence` picks the instance and makes the ids
  // unique within a run, and `run` must differ between runs.
  Operation Transaction(int run);

 private:
  struct Pending {
    int64_t instance = 0;
    std::string instance_id;
    std::string state;
    std::string event_bodies[2];
    std::string task_id;
    std::string task_body;
    std::string request_id;
    absl::Time queued;
    OperationDone done;
  };

  SqliteBaseline(sqlite3* db, int instances) : db_(db), instances_(instances) {}
  absl::Status Prepare();
  void WriteBatches();
  // Tells the callers of committed batches, apart from the writer, so that
  // the next transactions are made while the writer commits.
  void CompleteBatches();
  // Runs one batch as one transaction.
  absl::Status Commit(std::deque<Pending>& batch);
  absl::Status Write(const Pending& pending, int64_t now_us);

  sqlite3* db_;
  const int instances_;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
  sqlite3_stmt* update_instance_ = nullptr;
  sqlite3_stmt* insert_event_ = nullptr;
  sqlite3_stmt* upsert_task_ = nullptr;
  sqlite3_stmt* insert_idempotency_ = nullptr;
  // The hash chain head of each instance, kept in memory as signoffd may.
  std::vector<std::string> chain_heads_;
  std::vector<int64_t> event_counts_;

  std::mutex mutex_;
  // Wakes the writer: work queued, or stopping.
  std::condition_variable work_queued_;
  // Wakes the completer: a batch committed, or the writer stopped.
  std::condition_variable batch_committed_;
  std::deque<Pending> queue_;
  struct Committed {
    std::deque<Pending> batch;
    absl::Status status;
    absl::Time at;
  };
  std::deque<Committed> committed_;
  bool stopping_ = false;
  bool writer_stopped_ = false;
  std::thread writer_;
  std::thread completer_;
};

}  // namespace signoff::bench
