// The KPI reports through the real server, on a hand-built week of claims
// with known answers: a fake clock across a weekend and a holiday, known
// reasons, outcomes, a pause and a breach. Also who sees which cases, bad
// requests, and that rebuilding the projections from the event log gives
// what following the feed gave.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/civil_time.h"
#include "server/app/report_periods.h"
#include "server_fixture.h"
#include "signoff/v1/reports.grpc.pb.h"
#include "storage/report_store.h"
#include "workflow/errors.h"
#include "workflow/yaml_mapping.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// Eight working hours a day on weekdays, UTC, with Monday 2026-01-05 a
// holiday.
constexpr char kOfficeCalendar[] = R"(
name: office
time_zone: UTC
working_days: [MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY]
working_hours: [{start: "09:00", end: "17:00"}]
years: [{year: 2026, holidays: ["2026-01-05"]}]
)";

constexpr char kClaimDefinition[] = R"(
key: claim
calendar: office
form:
  fields:
    - {name: dealer, type: STRING, required: true}
    - {name: score, type: NUMBER}
subject: {field: dealer, type: dealer}
reject_reasons: [{code: fraud, label: Fraud suspected}, {code: docs}]
return_reasons: [{code: missing, label: Documents missing}, {code: blurry}]
reports: {resolution_step: review, rating_field: score}
outcomes: [{code: PAID}, {code: REFUSED}]
appeal: {allowed: true, window_days: 5}
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    sla: {due: {hours: 8, business: true}}
    actions: {allowed: [APPROVE, REJECT, RETURN, PAUSE_CLOCK]}
    on_reject: refused
    next: [{to: done}]
  - {id: done, end: {outcome: PAID}}
  - {id: refused, end: {rejected: true, outcome: REFUSED}}
)";

constexpr double kHour = 3600;

// A percentile read from the log-scale histogram is within 2^(1/8) of the
// true value.
MATCHER_P(Near, seconds, "") { return arg >= seconds / 1.0906 && arg <= seconds * 1.0906; }

class ReportTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    v1::PublishCalendarRequest calendar;
    calendar.set_request_id("publish-office");
    calendar.set_yaml(kOfficeCalendar);
    ASSERT_OK(client_->Call("ceo", *client_->calendars,
                            &v1::CalendarService::Stub::PublishCalendar, calendar));
    ASSERT_OK(Publish(kClaimDefinition, "publish-claim"));
    reports_ = v1::ReportService::NewStub(server_->InProcessChannel());
    RunWeek();
  }

  void At(int day, int hour, int minute = 0) {
    const absl::Time target =
        absl::FromCivil(absl::CivilMinute(2026, 1, day, hour, minute), absl::UTCTimeZone());
    ASSERT_GE(target, now_.load());
    now_.Advance(target - now_.load());
  }

  std::string Start(const std::string& applicant, const std::string& form_yaml) {
    v1::StartInstanceRequest request;
    request.set_request_id(NextId());
    request.set_definition_key("claim");
    *request.mutable_form() = *workflow::ParseFormYaml(form_yaml);
    auto started = client_->Call(applicant, *client_->instances,
                                 &v1::InstanceService::Stub::StartInstance, request);
    EXPECT_OK(started);
    return started.ok() ? started->instance().id() : "";
  }

  std::string ReviewTask(const std::string& instance_id) {
    v1::GetInstanceRequest request;
    request.set_id(instance_id);
    auto view = client_->Call("fred", *client_->instances,
                              &v1::InstanceService::Stub::GetInstance, request);
    EXPECT_OK(view);
    return view.ok() ? PendingTaskOf(view->instance(), "fred") : "";
  }

  void Decide(const std::string& instance_id, v1::Action action, const std::string& reason = "") {
    v1::DecideTaskRequest request;
    request.set_request_id(NextId());
    request.set_task_id(ReviewTask(instance_id));
    request.set_action(action);
    request.set_reason_code(reason);
    request.set_comment("decided");
    ASSERT_OK(client_->Call("fred", *client_->tasks, &v1::TaskService::Stub::DecideTask,
                            request));
  }

  void Clock(const std::string& instance_id, bool pause) {
    v1::ClockRequest request;
    request.set_request_id(NextId());
    request.set_task_id(ReviewTask(instance_id));
    request.set_comment("waiting for papers");
    auto method = pause ? &v1::TaskService::Stub::PauseClock : &v1::TaskService::Stub::ResumeClock;
    ASSERT_OK(client_->Call("fred", *client_->tasks, method, request));
  }

  std::string NextId() { return absl::StrCat("report-", ++serial_); }

  // Friday 2 January to Wednesday 7 January 2026: a weekend, then the
  // Monday holiday.
  void RunWeek() {
    At(2, 9);
    a_ = Start("ann", "{dealer: D1, score: 4}");
    At(2, 10);
    b_ = Start("bo", "{dealer: D2, score: 2}");
    At(2, 11);
    c_ = Start("hal", "{dealer: D1}");
    At(2, 13);
    Decide(a_, v1::APPROVE);
    At(2, 15);
    Decide(b_, v1::RETURN, "missing");
    At(6, 10);
    v1::ResubmitInstanceRequest resubmit;
    resubmit.set_request_id(NextId());
    resubmit.set_id(b_);
    *resubmit.mutable_form() = *workflow::ParseFormYaml("{dealer: D2, score: 5}");
    ASSERT_OK(client_->Call("bo", *client_->instances,
                            &v1::InstanceService::Stub::ResubmitInstance, resubmit));
    At(6, 10, 30);
    Clock(b_, /*pause=*/true);
    At(6, 11);
    Clock(b_, /*pause=*/false);
    At(6, 12);
    Decide(b_, v1::APPROVE);
    // c's 8 working hours from Friday 11:00 ran out on Tuesday 11:00.
    At(6, 13);
    auto fired = app_->timers().FireDueTimers(100);
    ASSERT_OK(fired);
    ASSERT_EQ(fired->fired, 1);
    At(6, 14);
    Decide(c_, v1::REJECT, "fraud");
    At(6, 15);
    d_ = Start("hal", "{dealer: D3}");
    At(7, 16);
    ASSERT_OK(app_->report_projector().CatchUp());
  }

  v1::ReportRequest Request(v1::ReportGrouping grouping = v1::REPORT_GROUPING_UNSPECIFIED) {
    v1::ReportRequest request;
    request.set_definition_key("claim");
    request.set_from("2026-01-01");
    request.set_to("2026-01-07");
    request.set_group_by(grouping);
    return request;
  }

  template <typename Response>
  absl::StatusOr<Response> Report(
      grpc::Status (v1::ReportService::Stub::*method)(grpc::ClientContext*,
                                                     const v1::ReportRequest&, Response*),
      const v1::ReportRequest& request, const std::string& user = "aud") {
    return client_->Call(user, *reports_, method, request);
  }

  std::unique_ptr<v1::ReportService::Stub> reports_;
  std::string a_, b_, c_, d_;
  int serial_ = 0;
};

using RS = v1::ReportService::Stub;

