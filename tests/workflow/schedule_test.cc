#include "gmock/gmock.h"
#include "status_matchers.h"
#include "workflow/schedule.h"
#include "workflow/validation.h"
#include "workflow/yaml_mapping.h"

namespace signoff::testing {
namespace {

namespace v1 = ::signoff::v1;

// Shanghai time; New Year's Day 2026 (a Thursday) off, Sunday 2026-02-01
// worked in exchange.
constexpr char kCalendar[] = R"(
name: cn
time_zone: Asia/Shanghai
years:
  - {year: 2026, holidays: ["2026-01-01"], workdays: ["2026-02-01"]}
)";

class ScheduleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(absl::LoadTimeZone("Asia/Shanghai", &zone_));
    auto parsed = workflow::ParseCalendarYaml(kCalendar);
    ASSERT_OK(parsed);
    auto calendar = workflow::BusinessCalendar::Create(*parsed, zone_);
    ASSERT_OK(calendar);
    calendar_ = std::make_unique<workflow::BusinessCalendar>(std::move(*calendar));
    schedule_.set_working_day(1);
    schedule_.set_at("10:00");
  }

  absl::Time Local(int y, int m, int d, int hh, int mm) const {
    return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), zone_);
  }

  std::vector<std::string> Periods(const std::vector<workflow::ScheduledRun>& runs) const {
    std::vector<std::string> periods;
    for (const auto& run : runs) periods.push_back(run.period);
    return periods;
  }

  absl::TimeZone zone_;
  std::unique_ptr<workflow::BusinessCalendar> calendar_;
  v1::Schedule schedule_;
};

TEST_F(ScheduleTest, AHolidayPushesTheFirstWorkingDay) {
  ASSERT_OK_AND_ASSIGN(auto run, workflow::RunIn(schedule_, *calendar_, absl::CivilMonth(2026, 1)));
  EXPECT_EQ(run.period, "2026-01");
  EXPECT_EQ(run.at, Local(2026, 1, 2, 10, 0));
}

TEST_F(ScheduleTest, AMakeUpWorkdayCountsAsAWorkingDay) {
  ASSERT_OK_AND_ASSIGN(auto run, workflow::RunIn(schedule_, *calendar_, absl::CivilMonth(2026, 2)));
  EXPECT_EQ(run.at, Local(2026, 2, 1, 10, 0));
}

TEST_F(ScheduleTest, TheLocalTimeIsTheCalendarsZone) {
  ASSERT_OK_AND_ASSIGN(auto run, workflow::RunIn(schedule_, *calendar_, absl::CivilMonth(2026, 3)));
  // Monday 2026-03-02 10:00 in Shanghai is 02:00 UTC.
  EXPECT_EQ(run.at, absl::FromCivil(absl::CivilMinute(2026, 3, 2, 2, 0), absl::UTCTimeZone()));
}

TEST_F(ScheduleTest, AMonthWithTooFewWorkingDaysHasNoRun) {
  schedule_.set_working_day(21);
  // February 2026 has 20 working weekdays and the make-up Sunday: 21.
  ASSERT_OK_AND_ASSIGN(auto february,
                       workflow::RunIn(schedule_, *calendar_, absl::CivilMonth(2026, 2)));
  EXPECT_EQ(february.at, Local(2026, 2, 27, 10, 0));
  schedule_.set_working_day(22);
  EXPECT_CODE(workflow::RunIn(schedule_, *calendar_, absl::CivilMonth(2026, 2)),
              absl::StatusCode::kOutOfRange);
  // ...and the next run skips to a month that has one.
  ASSERT_OK_AND_ASSIGN(auto next, workflow::NextRun(schedule_, *calendar_, Local(2026, 2, 1, 0, 0)));
  EXPECT_EQ(next.period, "2026-03");
  EXPECT_EQ(next.at, Local(2026, 3, 31, 10, 0));
}

