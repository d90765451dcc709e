#include "workflow/calendar.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"
#include "workflow/errors.h"
#include "workflow/yaml_mapping.h"

namespace signoff::testing {
namespace {

namespace v1 = ::signoff::v1;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using workflow::BusinessCalendar;
using workflow::CalendarSet;
using workflow::ClockBasis;

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

BusinessCalendar CalendarFrom(const std::string& yaml) {
  auto calendar = workflow::ParseCalendarYaml(yaml);
  EXPECT_TRUE(calendar.ok()) << calendar.status();
  auto business = BusinessCalendar::Create(*calendar, Zone(calendar->time_zone()));
  EXPECT_TRUE(business.ok()) << business.status();
  return *std::move(business);
}

// Monday to Friday, 09:00 to 18:00, no exceptions.
BusinessCalendar Plain(const std::string& zone = "Asia/Shanghai") {
  return CalendarFrom("name: plain\ntime_zone: " + zone + "\n");
}

// National Day week 2026 off (Thursday 1 to Wednesday 7 October), with
// Sunday 20 September and Saturday 10 October worked in exchange, and New
// Year's Day 2027 off.
constexpr char kMainland[] = R"(
name: cn-mainland
time_zone: Asia/Shanghai
years:
  - year: 2026
    holidays: [2026-10-01, 2026-10-02, 2026-10-05, 2026-10-06, 2026-10-07]
    workdays: [2026-09-20, 2026-10-10]
  - year: 2027
    holidays: [2027-01-01]
)";

absl::Time Local(const BusinessCalendar& calendar, int year, int month, int day, int hour,
                 int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0), calendar.zone());
}

std::vector<std::string> PathsOf(const std::vector<v1::Problem>& problems) {
  std::vector<std::string> paths;
  for (const auto& problem : problems) paths.push_back(problem.path());
  return paths;
}

TEST(CalendarDatesTest, WeekdaysUsedBelowAreTheRightOnes) {
  EXPECT_EQ(absl::GetWeekday(absl::CivilDay(2026, 1, 1)), absl::Weekday::thursday);
  EXPECT_EQ(absl::GetWeekday(absl::CivilDay(2026, 1, 5)), absl::Weekday::monday);
  EXPECT_EQ(absl::GetWeekday(absl::CivilDay(2026, 9, 20)), absl::Weekday::sunday);
  EXPECT_EQ(absl::GetWeekday(absl::CivilDay(2026, 10, 1)), absl::Weekday::thursday);
  EXPECT_EQ(absl::GetWeekday(absl::CivilDay(2026, 10, 10)), absl::Weekday::saturday);
  EXPECT_EQ(absl::GetWeekday(absl::CivilDay(2026, 12, 31)), absl::Weekday::thursday);
  EXPECT_EQ(absl::GetWeekday(absl::CivilDay(2027, 1, 1)), absl::Weekday::friday);
  EXPECT_EQ(absl::GetWeekday(absl::CivilDay(2026, 3, 29)), absl::Weekday::sunday);
  EXPECT_EQ(absl::GetWeekday(absl::CivilDay(2026, 10, 25)), absl::Weekday::sunday);
}

TEST(BusinessCalendarTest, WeekendsAreOffByDefault) {
  const BusinessCalendar calendar = Plain();
  EXPECT_TRUE(calendar.IsWorkingDay(absl::CivilDay(2026, 1, 9)));    // Friday
  EXPECT_FALSE(calendar.IsWorkingDay(absl::CivilDay(2026, 1, 10)));  // Saturday
  EXPECT_FALSE(calendar.IsWorkingDay(absl::CivilDay(2026, 1, 11)));  // Sunday
  EXPECT_TRUE(calendar.IsWorkingDay(absl::CivilDay(2026, 1, 12)));   // Monday
  EXPECT_EQ(calendar.WorkingDayLength(), absl::Hours(9));
}

