#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/dialect.h"
#include "storage/store.h"

namespace signoff::storage {

// The PostgreSQL Dialect behind OpenPostgresqlStore; tests use it to drive
// the writer directly. INVALID_ARGUMENT for bad options or a connection
// string libpq cannot parse.
absl::StatusOr<std::unique_ptr<Dialect>> MakePostgresqlDialect(const PostgresqlOptions& options);

// The connection string as libpq key=value pairs, from a postgresql:// URL
// or key=value pairs, with signoff's defaults added (connect_timeout,
// application_name) where the string sets none. INVALID_ARGUMENT, quoting
// libpq, for a string it cannot parse.
absl::StatusOr<std::string> NormalizeConnectionString(const std::string& connection,
                                                      int connect_timeout_seconds);

}  // namespace signoff::storage
