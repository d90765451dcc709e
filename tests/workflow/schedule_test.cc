#include "gmock/gmock.h"
#include "status_matchers.h"
#include "workflow/schedule.h"
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

}  // namespace
}  // namespace signoff::testing