TEST_F(ScheduleTest, NextRunIsStrictlyAfter) {
  const absl::Time january = Local(2026, 1, 2, 10, 0);
  ASSERT_OK_AND_ASSIGN(auto same, workflow::NextRun(schedule_, *calendar_, january - absl::Seconds(1)));
  EXPECT_EQ(same.at, january);
  ASSERT_OK_AND_ASSIGN(auto next, workflow::NextRun(schedule_, *calendar_, january));
  EXPECT_EQ(next.period, "2026-02");
}

TEST_F(ScheduleTest, MissedRunsAreCaughtUpAsTheScheduleSays) {
  const absl::Time after = Local(2025, 12, 31, 0, 0);
  const absl::Time now = Local(2026, 4, 15, 0, 0);  // January to April missed
  schedule_.set_catch_up(v1::CATCH_UP_ALL);
  ASSERT_OK_AND_ASSIGN(auto all, workflow::DueRuns(schedule_, *calendar_, after, now));
  EXPECT_THAT(Periods(all), ::testing::ElementsAre("2026-01", "2026-02", "2026-03", "2026-04"));
  schedule_.set_catch_up(v1::CATCH_UP_LATEST);
  ASSERT_OK_AND_ASSIGN(auto latest, workflow::DueRuns(schedule_, *calendar_, after, now));
  EXPECT_THAT(Periods(latest), ::testing::ElementsAre("2026-04"));
  schedule_.set_catch_up(v1::CATCH_UP_SKIP);
  ASSERT_OK_AND_ASSIGN(auto skipped, workflow::DueRuns(schedule_, *calendar_, after, now));
  EXPECT_THAT(skipped, ::testing::IsEmpty());
}

TEST_F(ScheduleTest, SkipStillStartsARunFoundWithinItsGrace) {
  schedule_.set_catch_up(v1::CATCH_UP_SKIP);
  const absl::Time run = Local(2026, 4, 1, 10, 0);
  ASSERT_OK_AND_ASSIGN(auto fresh, workflow::DueRuns(schedule_, *calendar_, run - absl::Hours(1),
                                                     run + workflow::kScheduleSkipGrace));
  EXPECT_THAT(Periods(fresh), ::testing::ElementsAre("2026-04"));
  ASSERT_OK_AND_ASSIGN(auto stale, workflow::DueRuns(schedule_, *calendar_, run - absl::Hours(1),
                                                     run + workflow::kScheduleSkipGrace +
                                                         absl::Seconds(1)));
  EXPECT_THAT(stale, ::testing::IsEmpty());
}

TEST_F(ScheduleTest, NothingIsDueBeforeTheRun) {
  const absl::Time run = Local(2026, 4, 1, 10, 0);
  ASSERT_OK_AND_ASSIGN(auto none, workflow::DueRuns(schedule_, *calendar_, run - absl::Hours(2),
                                                    run - absl::Seconds(1)));
  EXPECT_THAT(none, ::testing::IsEmpty());
  ASSERT_OK_AND_ASSIGN(auto one, workflow::DueRuns(schedule_, *calendar_, run - absl::Hours(2), run));
  EXPECT_THAT(Periods(one), ::testing::ElementsAre("2026-04"));
}

// Every working day at 10:00: Thursday 2026-01-01 is a holiday, the
// weekend has no run, and Sunday 2026-02-01 (a make-up workday) has one.
class DailyScheduleTest : public ScheduleTest {
 protected:
  void SetUp() override {
    ScheduleTest::SetUp();
    schedule_.set_every(v1::DAILY);
    schedule_.clear_working_day();
  }
};

TEST_F(DailyScheduleTest, EveryWorkingDayHasARunAndItsDayIsThePeriod) {
  ASSERT_OK_AND_ASSIGN(auto friday, workflow::RunIn(schedule_, *calendar_, absl::CivilDay(2026, 1, 2)));
  EXPECT_EQ(friday.period, "2026-01-02");
  EXPECT_EQ(friday.at, Local(2026, 1, 2, 10, 0));
  ASSERT_OK_AND_ASSIGN(auto make_up, workflow::RunIn(schedule_, *calendar_, absl::CivilDay(2026, 2, 1)));
  EXPECT_EQ(make_up.period, "2026-02-01");
  EXPECT_CODE(workflow::RunIn(schedule_, *calendar_, absl::CivilDay(2026, 1, 1)),
              absl::StatusCode::kOutOfRange);  // the holiday
  EXPECT_CODE(workflow::RunIn(schedule_, *calendar_, absl::CivilDay(2026, 1, 3)),
              absl::StatusCode::kOutOfRange);  // Saturday
}