TEST_F(ReportTest, VolumeCountsStartsFinishesOutcomesAndDecisions) {
  ASSERT_OK_AND_ASSIGN(v1::VolumeReport all, Report(&RS::GetVolumeReport, Request()));
  ASSERT_EQ(all.rows_size(), 1);
  const v1::VolumeRow& row = all.rows(0);
  EXPECT_EQ(row.started(), 4);
  EXPECT_EQ(row.finished(), 3);
  EXPECT_THAT(row.outcomes(), UnorderedElementsAre(Pair("APPROVED", 2), Pair("REJECTED", 1)));
  EXPECT_THAT(row.end_steps(), UnorderedElementsAre(Pair("done", 2), Pair("refused", 1)));
  EXPECT_THAT(row.business_outcomes(),
              UnorderedElementsAre(Pair("PAID", 2), Pair("REFUSED", 1)));
  EXPECT_EQ(row.tasks_created(), 5);
  EXPECT_EQ(row.tasks_decided(), 4);
  EXPECT_THAT(row.decisions(),
              UnorderedElementsAre(Pair("APPROVE", 2), Pair("RETURN", 1), Pair("REJECT", 1)));

  ASSERT_OK_AND_ASSIGN(v1::VolumeReport weeks, Report(&RS::GetVolumeReport, Request(v1::BY_WEEK)));
  ASSERT_EQ(weeks.rows_size(), 2);
  EXPECT_EQ(weeks.rows(0).group(), "2025-12-29");
  EXPECT_EQ(weeks.rows(0).started(), 3);
  EXPECT_EQ(weeks.rows(0).finished(), 1);
  EXPECT_EQ(weeks.rows(1).group(), "2026-01-05");
  EXPECT_EQ(weeks.rows(1).started(), 1);
  EXPECT_EQ(weeks.rows(1).finished(), 2);

  ASSERT_OK_AND_ASSIGN(v1::VolumeReport departments,
                       Report(&RS::GetVolumeReport, Request(v1::BY_DEPARTMENT)));
  ASSERT_EQ(departments.rows_size(), 2);
  EXPECT_EQ(departments.rows(0).group(), "hr");
  EXPECT_EQ(departments.rows(0).started(), 2);
  EXPECT_THAT(departments.rows(0).outcomes(), UnorderedElementsAre(Pair("REJECTED", 1)));
  EXPECT_THAT(departments.rows(0).business_outcomes(), UnorderedElementsAre(Pair("REFUSED", 1)));
  EXPECT_EQ(departments.rows(1).group(), "sales");
  EXPECT_THAT(departments.rows(1).outcomes(), UnorderedElementsAre(Pair("APPROVED", 2)));

  ASSERT_OK_AND_ASSIGN(v1::VolumeReport subjects,
                       Report(&RS::GetVolumeReport, Request(v1::BY_SUBJECT)));
  ASSERT_EQ(subjects.rows_size(), 3);
  EXPECT_EQ(subjects.rows(0).group(), "D1");
  EXPECT_EQ(subjects.rows(0).started(), 2);
  EXPECT_EQ(subjects.rows(0).finished(), 2);
}

// Periods read from dekad and month rollups, from days, or from both add
// up to what the days they cover hold.
TEST_F(ReportTest, RollupsAddUpToTheDaysTheyCover) {
  const std::pair<const char*, const char*> periods[] = {
      {"2026-01-01", "2026-01-10"}, {"2026-01-01", "2026-01-31"}, {"2025-12-21", "2026-01-31"},
      {"2026-01-02", "2026-01-20"}, {"2026-01-06", "2026-01-06"}, {"2025-12-01", "2026-02-28"}};
  for (const auto& [from, to] : periods) {
    SCOPED_TRACE(absl::StrCat(from, " to ", to));
    v1::ReportRequest request = Request(v1::BY_DAY);
    request.set_from(from);
    request.set_to(to);
    ASSERT_OK_AND_ASSIGN(v1::VolumeReport days, Report(&RS::GetVolumeReport, request));
    int64_t started = 0, finished = 0, decided = 0;
    for (const v1::VolumeRow& row : days.rows()) {
      started += row.started();
      finished += row.finished();
      decided += row.tasks_decided();
    }
    for (v1::ReportGrouping grouping :
         {v1::REPORT_GROUPING_UNSPECIFIED, v1::BY_SUBJECT, v1::BY_STEP, v1::BY_DEPARTMENT}) {
      request.set_group_by(grouping);
      ASSERT_OK_AND_ASSIGN(v1::VolumeReport rolled, Report(&RS::GetVolumeReport, request));
      int64_t rolled_started = 0, rolled_finished = 0, rolled_decided = 0;
      for (const v1::VolumeRow& row : rolled.rows()) {
        rolled_started += row.started();
        rolled_finished += row.finished();
        rolled_decided += row.tasks_decided();
      }
      if (grouping != v1::BY_STEP) {
        EXPECT_EQ(rolled_started, started) << v1::ReportGrouping_Name(grouping);
        EXPECT_EQ(rolled_finished, finished) << v1::ReportGrouping_Name(grouping);
      }
      EXPECT_EQ(rolled_decided, decided) << v1::ReportGrouping_Name(grouping);
    }
    // Histograms roll up too: the durations' count and mean match.
    request.set_group_by(v1::BY_DAY);
    ASSERT_OK_AND_ASSIGN(v1::TimingReport day_timing, Report(&RS::GetTimingReport, request));
    int64_t count = 0;
    double total = 0;
    for (const v1::TimingRow& row : day_timing.rows()) {
      count += row.decision_wall().count();
      total += row.decision_wall().mean_seconds() * row.decision_wall().count();
    }
    request.set_group_by(v1::REPORT_GROUPING_UNSPECIFIED);
    ASSERT_OK_AND_ASSIGN(v1::TimingReport timing, Report(&RS::GetTimingReport, request));
    if (count == 0) {
      EXPECT_EQ(timing.rows_size(), 0);
      continue;
    }
    ASSERT_EQ(timing.rows_size(), 1);
    EXPECT_EQ(timing.rows(0).decision_wall().count(), count);
    EXPECT_NEAR(timing.rows(0).decision_wall().mean_seconds(), total / count, 1);
  }
}