TEST(BusinessCalendarTest, AddCountsOnlyWorkingHours) {
  const BusinessCalendar calendar = Plain();
  // Monday 15:00 + two working days: 3h Monday, 9h Tuesday, 6h Wednesday.
  ASSERT_OK_AND_ASSIGN(absl::Time due,
                       calendar.Add(Local(calendar, 2026, 1, 5, 15), absl::Hours(18)));
  EXPECT_EQ(due, Local(calendar, 2026, 1, 7, 15));
}

TEST(BusinessCalendarTest, WorkEndingWithTheDayEndsThereNotNextMorning) {
  const BusinessCalendar calendar = Plain();
  // Friday evening: Monday and Tuesday give the 18 hours, ending Tuesday 18:00.
  ASSERT_OK_AND_ASSIGN(absl::Time due,
                       calendar.Add(Local(calendar, 2026, 1, 9, 20), absl::Hours(18)));
  EXPECT_EQ(due, Local(calendar, 2026, 1, 13, 18));
}

TEST(BusinessCalendarTest, StartOutsideWorkingHoursWaitsForTheNextStretch) {
  const BusinessCalendar calendar = Plain();
  ASSERT_OK_AND_ASSIGN(absl::Time early,
                       calendar.Add(Local(calendar, 2026, 1, 5, 7), absl::Hours(1)));
  EXPECT_EQ(early, Local(calendar, 2026, 1, 5, 10));
  ASSERT_OK_AND_ASSIGN(absl::Time late,
                       calendar.Add(Local(calendar, 2026, 1, 5, 18, 30), absl::Hours(1)));
  EXPECT_EQ(late, Local(calendar, 2026, 1, 6, 10));
  ASSERT_OK_AND_ASSIGN(absl::Time weekend,
                       calendar.Add(Local(calendar, 2026, 1, 10, 12), absl::Hours(1)));
  EXPECT_EQ(weekend, Local(calendar, 2026, 1, 12, 10));

  EXPECT_EQ(calendar.Between(Local(calendar, 2026, 1, 5, 7), Local(calendar, 2026, 1, 5, 9)),
            absl::ZeroDuration());
  EXPECT_EQ(calendar.Between(Local(calendar, 2026, 1, 10, 0), Local(calendar, 2026, 1, 12, 0)),
            absl::ZeroDuration());
}

TEST(BusinessCalendarTest, ZeroWorkingTimeIsTheStartEvenOffHours) {
  const BusinessCalendar calendar = Plain();
  const absl::Time saturday = Local(calendar, 2026, 1, 10, 12);
  ASSERT_OK_AND_ASSIGN(absl::Time due, calendar.Add(saturday, absl::ZeroDuration()));
  EXPECT_EQ(due, saturday);
  EXPECT_CODE(calendar.Add(saturday, -absl::Hours(1)), absl::StatusCode::kInvalidArgument);
}

TEST(BusinessCalendarTest, BetweenIsZeroForAnEmptyOrBackwardRange) {
  const BusinessCalendar calendar = Plain();
  const absl::Time monday_noon = Local(calendar, 2026, 1, 5, 12);
  EXPECT_EQ(calendar.Between(monday_noon, monday_noon), absl::ZeroDuration());
  EXPECT_EQ(calendar.Between(monday_noon, monday_noon - absl::Hours(2)), absl::ZeroDuration());
  EXPECT_EQ(calendar.Between(monday_noon, monday_noon + absl::Hours(2)), absl::Hours(2));
}

TEST(BusinessCalendarTest, HolidaysAreSkipped) {
  const BusinessCalendar calendar = CalendarFrom(kMainland);
  EXPECT_FALSE(calendar.IsWorkingDay(absl::CivilDay(2026, 10, 1)));  // Thursday
  EXPECT_FALSE(calendar.IsWorkingDay(absl::CivilDay(2026, 10, 7)));  // Wednesday
  EXPECT_TRUE(calendar.IsWorkingDay(absl::CivilDay(2026, 10, 8)));   // Thursday
  // Wednesday 30 September 17:00 + one working day: 1h that evening, the
  // rest on Thursday 8 October.
  ASSERT_OK_AND_ASSIGN(absl::Time due,
                       calendar.Add(Local(calendar, 2026, 9, 30, 17), absl::Hours(9)));
  EXPECT_EQ(due, Local(calendar, 2026, 10, 8, 17));
  // Thursday 8, Friday 9 and the make-up Saturday 10 October.
  EXPECT_EQ(calendar.Between(Local(calendar, 2026, 10, 1, 0), Local(calendar, 2026, 10, 11, 0)),
            absl::Hours(27));
}

