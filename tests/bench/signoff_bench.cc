// The benchmark driver: starts signoffd (on a fresh database) and the echo
// server, measures echo calls, signoffd's decisions, starts and portal mix,
// and the raw SQLite baseline (a decision's transaction on one writer) at
// 1, 8 and 64 clients; on a throwaway PostgreSQL cluster, decisions of a
// second signoffd beside pgbench running a decision-shaped script at the
// same client counts; the latency of decisions at half their maximum rate
// beside echo's at the same rate, reads and a cold start on a database of
// many bulk-loaded instances, a crowd of overdue timers firing while
// decisions go on, and the instructions per decision under callgrind, and
// prints one table.
//
//   signoff_bench [--seconds N] [--rounds N] [--no-callgrind]
//                 [--scale-instances N] [--timer-instances N] [--signoffd PATH]
//                 [--no-postgresql]
//                                              the full benchmark; 0
//                                              instances skips a section
//   signoff_bench --only postgresql [--seconds N] [--rounds N]
//                                              echo and the PostgreSQL rows
//                                              alone
//   signoff_bench --smoke                      every workload once for about
//                                              a second, the databases
//                                              small: checks that it works,
//                                              never how fast
//
// Each figure is the min / median / max of the rounds; the rounds are
// interleaved (every workload once per round) so that a slow moment of the
// machine spreads over all of them instead of landing on one. The big
// databases are loaded once, and the timers fire once.

#include <sched.h>
#include <unistd.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "child_process.h"
#include "instruction_count.h"
#include "load.h"
#include "pgbench_baseline.h"
#include "postgresql_cluster.h"
#include "scale.h"
#include "sqlite_baseline.h"
#include "workloads.h"