TEST_F(DailyScheduleTest, TheRunIsDueAtItsMinuteAndNotTheMinuteBefore) {
  const absl::Time run = Local(2026, 1, 2, 10, 0);
  const absl::Time after = Local(2026, 1, 1, 0, 0);
  ASSERT_OK_AND_ASSIGN(auto early, workflow::DueRuns(schedule_, *calendar_, after,
                                                     run - absl::Minutes(1)));
  EXPECT_THAT(early, ::testing::IsEmpty());
  ASSERT_OK_AND_ASSIGN(auto on_time, workflow::DueRuns(schedule_, *calendar_, after, run));
  EXPECT_THAT(Periods(on_time), ::testing::ElementsAre("2026-01-02"));
  ASSERT_OK_AND_ASSIGN(auto same, workflow::NextRun(schedule_, *calendar_, run - absl::Minutes(1)));
  EXPECT_EQ(same.at, run);
}

TEST_F(DailyScheduleTest, TheNextRunSkipsHolidaysAndWeekends) {
  // After Wednesday's run: the holiday Thursday is skipped.
  ASSERT_OK_AND_ASSIGN(auto after_new_year,
                       workflow::NextRun(schedule_, *calendar_, Local(2025, 12, 31, 10, 0)));
  EXPECT_EQ(after_new_year.period, "2026-01-02");
  // After Friday's run: Monday, past the weekend.
  ASSERT_OK_AND_ASSIGN(auto monday, workflow::NextRun(schedule_, *calendar_, Local(2026, 1, 2, 10, 0)));
  EXPECT_EQ(monday.period, "2026-01-05");
  EXPECT_EQ(monday.at, Local(2026, 1, 5, 10, 0));
  // After Friday 2026-01-30: the make-up Sunday comes before Monday.
  ASSERT_OK_AND_ASSIGN(auto sunday, workflow::NextRun(schedule_, *calendar_, Local(2026, 1, 30, 10, 0)));
  EXPECT_EQ(sunday.period, "2026-02-01");
}

TEST_F(DailyScheduleTest, DowntimeOverSeveralDaysIsCaughtUpAsTheScheduleSays) {
  // Down from just after Wednesday's run to Tuesday 09:00: Friday and
  // Monday were missed (not the holiday, not the weekend), Tuesday's run
  // has not come.
  const absl::Time after = Local(2025, 12, 31, 10, 0);
  const absl::Time now = Local(2026, 1, 6, 9, 0);
  schedule_.set_catch_up(v1::CATCH_UP_ALL);
  ASSERT_OK_AND_ASSIGN(auto all, workflow::DueRuns(schedule_, *calendar_, after, now));
  EXPECT_THAT(Periods(all), ::testing::ElementsAre("2026-01-02", "2026-01-05"));
  ASSERT_OK_AND_ASSIGN(auto with_tuesday, workflow::DueRuns(schedule_, *calendar_, after,
                                                            Local(2026, 1, 6, 10, 0)));
  EXPECT_THAT(Periods(with_tuesday),
              ::testing::ElementsAre("2026-01-02", "2026-01-05", "2026-01-06"));
  schedule_.set_catch_up(v1::CATCH_UP_LATEST);
  ASSERT_OK_AND_ASSIGN(auto latest, workflow::DueRuns(schedule_, *calendar_, after, now));
  EXPECT_THAT(Periods(latest), ::testing::ElementsAre("2026-01-05"));
  schedule_.set_catch_up(v1::CATCH_UP_SKIP);
  ASSERT_OK_AND_ASSIGN(auto skipped, workflow::DueRuns(schedule_, *calendar_, after, now));
  EXPECT_THAT(skipped, ::testing::IsEmpty());
  // Back within the grace of Tuesday's run: that one still starts, alone.
  ASSERT_OK_AND_ASSIGN(auto fresh, workflow::DueRuns(schedule_, *calendar_, after,
                                                     Local(2026, 1, 6, 10, 30)));
  EXPECT_THAT(Periods(fresh), ::testing::ElementsAre("2026-01-06"));
}

