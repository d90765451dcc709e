#include "storage/group_commit.h"

#include "absl/time/clock.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace signoff::storage {

GroupCommitter::GroupCommitter(int max_batch, BatchFn commit_batch)
    : max_batch_(static_cast<size_t>(std::max(1, max_batch))),
      commit_batch_(std::move(commit_batch)),
      thread_([this] { Run(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_one();
  thread_.join();
}

absl::StatusOr<CommitResult> GroupCommitter::Commit(EncodedMutation mutation) {
  std::future<absl::StatusOr<CommitResult>> result;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return absl::UnavailableError("the store is closing");
    queue_.push_back(Pending{std::move(mutation), {}});
    result = queue_.back().done.get_future();
  }
  queued_.notify_one();
  return result.get();
}

void GroupCommitter::Run() {
  while (true) {
    std::vector<Pending> batch = TakeBatch();
    if (batch.empty()) return;
    CommitBatch(batch);
  }
}

std::vector<GroupCommitter::Pending> GroupCommitter::TakeBatch() {
  std::unique_lock<std::mutex> lock(mutex_);
  queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
  std::vector<Pending> batch;
  while (!queue_.empty() && batch.size() < max_batch_) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return batch;
}

void GroupCommitter::CommitBatch(std::vector<Pending>& batch) {
  std::vector<const EncodedMutation*> mutations;
  for (const Pending& pending : batch) mutations.push_back(&pending.mutation);
  std::vector<absl::StatusOr<CommitResult>> results;
  const absl::Time began = absl::Now();
  try {
    results = commit_batch_(mutations);
  } catch (...) {
    // Reported below: every member gets an error rather than a lost reply.
    results.clear();
  }
  if (results.size() != batch.size()) {
    results.assign(batch.size(),
                   absl::InternalError("the writer lost track of a commit batch"));
  }
  CommitObserver observer;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    observer = observer_;
  }
  if (observer) {
    CommitBatchReport report;
    report.size = batch.size();
    report.latency = absl::Now() - began;
    for (const auto& result : results) {
      if (!result.ok()) report.failures.push_back(result.status().code());
    }
    observer(report);
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].done.set_value(std::move(results[i]));
  }
}

}  // namespace signoff::storage