namespace signoff::bench {
namespace {

constexpr absl::Duration kServerStartTimeout = absl::Seconds(60);

struct Settings {
  bool smoke = false;
  absl::Duration run = absl::Seconds(3);
  int rounds = 3;
  std::vector<int> client_counts = {1, 8, 64};
  // Decisions counted under callgrind; 0 skips the count.
  int callgrind_decisions = 100;
  // Instances bulk-loaded for the scale figures and for the timers; 0
  // skips the section.
  int64_t scale_instances = 1000000;
  int64_t timer_instances = 100000;
  // The PostgreSQL rows: a throwaway cluster, signoffd on it and pgbench.
  bool postgresql = true;
  // Echo and the PostgreSQL rows alone (--only postgresql).
  bool only_postgresql = false;
};

// The measured workloads, in the order of the table.
enum class Workload {
  kEcho,
  kDecisions,
  kStarts,
  kPortalMix,
  kSqliteBaseline,
  kPostgresqlDecisions,
  kPgbenchApproval
};

std::vector<Workload> WorkloadsOf(const Settings& settings) {
  std::vector<Workload> workloads = {Workload::kEcho};
  if (!settings.only_postgresql) {
    for (Workload workload : {Workload::kDecisions, Workload::kStarts, Workload::kPortalMix,
                              Workload::kSqliteBaseline}) {
      workloads.push_back(workload);
    }
  }
  if (settings.postgresql) {
    workloads.push_back(Workload::kPostgresqlDecisions);
    workloads.push_back(Workload::kPgbenchApproval);
  }
  return workloads;
}

bool Measures(const Settings& settings, Workload workload) {
  const std::vector<Workload> workloads = WorkloadsOf(settings);
  return std::find(workloads.begin(), workloads.end(), workload) != workloads.end();
}

const char* NameOf(Workload workload) {
  switch (workload) {
    case Workload::kEcho: return "echo";
    case Workload::kDecisions: return "decisions";
    case Workload::kStarts: return "starts";
    case Workload::kPortalMix: return "portal mix 1:5:3";
    case Workload::kSqliteBaseline: return "sqlite baseline";
    case Workload::kPostgresqlDecisions: return "decisions (postgresql)";
    case Workload::kPgbenchApproval: return "pgbench approval script";
  }
  return "?";
}

// Everything measured, by workload and client count, one result per round.
using Results = std::map<std::pair<Workload, int>, std::vector<LoadResult>>;

struct Spread {
  double min = 0;
  double median = 0;
  double max = 0;
};

Spread SpreadOf(std::vector<double> values) {
  Spread spread;
  if (values.empty()) return spread;
  std::sort(values.begin(), values.end());
  spread.min = values.front();
  spread.median = values[values.size() / 2];
  spread.max = values.back();
  return spread;
}

// `format` formats one double, e.g. "%.0f".
std::string Show(const Spread& spread, const char* format) {
  auto one = [format](double value) {
    char text[64];
    std::snprintf(text, sizeof(text), format, value);
    return std::string(text);
  };
  return absl::StrCat(one(spread.min), " / ", one(spread.median), " / ", one(spread.max));
}

double Millis(absl::Duration duration) { return absl::ToDoubleMilliseconds(duration); }

std::string ReadFirstLine(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

// What nproc prints: the CPUs this process may run on.
int UsableCpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
  return CPU_COUNT(&set);
}

std::string GitCommit() {
  const std::string command =
      absl::StrCat("git -C '", SIGNOFF_SOURCE_DIR, "' describe --always --dirty 2>/dev/null");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "unknown";
  char buffer[128] = {};
  std::string commit;
  if (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) commit = buffer;
  pclose(pipe);
  commit = std::string(absl::StripTrailingAsciiWhitespace(commit));
  return commit.empty() ? "unknown" : commit;
}

absl::Status Usage(const std::string& problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(problem,
                   "\nusage: signoff_bench [--smoke] [--seconds N] [--rounds N] [--no-callgrind] "
                   "[--scale-instances N] [--timer-instances N] [--signoffd PATH] "
                   "[--no-postgresql | --only postgresql]"));
}

absl::Status ParseFlags(int argc, char** argv, Settings& settings) {
  for (int at = 1; at < argc; ++at) {
    const std::string flag = argv[at];
    if (flag == "--smoke") {
      settings.smoke = true;
      continue;
    }
    if (flag == "--no-callgrind") {
      settings.callgrind_decisions = 0;
      continue;
    }
    if (flag == "--no-postgresql") {
      settings.postgresql = false;
      continue;
    }
    if (flag == "--only" && at + 1 < argc && std::string(argv[at + 1]) == "postgresql") {
      settings.only_postgresql = true;
      ++at;
      continue;
    }
    if (flag == "--signoffd" && at + 1 < argc) {
      if (access(argv[at + 1], X_OK) != 0) {
        return Usage(absl::StrCat("--signoffd ", argv[at + 1], " is not an executable file"));
      }
      UseSignoffdBinary(argv[++at]);
      continue;
    }
    int64_t instances = 0;
    if ((flag == "--scale-instances" || flag == "--timer-instances") && at + 1 < argc &&
        absl::SimpleAtoi(argv[at + 1], &instances) && instances >= 0 &&
        instances <= 100 * 1000 * 1000) {
      (flag == "--scale-instances" ? settings.scale_instances : settings.timer_instances) = instances;
      ++at;
      continue;
    }
    int value = 0;
    if ((flag == "--seconds" || flag == "--rounds") && at + 1 < argc &&
        absl::SimpleAtoi(argv[at + 1], &value) && value > 0 && value <= 600) {
      if (flag == "--seconds") settings.run = absl::Seconds(value);
      if (flag == "--rounds") settings.rounds = value;
      ++at;
      continue;
    }
    return Usage(absl::StrCat("bad argument: ", flag));
  }
  if (settings.only_postgresql) {
    if (!settings.postgresql) return Usage("--only postgresql and --no-postgresql contradict");
    // The sections that measure signoffd on SQLite.
    settings.callgrind_decisions = 0;
    settings.scale_instances = 0;
    settings.timer_instances = 0;
  }
  if (settings.smoke) {
    settings.run = absl::Seconds(1);
    settings.rounds = 1;
    settings.client_counts = {8};
    // Under callgrind signoffd takes far longer than a smoke test may.
    settings.callgrind_decisions = 0;
    settings.scale_instances = std::min<int64_t>(settings.scale_instances, 2000);
    settings.timer_instances = std::min<int64_t>(settings.timer_instances, 200);
  }
  return absl::OkStatus();
}

// The two servers under test, stopped when this goes.
struct Servers {
  ChildProcess signoffd;
  ChildProcess echo;
};

absl::Status StartServers(const std::filesystem::path& dir, Servers& servers) {
  // signoffd logs every call on stderr; it goes to a file, not the table.
  absl::Status started = servers.signoffd.Start(ServeCommand(dir / "signoff.db"), dir / "signoffd",
                                                kServerStartTimeout);
  if (!started.ok()) return started;
  return servers.echo.Start({ECHO_SERVER_BINARY}, dir / "echo_server", kServerStartTimeout);
}

// What the PostgreSQL rows run on: a throwaway cluster, a second signoffd
// on a fresh database of it, and pgbench's database beside that one.
// Members go in reverse order, so signoffd stops before its cluster.
struct PostgresqlSide {
  std::unique_ptr<PostgresqlCluster> cluster;
  std::string server_version;
  ChildProcess signoffd;
  std::unique_ptr<PgbenchBaseline> pgbench;