TEST(SchedulePeriodTest, WeeksAreIsoWeeksOfTheirThursdaysYear) {
  EXPECT_EQ(workflow::WeekPeriod(absl::CivilDay(2026, 4, 15)), "2026-W16");
  // Monday 2025-12-29 starts 2026's first week; 2026 has 53 weeks, the
  // last of them holding Friday 2027-01-01.
  EXPECT_EQ(workflow::WeekPeriod(absl::CivilDay(2025, 12, 29)), "2026-W01");
  EXPECT_EQ(workflow::WeekPeriod(absl::CivilDay(2026, 1, 4)), "2026-W01");
  EXPECT_EQ(workflow::WeekPeriod(absl::CivilDay(2026, 1, 5)), "2026-W02");
  EXPECT_EQ(workflow::WeekPeriod(absl::CivilDay(2027, 1, 1)), "2026-W53");
  EXPECT_EQ(workflow::WeekPeriod(absl::CivilDay(2027, 1, 4)), "2027-W01");
  EXPECT_EQ(workflow::DayPeriod(absl::CivilDay(2026, 4, 5)), "2026-04-05");
}

// The nth working day of each ISO week, Monday to Sunday.
class WeeklyScheduleTest : public ScheduleTest {
 protected:
  void SetUp() override {
    ScheduleTest::SetUp();
    schedule_.set_every(v1::WEEKLY);
  }
};

TEST_F(WeeklyScheduleTest, AHolidayPushesTheNthWorkingDayOfTheWeek) {
  // 2026-W01 runs Monday 2025-12-29 to Sunday 2026-01-04, New Year's Day
  // off: its fourth working day is Friday.
  schedule_.set_working_day(4);
  ASSERT_OK_AND_ASSIGN(auto run, workflow::RunIn(schedule_, *calendar_, absl::CivilDay(2026, 1, 1)));
  EXPECT_EQ(run.period, "2026-W01");
  EXPECT_EQ(run.at, Local(2026, 1, 2, 10, 0));
  schedule_.set_working_day(1);
  ASSERT_OK_AND_ASSIGN(auto first, workflow::RunIn(schedule_, *calendar_, absl::CivilDay(2026, 1, 3)));
  EXPECT_EQ(first.at, Local(2025, 12, 29, 10, 0));
}

TEST_F(WeeklyScheduleTest, AWeekWithTooFewWorkingDaysHasNoRun) {
  // The week of the make-up Sunday has six working days; others five.
  schedule_.set_working_day(6);
  ASSERT_OK_AND_ASSIGN(auto run, workflow::RunIn(schedule_, *calendar_, absl::CivilDay(2026, 1, 26)));
  EXPECT_EQ(run.period, "2026-W05");
  EXPECT_EQ(run.at, Local(2026, 2, 1, 10, 0));
  EXPECT_CODE(workflow::RunIn(schedule_, *calendar_, absl::CivilDay(2026, 1, 19)),
              absl::StatusCode::kOutOfRange);
  ASSERT_OK_AND_ASSIGN(auto next, workflow::NextRun(schedule_, *calendar_, Local(2026, 1, 5, 0, 0)));
  EXPECT_EQ(next.period, "2026-W05");
}