TEST_F(ReportTest, TimingReadsWallAndBusinessTimeAcrossTheWeekendAndHoliday) {
  ASSERT_OK_AND_ASSIGN(v1::TimingReport all, Report(&RS::GetTimingReport, Request()));
  ASSERT_EQ(all.rows_size(), 1);
  const v1::TimingRow& row = all.rows(0);
  // Decisions after 4 h (a), 5 h (b), 2 h (b again) and 99 h (c, over the
  // weekend and the holiday: 11 working hours).
  EXPECT_EQ(row.decision_wall().count(), 4);
  EXPECT_DOUBLE_EQ(row.decision_wall().mean_seconds(), (4 + 5 + 2 + 99) * kHour / 4);
  EXPECT_THAT(row.decision_wall().p50_seconds(), Near(4 * kHour));
  EXPECT_THAT(row.decision_wall().p90_seconds(), Near(99 * kHour));
  EXPECT_DOUBLE_EQ(row.decision_business().mean_seconds(), (4 + 5 + 2 + 11) * kHour / 4);
  EXPECT_THAT(row.decision_business().p90_seconds(), Near(11 * kHour));
  // a in 4 h; b from Friday 10:00 to Tuesday 12:00 (98 h, 10 working);
  // c from Friday 11:00 to Tuesday 14:00 (99 h, 11 working).
  EXPECT_EQ(row.end_to_end_wall().count(), 3);
  EXPECT_DOUBLE_EQ(row.end_to_end_wall().mean_seconds(), (4 + 98 + 99) * kHour / 3);
  EXPECT_DOUBLE_EQ(row.end_to_end_business().mean_seconds(), (4 + 10 + 11) * kHour / 3);
  EXPECT_THAT(row.end_to_end_business().p50_seconds(), Near(10 * kHour));

  ASSERT_OK_AND_ASSIGN(v1::TimingReport steps, Report(&RS::GetTimingReport, Request(v1::BY_STEP)));
  ASSERT_EQ(steps.rows_size(), 1);
  EXPECT_EQ(steps.rows(0).group(), "review");
  EXPECT_EQ(steps.rows(0).decision_wall().count(), 4);
  EXPECT_EQ(steps.rows(0).end_to_end_wall().count(), 0);
}

