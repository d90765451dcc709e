#pragma once

// A throwaway PostgreSQL cluster for the benchmark's PostgreSQL rows,
// started and stopped with the tests' script (tests/support/
// pg_test_cluster.sh) so that it is configured as the tests' cluster is,
// and SQL run on it through psql.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace signoff::bench {

class PostgresqlCluster {
 public:
  // Starts a cluster whose state (its URL, port and where its files are)
  // goes in `dir`/postgresql; the logs of the script and of psql go in
  // `dir` too.
  static absl::StatusOr<std::unique_ptr<PostgresqlCluster>> Start(const std::filesystem::path& dir);
  // Stops the cluster and removes its files, unless Stop() already did.
  ~PostgresqlCluster() { Stop(); }
  PostgresqlCluster(const PostgresqlCluster&) = delete;
  PostgresqlCluster& operator=(const PostgresqlCluster&) = delete;

  void Stop();

  // The libpq URL of `database` in this cluster.
  std::string UrlOf(const std::string& database) const;
  // CREATE DATABASE `name`: each user of the cluster gets its own, so that
  // neither sees the other's tables.
  absl::Status CreateDatabase(const std::string& name);
  // Runs `sql` (one or more statements) in `database`, stopping at the
  // first error.
  absl::Status Execute(const std::string& database, const std::string& sql);
  // What `SHOW server_version` says, e.g. "15.18 (Debian 15.18-0+deb12u1)".
  absl::StatusOr<std::string> ServerVersion();

 private:
  PostgresqlCluster(std::filesystem::path dir, std::string url)
      : dir_(std::move(dir)), url_(std::move(url)) {}

  // The database of the URL the script wrote (every cluster has it).
  std::string DefaultDatabase() const;
  // psql on `database` with `args` after the connection; its output in a
  // file of `dir_`, whose path is returned.
  absl::StatusOr<std::filesystem::path> Psql(const std::string& database,
                                             const std::vector<std::string>& args);

  const std::filesystem::path dir_;
  // The URL the script wrote, of its default database.
  const std::string url_;
  bool stopped_ = false;
  int psql_runs_ = 0;
};

}  // namespace signoff::bench
