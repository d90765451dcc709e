// `report volume|timing|sla|quality|reasons|backlog|service|ledgers`: the
// KPI reports of one definition over a period, as a table, JSON or CSV.
#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "commands.h"
#include "form_input.h"
#include "output.h"
#include "signoff/v1/reports.grpc.pb.h"

namespace signoff::cli {

namespace {

using Stub = v1::ReportService::Stub;

struct ReportArgs {
  std::string definition;
  std::string by;
  std::string from;
  std::string to;
  // `report ledgers` only.
  std::string ledger;
};

// Rows of text cells under a header, printed for people or as CSV.
struct Sheet {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

void PrintSheet(const Sheet& sheet, bool csv) {
  if (!csv) {
    Table table(sheet.header);
    for (const auto& row : sheet.rows) table.Add(row);
    table.Print();
    return;
  }
  auto line = [](const std::vector<std::string>& cells) {
    std::vector<std::string> fields;
    for (const std::string& cell : cells) fields.push_back(CsvField(cell));
    std::cout << absl::StrJoin(fields, ",") << "\n";
  };
  line(sheet.header);
  for (const auto& row : sheet.rows) line(row);
}

absl::StatusOr<v1::ReportGrouping> GroupingOf(const std::string& by) {
  static const std::map<std::string, v1::ReportGrouping> kGroupings = {
      {"", v1::REPORT_GROUPING_UNSPECIFIED}, {"step", v1::BY_STEP},
      {"department", v1::BY_DEPARTMENT},      {"approver", v1::BY_APPROVER},
      {"subject", v1::BY_SUBJECT},            {"day", v1::BY_DAY},
      {"week", v1::BY_WEEK},                  {"month", v1::BY_MONTH}};
  auto found = kGroupings.find(by);
  if (found == kGroupings.end()) {
    return UsageError(absl::StrCat("--by: '", by,
                                   "' is not one of step, department, approver, subject, day, "
                                   "week, month"));
  }
  return found->second;
}

// The last 30 days up to today unless --from and --to say otherwise;
// today in the zone the definition's report days are read in.
template <typename Request>
void SetDays(Cli& cli, const ReportArgs& args, Request& request) {
  const absl::CivilDay today =
      absl::ToCivilDay(absl::Now(), cli.zones().ForDefinition(args.definition, 0));
  request.set_to(args.to.empty() ? absl::FormatCivilTime(today) : args.to);
  request.set_from(args.from.empty() ? absl::FormatCivilTime(today - 29) : args.from);
}

absl::StatusOr<v1::ReportRequest> RequestOf(Cli& cli, const ReportArgs& args) {
  v1::ReportRequest request;
  request.set_definition_key(args.definition);
  auto grouping = GroupingOf(args.by);
  if (!grouping.ok()) return grouping.status();
  request.set_group_by(*grouping);
  SetDays(cli, args, request);
  return request;
}

absl::StatusOr<v1::LedgerReportRequest> LedgerRequestOf(Cli& cli, const ReportArgs& args) {
  v1::LedgerReportRequest request;
  request.set_definition_key(args.definition);
  request.set_ledger(args.ledger);
  SetDays(cli, args, request);
  return request;
}

// Seconds for CSV; "2d3h" style for people.
std::string Duration(double seconds, bool csv) {
  if (csv) return absl::StrFormat("%.0f", seconds);
  const int64_t whole = static_cast<int64_t>(seconds + 0.5);
  if (whole < 60) return absl::StrCat(whole, "s");
  if (whole < 3600) return absl::StrCat(whole / 60, "m", whole % 60, "s");
  if (whole < 86400) return absl::StrCat(whole / 3600, "h", (whole % 3600) / 60, "m");
  return absl::StrCat(whole / 86400, "d", (whole % 86400) / 3600, "h");
}

std::string Number(int64_t n) { return absl::StrCat(n); }
std::string Percent(double percent) { return absl::StrFormat("%.1f", percent); }

std::vector<std::string> StatsCells(const v1::DurationStats& stats, bool csv) {
  if (stats.count() == 0) return {"0", "-", "-", "-"};
  return {Number(stats.count()), Duration(stats.p50_seconds(), csv),
          Duration(stats.p90_seconds(), csv), Duration(stats.mean_seconds(), csv)};
}

template <typename Map>
std::string Pairs(const Map& map) {
  std::map<std::string, int64_t> sorted(map.begin(), map.end());
  return absl::StrJoin(sorted, " ", absl::PairFormatter("="));
}

Sheet VolumeSheet(const v1::VolumeReport& report, bool /*csv*/) {
  Sheet sheet{{"GROUP", "STARTED", "FINISHED", "APPROVED", "REJECTED", "WITHDRAWN", "CANCELLED",
               "END_STEPS", "OUTCOMES", "TASKS_CREATED", "TASKS_DECIDED", "DECISIONS"}};
  for (const auto& row : report.rows()) {
    auto outcome = [&](const char* name) {
      auto found = row.outcomes().find(name);
      return Number(found == row.outcomes().end() ? 0 : found->second);
    };
    sheet.rows.push_back({row.group(), Number(row.started()), Number(row.finished()),
                          outcome("APPROVED"), outcome("REJECTED"), outcome("WITHDRAWN"),
                          outcome("CANCELLED"), Pairs(row.end_steps()),
                          Pairs(row.business_outcomes()),
                          Number(row.tasks_created()), Number(row.tasks_decided()),
                          Pairs(row.decisions())});
  }
  return sheet;
}

// The count, p50, p90 and mean of `wall`, then the business p50, p90 and
// mean (the same count).
void AddStats(const v1::DurationStats& wall, const v1::DurationStats& business, bool csv,
              std::vector<std::string>& cells) {
  std::vector<std::string> first = StatsCells(wall, csv);
  std::vector<std::string> second = StatsCells(business, csv);
  cells.insert(cells.end(), first.begin(), first.end());
  cells.insert(cells.end(), second.begin() + 1, second.end());
}

Sheet TimingSheet(const v1::TimingReport& report, bool csv) {
  Sheet sheet{{"GROUP", "DECIDED", "P50", "P90", "MEAN", "BUSINESS_P50", "BUSINESS_P90",
               "BUSINESS_MEAN", "FINISHED", "E2E_P50", "E2E_P90", "E2E_MEAN",
               "E2E_BUSINESS_P50", "E2E_BUSINESS_P90", "E2E_BUSINESS_MEAN"}};
  for (const auto& row : report.rows()) {
    std::vector<std::string> cells = {row.group()};
    AddStats(row.decision_wall(), row.decision_business(), csv, cells);
    AddStats(row.end_to_end_wall(), row.end_to_end_business(), csv, cells);
    sheet.rows.push_back(std::move(cells));
  }
  return sheet;
}

Sheet SlaSheet(const v1::SlaReport& report, bool csv) {
  Sheet sheet{{"GROUP", "TASKS_WITH_SLA", "MET", "COMPLIANCE_%", "BREACHES", "ESCALATIONS",
               "PAUSED"}};
  for (const auto& row : report.rows()) {
    sheet.rows.push_back({row.group(), Number(row.tasks_with_sla()), Number(row.met()),
                          Percent(row.compliance_percent()), Number(row.breaches()),
                          Number(row.escalations()),
                          Duration(static_cast<double>(row.paused_seconds()), csv)});
  }
  return sheet;
}

Sheet QualitySheet(const v1::QualityReport& report, bool /*csv*/) {
  Sheet sheet{{"GROUP", "FINISHED", "FIRST_PASS", "FIRST_PASS_%", "RESUBMITS",
               "RESUBMITS_PER_INSTANCE", "RETURNS", "REJECTIONS"}};
  for (const auto& row : report.rows()) {
    sheet.rows.push_back({row.group(), Number(row.finished()), Number(row.first_pass()),
                          Percent(row.first_pass_percent()), Number(row.resubmits()),
                          absl::StrFormat("%.2f", row.resubmits_per_instance()),
                          Number(row.returns()), Number(row.rejections())});
  }
  return sheet;
}

Sheet ReasonSheet(const v1::QualityReport& report, bool /*csv*/) {
  Sheet sheet{{"ACTION", "CODE", "LABEL", "COUNT", "%", "CUMULATIVE_%"}};
  for (const auto& row : report.reasons()) {
    sheet.rows.push_back({row.action(), row.code(), row.label(), Number(row.count()),
                          Percent(row.percent()), Percent(row.cumulative_percent())});
  }
  return sheet;
}

Sheet BacklogSheet(const v1::BacklogReport& report, bool /*csv*/) {
  Sheet sheet{{"GROUP", "OPEN", "OVERDUE", "UNDER_1D", "1D_3D", "3D_7D", "7D_30D", "OVER_30D"}};
  for (const auto& row : report.rows()) {
    sheet.rows.push_back({row.group(), Number(row.open()), Number(row.overdue()),
                          Number(row.under_1d()), Number(row.from_1d_to_3d()),
                          Number(row.from_3d_to_7d()), Number(row.from_7d_to_30d()),
                          Number(row.over_30d())});
  }
  return sheet;
}

Sheet ServiceSheet(const v1::ServiceReport& report, bool csv) {
  Sheet sheet{{"GROUP", "RESOLVED", "TTS_P50", "TTS_P90", "TTS_MEAN", "TTS_BUSINESS_P50",
               "TTS_BUSINESS_P90", "TTS_BUSINESS_MEAN", "FCR_ELIGIBLE", "FCR", "FCR_%",
               "CSAT_RESPONSES", "CSAT_MEAN"}};
  for (const auto& row : report.rows()) {
    std::vector<std::string> cells = {row.group()};
    AddStats(row.tts_wall(), row.tts_business(), csv, cells);
    for (const std::string& cell : {Number(row.fcr_eligible()), Number(row.fcr()),
                                    Percent(row.fcr_percent()), Number(row.csat_responses()),
                                    absl::StrFormat("%.2f", row.csat_mean())}) {
      cells.push_back(cell);
    }
    sheet.rows.push_back(std::move(cells));
  }
  return sheet;
}

std::string Amount(double amount) { return absl::StrFormat("%.2f", amount); }

Sheet LedgerSheet(const v1::LedgerReport& report, bool /*csv*/) {
  Sheet sheet{{"LEDGER", "KEY", "PERIOD", "LIMIT", "RESERVED", "CONSUMED", "REMAINING", "USED_%",
               "EXCEEDED", "UNIT"}};
  for (const auto& row : report.rows()) {
    sheet.rows.push_back({row.ledger(), row.key(), row.period(), Amount(row.limit()),
                          Amount(row.reserved()), Amount(row.consumed()), Amount(row.remaining()),
                          Percent(row.utilisation_percent()), Number(row.exceeded_routed()),
                          row.unit()});
  }
  return sheet;
}

// Calls one report RPC with the request `request_of` makes from the
// arguments, and prints its answer as -o asks.
template <typename Request, typename Response, typename ToSheet>
absl::Status RunReport(Cli& cli, const ReportArgs& args,
                       absl::StatusOr<Request> (*request_of)(Cli&, const ReportArgs&),
                       grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                    Response*),
                       ToSheet to_sheet) {
  auto request = request_of(cli, args);
  if (!request.ok()) return request.status();
  auto response = cli.Connect().Call(cli.Connect().reports(), method, *request);
  if (!response.ok()) return response.status();
  if (cli.json()) {
    PrintJson(*response);
  } else {
    const bool csv = cli.globals.output == "csv";
    PrintSheet(to_sheet(*response, csv), csv);
  }
  return absl::OkStatus();
}

// The options every report takes; `example` shows the command in use.
CLI::App* ReportCommand(CLI::App& noun, const std::string& name, const std::string& description,
                        const std::string& example, std::shared_ptr<ReportArgs> args) {
  auto* command = Command(noun, name, description, example);
  command->add_option("--definition", args->definition, "the definition's key")->required();
  command->add_option("--from", args->from, "first day, YYYY-MM-DD (default: 29 days before --to)");
  command->add_option("--to", args->to, "last day, YYYY-MM-DD, included (default: today where the definition's calendar is)");
  return command;
}

}  // namespace

void AddReportCommands(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "report",
                     "KPI reports of a definition over a period (auditors, process admins, "
                     "department heads for their departments)",
                     {"signoffctl --as olivia.ke report volume --definition dealer-claim --by week",
                      "signoffctl --as olivia.ke report reasons --definition dealer-claim -o csv",
                      "signoffctl --as olivia.ke report backlog --definition dealer-claim --by "
                      "approver"});
  auto args = std::make_shared<ReportArgs>();
  auto add = [&](const std::string& name, const std::string& description, auto method,
                 auto to_sheet) {
    auto* command =
        ReportCommand(*noun, name, description,
                      absl::StrCat("signoffctl --as olivia.ke report ", name,
                                   " --definition dealer-claim --by week --from 2026-01-01 --to "
                                   "2026-03-31 -o csv"),
                      args);
    command->add_option("--by", args->by,
                        "group by step, department, approver, subject, day, week or month "
                        "(one row when not given)");
    command->callback([&cli, args, method, to_sheet] {
      cli.run = [&cli, args, method, to_sheet] {
        return RunReport(cli, *args, &RequestOf, method, to_sheet);
      };
    });
  };
  add("volume", "started, finished, outcomes; tasks created and decided", &Stub::GetVolumeReport,
      VolumeSheet);
  add("timing", "time to decision and end to end: p50, p90, mean", &Stub::GetTimingReport,
      TimingSheet);
  add("sla", "SLA compliance, breaches, escalations, time paused", &Stub::GetSlaReport, SlaSheet);
  add("quality", "first-pass rate, resubmits, returns and rejections", &Stub::GetQualityReport,
      QualitySheet);
  add("reasons", "returns and rejections by reason code, as a Pareto", &Stub::GetQualityReport,
      ReasonSheet);
  add("backlog", "open tasks now by age, and overdue (the period is not used)",
      &Stub::GetBacklogReport, BacklogSheet);
  add("service", "time to solve, first-contact resolution, CSAT", &Stub::GetServiceReport,
      ServiceSheet);

  auto* ledgers = ReportCommand(
      *noun, "ledgers",
      "ledger balances of the periods overlapping the days: limit, reserved, consumed, "
      "remaining, % used, movements routed for exceeding (not for department heads)",
      "signoffctl --as olivia.ke report ledgers --definition loyalty-scheme --from 2026-04-01 "
      "--to 2026-06-30 -o csv",
      args);
  ledgers->add_option("--ledger", args->ledger, "only this ledger (every one when not given)");
  ledgers->callback([&cli, args] {
    cli.run = [&cli, args] {
      return RunReport(cli, *args, &LedgerRequestOf, &Stub::GetLedgerReport, LedgerSheet);
    };
  });
}

}  // namespace signoff::cli