TEST_F(ReportTest, SlaCountsComplianceBreachesAndPauses) {
  ASSERT_OK_AND_ASSIGN(v1::SlaReport all, Report(&RS::GetSlaReport, Request(v1::BY_APPROVER)));
  ASSERT_EQ(all.rows_size(), 1);
  const v1::SlaRow& row = all.rows(0);
  EXPECT_EQ(row.group(), "fred");
  EXPECT_EQ(row.tasks_with_sla(), 4);
  EXPECT_EQ(row.met(), 3);
  EXPECT_DOUBLE_EQ(row.compliance_percent(), 75.0);
  EXPECT_EQ(row.breaches(), 1);
  EXPECT_EQ(row.escalations(), 0);
  EXPECT_EQ(row.paused_seconds(), 1800);

  // All of January comes from the month rollups, with the same figures.
  v1::ReportRequest january = Request(v1::BY_APPROVER);
  january.set_to("2026-01-31");
  ASSERT_OK_AND_ASSIGN(v1::SlaReport month, Report(&RS::GetSlaReport, january));
  ASSERT_EQ(month.rows_size(), 1);
  EXPECT_EQ(month.rows(0).DebugString(), row.DebugString());
  // From mid-December: days of December, then January's rollup.
  january.set_from("2025-12-15");
  ASSERT_OK_AND_ASSIGN(v1::SlaReport spanning, Report(&RS::GetSlaReport, january));
  ASSERT_EQ(spanning.rows_size(), 1);
  EXPECT_EQ(spanning.rows(0).DebugString(), row.DebugString());
}

TEST_F(ReportTest, QualityGivesFirstPassResubmitsAndTheReasonPareto) {
  ASSERT_OK_AND_ASSIGN(v1::QualityReport report, Report(&RS::GetQualityReport, Request()));
  ASSERT_EQ(report.rows_size(), 1);
  const v1::QualityRow& row = report.rows(0);
  EXPECT_EQ(row.finished(), 3);
  EXPECT_EQ(row.first_pass(), 1);
  EXPECT_NEAR(row.first_pass_percent(), 100.0 / 3, 1e-9);
  EXPECT_EQ(row.resubmits(), 1);
  EXPECT_NEAR(row.resubmits_per_instance(), 1.0 / 3, 1e-9);
  EXPECT_EQ(row.returns(), 1);
  EXPECT_EQ(row.rejections(), 1);
  ASSERT_EQ(report.reasons_size(), 2);
  EXPECT_EQ(report.reasons(0).count(), 1);
  EXPECT_DOUBLE_EQ(report.reasons(0).percent(), 50.0);
  EXPECT_DOUBLE_EQ(report.reasons(1).cumulative_percent(), 100.0);
  std::set<std::string> codes = {report.reasons(0).code(), report.reasons(1).code()};
  EXPECT_THAT(codes, UnorderedElementsAre("fraud", "missing"));
  for (const auto& reason : report.reasons()) {
    if (reason.code() == "fraud") {
      EXPECT_EQ(reason.action(), "REJECT");
      EXPECT_EQ(reason.label(), "Fraud suspected");
    }
  }
}

TEST_F(ReportTest, BacklogIsOpenTasksByAgeWithOverdueNow) {
  ASSERT_OK_AND_ASSIGN(v1::BacklogReport report,
                       Report(&RS::GetBacklogReport, Request(v1::BY_APPROVER)));
  ASSERT_EQ(report.rows_size(), 1);
  const v1::BacklogRow& row = report.rows(0);
  EXPECT_EQ(row.group(), "fred");
  EXPECT_EQ(row.open(), 1);
  // d waits since Tuesday 15:00 (25 h); its 8 working hours ran out on
  // Wednesday 15:00.
  EXPECT_EQ(row.from_1d_to_3d(), 1);
  EXPECT_EQ(row.overdue(), 1);
}

