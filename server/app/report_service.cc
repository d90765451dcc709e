#include "server/app/report_service.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/app/report_histogram.h"
#include "server/app/report_periods.h"
#include "server/app/report_projection.h"
#include "server/app/report_request.h"
#include "workflow/errors.h"
#include "workflow/ledgers.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::app {
namespace {

// One metric's cells of one group, added up.
struct Sum {
  int64_t count = 0;
  int64_t total_wall = 0;
  int64_t total_business = 0;
  storage::Histogram wall_hist;
  storage::Histogram business_hist;

  void Add(const storage::ReportCell& cell) {
    count += cell.count;
    total_wall += cell.total_wall;
    total_business += cell.total_business;
    for (const auto& [bucket, n] : cell.wall_hist) wall_hist[bucket] += n;
    for (const auto& [bucket, n] : cell.business_hist) business_hist[bucket] += n;
  }
  v1::DurationStats Wall() const { return StatsOf(count, total_wall, wall_hist); }
  v1::DurationStats Business() const { return StatsOf(count, total_business, business_hist); }
};

using Metrics = std::map<std::string, Sum>;
// Group label -> its metrics, in label order.
using Table = std::map<std::string, Metrics>;

double Percent(int64_t part, int64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

const char* DimOf(v1::ReportGrouping grouping) {
  switch (grouping) {
    case v1::BY_STEP: return storage::kReportDimStep;
    case v1::BY_APPROVER: return storage::kReportDimApprover;
    case v1::BY_SUBJECT: return storage::kReportDimSubject;
    default: return storage::kReportDimAll;
  }
}

std::string DayLabel(absl::CivilDay day) { return absl::FormatCivilTime(day); }

std::string GroupOf(const storage::ReportCell& cell, v1::ReportGrouping grouping) {
  const absl::CivilDay day = absl::CivilDay(1970, 1, 1) + cell.key.day;
  switch (grouping) {
    case v1::BY_STEP:
    case v1::BY_APPROVER:
    case v1::BY_SUBJECT: return cell.key.dim_value;
    case v1::BY_DEPARTMENT: return cell.key.department;
    case v1::BY_DAY: return DayLabel(day);
    case v1::BY_WEEK:
      return DayLabel(absl::PrevWeekday(day + 1, absl::Weekday::monday));
    case v1::BY_MONTH: return DayLabel(day).substr(0, 7);
    default: return "all";
  }
}

// A run of days read from one dimension: its day cells, or the rollups
// whose first days lie in [from, to].
struct DaySpan {
  std::string dim;
  int32_t from = 0;
  int32_t to = 0;
};

bool IsPeriod(v1::ReportGrouping grouping) {
  return grouping == v1::BY_DAY || grouping == v1::BY_WEEK || grouping == v1::BY_MONTH;
}

// The period as the fewest rollups; period groupings need the days
// themselves.
std::vector<DaySpan> SpansOf(const ReportScope& scope, const std::string& dim) {
  if (IsPeriod(scope.grouping)) return {{dim, scope.day_from, scope.day_to}};
  std::vector<DaySpan> spans;
  for (const RollupRun& run : CoverDays(scope.day_from, scope.day_to)) {
    spans.push_back({RollupDim(dim, run.rollup), run.first_start, run.last_start});
  }
  return spans;
}

// Only reports of durations' percentiles read the histograms.
enum class Histograms { kSkip, kRead };

// The scope's cells of metrics starting with `prefixes`, by group.
absl::StatusOr<Table> Tabulate(AppContext& context, const ReportScope& scope,
                               const std::vector<std::string>& prefixes,
                               Histograms histograms = Histograms::kSkip) {
  Table table;
  const std::string dim = DimOf(scope.grouping);
  for (const DaySpan& span : SpansOf(scope, dim)) {
    storage::ReportCellQuery query;
    query.definition_key = scope.definition->definition().key();
    query.dim = span.dim;
    query.day_from = span.from;
    query.day_to = span.to;
    query.metric_prefixes = prefixes;
    query.sum_departments = scope.grouping != v1::BY_DEPARTMENT;
    query.sum_days = !IsPeriod(scope.grouping);
    query.with_histograms = histograms == Histograms::kRead;
    if (scope.departments) {
      query.departments.emplace(scope.departments->begin(), scope.departments->end());
    } else if (dim != storage::kReportDimAll) {
      query.dim += storage::kReportEveryDepartmentSuffix;
    }
    SIGNOFF_ASSIGN_OR_RETURN(std::vector<storage::ReportCell> cells,
                             context.store().QueryReportCells(query));
    for (const storage::ReportCell& cell : cells) {
      table[GroupOf(cell, scope.grouping)][cell.key.metric].Add(cell);
    }
  }
  return table;
}

int64_t CountOf(const Metrics& metrics, const std::string& metric) {
  auto found = metrics.find(metric);
  return found == metrics.end() ? 0 : found->second.count;
}

const Sum& SumOf(const Metrics& metrics, const std::string& metric) {
  static const Sum kEmpty;
  auto found = metrics.find(metric);
  return found == metrics.end() ? kEmpty : found->second;
}

// The metrics of a family ("outcome:APPROVED", ...) by their suffix; none
// that add up to nothing (an appeal took a finish back out).
template <typename Map>
void CopyFamily(const Metrics& metrics, const std::string& prefix, Map* into) {
  for (const auto& [metric, sum] : metrics) {
    if (sum.count != 0 && absl::StartsWith(metric, prefix)) {
      (*into)[metric.substr(prefix.size())] = sum.count;
    }
  }
}

std::string LabelOf(const v1::WorkflowDefinition& definition, const std::string& action,
                    const std::string& code) {
  const auto& reasons = action == "REJECT" ? definition.reject_reasons()
                                           : definition.return_reasons();
  for (const v1::ReasonCode& reason : reasons) {
    if (reason.code() == code) return reason.label();
  }
  return "";
}

// Returns and rejections by reason, most frequent first, with each one's
// share and the running share.
absl::StatusOr<std::vector<v1::ReasonRow>> Pareto(AppContext& context, const ReportScope& scope) {
  ReportScope overall = scope;
  overall.grouping = v1::REPORT_GROUPING_UNSPECIFIED;
  SIGNOFF_ASSIGN_OR_RETURN(Table table, Tabulate(context, overall, {metric::kReason}));
  std::vector<v1::ReasonRow> rows;
  int64_t total = 0;
  for (const auto& [metric, sum] : table["all"]) {
    std::vector<std::string> parts =
        absl::StrSplit(metric.substr(std::string(metric::kReason).size()), absl::MaxSplits(':', 1));
    if (parts.size() != 2) continue;
    v1::ReasonRow& row = rows.emplace_back();
    row.set_action(parts[0]);
    row.set_code(parts[1]);
    row.set_label(LabelOf(scope.definition->definition(), parts[0], parts[1]));
    row.set_count(sum.count);
    total += sum.count;
  }
  std::stable_sort(rows.begin(), rows.end(), [](const v1::ReasonRow& a, const v1::ReasonRow& b) {
    return a.count() > b.count();
  });
  int64_t running = 0;
  for (v1::ReasonRow& row : rows) {
    running += row.count();
    row.set_percent(Percent(row.count(), total));
    row.set_cumulative_percent(Percent(running, total));
  }
  return rows;
}

v1::LedgerReportRow LedgerRowOf(const v1::Ledger& ledger,
                                const storage::StoredLedgerBalance& stored) {
  const workflow::LedgerBalance& balance = stored.balance;
  v1::LedgerReportRow row;
  row.set_ledger(stored.position.ledger());
  row.set_key(stored.position.key());
  row.set_period(stored.position.period());
  row.set_unit(ledger.unit());
  row.set_limit(workflow::FromCents(balance.limit_cents));
  row.set_reserved(workflow::FromCents(balance.reserved_cents));
  row.set_consumed(workflow::FromCents(balance.consumed_cents));
  row.set_remaining(workflow::FromCents(balance.remaining_cents()));
  row.set_utilisation_percent(
      Percent(balance.reserved_cents + balance.consumed_cents, balance.limit_cents));
  row.set_exceeded_routed(stored.exceeded_count);
  return row;
}

bool PerTask(v1::ReportGrouping grouping) {
  return grouping == v1::BY_STEP || grouping == v1::BY_APPROVER;
}

}  // namespace

absl::StatusOr<v1::VolumeReport> ReportService::GetVolumeReport(
    const Caller& caller, const v1::ReportRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(ReportScope scope,
                           ResolveReportScope(context_, caller, request, ReportShape::kAny));
  SIGNOFF_ASSIGN_OR_RETURN(
      Table table, Tabulate(context_, scope,
                            {metric::kStarted, metric::kFinished, metric::kOutcome,
                             metric::kEndStep, metric::kNamedOutcome, metric::kTaskCreated,
                             metric::kDecided, metric::kDecision}));
  v1::VolumeReport report;
  for (const auto& [group, metrics] : table) {
    v1::VolumeRow& row = *report.add_rows();
    row.set_group(group);
    row.set_started(CountOf(metrics, metric::kStarted));
    row.set_finished(CountOf(metrics, metric::kFinished));
    CopyFamily(metrics, metric::kOutcome, row.mutable_outcomes());
    CopyFamily(metrics, metric::kEndStep, row.mutable_end_steps());
    CopyFamily(metrics, metric::kNamedOutcome, row.mutable_business_outcomes());
    row.set_tasks_created(CountOf(metrics, metric::kTaskCreated));
    row.set_tasks_decided(CountOf(metrics, metric::kDecided));
    CopyFamily(metrics, metric::kDecision, row.mutable_decisions());
  }
  return report;
}

absl::StatusOr<v1::TimingReport> ReportService::GetTimingReport(
    const Caller& caller, const v1::ReportRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(ReportScope scope,
                           ResolveReportScope(context_, caller, request, ReportShape::kAny));
  SIGNOFF_ASSIGN_OR_RETURN(Table table,
                           Tabulate(context_, scope, {metric::kDecided, metric::kFinished},
                                    Histograms::kRead));
  v1::TimingReport report;
  for (const auto& [group, metrics] : table) {
    v1::TimingRow& row = *report.add_rows();
    row.set_group(group);
    const Sum& decided = SumOf(metrics, metric::kDecided);
    *row.mutable_decision_wall() = decided.Wall();
    *row.mutable_decision_business() = decided.Business();
    if (PerTask(scope.grouping)) continue;
    const Sum& finished = SumOf(metrics, metric::kFinished);
    *row.mutable_end_to_end_wall() = finished.Wall();
    *row.mutable_end_to_end_business() = finished.Business();
  }
  return report;
}

absl::StatusOr<v1::SlaReport> ReportService::GetSlaReport(const Caller& caller,
                                                          const v1::ReportRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(ReportScope scope,
                           ResolveReportScope(context_, caller, request, ReportShape::kAny));
  SIGNOFF_ASSIGN_OR_RETURN(Table table,
                           Tabulate(context_, scope,
                                    {metric::kSlaTask, metric::kSlaMet, metric::kBreach,
                                     metric::kEscalation, metric::kPaused}));
  v1::SlaReport report;
  for (const auto& [group, metrics] : table) {
    v1::SlaRow& row = *report.add_rows();
    row.set_group(group);
    row.set_tasks_with_sla(CountOf(metrics, metric::kSlaTask));
    row.set_met(CountOf(metrics, metric::kSlaMet));
    row.set_compliance_percent(Percent(row.met(), row.tasks_with_sla()));
    row.set_breaches(CountOf(metrics, metric::kBreach));
    row.set_escalations(CountOf(metrics, metric::kEscalation));
    row.set_paused_seconds(SumOf(metrics, metric::kPaused).total_wall);
  }
  return report;
}

absl::StatusOr<v1::QualityReport> ReportService::GetQualityReport(
    const Caller& caller, const v1::ReportRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(ReportScope scope,
                           ResolveReportScope(context_, caller, request, ReportShape::kAny));
  const std::string returned = absl::StrCat(metric::kDecision, "RETURN");
  const std::string rejected = absl::StrCat(metric::kDecision, "REJECT");
  SIGNOFF_ASSIGN_OR_RETURN(Table table,
                           Tabulate(context_, scope,
                                    {metric::kFinished, metric::kFirstPass, metric::kResubmits,
                                     returned, rejected}));
  v1::QualityReport report;
  for (const auto& [group, metrics] : table) {
    v1::QualityRow& row = *report.add_rows();
    row.set_group(group);
    row.set_finished(CountOf(metrics, metric::kFinished));
    row.set_first_pass(CountOf(metrics, metric::kFirstPass));
    row.set_first_pass_percent(Percent(row.first_pass(), row.finished()));
    row.set_resubmits(CountOf(metrics, metric::kResubmits));
    row.set_resubmits_per_instance(
        row.finished() == 0 ? 0.0 : static_cast<double>(row.resubmits()) / row.finished());
    row.set_returns(CountOf(metrics, returned));
    row.set_rejections(CountOf(metrics, rejected));
  }
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<v1::ReasonRow> reasons, Pareto(context_, scope));
  for (v1::ReasonRow& reason : reasons) *report.add_reasons() = std::move(reason);
  return report;
}