TEST(BusinessCalendarTest, MakeUpWorkdaysCountOnWeekends) {
  const BusinessCalendar mainland = CalendarFrom(kMainland);
  EXPECT_TRUE(mainland.IsWorkingDay(absl::CivilDay(2026, 10, 10)));   // Saturday
  EXPECT_TRUE(mainland.IsWorkingDay(absl::CivilDay(2026, 9, 20)));    // Sunday
  EXPECT_FALSE(mainland.IsWorkingDay(absl::CivilDay(2026, 10, 11)));  // Sunday

  // Friday 9 October 18:00 + one working day ends on the Saturday...
  ASSERT_OK_AND_ASSIGN(absl::Time due,
                       mainland.Add(Local(mainland, 2026, 10, 9, 18), absl::Hours(9)));
  EXPECT_EQ(due, Local(mainland, 2026, 10, 10, 18));
  // ...where a calendar without the exchange waits for Monday.
  const BusinessCalendar plain = Plain();
  ASSERT_OK_AND_ASSIGN(absl::Time plain_due,
                       plain.Add(Local(plain, 2026, 10, 9, 18), absl::Hours(9)));
  EXPECT_EQ(plain_due, Local(plain, 2026, 10, 12, 18));

  EXPECT_EQ(mainland.Between(Local(mainland, 2026, 9, 19, 0), Local(mainland, 2026, 9, 21, 0)),
            absl::Hours(9));
}

TEST(BusinessCalendarTest, DeadlinesCrossTheYearEnd) {
  const BusinessCalendar calendar = CalendarFrom(kMainland);
  EXPECT_FALSE(calendar.IsWorkingDay(absl::CivilDay(2027, 1, 1)));
  // Thursday 31 December 10:00 + two working days: 8h that day, then
  // (New Year's Day and the weekend off) 9h on Monday 4 January and 1h on
  // Tuesday 5 January.
  const absl::Time start = Local(calendar, 2026, 12, 31, 10);
  ASSERT_OK_AND_ASSIGN(absl::Time due, calendar.Add(start, absl::Hours(18)));
  EXPECT_EQ(due, Local(calendar, 2027, 1, 5, 10));
  EXPECT_EQ(calendar.Between(start, due), absl::Hours(18));
}

TEST(BusinessCalendarTest, LunchBreakSplitsTheDay) {
  const BusinessCalendar calendar = CalendarFrom(R"(
name: office
time_zone: Asia/Shanghai
working_hours:
  - {start: "09:00", end: "12:00"}
  - {start: "13:30", end: "18:00"}
)");
  EXPECT_EQ(calendar.WorkingDayLength(), absl::Hours(7) + absl::Minutes(30));
  ASSERT_OK_AND_ASSIGN(absl::Time after_lunch,
                       calendar.Add(Local(calendar, 2026, 1, 5, 11), absl::Hours(2)));
  EXPECT_EQ(after_lunch, Local(calendar, 2026, 1, 5, 14, 30));
  ASSERT_OK_AND_ASSIGN(absl::Time before_lunch,
                       calendar.Add(Local(calendar, 2026, 1, 5, 11), absl::Hours(1)));
  EXPECT_EQ(before_lunch, Local(calendar, 2026, 1, 5, 12));
  ASSERT_OK_AND_ASSIGN(absl::Time from_lunch,
                       calendar.Add(Local(calendar, 2026, 1, 5, 12, 15), absl::Minutes(30)));
  EXPECT_EQ(from_lunch, Local(calendar, 2026, 1, 5, 14));
  EXPECT_EQ(calendar.Between(Local(calendar, 2026, 1, 5, 11), Local(calendar, 2026, 1, 5, 14)),
            absl::Hours(1) + absl::Minutes(30));
}

