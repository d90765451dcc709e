#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "storage/dialect.h"
#include "storage/store.h"

namespace signoff::storage {

struct SociStoreOptions {
  int read_pool_size = 4;
  int max_batch = 512;
  // Write connections, each with its own group-commit thread. SQLite
  // writes one transaction at a time whatever this says, so it takes one.
  int writers = 1;
};

// The Store shared by the SOCI backends: group-commit writers, each on a
// write connection of its own, and reads on a pool of other connections. The dialect
// supplies what differs between databases.
//
// Opening applies pending migrations before anything else runs.
absl::StatusOr<std::unique_ptr<Store>> OpenSociStore(std::unique_ptr<Dialect> dialect,
                                                     const SociStoreOptions& options);

}  // namespace signoff::storage