  void Stop() {
    signoffd.Stop();
    if (cluster != nullptr) cluster->Stop();
  }
};

absl::StatusOr<std::unique_ptr<PostgresqlSide>> StartPostgresql(const std::filesystem::path& dir) {
  std::fprintf(stderr, "signoff_bench: starting a PostgreSQL cluster\n");
  auto side = std::make_unique<PostgresqlSide>();
  auto cluster = PostgresqlCluster::Start(dir);
  if (!cluster.ok()) return cluster.status();
  side->cluster = std::move(*cluster);
  auto version = side->cluster->ServerVersion();
  if (!version.ok()) return version.status();
  side->server_version = *version;
  if (absl::Status created = side->cluster->CreateDatabase("signoffd"); !created.ok()) {
    return created;
  }
  absl::Status started =
      side->signoffd.Start(PostgresqlServeCommand(side->cluster->UrlOf("signoffd")),
                           dir / "signoffd-postgresql", kServerStartTimeout);
  if (!started.ok()) return started;
  auto pgbench = PgbenchBaseline::Create(*side->cluster, "pgbench", dir);
  if (!pgbench.ok()) return pgbench.status();
  side->pgbench = std::move(*pgbench);
  return side;
}

// Clients deciding while timers fire.
constexpr int kTimerClients = 16;

class Bench {
 public:
  // `postgresql` is null when the PostgreSQL rows are skipped.
  Bench(const Settings& settings, const Servers& servers,
        std::unique_ptr<SqliteBaseline> sqlite_baseline, PostgresqlSide* postgresql)
      : settings_(settings),
        echo_channels_(ConnectChannels(servers.echo.address(), kChannels)),
        signoff_channels_(ConnectChannels(servers.signoffd.address(), kChannels)),
        sqlite_baseline_(std::move(sqlite_baseline)),
        postgresql_(postgresql) {
    if (postgresql_ != nullptr) {
      postgresql_channels_ = ConnectChannels(postgresql_->signoffd.address(), kChannels);
    }
  }

  // One run of `workload` with `clients` in flight.
  LoadResult Measure(Workload workload, int clients) {
    switch (workload) {
      case Workload::kEcho:
        return RunClosedLoop(EchoOperation(echo_channels_), clients, settings_.run);
      case Workload::kDecisions:
        return MeasureDecisions(signoff_channels_, clients);
      case Workload::kStarts: {
        SignoffOperations operations(signoff_channels_, NextTag());
        return RunClosedLoop(operations.Start(), clients, settings_.run);
      }
      case Workload::kPortalMix:
        return MeasurePortalMix(clients);
      case Workload::kSqliteBaseline:
        return RunClosedLoop(sqlite_baseline_->Transaction(++runs_), clients, settings_.run);
      case Workload::kPostgresqlDecisions:
        return MeasureDecisions(postgresql_channels_, clients);
      case Workload::kPgbenchApproval:
        return MeasurePgbench(clients);
    }
    return LoadResult();
  }

  // Decisions, then echo, sent at `per_second` whatever the answers take.
  LoadResult MeasureOpenDecisions(double per_second) {
    auto pool = FilledPool(signoff_channels_, kFillClients, settings_.run * 0.5);
    SignoffOperations operations(signoff_channels_, NextTag());
    return RunOpenLoop(operations.DecisionFromPoolOrStart(pool, pool_misses_), per_second,
                       settings_.run);
  }
  LoadResult MeasureOpenEcho(double per_second) {
    return RunOpenLoop(EchoOperation(echo_channels_), per_second, settings_.run);
  }