TEST_F(ReportTest, ServiceKpisGiveTimeToSolveFcrAndCsat) {
  ASSERT_OK_AND_ASSIGN(v1::ServiceReport report, Report(&RS::GetServiceReport, Request()));
  EXPECT_TRUE(report.has_resolution_step());
  EXPECT_TRUE(report.has_rating_field());
  ASSERT_EQ(report.rows_size(), 1);
  const v1::ServiceRow& row = report.rows(0);
  EXPECT_EQ(row.resolved(), 3);
  EXPECT_DOUBLE_EQ(row.tts_business().mean_seconds(), (4 + 10 + 11) * kHour / 3);
  // a and c were settled by review's first decision; b needed two.
  EXPECT_EQ(row.fcr_eligible(), 3);
  EXPECT_EQ(row.fcr(), 2);
  // a rated 4; b 5 after its resubmit; c gave none.
  EXPECT_EQ(row.csat_responses(), 2);
  EXPECT_DOUBLE_EQ(row.csat_mean(), 4.5);
}

TEST_F(ReportTest, DepartmentHeadsSeeTheirDepartmentsOnly) {
  ASSERT_OK_AND_ASSIGN(v1::VolumeReport sales,
                       Report(&RS::GetVolumeReport, Request(v1::BY_DEPARTMENT), "sam"));
  ASSERT_EQ(sales.rows_size(), 1);
  EXPECT_EQ(sales.rows(0).group(), "sales");
  EXPECT_EQ(sales.rows(0).started(), 2);
  // Over all of January, from the month rollups of sales alone.
  v1::ReportRequest january = Request(v1::BY_APPROVER);
  january.set_to("2026-01-31");
  ASSERT_OK_AND_ASSIGN(v1::VolumeReport approvers, Report(&RS::GetVolumeReport, january, "sam"));
  ASSERT_EQ(approvers.rows_size(), 1);
  EXPECT_EQ(approvers.rows(0).tasks_created(), 3);
  ASSERT_OK_AND_ASSIGN(v1::BacklogReport hr, Report(&RS::GetBacklogReport, Request(), "hana"));
  ASSERT_EQ(hr.rows_size(), 1);
  EXPECT_EQ(hr.rows(0).open(), 1);
  ASSERT_OK_AND_ASSIGN(v1::BacklogReport none, Report(&RS::GetBacklogReport, Request(), "sam"));
  EXPECT_EQ(none.rows_size(), 0);
  // The process admin (ceo) and the auditor see every department.
  ASSERT_OK_AND_ASSIGN(v1::VolumeReport everything,
                       Report(&RS::GetVolumeReport, Request(v1::BY_DEPARTMENT), "ceo"));
  EXPECT_EQ(everything.rows_size(), 2);
  EXPECT_CODE(Report(&RS::GetVolumeReport, Request(), "ann"), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Report(&RS::GetSlaReport, Request(), "fred"), absl::StatusCode::kPermissionDenied);
}

TEST_F(ReportTest, BadRequestsNameTheirFields) {
  v1::ReportRequest dates = Request();
  dates.set_from("2026-13-01");
  dates.set_to("yesterday");
  EXPECT_CODE(Report(&RS::GetVolumeReport, dates), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("from", "to"));

  v1::ReportRequest backwards = Request();
  backwards.set_from("2026-02-01");
  EXPECT_CODE(Report(&RS::GetTimingReport, backwards), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("to"));

  v1::ReportRequest too_long = Request();
  too_long.set_from("2024-01-01");
  EXPECT_CODE(Report(&RS::GetTimingReport, too_long), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("to"));

  v1::ReportRequest unknown = Request();
  unknown.set_definition_key("no-such-process");
  EXPECT_CODE(Report(&RS::GetSlaReport, unknown), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("definition_key"));

  v1::ReportRequest grouping = Request(static_cast<v1::ReportGrouping>(42));
  EXPECT_CODE(Report(&RS::GetQualityReport, grouping), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("group_by"));
  EXPECT_CODE(Report(&RS::GetBacklogReport, Request(v1::BY_WEEK)), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("group_by"));
  EXPECT_CODE(Report(&RS::GetServiceReport, Request(v1::BY_STEP)), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("group_by"));
}