absl::StatusOr<v1::ServiceReport> ReportService::GetServiceReport(
    const Caller& caller, const v1::ReportRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(ReportScope scope,
                           ResolveReportScope(context_, caller, request, ReportShape::kInstances));
  SIGNOFF_ASSIGN_OR_RETURN(Table table,
                           Tabulate(context_, scope,
                                    {metric::kFinished, metric::kFcrEligible, metric::kFcr,
                                     metric::kCsat},
                                    Histograms::kRead));
  v1::ServiceReport report;
  const v1::ReportSettings& settings = scope.definition->definition().reports();
  report.set_has_resolution_step(!settings.resolution_step().empty());
  report.set_has_rating_field(!settings.rating_field().empty());
  for (const auto& [group, metrics] : table) {
    v1::ServiceRow& row = *report.add_rows();
    row.set_group(group);
    const Sum& finished = SumOf(metrics, metric::kFinished);
    row.set_resolved(finished.count);
    *row.mutable_tts_wall() = finished.Wall();
    *row.mutable_tts_business() = finished.Business();
    row.set_fcr_eligible(CountOf(metrics, metric::kFcrEligible));
    row.set_fcr(CountOf(metrics, metric::kFcr));
    row.set_fcr_percent(Percent(row.fcr(), row.fcr_eligible()));
    const Sum& csat = SumOf(metrics, metric::kCsat);
    row.set_csat_responses(csat.count);
    row.set_csat_mean(csat.count == 0 ? 0.0 : csat.total_wall / 1000.0 / csat.count);
  }
  return report;
}

