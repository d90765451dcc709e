// The PostgreSQL StoreBackend: a fresh schema per test in the throwaway
// cluster the test set-up started (see tests/support/pg_test_cluster.sh).



#include "absl/strings/str_cat.h"
#include "postgresql_test_database.h"
#include "storage/postgresql_dialect.h"
#include "store_test_base.h"
#include "workflow/status_macros.h"

namespace signoff::storage::testing {
namespace {

class PostgresqlBackend final : public StoreBackend {
 public:
  PostgresqlBackend() : database_(signoff::testing::PostgresqlTestDatabase::Create()) {}

  absl::StatusOr<std::unique_ptr<Store>> Open() override {
    SIGNOFF_RETURN_IF_ERROR(database_.status());
    return OpenPostgresqlStore(Options());
  }

  absl::StatusOr<int> Migrate() override {
    SIGNOFF_RETURN_IF_ERROR(database_.status());
    return MigratePostgresql(Options());
  }

  absl::StatusOr<std::unique_ptr<Dialect>> MakeDialect() override {
    SIGNOFF_RETURN_IF_ERROR(database_.status());
    return MakePostgresqlDialect(Options());
  }

  absl::Status ExecuteRaw(const std::string& sql) override {
    SIGNOFF_RETURN_IF_ERROR(database_.status());
    return (*database_)->Execute(sql);
  }

  std::string ReplaceBytesSql(const std::string& column, const std::string& from,
                              const std::string& to) const override {
    return absl::StrCat("overlay(", column, " placing '", to, "'::bytea from position('", from,
                        "'::bytea in ", column, ") for ", from.size(), ")");
  }

 private:
  PostgresqlOptions Options() const {
    PostgresqlOptions options;
    options.connection = (*database_)->connection();
    return options;
  }

  absl::StatusOr<std::unique_ptr<signoff::testing::PostgresqlTestDatabase>> database_;
};

}  // namespace

std::unique_ptr<StoreBackend> MakePostgresqlBackend() {
  return std::make_unique<PostgresqlBackend>();
}

}  // namespace signoff::storage::testing
