#pragma once

// A schema of its own in the throwaway PostgreSQL cluster that the test
// set-up starts (tests/support/pg_test_cluster.sh), dropped when done.
// The cluster's URL comes from SIGNOFF_TEST_POSTGRESQL_URL, or from the
// file SIGNOFF_TEST_POSTGRESQL_URL_FILE names (CTest sets it).

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace signoff::testing {

// The cluster's URL; FAILED_PRECONDITION, saying how to get one, when the
// tests were started without it.
absl::StatusOr<std::string> PostgresqlTestUrl();

// True when the server and end-to-end suites should run on PostgreSQL
// (SIGNOFF_TEST_DB=postgresql).
bool ServerSuitesUsePostgresql();

class PostgresqlTestDatabase {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresqlTestDatabase>> Create();
  ~PostgresqlTestDatabase();

  // A libpq connection string whose search_path is this schema.
  const std::string& connection() const { return connection_; }
  // Runs SQL in this schema, behind the store's back.
  absl::Status Execute(const std::string& sql) const;
  // Closes, from the server's side, every connection made with
  // connection(), as a database restart or a failover would.
  absl::Status TerminateConnections() const;
  // The same database as a postgresql:// URL, for a signoffd's --db.
  std::string url() const { return url_; }

 private:
  PostgresqlTestDatabase(std::string admin_connection, std::string schema,
                         std::string connection, std::string url)
      : admin_connection_(std::move(admin_connection)),
        schema_(std::move(schema)),
        connection_(std::move(connection)),
        url_(std::move(url)) {}

  std::string admin_connection_;
  std::string schema_;
  std::string connection_;
  std::string url_;
};

}  // namespace signoff::testing
