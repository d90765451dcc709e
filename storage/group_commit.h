#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/encoded_mutation.h"
#include "storage/store.h"

namespace signoff::storage {

// The single writer. Callers queue encoded mutations and block; one thread
// takes everything queued, up to max_batch, and hands it to the batch
// function, which commits it in one transaction and returns one result per
// mutation, in order. While a batch commits, the next one gathers, so the
// busier the store, the more each disk sync carries.
class GroupCommitter {
 public:
  using BatchFn = std::function<std::vector<absl::StatusOr<CommitResult>>(
      const std::vector<const EncodedMutation*>&)>;

  GroupCommitter(int max_batch, BatchFn commit_batch);
  // Commits what is already queued, then stops the thread.
  ~GroupCommitter();

  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  absl::StatusOr<CommitResult> Commit(EncodedMutation mutation);
  // Called after each batch, on the writer's thread.
  void set_observer(CommitObserver observer) {
    std::lock_guard<std::mutex> lock(mutex_);
    observer_ = std::move(observer);
  }

 private:
  struct Pending {
    EncodedMutation mutation;
    std::promise<absl::StatusOr<CommitResult>> done;
  };

  void Run();
  // Blocks until work is queued; empty once stopping with nothing left.
  std::vector<Pending> TakeBatch();
  void CommitBatch(std::vector<Pending>& batch);

  const size_t max_batch_;
  const BatchFn commit_batch_;
  CommitObserver observer_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace signoff::storage