absl::StatusOr<v1::LedgerReport> ReportService::GetLedgerReport(
    const Caller& caller, const v1::LedgerReportRequest& request) {
  v1::ReportRequest days;
  days.set_definition_key(request.definition_key());
  days.set_from(request.from());
  days.set_to(request.to());
  SIGNOFF_ASSIGN_OR_RETURN(ReportScope scope,
                           ResolveReportScope(context_, caller, days, ReportShape::kLedgers));
  const v1::WorkflowDefinition& definition = scope.definition->definition();
  std::vector<const v1::Ledger*> ledgers;
  if (request.ledger().empty()) {
    for (const v1::Ledger& ledger : definition.ledgers()) ledgers.push_back(&ledger);
  } else if (const v1::Ledger* ledger = workflow::FindLedger(definition, request.ledger())) {
    ledgers.push_back(ledger);
  } else {
    return workflow::InvalidArgumentWithViolations(
        "the report request is not valid",
        {{"ledger", absl::StrCat("names no ledger of ", definition.key())}});
  }
  const absl::CivilDay epoch(1970, 1, 1);
  v1::LedgerReport report;
  for (const v1::Ledger* ledger : ledgers) {
    for (const std::string& period :
         workflow::PeriodsBetween(ledger->period(), epoch + scope.day_from, epoch + scope.day_to)) {
      SIGNOFF_ASSIGN_OR_RETURN(
          std::vector<storage::StoredLedgerBalance> balances,
          context_.store().ListLedgerBalances({definition.key(), ledger->name(), period}));
      for (const storage::StoredLedgerBalance& stored : balances) {
        *report.add_rows() = LedgerRowOf(*ledger, stored);
      }
    }
  }
  return report;
}