// Every cell and open task the projections hold for the definition.
std::vector<std::string> Snapshot(storage::Store& store) {
  std::vector<std::string> rows;
  for (const char* dim : {"all", "step", "approver", "subject", "step@all", "approver@all",
                          "subject@all", "all@dekad", "step@dekad", "approver@dekad",
                          "subject@dekad", "step@dekad@all", "approver@dekad@all",
                          "subject@dekad@all", "all@month", "step@month",
                          "approver@month", "subject@month", "step@month@all",
                          "approver@month@all", "subject@month@all"}) {
    storage::ReportCellQuery query;
    query.definition_key = "claim";
    query.dim = dim;
    query.day_from = 0;
    query.day_to = 1 << 30;
    auto cells = store.QueryReportCells(query);
    EXPECT_OK(cells);
    for (const auto& cell : cells.ok() ? *cells : std::vector<storage::ReportCell>()) {
      rows.push_back(absl::StrCat(dim, "|", cell.key.metric, "|", cell.key.dim_value, "|",
                                  cell.key.department, "|", cell.key.day, "|", cell.count, "|",
                                  cell.total_wall, "|", cell.total_business, "|",
                                  storage::EncodeHistogram(cell.wall_hist), "|",
                                  storage::EncodeHistogram(cell.business_hist)));
    }
  }
  auto tasks = store.ListOpenReportTasks("claim");
  EXPECT_OK(tasks);
  for (const auto& task : tasks.ok() ? *tasks : std::vector<storage::ReportTaskFact>()) {
    rows.push_back(absl::StrCat("task|", task.task_id, "|", task.approver, "|", task.pending_us,
                                "|", task.due_us, "|", task.breached));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

TEST_F(ReportTest, RebuildingFromTheEventLogEqualsFollowingTheFeed) {
  const std::vector<std::string> incremental = Snapshot(*store_);
  ASSERT_GT(incremental.size(), 40u);
  ASSERT_OK(app_->report_projector().Rebuild());
  EXPECT_EQ(Snapshot(*store_), incremental);
  ASSERT_OK_AND_ASSIGN(v1::VolumeReport all, Report(&RS::GetVolumeReport, Request()));
  EXPECT_EQ(all.rows(0).started(), 4);
}

// An appealed instance leaves the finished counts until it finishes
// again, then counts once, with its new outcome, on its new day.
TEST_F(ReportTest, AnAppealTakesTheFinishBackUntilTheInstanceFinishesAgain) {
  auto volume = [&]() -> v1::VolumeRow {
    EXPECT_OK(app_->report_projector().CatchUp());
    auto report = Report(&RS::GetVolumeReport, Request());
    EXPECT_OK(report);
    return report.ok() && report->rows_size() == 1 ? report->rows(0) : v1::VolumeRow();
  };
  // The rejections the 6th holds, over every row of that day.
  auto rejected_on_sixth = [&]() -> int64_t {
    v1::ReportRequest sixth = Request();
    sixth.set_from("2026-01-06");
    sixth.set_to("2026-01-06");
    auto report = Report(&RS::GetVolumeReport, sixth);
    EXPECT_OK(report);
    int64_t rejected = 0;
    if (!report.ok()) return -1;
    for (const v1::VolumeRow& row : report->rows()) {
      const auto found = row.outcomes().find("REJECTED");
      if (found != row.outcomes().end()) rejected += found->second;
    }
    return rejected;
  };
  const v1::VolumeRow before = volume();
  ASSERT_EQ(before.finished(), 3);
  ASSERT_THAT(before.outcomes(), UnorderedElementsAre(Pair("APPROVED", 2), Pair("REJECTED", 1)));
  ASSERT_EQ(rejected_on_sixth(), 1);

  At(7, 16, 30);
  v1::AppealInstanceRequest appeal;
  appeal.set_request_id(NextId());
  appeal.set_id(c_);
  appeal.set_comment("the papers were in order");
  ASSERT_OK(client_->Call("hal", *client_->instances, &v1::InstanceService::Stub::AppealInstance,
                          appeal));
  const v1::VolumeRow appealed = volume();
  EXPECT_EQ(appealed.started(), 4);
  EXPECT_EQ(appealed.finished(), 2);
  EXPECT_THAT(appealed.outcomes(), UnorderedElementsAre(Pair("APPROVED", 2)));
  EXPECT_THAT(appealed.business_outcomes(), UnorderedElementsAre(Pair("PAID", 2)));

  At(7, 16, 45);
  Decide(c_, v1::APPROVE);
  const v1::VolumeRow again = volume();
  EXPECT_EQ(again.finished(), 3);
  EXPECT_THAT(again.outcomes(), UnorderedElementsAre(Pair("APPROVED", 3)));
  EXPECT_THAT(again.business_outcomes(), UnorderedElementsAre(Pair("PAID", 3)));
  // It finished again on the 7th: the 6th keeps none of it.
  EXPECT_EQ(rejected_on_sixth(), 0);

  const std::vector<std::string> incremental = Snapshot(*store_);
  ASSERT_OK(app_->report_projector().Rebuild());
  EXPECT_EQ(Snapshot(*store_), incremental);
}

// A period covered by whole months and dekads where they fit, days
// elsewhere, and every day exactly once.
TEST(ReportPeriodsTest, CoverDaysTakesTheLargestWholePeriodsThatFit) {
  const absl::CivilDay epoch(1970, 1, 1);
  auto day = [&](int y, int m, int d) { return static_cast<int32_t>(absl::CivilDay(y, m, d) - epoch); };
  using app::Rollup;
  auto runs = app::CoverDays(day(2026, 1, 15), day(2026, 3, 31));
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].rollup, Rollup::kDay);
  EXPECT_EQ(runs[0].first_start, day(2026, 1, 15));
  EXPECT_EQ(runs[0].last_start, day(2026, 1, 20));
  EXPECT_EQ(runs[1].rollup, Rollup::kDekad);
  EXPECT_EQ(runs[1].first_start, day(2026, 1, 21));
  EXPECT_EQ(runs[1].last_start, day(2026, 1, 21));
  EXPECT_EQ(runs[2].rollup, Rollup::kMonth);
  EXPECT_EQ(runs[2].first_start, day(2026, 2, 1));
  EXPECT_EQ(runs[2].last_start, day(2026, 3, 1));
  // A month short of its last day is two dekads and ten days.
  runs = app::CoverDays(day(2026, 1, 1), day(2026, 1, 30));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].rollup, Rollup::kDekad);
  EXPECT_EQ(runs[0].last_start, day(2026, 1, 11));
  EXPECT_EQ(runs[1].rollup, Rollup::kDay);
  EXPECT_EQ(runs[1].last_start, day(2026, 1, 30));
  // The last dekad ends with its month: the 28th of February 2026, the
  // 29th in 2028.
  runs = app::CoverDays(day(2026, 2, 11), day(2026, 2, 28));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].rollup, Rollup::kDekad);
  EXPECT_EQ(runs[0].last_start, day(2026, 2, 21));
  runs = app::CoverDays(day(2028, 2, 21), day(2028, 2, 28));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].rollup, Rollup::kDay);
  EXPECT_TRUE(app::CoverDays(day(2026, 1, 2), day(2026, 1, 1)).empty());

  // Every day of every period inside, none outside, each once.
  const int32_t first = day(2027, 12, 10);
  for (int32_t from = first; from < first + 100; ++from) {
    for (int32_t to = from; to < first + 100; ++to) {
      const auto cover = app::CoverDays(from, to);
      for (int32_t d = first - 5; d < first + 105; ++d) {
        int covering = 0;
        for (const app::RollupRun& run : cover) {
          const int32_t start = app::RollupStart(d, run.rollup);
          if (start >= run.first_start && start <= run.last_start) ++covering;
        }
        ASSERT_EQ(covering, d >= from && d <= to ? 1 : 0) << from << ".." << to << " day " << d;
      }
    }
  }
}

}  // namespace
}  // namespace signoff::testing
