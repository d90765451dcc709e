#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "storage/dialect.h"
#include "storage/store.h"

namespace signoff::storage {

// The SQLite Dialect behind OpenSqliteStore; tests use it to drive the
// writer directly. INVALID_ARGUMENT for bad options.
absl::StatusOr<std::unique_ptr<Dialect>> MakeSqliteDialect(const SqliteOptions& options);

}  // namespace signoff::storage
