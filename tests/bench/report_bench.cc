// report_bench: how long a quarter's KPI reports take over the
// projections of many instances.
//
// What it loads, honestly: not instances through the engine (a million
// of those takes hours on a small machine), but the projection rows that
// following their events would have written. Each synthetic instance of
// dealer-claim starts on one of the quarter's days, in one of the demo
// organisation's departments, for one of --subjects dealers; it has two
// decided review tasks held by --approvers approvers (with durations drawn
// log-uniformly between a minute and thirty days, some returns and
// rejections with reason codes, SLA outcomes) and finishes. Those facts go
// through the report projector's own CellBook, so the cells (and their
// histograms) are the ones the projector writes, merged per day, and are
// committed through Store::Commit like the projector's. Open tasks are
// written as facts for the backlog.
//
// Then it times each report as an auditor calls it, in process through
// app::ReportService (no gRPC transport), over the whole quarter: each
// report and grouping --repeat times, printing the median and the worst.
//
//   report_bench [--instances N] [--days D] [--approvers A] [--subjects S]
//                [--repeat R] [--db PATH] [--smoke]

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/app/application.h"
#include "server/app/report_histogram.h"
#include "server/app/report_projection.h"
#include "server/app/seed.h"
#include "storage/store.h"

namespace signoff::bench {
namespace {

struct Options {
  int64_t instances = 1000000;
  int days = 90;
  int approvers = 100;
  int subjects = 500;
  int repeat = 5;
  std::string db;
  // Times the reports on --db as it is, loading nothing.
  bool reuse = false;
  bool smoke = false;
};

bool ParseOptions(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* value = nullptr;
    if (flag == "--smoke") {
      options.smoke = true;
      options.instances = 20000;
      options.repeat = 2;
    } else if (flag == "--instances" && (value = next())) {
      options.instances = std::atoll(value);
    } else if (flag == "--days" && (value = next())) {
      options.days = std::atoi(value);
    } else if (flag == "--approvers" && (value = next())) {
      options.approvers = std::atoi(value);
    } else if (flag == "--subjects" && (value = next())) {
      options.subjects = std::atoi(value);
    } else if (flag == "--repeat" && (value = next())) {
      options.repeat = std::atoi(value);
    } else if (flag == "--reuse") {
      options.reuse = true;
    } else if (flag == "--db" && (value = next())) {
      options.db = value;
    } else {
      std::fprintf(stderr, "report_bench: unknown or incomplete flag %s\n", flag.c_str());
      return false;
    }
  }
  return (!options.reuse || !options.db.empty()) && options.instances > 0 && options.days > 0 && options.days <= 366 &&
         options.approvers > 0 && options.subjects > 0 && options.repeat > 0;
}

constexpr char kDefinition[] = "dealer-claim";
const absl::CivilDay kQuarterStart(2026, 1, 1);

// Draws the synthetic instances' facts.
class Synthesiser {
 public:
  Synthesiser(const Options& options, std::vector<std::string> departments)
      : options_(options), departments_(std::move(departments)) {}

  // Adds one instance started on `day` to `book`.
  void AddInstance(int32_t day, app::CellBook& book) {
    const std::string department = departments_[Pick(departments_.size())];
    const std::string subject = absl::StrCat("D-", Pick(options_.subjects));
    app::CellPlace instance{kDefinition, department, day, {{storage::kReportDimAll, ""}, {storage::kReportDimSubject, subject}}};
    book.Count(instance, app::metric::kStarted, 1);
    bool returned = false, rejected = false;
    app::Durations total;
    for (const char* step : {"claim-review", "quality-check"}) {
      const std::string approver = absl::StrCat("approver-", Pick(options_.approvers));
      app::CellPlace task{kDefinition, department, day,
                          {{storage::kReportDimAll, ""},
                           {storage::kReportDimStep, step},
                           {storage::kReportDimApprover, approver},
                           {storage::kReportDimSubject, subject}}};
      book.Count(task, app::metric::kTaskCreated, 1);
      const app::Durations taken = Duration();
      total.wall += taken.wall;
      total.business += taken.business;
      book.Measure(task, app::metric::kDecided, taken);
      const int roll = Pick(100);
      const char* action = roll < 8 ? "RETURN" : roll < 12 ? "REJECT" : "APPROVE";
      returned |= roll < 8;
      rejected |= roll >= 8 && roll < 12;
      book.Count(task, absl::StrCat(app::metric::kDecision, action), 1);
      if (roll < 12) {
        app::CellPlace all = task;
        all.dims.resize(1);
        book.Count(all, absl::StrCat(app::metric::kReason, action, ":reason-", roll % 6), 1);
      }
      book.Count(task, app::metric::kSlaTask, 1);
      if (taken.business < 2 * 8 * 3600) book.Count(task, app::metric::kSlaMet, 1);
      if (rejected) break;
    }
    book.Measure(instance, app::metric::kFinished, total);
    book.Count(instance, absl::StrCat(app::metric::kOutcome, rejected ? "REJECTED" : "APPROVED"),
               1);
    if (!returned && !rejected) book.Count(instance, app::metric::kFirstPass, 1);
    if (returned) book.Count(instance, app::metric::kResubmits, 1);
  }

