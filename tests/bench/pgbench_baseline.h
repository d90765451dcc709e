#pragma once

// The PostgreSQL baseline: pgbench running the approval script
// (pgbench_approval.sql: one decision's writes in the shape signoffd makes
// them) on a database of its own in the benchmark's cluster, each client on
// a connection of its own, as PostgreSQL is meant to be used. Its rate is
// what a decision's transaction reaches on this PostgreSQL and machine
// without signoffd's engine, gRPC or single writer connection.

#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "load.h"
#include "postgresql_cluster.h"

namespace signoff::bench {

class PgbenchBaseline {
 public:
  // Creates the database `database` in `cluster` with the tables the
  // script writes and `instances` instances (each with one task) to
  // decide on; pgbench's output goes in folders of `dir`.
  static absl::StatusOr<std::unique_ptr<PgbenchBaseline>> Create(
      PostgresqlCluster& cluster, const std::string& database, const std::filesystem::path& dir,
      int instances = 10000);

  // pgbench with `clients` connections for `duration` (whole seconds, at
  // least one): its tps without the connections' set-up, and the p50 and
  // p99 of its per-transaction log.
  absl::StatusOr<LoadResult> Run(int clients, absl::Duration duration);

 private:
  PgbenchBaseline(std::string pgbench, std::string url, std::filesystem::path dir, int instances)
      : pgbench_(std::move(pgbench)), url_(std::move(url)), dir_(std::move(dir)),
        instances_(instances) {}

  const std::string pgbench_;
  const std::string url_;
  const std::filesystem::path dir_;
  const int instances_;
  int runs_ = 0;
};

}  // namespace signoff::bench