  uint64_t pool_misses() const { return pool_misses_->load(); }

 private:
  // Enough connections that 64 clients are not all on one.
  static constexpr int kChannels = 4;

  static constexpr int kFillClients = 64;

  // Pending tasks made beforehand by starts, unmeasured, for `duration`:
  // decisions are measured alone, and starts have their own row.
  std::shared_ptr<TaskPool> FilledPool(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                                       int clients, absl::Duration duration) {
    auto pool = std::make_shared<TaskPool>();
    SignoffOperations filler(channels, NextTag());
    RunClosedLoop(filler.Start(pool), std::max(clients, 8), duration);
    return pool;
  }

  // Decisions on the signoffd that `channels` reach, on tasks it was given
  // beforehand.
  LoadResult MeasureDecisions(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                              int clients) {
    auto pool = FilledPool(channels, clients, settings_.run);
    SignoffOperations operations(channels, NextTag());
    return RunClosedLoop(operations.DecisionFromPoolOrStart(pool, pool_misses_), clients,
                         settings_.run);
  }

  // A pgbench that failed is a run with one error, which the table's
  // checks report.
  LoadResult MeasurePgbench(int clients) {
    auto result = postgresql_->pgbench->Run(clients, settings_.run);
    if (result.ok()) return *result;
    LoadResult failed;
    failed.errors = 1;
    failed.first_error = std::string(result.status().message());
    return failed;
  }

  // The mix decides tasks made beforehand, for most of a run's time, which
  // about covers what its decisions take beyond its own starts.
  LoadResult MeasurePortalMix(int clients) {
    auto pool = FilledPool(signoff_channels_, clients, settings_.run * 0.75);
    SignoffOperations operations(signoff_channels_, NextTag());
    return RunClosedLoop(operations.PortalMix(pool, pool_misses_), clients, settings_.run);
  }

  // Request ids are unique across all runs on the one database.
  std::string NextTag() { return absl::StrCat("bench", ++runs_); }

  const Settings& settings_;
  std::vector<std::shared_ptr<grpc::Channel>> echo_channels_;
  std::vector<std::shared_ptr<grpc::Channel>> signoff_channels_;
  std::unique_ptr<SqliteBaseline> sqlite_baseline_;
  PostgresqlSide* postgresql_;
  std::vector<std::shared_ptr<grpc::Channel>> postgresql_channels_;
  int runs_ = 0;
  std::shared_ptr<std::atomic<uint64_t>> pool_misses_ = std::make_shared<std::atomic<uint64_t>>(0);
};

struct HalfLoad {
  double offered = 0;
  std::vector<LoadResult> decisions;
  std::vector<LoadResult> echo;
};

// Errors and empty runs, one line each; none means every run worked.
// A run with errors, or that completed nothing, is a problem.
void CheckRun(const std::string& what, const LoadResult& result,
              std::vector<std::string>& problems) {
  if (result.errors > 0) {
    problems.push_back(
        absl::StrCat(what, ": ", result.errors, " errors, first: ", result.first_error));
  } else if (result.completed == 0) {
    problems.push_back(absl::StrCat(what, ": nothing completed"));
  }
}

std::vector<std::string> Problems(const Results& results, const HalfLoad& half) {
  std::vector<std::string> problems;
  auto check = [&](const std::string& what, const LoadResult& result) {
    CheckRun(what, result, problems);
  };
  for (const auto& [key, runs] : results) {
    for (const auto& run : runs) {
      check(absl::StrCat(NameOf(key.first), " at ", key.second, " clients"), run);
    }
  }
  for (const auto& run : half.decisions) check("decisions at half load", run);
  for (const auto& run : half.echo) check("echo at half load", run);
  return problems;
}

// `postgresql_version` is "" when the PostgreSQL rows were skipped.
void PrintHeader(const Settings& settings, const std::string& load_before,
                 const std::string& load_after, const std::string& postgresql_version) {
  std::printf("signoff benchmark   %s   commit %s\n",
              absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(), absl::UTCTimeZone()).c_str(),
              GitCommit().c_str());
  std::printf("nproc %d   load average before: %s   after: %s\n", UsableCpus(),
              load_before.c_str(), load_after.c_str());
  const std::string postgresql =
      postgresql_version.empty()
          ? ""
          : absl::StrCat(", and on PostgreSQL ", postgresql_version,
                         " (a throwaway cluster on this machine, fsync on)");
  std::printf(
      "signoffd with SQLite synchronous=FULL%s; %d interleaved round(s) of %s per run; "
      "figures are min / median / max%s\n\n",
      postgresql.c_str(), settings.rounds, absl::FormatDuration(settings.run).c_str(),
      settings.smoke ? "; SMOKE MODE: checks that it works, the figures mean nothing" : "");
}

