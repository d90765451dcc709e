// The SQLite StoreBackend: a fresh database file per test.

#include <sqlite3.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "storage/sqlite_dialect.h"
#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

class SqliteBackend final : public StoreBackend {
 public:
  SqliteBackend() {
    static std::atomic<int> counter{0};
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = absl::StrCat("signoff_store_", getpid(), "_", counter++, "_",
                                    test == nullptr ? "test" : test->name());
    std::replace(name.begin(), name.end(), '/', '_');
    directory_ = std::filesystem::path(::testing::TempDir()) / name;
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }

  ~SqliteBackend() override {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }

  absl::StatusOr<std::unique_ptr<Store>> Open() override {
    SqliteOptions options;
    options.path = Path();
    auto store = OpenSqliteStore(options);
    // The path has a space in it, to prove it reaches SQLite intact.
    if (store.ok() && !std::filesystem::exists(Path())) {
      return absl::InternalError("the store opened a database somewhere else");
    }
    return store;
  }

  absl::StatusOr<int> Migrate() override { return MigrateSqlite(Path()); }

  absl::StatusOr<std::unique_ptr<Dialect>> MakeDialect() override {
    SqliteOptions options;
    options.path = Path();
    return MakeSqliteDialect(options);
  }

  absl::Status ExecuteRaw(const std::string& sql) override {
    sqlite3* db = nullptr;
    if (sqlite3_open(Path().c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      return absl::InternalError("cannot open the test database");
    }
    sqlite3_busy_timeout(db, 5000);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    absl::Status status = rc == SQLITE_OK
                              ? absl::OkStatus()
                              : absl::InternalError(error == nullptr ? "sqlite" : error);
    sqlite3_free(error);
    sqlite3_close(db);
    return status;
  }

  std::string ReplaceBytesSql(const std::string& column, const std::string& from,
                              const std::string& to) const override {
    return absl::StrCat("replace(", column, ", '", from, "', '", to, "')");
  }

 private:
  std::string Path() const { return (directory_ / "signoff db.sqlite").string(); }

  std::filesystem::path directory_;
};

}  // namespace

std::unique_ptr<StoreBackend> MakeSqliteBackend() {
  return std::make_unique<SqliteBackend>();
}

}  // namespace signoff::storage::testing
