#include "postgresql_test_database.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "storage/postgresql_dialect.h"

namespace signoff::testing {
namespace {

absl::Status Run(const std::string& connection, const std::string& sql) {
  try {
    soci::session session(soci::postgresql, connection);
    session << sql;
    return absl::OkStatus();
  } catch (const std::exception& error) {
    return absl::InternalError(absl::StrCat("postgresql: ", error.what()));
  }
}

}  // namespace

absl::StatusOr<std::string> PostgresqlTestUrl() {
  if (const char* url = std::getenv("SIGNOFF_TEST_POSTGRESQL_URL"); url != nullptr && *url) {
    return std::string(url);
  }
  const char* file = std::getenv("SIGNOFF_TEST_POSTGRESQL_URL_FILE");
  if (file != nullptr && *file) {
    std::ifstream in(file);
    std::string url;
    if (in && std::getline(in, url) && !absl::StripAsciiWhitespace(url).empty()) {
      return std::string(absl::StripAsciiWhitespace(url));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "no PostgreSQL test cluster is running (", file,
        " is missing); run the tests through ctest, which starts one"));
  }
  return absl::FailedPreconditionError(
      "no PostgreSQL test cluster: run the tests through ctest, which starts one, or set "
      "SIGNOFF_TEST_POSTGRESQL_URL");
}

bool ServerSuitesUsePostgresql() {
  const char* db = std::getenv("SIGNOFF_TEST_DB");
  return db != nullptr && std::string(db) == "postgresql";
}

absl::StatusOr<std::unique_ptr<PostgresqlTestDatabase>> PostgresqlTestDatabase::Create() {
  static std::atomic<int> counter{0};
  absl::StatusOr<std::string> url = PostgresqlTestUrl();
  if (!url.ok()) return url.status();
  absl::StatusOr<std::string> admin = storage::NormalizeConnectionString(*url, 10);
  if (!admin.ok()) return admin.status();
  const std::string schema = absl::StrCat("test_", getpid(), "_", counter++);
  absl::Status created = Run(*admin, absl::StrCat("CREATE SCHEMA ", schema));
  if (!created.ok()) return created;
  // The schema names the connections too, so that they can be told from
  // those of tests running beside this one.
  std::string connection = absl::StrCat(*admin, " options='-c search_path=", schema,
                                        "' application_name=", schema);
  std::string schema_url =
      absl::StrCat(*url, url->find('?') == std::string::npos ? "?" : "&",
                   "options=-c%20search_path%3D", schema, "&application_name=", schema);
  return std::unique_ptr<PostgresqlTestDatabase>(new PostgresqlTestDatabase(
      *admin, schema, std::move(connection), std::move(schema_url)));
}

PostgresqlTestDatabase::~PostgresqlTestDatabase() {
  // Without the notice that lists every table the drop takes with it.
  Run(admin_connection_ + " options='-c client_min_messages=warning'",
      absl::StrCat("DROP SCHEMA ", schema_, " CASCADE"))
      .IgnoreError();
}

absl::Status PostgresqlTestDatabase::TerminateConnections() const {
  return Run(admin_connection_,
             absl::StrCat("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE application_name = '", schema_, "'"));
}

absl::Status PostgresqlTestDatabase::Execute(const std::string& sql) const {
  return Run(connection_, sql);
}

}  // namespace signoff::testing