// The first column of the throughput table.
constexpr int kNameWidth = 30;

// One row per client count: `numerator`'s rate over `denominator`'s, round
// by round.
void PrintRatioRows(const Settings& settings, const Results& results, const char* name,
                    Workload numerator, Workload denominator) {
  for (int clients : settings.client_counts) {
    const auto& over = results.at({numerator, clients});
    const auto& under = results.at({denominator, clients});
    std::vector<double> ratios;
    for (size_t round = 0; round < over.size() && round < under.size(); ++round) {
      if (under[round].per_second > 0) {
        ratios.push_back(over[round].per_second / under[round].per_second);
      }
    }
    std::printf("%-*s %7d  %-26s\n", kNameWidth, name, clients,
                Show(SpreadOf(ratios), "%.4f").c_str());
  }
}

void PrintThroughput(const Settings& settings, const Results& results) {
  std::printf("%-*s %7s  %-26s %-26s %9s %9s\n", kNameWidth, "workload", "clients", "per second",
              "ratio to echo", "p50 ms", "p99 ms");
  for (Workload workload : WorkloadsOf(settings)) {
    for (int clients : settings.client_counts) {
      const auto& runs = results.at({workload, clients});
      const auto& echo_runs = results.at({Workload::kEcho, clients});
      std::vector<double> rates, ratios, p50s, p99s;
      for (size_t round = 0; round < runs.size(); ++round) {
        rates.push_back(runs[round].per_second);
        if (echo_runs[round].per_second > 0) {
          ratios.push_back(runs[round].per_second / echo_runs[round].per_second);
        }
        p50s.push_back(Millis(runs[round].p50));
        p99s.push_back(Millis(runs[round].p99));
      }
      std::printf("%-*s %7d  %-26s %-26s %9.3f %9.3f\n", kNameWidth, NameOf(workload), clients,
                  Show(SpreadOf(rates), "%.0f").c_str(),
                  workload == Workload::kEcho ? "1" : Show(SpreadOf(ratios), "%.4f").c_str(),
                  SpreadOf(p50s).median, SpreadOf(p99s).median);
    }
  }
  if (Measures(settings, Workload::kDecisions)) {
    PrintRatioRows(settings, results, "decisions/sqlite", Workload::kDecisions,
                   Workload::kSqliteBaseline);
  }
  if (Measures(settings, Workload::kPostgresqlDecisions)) {
    PrintRatioRows(settings, results, "postgresql decisions / pgbench",
                   Workload::kPostgresqlDecisions, Workload::kPgbenchApproval);
  }
  // Notes on the rows shown only.
  std::printf("(decisions: DecideTask APPROVE on tasks that starts made beforehand, unmeasured.");
  if (Measures(settings, Workload::kSqliteBaseline)) {
    std::printf(" sqlite baseline: a decision's transaction on the sqlite3 C API, "
                "synchronous=FULL, WAL, the clients' transactions group-committed by one writer; "
                "per second are transactions.");
  }
  if (settings.postgresql) {
    std::printf(" decisions (postgresql): the same decisions on a second signoffd whose "
                "database is in the PostgreSQL cluster. pgbench approval script: "
                "tests/bench/pgbench_approval.sql (a decision's transaction) by pgbench -M "
                "prepared on a database of its own in the same cluster, one connection per "
                "client; per second is its tps without connection set-up.");
  }
  std::printf(" p50/p99 columns: medians of the rounds.)\n\n");
}

// min / median / max of one percentile of the runs, in milliseconds.
std::string ShowPercentile(const std::vector<LoadResult>& runs, absl::Duration LoadResult::*which) {
  std::vector<double> millis;
  for (const auto& run : runs) millis.push_back(Millis(run.*which));
  return Show(SpreadOf(millis), "%.3f");
}