  int64_t Pick(int64_t n) { return std::uniform_int_distribution<int64_t>(0, n - 1)(random_); }

 private:
  // Log-uniform between a minute and thirty days; business time a third.
  app::Durations Duration() {
    const double exponent = std::uniform_real_distribution<double>(
        std::log(60.0), std::log(30.0 * 86400))(random_);
    const int64_t wall = static_cast<int64_t>(std::exp(exponent));
    return {wall, wall / 3};
  }

  const Options& options_;
  std::vector<std::string> departments_;
  std::mt19937_64 random_{20260101};
};

absl::Status Load(storage::Store& store, const Options& options,
                  std::vector<std::string> departments, int64_t* rows_written) {
  Synthesiser synthesiser(options, std::move(departments));
  const int32_t first_day = static_cast<int32_t>(kQuarterStart - absl::CivilDay(1970, 1, 1));
  int64_t loaded = 0;
  for (int d = 0; d < options.days; ++d) {
    const int64_t target = options.instances * (d + 1) / options.days;
    app::CellBook book;
    for (; loaded < target; ++loaded) synthesiser.AddInstance(first_day + d, book);
    storage::Mutation mutation;
    mutation.reports.cells = book.Take();
    *rows_written += static_cast<int64_t>(mutation.reports.cells.size());
    if (absl::Status committed = store.Commit(std::move(mutation)).status(); !committed.ok()) {
      return committed;
    }
  }
  // The backlog: 5% of the instances still have a review task open.
  storage::Mutation open;
  for (int64_t i = 0; i < options.instances / 20; ++i) {
    storage::ReportTaskFact task;
    task.task_id = absl::StrCat("open-", i);
    task.instance_id = absl::StrCat("open-i", i);
    task.definition_key = kDefinition;
    task.department = "sales-ops";
    task.subject = absl::StrCat("D-", synthesiser.Pick(options.subjects));
    task.step_id = "claim-review";
    task.token = "s1";
    task.approver = absl::StrCat("approver-", synthesiser.Pick(options.approvers));
    task.created_us = absl::ToUnixMicros(absl::FromCivil(kQuarterStart, absl::UTCTimeZone())) +
                      synthesiser.Pick(int64_t{90} * 86400) * 1000000;
    task.pending_us = task.created_us;
    task.due_us = task.created_us + int64_t{3} * 86400 * 1000000;
    task.has_sla = true;
    open.reports.tasks.push_back(std::move(task));
  }
  return store.Commit(std::move(open)).status();
}

struct Timing {
  double median_ms = 0;
  double worst_ms = 0;
  int rows = 0;
};

template <typename Call>
absl::StatusOr<Timing> Time(int repeat, Call call) {
  std::vector<double> samples;
  Timing timing;
  for (int i = 0; i < repeat; ++i) {
    const absl::Time began = absl::Now();
    absl::StatusOr<int> rows = call();
    samples.push_back(absl::ToDoubleMilliseconds(absl::Now() - began));
    if (!rows.ok()) return rows.status();
    timing.rows = *rows;
  }
  std::sort(samples.begin(), samples.end());
  timing.median_ms = samples[samples.size() / 2];
  timing.worst_ms = samples.back();
  return timing;
}

v1::ReportRequest Quarter(const Options& options, v1::ReportGrouping grouping) {
  v1::ReportRequest request;
  request.set_definition_key(kDefinition);
  request.set_from(absl::FormatCivilTime(kQuarterStart));
  request.set_to(absl::FormatCivilTime(kQuarterStart + (options.days - 1)));
  request.set_group_by(grouping);
  return request;
}

int Run(const Options& options) {
  const std::string dir =
      options.db.empty() ? absl::StrCat(std::filesystem::temp_directory_path().string(),
                                        "/report-bench-", ::getpid())
                         : "";
  if (!dir.empty()) std::filesystem::create_directories(dir);
  storage::SqliteOptions sqlite;
  sqlite.path = options.db.empty() ? dir + "/signoff.db" : options.db;
  auto fail = [&](const absl::Status& status) {
    std::fprintf(stderr, "report_bench: %s\n", status.ToString().c_str());
    if (!dir.empty()) std::filesystem::remove_all(dir);
    return 1;
  };
  auto opened = storage::OpenSqliteStore(sqlite);
  if (!opened.ok()) return fail(opened.status());
  std::shared_ptr<storage::Store> store = std::move(*opened);
  const absl::Time as_of = absl::FromCivil(kQuarterStart + options.days, absl::UTCTimeZone());
  auto application = app::Application::Create(store, [as_of] { return as_of; });
  if (!application.ok()) return fail(application.status());
  app::Application& app = **application;
  app::SeedSources sources;
  sources.organisation_file = std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions/demo-org.yaml";
  sources.definitions = {std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions"};
  std::fflush(stdout);
  if (absl::Status seeded = app::Seed(app, sources); !seeded.ok()) return fail(seeded);

  std::vector<std::string> departments;
  for (const auto& department : app.context().directory()->organisation().departments()) {
    departments.push_back(department.id());
  }
  const absl::Time load_began = absl::Now();
  int64_t rows = 0;
  if (options.reuse) {
    std::printf("\nreport_bench: timing the projections already in %s\n", options.db.c_str());
  } else if (absl::Status loaded = Load(*store, options, departments, &rows); !loaded.ok()) {
    return fail(loaded);
  }
  if (!options.reuse) std::printf("\nreport_bench: %lld instances over %d days (%d approvers, %d subjects): %lld "
              "cell rows written in %.1f s (direct projection inserts, not engine runs)\n",
              static_cast<long long>(options.instances), options.days, options.approvers,
              options.subjects, static_cast<long long>(rows),
              absl::ToDoubleSeconds(absl::Now() - load_began));

  app::Caller auditor{"olivia.ke"};
  app::ReportService& reports = app.reports();
  struct Case {
    std::string name;
    std::function<absl::StatusOr<int>(v1::ReportGrouping)> call;
  };
  auto rows_of = [](const auto& report) -> absl::StatusOr<int> {
    if (!report.ok()) return report.status();
    return report->rows_size();
  };
  const std::vector<Case> cases = {
      {"volume", [&](v1::ReportGrouping g) { return rows_of(reports.GetVolumeReport(auditor, Quarter(options, g))); }},
      {"timing", [&](v1::ReportGrouping g) { return rows_of(reports.GetTimingReport(auditor, Quarter(options, g))); }},
      {"sla", [&](v1::ReportGrouping g) { return rows_of(reports.GetSlaReport(auditor, Quarter(options, g))); }},
      {"quality", [&](v1::ReportGrouping g) { return rows_of(reports.GetQualityReport(auditor, Quarter(options, g))); }},
      {"backlog", [&](v1::ReportGrouping g) { return rows_of(reports.GetBacklogReport(auditor, Quarter(options, g))); }},
  };
  const std::vector<std::pair<std::string, v1::ReportGrouping>> groupings = {
      {"none", v1::REPORT_GROUPING_UNSPECIFIED}, {"step", v1::BY_STEP},
      {"department", v1::BY_DEPARTMENT},          {"approver", v1::BY_APPROVER},
      {"subject", v1::BY_SUBJECT},                {"week", v1::BY_WEEK}};
  std::printf("\n%-8s %-11s %6s %11s %10s\n", "report", "by", "rows", "median ms", "worst ms");
  double worst = 0;
  for (const Case& report : cases) {
    for (const auto& [label, grouping] : groupings) {
      if (report.name == "backlog" && grouping == v1::BY_WEEK) continue;
      auto timing = Time(options.repeat, [&] { return report.call(grouping); });
      if (!timing.ok()) return fail(timing.status());
      worst = std::max(worst, timing->worst_ms);
      std::printf("%-8s %-11s %6d %11.1f %10.1f\n", report.name.c_str(), label.c_str(),
                  timing->rows, timing->median_ms, timing->worst_ms);
    }
  }
  // A department head reads per-department rows; a period off the month
  // boundaries reads days at both ends.
  app::Caller head{"henry.zhao"};
  v1::ReportRequest unaligned = Quarter(options, v1::BY_SUBJECT);
  unaligned.set_from(absl::FormatCivilTime(kQuarterStart + 14));
  for (const auto& [label, call] :
       std::vector<std::pair<std::string, std::function<absl::StatusOr<int>()>>>{
           {"volume by subject, department head",
            [&] { return rows_of(reports.GetVolumeReport(head, Quarter(options, v1::BY_SUBJECT))); }},
           {"timing by approver, department head",
            [&] { return rows_of(reports.GetTimingReport(head, Quarter(options, v1::BY_APPROVER))); }},
           {"volume by subject, from the 15th",
            [&] { return rows_of(reports.GetVolumeReport(auditor, unaligned)); }}}) {
    auto timing = Time(options.repeat, call);
    if (!timing.ok()) return fail(timing.status());
    worst = std::max(worst, timing->worst_ms);
    std::printf("%-36s %6d %11.1f %10.1f\n", label.c_str(), timing->rows, timing->median_ms,
                timing->worst_ms);
  }
  // The loaded starts all come back: the figures are the ones written.
  auto volume = reports.GetVolumeReport(auditor, Quarter(options, v1::REPORT_GROUPING_UNSPECIFIED));
  if (!volume.ok()) return fail(volume.status());
  const int64_t started = volume->rows_size() == 1 ? volume->rows(0).started() : -1;
  std::printf("\nworst report: %.1f ms; quarter volume reads %lld starts of %lld loaded\n", worst,
              static_cast<long long>(started), static_cast<long long>(options.instances));
  if (!dir.empty()) std::filesystem::remove_all(dir);
  return started == options.instances ? 0 : 1;
}

}  // namespace
}  // namespace signoff::bench

int main(int argc, char** argv) {
  signoff::bench::Options options;
  if (!signoff::bench::ParseOptions(argc, argv, options)) return 2;
  return signoff::bench::Run(options);
}
