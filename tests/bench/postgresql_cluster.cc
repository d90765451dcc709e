#include "postgresql_cluster.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "child_process.h"
#include "instruction_count.h"

namespace signoff::bench {

namespace {

std::string ClusterScript() {
  return std::string(SIGNOFF_SOURCE_DIR) + "/tests/support/pg_test_cluster.sh";
}

std::filesystem::path StateDir(const std::filesystem::path& dir) { return dir / "postgresql"; }

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresqlCluster>> PostgresqlCluster::Start(
    const std::filesystem::path& dir) {
  if (FindOnPath("psql").empty()) {
    return absl::FailedPreconditionError(
        "psql is not installed: install Debian's postgresql-client (make installs it)");
  }
  // The script prints nothing on success and says on stderr what failed.
  absl::Status started =
      RunToEnd({ClusterScript(), "start", StateDir(dir).string()}, dir / "postgresql-start.out");
  if (!started.ok()) {
    // Whatever it made before failing goes too.
    RunToEnd({ClusterScript(), "stop", StateDir(dir).string()}, dir / "postgresql-stop.out")
        .IgnoreError();
    return started;
  }
  const std::string url(absl::StripAsciiWhitespace(ReadAll(StateDir(dir) / "url")));
  std::unique_ptr<PostgresqlCluster> cluster(new PostgresqlCluster(dir, url));
  if (url.rfind('/') == std::string::npos) {
    return absl::InternalError(absl::StrCat("the cluster's URL has no database: ", url));
  }
  return cluster;
}

void PostgresqlCluster::Stop() {
  if (stopped_) return;
  stopped_ = true;
  absl::Status stopped =
      RunToEnd({ClusterScript(), "stop", StateDir(dir_).string()}, dir_ / "postgresql-stop.out");
  if (!stopped.ok()) {
    std::fprintf(stderr, "signoff_bench: stopping the PostgreSQL cluster: %s\n",
                 std::string(stopped.message()).c_str());
  }
}

std::string PostgresqlCluster::UrlOf(const std::string& database) const {
  return absl::StrCat(url_.substr(0, url_.rfind('/') + 1), database);
}

absl::StatusOr<std::filesystem::path> PostgresqlCluster::Psql(
    const std::string& database, const std::vector<std::string>& args) {
  // -X: no ~/.psqlrc; stop at the first error, and say so in the exit code.
  std::vector<std::string> command = {FindOnPath("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                      "-d", UrlOf(database)};
  command.insert(command.end(), args.begin(), args.end());
  const std::filesystem::path out = dir_ / absl::StrCat("psql-", ++psql_runs_, ".out");
  absl::Status ran = RunToEnd(command, out);
  if (!ran.ok()) return ran;
  return out;
}

std::string PostgresqlCluster::DefaultDatabase() const {
  return url_.substr(url_.rfind('/') + 1);
}

absl::Status PostgresqlCluster::CreateDatabase(const std::string& name) {
  return Execute(DefaultDatabase(), absl::StrCat("CREATE DATABASE ", name));
}

absl::Status PostgresqlCluster::Execute(const std::string& database, const std::string& sql) {
  return Psql(database, {"-c", sql}).status();
}

absl::StatusOr<std::string> PostgresqlCluster::ServerVersion() {
  auto out = Psql(DefaultDatabase(), {"-A", "-t", "-c", "SHOW server_version"});
  if (!out.ok()) return out.status();
  return std::string(absl::StripAsciiWhitespace(ReadAll(*out)));
}

}  // namespace signoff::bench