void PrintScale(const Settings& settings, const ScaleFigures& scale) {
  std::printf("\nat scale: %lld instances bulk-loaded through the engine (half dealer applications, "
              "half partner terminations; %.0f/s), loaded once; reads in %d round(s)\n",
              static_cast<long long>(scale.instances), scale.loaded_per_second, settings.rounds);
  std::printf("%-34s %7s  %-32s %s\n", "", "clients", "p50 ms", "p99 ms");
  for (const auto& read : scale.reads) {
    std::printf("%-34s %7d  %-32s %s\n", read.name.c_str(), read.clients,
                ShowPercentile(read.runs, &LoadResult::p50).c_str(),
                ShowPercentile(read.runs, &LoadResult::p99).c_str());
  }
  std::printf("%-34s %.3f s (one start: process start until its first answer)\n", "cold start",
              absl::ToDoubleSeconds(scale.cold_start));
  std::printf("%-34s %.1f MiB (peak %.1f MiB)\n", "signoffd RSS after the reads",
              scale.rss_kib / 1024.0, scale.peak_rss_kib / 1024.0);
  std::printf("%-34s %.0f bytes (database and WAL after the load)\n\n", "database per instance",
              scale.bytes_per_instance);
}

void PrintTimers(const TimerFigures& timers) {
  const double seconds = absl::ToDoubleSeconds(timers.to_fire_all);
  std::printf("timers: %lld partner terminations bulk-loaded two weeks in the past, each with an "
              "overdue deadline; signoffd started on them once\n",
              static_cast<long long>(timers.instances));
  std::printf("%-34s %lld\n", "timers fired", static_cast<long long>(timers.timers_fired));
  std::printf("%-34s %.2f (signoffd's start until the last firing in the histories)\n",
              "seconds to fire all", seconds);
  std::printf("%-34s %.0f\n", "timers per second", seconds > 0 ? timers.timers_fired / seconds : 0);
  std::printf("%-34s %lld\n", "duplicates found", static_cast<long long>(timers.duplicates));
  uint64_t completed = 0;
  absl::Duration elapsed;
  std::vector<double> rates;
  for (const auto& slice : timers.decisions) {
    completed += slice.completed;
    elapsed += slice.elapsed;
    rates.push_back(slice.per_second);
  }
  std::printf("%-34s %.0f overall; 1-second slices %s; p99 ms %s (%d clients)\n\n",
              "decisions/s during firing",
              elapsed > absl::ZeroDuration() ? completed / absl::ToDoubleSeconds(elapsed) : 0.0,
              Show(SpreadOf(rates), "%.0f").c_str(),
              ShowPercentile(timers.decisions, &LoadResult::p99).c_str(), kTimerClients);
}

void PrintHalfLoad(const HalfLoad& half) {
  std::printf(
      "at half the maximum decision rate, open loop: %.0f decisions/s offered (on tasks made "
      "beforehand), echo at the same calls/s\n",
      half.offered);
  std::printf("%-18s %-32s %s\n", "", "p50 ms", "p99 ms");
  auto row = [](const char* name, const std::vector<LoadResult>& runs) {
    std::vector<double> p50s, p99s;
    for (const auto& run : runs) {
      p50s.push_back(Millis(run.p50));
      p99s.push_back(Millis(run.p99));
    }
    std::printf("%-18s %-32s %s\n", name, Show(SpreadOf(p50s), "%.3f").c_str(),
                Show(SpreadOf(p99s), "%.3f").c_str());
  };
  row("decisions", half.decisions);
  row("echo", half.echo);
  std::vector<double> p99_ratios;
  for (size_t round = 0; round < half.decisions.size() && round < half.echo.size(); ++round) {
    const double echo_p99 = Millis(half.echo[round].p99);
    if (echo_p99 > 0) p99_ratios.push_back(Millis(half.decisions[round].p99) / echo_p99);
  }
  std::printf("%-18s %-32s %s\n", "p99 decisions/echo", "",
              Show(SpreadOf(p99_ratios), "%.1f").c_str());
  // A send skipped because too many calls were in flight means the server
  // did not keep up with the offered rate: the latencies are then too kind.
  uint64_t skipped = 0;
  for (const auto& run : half.decisions) skipped += run.skipped;
  for (const auto& run : half.echo) skipped += run.skipped;
  if (skipped > 0) {
    std::printf("(%llu sends skipped: too many calls in flight to keep the offered rate)\n",
                static_cast<unsigned long long>(skipped));
  }
}

