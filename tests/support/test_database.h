#pragma once

// The database a server or end-to-end test runs on: an SQLite file in the
// test's folder, or, with SIGNOFF_TEST_DB=postgresql, a schema of its own
// in the test set-up's PostgreSQL cluster.

#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "postgresql_test_database.h"
#include "storage/open_store.h"

namespace signoff::testing {

class TestDatabase {
 public:
  static absl::StatusOr<std::unique_ptr<TestDatabase>> Create(const std::filesystem::path& dir) {
    std::unique_ptr<TestDatabase> database(new TestDatabase());
    database->sqlite_file_ = dir / "signoff.db";
    if (ServerSuitesUsePostgresql()) {
      auto postgresql = PostgresqlTestDatabase::Create();
      if (!postgresql.ok()) return postgresql.status();
      database->postgresql_ = std::move(*postgresql);
    }
    return database;
  }

  bool is_postgresql() const { return postgresql_ != nullptr; }
  // The SQLite file; only meaningful when !is_postgresql().
  const std::filesystem::path& sqlite_file() const { return sqlite_file_; }
  // What signoffd's --db takes.
  std::string db_flag() const {
    return is_postgresql() ? postgresql_->url() : sqlite_file_.string();
  }
  // Another store on the same database, as a restart or a replica opens.
  absl::StatusOr<std::unique_ptr<storage::Store>> Open() const {
    storage::DatabaseOptions options;
    options.db = db_flag();
    return storage::OpenStore(options);
  }

 private:
  TestDatabase() = default;

  std::filesystem::path sqlite_file_;
  std::unique_ptr<PostgresqlTestDatabase> postgresql_;
};

}  // namespace signoff::testing