absl::StatusOr<v1::BacklogReport> ReportService::GetBacklogReport(
    const Caller& caller, const v1::ReportRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(ReportScope scope,
                           ResolveReportScope(context_, caller, request, ReportShape::kNoPeriods));
  SIGNOFF_ASSIGN_OR_RETURN(
      std::vector<storage::ReportTaskFact> tasks,
      context_.store().ListOpenReportTasks(scope.definition->definition().key()));
  const absl::Time now = context_.Now();
  std::map<std::string, v1::BacklogRow> rows;
  for (const storage::ReportTaskFact& task : tasks) {
    if (task.pending_us == 0 || !scope.Covers(task.department)) continue;
    std::string group = "all";
    switch (scope.grouping) {
      case v1::BY_STEP: group = task.step_id; break;
      case v1::BY_DEPARTMENT: group = task.department; break;
      case v1::BY_APPROVER: group = task.approver; break;
      case v1::BY_SUBJECT: group = task.subject; break;
      default: break;
    }
    v1::BacklogRow& row = rows[group];
    row.set_group(group);
    row.set_open(row.open() + 1);
    if (task.due_us != 0 && task.paused_us == 0 && absl::FromUnixMicros(task.due_us) < now) {
      row.set_overdue(row.overdue() + 1);
    }
    const absl::Duration age = now - absl::FromUnixMicros(task.pending_us);
    if (age < absl::Hours(24)) {
      row.set_under_1d(row.under_1d() + 1);
    } else if (age < absl::Hours(72)) {
      row.set_from_1d_to_3d(row.from_1d_to_3d() + 1);
    } else if (age < absl::Hours(24 * 7)) {
      row.set_from_3d_to_7d(row.from_3d_to_7d() + 1);
    } else if (age < absl::Hours(24 * 30)) {
      row.set_from_7d_to_30d(row.from_7d_to_30d() + 1);
    } else {
      row.set_over_30d(row.over_30d() + 1);
    }
  }
  v1::BacklogReport report;
  *report.mutable_as_of() = workflow::ToTimestamp(now);
  for (auto& [group, row] : rows) *report.add_rows() = std::move(row);
  return report;
}

}  // namespace signoff::app
