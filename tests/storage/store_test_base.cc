#include "store_test_base.h"

#include <atomic>
#include <thread>

namespace signoff::storage::testing {

std::vector<absl::StatusOr<CommitResult>> CommitConcurrently(Store& store,
                                                             std::vector<Mutation> mutations,
                                                             int threads) {
  std::vector<absl::StatusOr<CommitResult>> results(mutations.size(),
                                                    absl::UnknownError("not committed"));
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < mutations.size(); i = next++) {
        results[i] = store.Commit(std::move(mutations[i]));
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  return results;
}

}  // namespace signoff::storage::testing