// The highest median decision rate over the client counts.
double MaxDecisionRate(const Settings& settings, const Results& results) {
  double best = 0;
  for (int clients : settings.client_counts) {
    std::vector<double> rates;
    for (const auto& run : results.at({Workload::kDecisions, clients})) rates.push_back(run.per_second);
    best = std::max(best, SpreadOf(rates).median);
  }
  return best;
}

// The callgrind line of the table, "" when it is skipped; a failure is
// added to `problems`.
std::string InstructionsPerDecision(const Settings& settings, const std::filesystem::path& dir,
                                    std::vector<std::string>& problems) {
  if (settings.callgrind_decisions == 0) return "";
  if (FindOnPath("valgrind").empty()) return "callgrind: skipped, valgrind is not installed";
  std::fprintf(stderr, "signoff_bench: %d decisions under callgrind\n", settings.callgrind_decisions);
  auto count = CountDecisionInstructions(ServeCommand(dir / "callgrind.db"), dir,
                                         settings.callgrind_decisions);
  if (!count.ok()) {
    problems.push_back(absl::StrCat("callgrind: ", count.status().message()));
    return absl::StrCat("callgrind: failed: ", count.status().message());
  }
  return absl::StrCat("callgrind: ", count->instructions / count->decisions,
                      " instructions per decision (whole server, ", count->decisions,
                      " decisions one after another by one client, after a warm-up)");
}

// Every workload at every client count, once per round.
Results MeasureThroughput(const Settings& settings, Bench& bench) {
  Results results;
  for (int round = 0; round < settings.rounds; ++round) {
    // Progress on stderr: a full run takes minutes, and stdout is the table.
    std::fprintf(stderr, "signoff_bench: round %d of %d\n", round + 1, settings.rounds);
    for (int clients : settings.client_counts) {
      for (Workload workload : WorkloadsOf(settings)) {
        results[{workload, clients}].push_back(bench.Measure(workload, clients));
      }
    }
  }
  return results;
}

HalfLoad MeasureHalfLoad(const Settings& settings, Bench& bench, double per_second) {
  std::fprintf(stderr, "signoff_bench: decisions and echo at %.0f/s\n", per_second);
  HalfLoad half;
  half.offered = std::max(1.0, per_second);
  for (int round = 0; round < settings.rounds; ++round) {
    half.decisions.push_back(bench.MeasureOpenDecisions(half.offered));
    half.echo.push_back(bench.MeasureOpenEcho(half.offered));
  }
  return half;
}

// A failure, or a figure that shows something wrong, goes to `problems`.
std::optional<ScaleFigures> MeasureScaleSection(const Settings& settings,
                                                const std::filesystem::path& dir,
                                                std::vector<std::string>& problems) {
  if (settings.scale_instances == 0) return std::nullopt;
  auto scale = MeasureScale(
      ScaleSettings{settings.scale_instances, settings.run, settings.rounds}, dir);
  if (!scale.ok()) {
    problems.push_back(absl::StrCat("scale: ", scale.status().message()));
    return std::nullopt;
  }
  for (const auto& read : scale->reads) {
    for (const auto& run : read.runs) {
      CheckRun(absl::StrCat(read.name, " at ", read.clients, " clients"), run, problems);
    }
  }
  return *std::move(scale);
}

std::optional<TimerFigures> MeasureTimerSection(const Settings& settings,
                                                const std::filesystem::path& dir,
                                                std::vector<std::string>& problems) {
  if (settings.timer_instances == 0) return std::nullopt;
  auto timers = MeasureTimers(TimerSettings{settings.timer_instances, kTimerClients}, dir);
  if (!timers.ok()) {
    problems.push_back(absl::StrCat("timers: ", timers.status().message()));
    return std::nullopt;
  }
  if (timers->instances_unfired > 0) {
    problems.push_back(absl::StrCat("timers: ", timers->instances_unfired,
                                    " instances never fired their overdue timer"));
  }
  if (timers->duplicates > 0) {
    problems.push_back(absl::StrCat("timers: ", timers->duplicates, " duplicate firings"));
  }
  for (const auto& run : timers->decisions) CheckRun("decisions while timers fire", run, problems);
  return *std::move(timers);
}