TEST(BusinessCalendarTest, TheSameInstantMeansDifferentLocalHoursPerZone) {
  const BusinessCalendar shanghai = Plain("Asia/Shanghai");
  const BusinessCalendar berlin = Plain("Europe/Berlin");
  // Monday 5 January 08:00 UTC is 16:00 in Shanghai and 09:00 in Berlin.
  const absl::Time start =
      absl::FromCivil(absl::CivilSecond(2026, 1, 5, 8, 0, 0), absl::UTCTimeZone());
  ASSERT_OK_AND_ASSIGN(absl::Time shanghai_due, shanghai.Add(start, absl::Hours(4)));
  ASSERT_OK_AND_ASSIGN(absl::Time berlin_due, berlin.Add(start, absl::Hours(4)));
  EXPECT_EQ(shanghai_due, Local(shanghai, 2026, 1, 6, 11));
  EXPECT_EQ(berlin_due, Local(berlin, 2026, 1, 5, 13));
  EXPECT_EQ(berlin_due - start, absl::Hours(4));
  EXPECT_EQ(shanghai_due - start, absl::Hours(19));
}

TEST(BusinessCalendarTest, WorkingHoursFollowLocalTimeAcrossDaylightSaving) {
  const BusinessCalendar shanghai = Plain("Asia/Shanghai");
  const BusinessCalendar berlin = Plain("Europe/Berlin");
  // Friday 27 March 15:00 + one working day ends Monday 15:00 local. Berlin
  // moves its clocks forward on Sunday 29 March, so an hour less passes.
  ASSERT_OK_AND_ASSIGN(absl::Time berlin_due,
                       berlin.Add(Local(berlin, 2026, 3, 27, 15), absl::Hours(9)));
  EXPECT_EQ(berlin_due, Local(berlin, 2026, 3, 30, 15));
  EXPECT_EQ(berlin_due - Local(berlin, 2026, 3, 27, 15), absl::Hours(71));
  EXPECT_EQ(berlin_due,
            absl::FromCivil(absl::CivilSecond(2026, 3, 30, 13, 0, 0), absl::UTCTimeZone()));

  ASSERT_OK_AND_ASSIGN(absl::Time shanghai_due,
                       shanghai.Add(Local(shanghai, 2026, 3, 27, 15), absl::Hours(9)));
  EXPECT_EQ(shanghai_due - Local(shanghai, 2026, 3, 27, 15), absl::Hours(72));
}

TEST(BusinessCalendarTest, RoundTheClockDaysShrinkAndGrowWithDaylightSaving) {
  const BusinessCalendar berlin = CalendarFrom(R"(
name: control-room
time_zone: Europe/Berlin
working_days: [MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY]
working_hours: [{start: "00:00", end: "24:00"}]
)");
  EXPECT_EQ(berlin.Between(Local(berlin, 2026, 3, 28, 0), Local(berlin, 2026, 3, 30, 0)),
            absl::Hours(47));
  EXPECT_EQ(berlin.Between(Local(berlin, 2026, 10, 24, 0), Local(berlin, 2026, 10, 26, 0)),
            absl::Hours(49));
  ASSERT_OK_AND_ASSIGN(absl::Time due, berlin.Add(Local(berlin, 2026, 3, 29, 0), absl::Hours(23)));
  EXPECT_EQ(due, Local(berlin, 2026, 3, 30, 0));
}

TEST(BusinessCalendarTest, AStretchStartingInTheSkippedHourStartsAtTheJump) {
  const BusinessCalendar berlin = CalendarFrom(R"(
name: night-desk
time_zone: Europe/Berlin
working_days: [SATURDAY, SUNDAY]
working_hours: [{start: "02:30", end: "04:00"}]
)");
  // On Sunday 29 March the clocks jump from 02:00 to 03:00, so the stretch
  // runs from 03:00 to 04:00 only.
  EXPECT_EQ(berlin.Between(Local(berlin, 2026, 3, 28, 0), Local(berlin, 2026, 3, 29, 0)),
            absl::Minutes(90));
  EXPECT_EQ(berlin.Between(Local(berlin, 2026, 3, 29, 0), Local(berlin, 2026, 3, 30, 0)),
            absl::Hours(1));
  ASSERT_OK_AND_ASSIGN(absl::Time due,
                       berlin.Add(Local(berlin, 2026, 3, 29, 0), absl::Minutes(15)));
  EXPECT_EQ(due, Local(berlin, 2026, 3, 29, 3, 15));
}

