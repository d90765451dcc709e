#include "pgbench_baseline.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "child_process.h"
#include "instruction_count.h"

namespace signoff::bench {

namespace {

// signoffd's PostgreSQL tables (storage/migrations/postgresql), cut to what
// one decision touches, with the indexes its writes keep up to date, as
// the SQLite baseline cuts them.
constexpr char kSchema[] = R"sql(
CREATE TABLE instances (
  id TEXT NOT NULL PRIMARY KEY,
  definition_key TEXT NOT NULL,
  status INTEGER NOT NULL,
  applicant TEXT NOT NULL,
  version BIGINT NOT NULL,
  state BYTEA NOT NULL,
  updated_us BIGINT NOT NULL,
  event_count BIGINT NOT NULL DEFAULT 0,
  chain_head TEXT NOT NULL DEFAULT ''
);
CREATE INDEX instances_by_definition ON instances (definition_key, status, id);
CREATE INDEX instances_by_status ON instances (status, id);
CREATE TABLE tasks (
  id TEXT NOT NULL PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances (id),
  status INTEGER NOT NULL,
  assignee TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  body BYTEA NOT NULL
);
CREATE INDEX tasks_by_assignee ON tasks (assignee, status, created_us, id);
CREATE INDEX tasks_by_status ON tasks (status, created_us, id);
CREATE INDEX tasks_by_instance ON tasks (instance_id);
CREATE TABLE events (
  global_seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances (id),
  instance_seq BIGINT NOT NULL,
  time_us BIGINT NOT NULL,
  body BYTEA NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  UNIQUE (instance_id, instance_seq)
);
CREATE TABLE idempotency (
  caller TEXT NOT NULL,
  request_id TEXT NOT NULL,
  method TEXT NOT NULL,
  reply BYTEA NOT NULL,
  created_us BIGINT NOT NULL,
  PRIMARY KEY (caller, request_id)
);
)sql";

// The instances the script decides on, each with its task, ids as the
// script makes them ('i' and 13 digits) and a state of 1.5 KB.
std::string FillSql(int instances) {
  return absl::StrCat(R"sql(
INSERT INTO instances (id, definition_key, status, applicant, version, state, updated_us, chain_head)
  SELECT 'i' || lpad(n::text, 13, '0'), 'dealer-application', 1, 'user' || (n % 40), 1,
         convert_to(rpad('{"state":', 1536, 'x'), 'UTF8'), 0, repeat('0', 64)
  FROM generate_series(0, )sql", instances - 1, R"sql() AS n;
INSERT INTO tasks (id, instance_id, status, assignee, created_us, body)
  SELECT id || '-t0', id, 1, 'alice.chen', 0, convert_to(rpad('{"task":', 480, 'x'), 'UTF8')
  FROM instances;
ANALYZE;
)sql");
}

std::string ScriptPath() { return std::string(SIGNOFF_SOURCE_DIR) + "/tests/bench/pgbench_approval.sql"; }

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The number that follows `label` on a line of pgbench's summary that also
// holds `also` (which may be empty).
absl::StatusOr<double> SummaryFigure(const std::string& summary, const std::string& label,
                                     const std::string& also = "") {
  for (absl::string_view line : absl::StrSplit(summary, '\n')) {
    const size_t at = line.find(label);
    if (at == absl::string_view::npos || line.find(also) == absl::string_view::npos) continue;
    absl::string_view rest = line.substr(at + label.size());
    rest = rest.substr(0, rest.find(' '));
    double value = 0;
    if (absl::SimpleAtod(rest, &value)) return value;
  }
  return absl::InternalError(absl::StrCat("pgbench printed no \"", label, "\"", also.empty() ? "" : " ",
                                          also));
}

// Adds the latencies of pgbench's per-transaction logs (one file per
// thread, named `prefix`.PID[.THREAD]) to `latencies`. A line is
// "client transaction latency_us script epoch_s epoch_us"; a failed
// transaction has a word for its latency and is skipped.
void ReadTransactionLogs(const std::filesystem::path& folder, LatencyHistogram& latencies) {
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().filename().string().rfind("transactions.", 0) != 0) continue;
    std::ifstream log(entry.path());
    std::string line;
    while (std::getline(log, line)) {
      std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
      int64_t micros = 0;
      if (fields.size() >= 3 && absl::SimpleAtoi(fields[2], &micros)) {
        latencies.Record(absl::Microseconds(micros));
      }
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgbenchBaseline>> PgbenchBaseline::Create(
    PostgresqlCluster& cluster, const std::string& database, const std::filesystem::path& dir,
    int instances) {
  const std::string pgbench = FindOnPath("pgbench");
  if (pgbench.empty()) {
    return absl::FailedPreconditionError(
        "pgbench is not installed: install Debian's postgresql-client (make installs it)");
  }
  if (absl::Status created = cluster.CreateDatabase(database); !created.ok()) return created;
  // The tables are made and filled here, so that pgbench runs without -i.
  if (absl::Status made = cluster.Execute(database, kSchema); !made.ok()) return made;
  if (absl::Status filled = cluster.Execute(database, FillSql(instances)); !filled.ok()) {
    return filled;
  }
  return std::unique_ptr<PgbenchBaseline>(
      new PgbenchBaseline(pgbench, cluster.UrlOf(database), dir, instances));
}

absl::StatusOr<LoadResult> PgbenchBaseline::Run(int clients, absl::Duration duration) {
  const std::filesystem::path folder = dir_ / absl::StrCat("pgbench-", ++runs_);
  std::filesystem::create_directories(folder);
  const int seconds = std::max(1, static_cast<int>(std::ceil(absl::ToDoubleSeconds(duration))));
  // The script gives each client the instances whose number is its own
  // modulo `clients`, so that it needs the count.
  const std::vector<std::string> args = {
      pgbench_, "--no-vacuum", "--protocol=prepared", "--file", ScriptPath(),
      "--define", absl::StrCat("clients=", clients),
      "--define", absl::StrCat("instances=", instances_),
      "--client", absl::StrCat(clients), "--jobs", absl::StrCat(std::min(clients, 2)),
      "--time", absl::StrCat(seconds),
      "--log", absl::StrCat("--log-prefix=", (folder / "transactions").string()), url_};
  if (absl::Status ran = RunToEnd(args, folder / "summary.out"); !ran.ok()) return ran;

  const std::string summary = ReadAll(folder / "summary.out");
  auto tps = SummaryFigure(summary, "tps = ", "without initial connection time");
  if (!tps.ok()) return tps.status();
  auto processed = SummaryFigure(summary, "number of transactions actually processed: ");
  if (!processed.ok()) return processed.status();
  // Printed by pgbench 15 and later; older ones abort on any failure.
  auto failed = SummaryFigure(summary, "number of failed transactions: ");

  LoadResult result;
  result.completed = static_cast<uint64_t>(*processed);
  result.errors = failed.ok() ? static_cast<uint64_t>(*failed) : 0;
  if (result.errors > 0) {
    result.first_error = absl::StrCat("pgbench: failed transactions; see ", folder.string());
  }
  result.elapsed = absl::Seconds(seconds);
  result.per_second = *tps;
  LatencyHistogram latencies;
  ReadTransactionLogs(folder, latencies);
  result.p50 = latencies.Percentile(0.50);
  result.p99 = latencies.Percentile(0.99);
  return result;
}

}  // namespace signoff::bench