int Run(const Settings& settings) {
  const std::string load_before = ReadFirstLine("/proc/loadavg");
  std::string dir_template = (std::filesystem::temp_directory_path() / "signoff-bench-XXXXXX").string();
  if (mkdtemp(dir_template.data()) == nullptr) {
    std::fprintf(stderr, "signoff_bench: cannot make a temporary directory\n");
    return 1;
  }
  const std::filesystem::path dir = dir_template;
  int exit_code = 1;
  {
    Servers servers;
    absl::Status started = StartServers(dir, servers);
    if (!started.ok()) {
      std::fprintf(stderr, "signoff_bench: %s\n", std::string(started.message()).c_str());
      std::fprintf(stderr, "signoff_bench: logs kept in %s\n", dir.c_str());
      return 1;
    }
    auto sqlite_baseline = SqliteBaseline::Create(dir / "sqlite-baseline.db");
    if (!sqlite_baseline.ok()) {
      std::fprintf(stderr, "signoff_bench: %s\n", std::string(sqlite_baseline.status().message()).c_str());
      return 1;
    }
    std::unique_ptr<PostgresqlSide> postgresql;
    if (settings.postgresql) {
      auto side = StartPostgresql(dir);
      if (!side.ok()) {
        std::fprintf(stderr, "signoff_bench: PostgreSQL: %s\n",
                     std::string(side.status().message()).c_str());
        std::fprintf(stderr, "signoff_bench: logs kept in %s\n", dir.c_str());
        return 1;
      }
      postgresql = std::move(*side);
    }
    Bench bench(settings, servers, std::move(*sqlite_baseline), postgresql.get());
    const Results results = MeasureThroughput(settings, bench);
    // Half load is of the SQLite decisions, which --only postgresql skips.
    const HalfLoad half = settings.only_postgresql
                              ? HalfLoad()
                              : MeasureHalfLoad(settings, bench,
                                                MaxDecisionRate(settings, results) / 2);
    std::vector<std::string> problems;

    // Alone on the machine: the measured servers are stopped first.
    servers.signoffd.Stop();
    servers.echo.Stop();
    if (postgresql != nullptr) postgresql->Stop();
    const std::optional<ScaleFigures> scale = MeasureScaleSection(settings, dir, problems);
    const std::optional<TimerFigures> timers = MeasureTimerSection(settings, dir, problems);
    const std::string load_after = ReadFirstLine("/proc/loadavg");
    const std::string callgrind = InstructionsPerDecision(settings, dir, problems);

    PrintHeader(settings, load_before, load_after,
                postgresql == nullptr ? "" : postgresql->server_version);
    PrintThroughput(settings, results);
    if (!settings.only_postgresql) PrintHalfLoad(half);
    if (scale) PrintScale(settings, *scale);
    if (timers) PrintTimers(*timers);
    if (!callgrind.empty()) std::printf("%s\n", callgrind.c_str());
    if (bench.pool_misses() > 0) {
      std::printf("(decisions, on either database, and portal mix: %llu decisions found no task "
                  "made beforehand and "
                  "started their own, unmeasured)\n",
                  static_cast<unsigned long long>(bench.pool_misses()));
    }
    for (const auto& problem : Problems(results, half)) problems.push_back(problem);
    for (const auto& problem : problems) std::fprintf(stderr, "signoff_bench: %s\n", problem.c_str());
    exit_code = problems.empty() ? 0 : 1;
    if (!problems.empty()) {
      std::fprintf(stderr, "signoff_bench: logs kept in %s\n", dir.c_str());
      return exit_code;
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return exit_code;
}

}  // namespace
}  // namespace signoff::bench

int main(int argc, char** argv) {
  signoff::bench::Settings settings;
  absl::Status parsed = signoff::bench::ParseFlags(argc, argv, settings);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s\n", std::string(parsed.message()).c_str());
    return 2;
  }
  return signoff::bench::Run(settings);
}