// Between undoes Add, and Add gives the earliest such instant, from starts
// spread over working and idle hours, weekends, holidays, make-up days, a
// year end and a daylight-saving switch.
void ExpectAddAndBetweenAreInverse(const BusinessCalendar& calendar, absl::CivilSecond first,
                                   absl::CivilSecond last) {
  const std::vector<absl::Duration> amounts = {absl::Seconds(1),
                                               absl::Minutes(1),
                                               absl::Hours(1),
                                               absl::Hours(9),
                                               absl::Hours(13) + absl::Minutes(17),
                                               absl::Hours(45),
                                               absl::Hours(300)};
  int checked = 0;
  for (absl::CivilSecond local = first; local < last; local += 97 * 60) {
    const absl::Time start = absl::FromCivil(local, calendar.zone());
    for (absl::Duration amount : amounts) {
      ASSERT_OK_AND_ASSIGN(absl::Time due, calendar.Add(start, amount));
      ASSERT_EQ(calendar.Between(start, due), amount)
          << calendar.name() << " from " << absl::FormatTime(start, calendar.zone()) << " + "
          << amount;
      ASSERT_LT(calendar.Between(start, due - absl::Nanoseconds(1)), amount)
          << calendar.name() << " from " << absl::FormatTime(start, calendar.zone()) << " + "
          << amount;
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(BusinessCalendarTest, BetweenInvertsAddFromManyStarts) {
  ExpectAddAndBetweenAreInverse(CalendarFrom(kMainland), absl::CivilSecond(2026, 9, 15, 0, 0, 0),
                                absl::CivilSecond(2026, 10, 15, 0, 0, 0));
  ExpectAddAndBetweenAreInverse(CalendarFrom(kMainland), absl::CivilSecond(2026, 12, 20, 0, 0, 0),
                                absl::CivilSecond(2027, 1, 10, 0, 0, 0));
  ExpectAddAndBetweenAreInverse(CalendarFrom(R"(
name: berlin-office
time_zone: Europe/Berlin
working_hours:
  - {start: "01:30", end: "03:30"}
  - {start: "08:00", end: "12:00"}
  - {start: "13:00", end: "17:00"}
working_days: [MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SUNDAY]
)"),
                                absl::CivilSecond(2026, 3, 20, 0, 0, 0),
                                absl::CivilSecond(2026, 4, 5, 0, 0, 0));
}

TEST(BusinessCalendarTest, AddGivesUpAfterTwentyYears) {
  const BusinessCalendar calendar = Plain();
  // About 2,350 working hours a year: 100,000 hours is over 40 years.
  auto due = calendar.Add(Local(calendar, 2026, 1, 5, 9), absl::Hours(100000));
  EXPECT_CODE(due, absl::StatusCode::kOutOfRange);
}

TEST(ValidateCalendarTest, AGoodCalendarHasNoProblems) {
  auto calendar = workflow::ParseCalendarYaml(kMainland);
  ASSERT_OK(calendar);
  EXPECT_THAT(workflow::ValidateCalendar(*calendar), IsEmpty());
}

TEST(ValidateCalendarTest, ReportsEveryProblemWithItsPath) {
  auto calendar = workflow::ParseCalendarYaml(R"(
name: CN_mainland
time_zone: ""
working_days: [MONDAY, MONDAY, WEEKDAY_UNSPECIFIED]
working_hours:
  - {start: "09:00", end: "12:00"}
  - {start: "11:00", end: "17:00"}
  - {start: "17:00", end: "16:00"}
  - {start: "25:00", end: "9:00"}
years:
  - year: 2026
    holidays: [2026-02-30, 2027-01-01, 2026-10-01, "1 Oct"]
    workdays: [2026-10-01]
  - year: 2026
)");
  ASSERT_OK(calendar);
  const std::vector<v1::Problem> problems = workflow::ValidateCalendar(*calendar);
  EXPECT_THAT(PathsOf(problems),
              UnorderedElementsAre(
                  "name", "time_zone", "working_days[1]", "working_days[2]",
                  "working_hours[1].start", "working_hours[2].end", "working_hours[3].start",
                  "working_hours[3].end", "years[0].holidays[0]", "years[0].holidays[1]",
                  "years[0].holidays[3]", "years[0].workdays[0]", "years[1].year"));
  for (const auto& problem : problems) EXPECT_FALSE(problem.message().empty()) << problem.path();
}

TEST(ValidateCalendarTest, NeedsAWorkingWeekdayAndASafeZoneName) {
  v1::Calendar calendar;
  calendar.set_name("x");
  calendar.set_time_zone("../../etc/passwd");
  calendar.add_working_days(v1::WEEKDAY_UNSPECIFIED);
  EXPECT_THAT(PathsOf(workflow::ValidateCalendar(calendar)),
              UnorderedElementsAre("time_zone", "working_days[0]", "working_days"));
}

TEST(ValidateCalendarTest, AcceptsTouchingStretchesAndMidnight) {
  v1::Calendar calendar;
  calendar.set_name("shifts");
  calendar.set_time_zone("America/Argentina/Buenos_Aires");
  auto* early = calendar.add_working_hours();
  early->set_start("00:00");
  early->set_end("12:00");
  auto* late = calendar.add_working_hours();
  late->set_start("12:00");
  late->set_end("24:00");
  EXPECT_THAT(workflow::ValidateCalendar(calendar), IsEmpty());
}

TEST(BusinessCalendarCreateTest, RejectsABadCalendarWithOneViolationPerProblem) {
  v1::Calendar calendar;
  calendar.set_name("Bad Name");
  calendar.set_time_zone("Asia/Shanghai");
  auto* hours = calendar.add_working_hours();
  hours->set_start("18:00");
  hours->set_end("09:00");
  auto created = BusinessCalendar::Create(calendar, Zone("Asia/Shanghai"));
  EXPECT_CODE(created, absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& violation : workflow::ViolationsOf(created.status())) {
    fields.push_back(violation.field);
  }
  EXPECT_THAT(fields, UnorderedElementsAre("name", "working_hours[0].end"));
}

TEST(CalendarSetTest, FindsCalendarsByName) {
  CalendarSet calendars;
  EXPECT_EQ(calendars.Find("cn-mainland"), nullptr);
  calendars.Add(std::make_shared<const BusinessCalendar>(CalendarFrom(kMainland)));
  ASSERT_NE(calendars.Find("cn-mainland"), nullptr);
  EXPECT_EQ(calendars.Find("cn-mainland")->name(), "cn-mainland");
  EXPECT_EQ(calendars.Find("de-berlin"), nullptr);
}

v1::TimeSpan Span(uint32_t days, uint32_t hours, uint32_t minutes = 0) {
  v1::TimeSpan span;
  span.set_days(days);
  span.set_hours(hours);
  span.set_minutes(minutes);
  return span;
}

TEST(ClockBasisTest, ElapsedSpansCountWallClockTime) {
  CalendarSet calendars;
  calendars.Add(std::make_shared<const BusinessCalendar>(CalendarFrom(kMainland)));
  ASSERT_OK_AND_ASSIGN(ClockBasis basis, ClockBasis::For(Span(2, 4), "cn-mainland", &calendars));
  EXPECT_EQ(basis.name(), "");
  EXPECT_EQ(basis.Length(Span(2, 4)), absl::Hours(52));
  const absl::Time saturday =
      absl::FromCivil(absl::CivilSecond(2026, 1, 10, 12, 0, 0), absl::UTCTimeZone());
  ASSERT_OK_AND_ASSIGN(absl::Time due, basis.Add(saturday, absl::Hours(52)));
  EXPECT_EQ(due, saturday + absl::Hours(52));
  EXPECT_EQ(basis.Between(saturday, due), absl::Hours(52));
  EXPECT_EQ(basis.Between(due, saturday), absl::ZeroDuration());
}

TEST(ClockBasisTest, BusinessSpansCountWorkingTime) {
  CalendarSet calendars;
  calendars.Add(std::make_shared<const BusinessCalendar>(CalendarFrom(kMainland)));
  calendars.Add(std::make_shared<const BusinessCalendar>(Plain()));

  v1::TimeSpan span = Span(2, 1);
  span.set_business(true);
  ASSERT_OK_AND_ASSIGN(ClockBasis basis, ClockBasis::For(span, "cn-mainland", &calendars));
  EXPECT_EQ(basis.name(), "cn-mainland");
  EXPECT_EQ(basis.Length(span), absl::Hours(19));

  const BusinessCalendar* mainland = calendars.Find("cn-mainland");
  const absl::Time start = Local(*mainland, 2026, 12, 31, 10);
  ASSERT_OK_AND_ASSIGN(absl::Time due, basis.Add(start, basis.Length(span)));
  EXPECT_EQ(due, Local(*mainland, 2027, 1, 5, 11));
  EXPECT_EQ(basis.Between(start, due), absl::Hours(19));

  // A span's own calendar wins over the definition's default.
  v1::TimeSpan named = Span(1, 0);
  named.set_calendar("plain");
  ASSERT_OK_AND_ASSIGN(ClockBasis plain, ClockBasis::For(named, "cn-mainland", &calendars));
  EXPECT_EQ(plain.name(), "plain");
}

TEST(ClockBasisTest, UnknownCalendarIsNotFound) {
  CalendarSet calendars;
  calendars.Add(std::make_shared<const BusinessCalendar>(Plain()));
  v1::TimeSpan span = Span(1, 0);
  span.set_calendar("de-berlin");
  auto basis = ClockBasis::For(span, "plain", &calendars);
  EXPECT_CODE(basis, absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(basis.status().message()), HasSubstr("'de-berlin'"));

  v1::TimeSpan business = Span(1, 0);
  business.set_business(true);
  EXPECT_CODE(ClockBasis::For(business, "plain", nullptr),
              absl::StatusCode::kFailedPrecondition);
}

TEST(CalendarOfTest, PrefersTheSpansOwnCalendar) {
  v1::TimeSpan span;
  EXPECT_EQ(workflow::CalendarOf(span, "cn-mainland"), "");
  span.set_business(true);
  EXPECT_EQ(workflow::CalendarOf(span, "cn-mainland"), "cn-mainland");
  span.set_calendar("de-berlin");
  EXPECT_EQ(workflow::CalendarOf(span, "cn-mainland"), "de-berlin");
}

TEST(ParseCalendarYamlTest, ReadsWeekdaysAndHours) {
  ASSERT_OK_AND_ASSIGN(v1::Calendar calendar, workflow::ParseCalendarYaml(R"(
name: weekend-desk
time_zone: Europe/Berlin
working_days: [SATURDAY, SUNDAY]
working_hours: [{start: "10:00", end: "16:00"}]
)"));
  EXPECT_EQ(calendar.name(), "weekend-desk");
  ASSERT_EQ(calendar.working_days_size(), 2);
  EXPECT_EQ(calendar.working_days(0), v1::SATURDAY);
  EXPECT_EQ(calendar.working_hours(0).end(), "16:00");
}

TEST(ParseCalendarYamlTest, UnknownFieldIsAnErrorWithItsPath) {
  auto calendar = workflow::ParseCalendarYaml(R"(
name: cn-mainland
time_zone: Asia/Shanghai
years:
  - year: 2026
    holiday: [2026-10-01]
)");
  EXPECT_CODE(calendar, absl::StatusCode::kInvalidArgument);
  const auto violations = workflow::ViolationsOf(calendar.status());
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_THAT(violations[0].field, HasSubstr("holiday"));
  EXPECT_THAT(violations[0].field, HasSubstr("years[0]"));
}

}  // namespace
}  // namespace signoff::testing