TEST_F(WeeklyScheduleTest, MissedWeeksAreCaughtUpAsTheScheduleSays) {
  schedule_.set_working_day(1);
  const absl::Time after = Local(2026, 1, 5, 10, 0);  // W02's run
  const absl::Time now = Local(2026, 1, 26, 10, 0);   // W05's run, to the minute
  schedule_.set_catch_up(v1::CATCH_UP_ALL);
  ASSERT_OK_AND_ASSIGN(auto all, workflow::DueRuns(schedule_, *calendar_, after, now));
  EXPECT_THAT(Periods(all), ::testing::ElementsAre("2026-W03", "2026-W04", "2026-W05"));
  ASSERT_OK_AND_ASSIGN(auto before, workflow::DueRuns(schedule_, *calendar_, after,
                                                      now - absl::Minutes(1)));
  EXPECT_THAT(Periods(before), ::testing::ElementsAre("2026-W03", "2026-W04"));
  schedule_.set_catch_up(v1::CATCH_UP_LATEST);
  ASSERT_OK_AND_ASSIGN(auto latest, workflow::DueRuns(schedule_, *calendar_, after, now));
  EXPECT_THAT(Periods(latest), ::testing::ElementsAre("2026-W05"));
  schedule_.set_catch_up(v1::CATCH_UP_SKIP);
  ASSERT_OK_AND_ASSIGN(auto skip, workflow::DueRuns(schedule_, *calendar_, after, now));
  EXPECT_THAT(Periods(skip), ::testing::ElementsAre("2026-W05"));  // found on time
}

// A scheduled definition, with `schedule` lines in place of {schedule}.
absl::StatusOr<v1::WorkflowDefinition> ScheduledDefinition(const std::string& schedule) {
  std::string yaml = R"(
key: batch
calendar: cn
service_accounts: [svc]
subject: {field: dealer, type: dealer}
form: {fields: [{name: dealer, type: STRING, required: true}]}
schedule: {applicant: svc, subjects: [D1], at: "10:00", {schedule}}
steps:
  - id: review
    approval: {approvers: [{user: mia}]}
    next: [{to: done}]
  - {id: done, end: {}}
)";
  yaml.replace(yaml.find("{schedule}"), 10, schedule);
  return workflow::ParseDefinitionYaml(yaml);
}

std::vector<std::string> ProblemPaths(const v1::WorkflowDefinition& definition) {
  std::vector<std::string> paths;
  for (const auto& problem : workflow::ValidateDefinition(definition, nullptr, nullptr)) {
    paths.push_back(problem.path());
  }
  return paths;
}

std::vector<std::string> ScheduleProblems(const std::string& schedule) {
  auto definition = ScheduledDefinition(schedule);
  EXPECT_OK(definition);
  return definition.ok() ? ProblemPaths(*definition) : std::vector<std::string>{};
}

TEST(ScheduleValidationTest, WorkingDayIsBoundedByWhatTheScheduleCounts) {
  EXPECT_THAT(ScheduleProblems("working_day: 1"), ::testing::IsEmpty());
  EXPECT_THAT(ScheduleProblems("working_day: 20, every: MONTHLY"), ::testing::IsEmpty());
  EXPECT_THAT(ScheduleProblems("working_day: 21"), ::testing::ElementsAre("schedule.working_day"));
  EXPECT_THAT(ScheduleProblems("every: MONTHLY"), ::testing::ElementsAre("schedule.working_day"));
  EXPECT_THAT(ScheduleProblems("every: DAILY"), ::testing::IsEmpty());
  EXPECT_THAT(ScheduleProblems("every: DAILY, working_day: 1"),
              ::testing::ElementsAre("schedule.working_day"));
  EXPECT_THAT(ScheduleProblems("every: WEEKLY, working_day: 7"), ::testing::IsEmpty());
  EXPECT_THAT(ScheduleProblems("every: WEEKLY, working_day: 8"),
              ::testing::ElementsAre("schedule.working_day"));
  EXPECT_THAT(ScheduleProblems("every: WEEKLY"), ::testing::ElementsAre("schedule.working_day"));
}

TEST(ScheduleValidationTest, AnUnknownFrequencyIsAnErrorWithItsPath) {
  for (const char* every : {"every: HOURLY", "every: 9"}) {
    auto parsed = ScheduledDefinition(every);
    EXPECT_CODE(parsed, absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), ::testing::HasSubstr("schedule.every"));
  }
  // A number no frequency has, as a binary request may carry it.
  ASSERT_OK_AND_ASSIGN(auto definition, ScheduledDefinition("every: DAILY"));
  definition.mutable_schedule()->set_every(static_cast<v1::ScheduleEvery>(9));
  EXPECT_THAT(ProblemPaths(definition), ::testing::ElementsAre("schedule.every"));
}

}  // namespace
}  // namespace signoff::testing
