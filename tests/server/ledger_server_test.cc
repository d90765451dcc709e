// Ledgers and scheduled starts through the server: balances read and set
// over LedgerService, a decision refused when it would overdraw, and a
// schedule on a fake clock starting each period once across two
// applications on one store, catching up missed periods.

#include <algorithm>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "server_fixture.h"
#include "signoff/v1/reports.grpc.pb.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kBudgetDefinition[] = R"(
key: budget
form:
  fields:
    - {name: amount, type: MONEY, required: true}
ledgers:
  - {name: budget, period: QUARTER, limit: 1000, unit: CNY}
steps:
  - id: finance
    approval: {approvers: [{user: fiona}]}
    ledger_entries: [{ledger: budget, operation: RESERVE, amount_field: amount}]
    next: [{to: executive}]
  - id: executive
    approval: {approvers: [{user: sam}]}
    next: [{to: done}]
  - id: done
    end: {}
    ledger_entries: [{ledger: budget, operation: CONSUME, amount_field: amount}]
)";

// On the first working day of each month at 10:00, one instance per
// dealer, every missed month caught up.
constexpr char kScheduledDefinition[] = R"(
key: monthly
calendar: work
service_accounts: [svc]
subject: {field: dealer, type: dealer}
form:
  fields:
    - {name: dealer, type: STRING, required: true}
schedule:
  working_day: 1
  at: "10:00"
  catch_up: CATCH_UP_ALL
  applicant: svc
  subjects: [D1, D2]
steps:
  - id: review
    approval: {approvers: [{user: mia}]}
    next: [{to: done}]
  - id: done
    end: {}
)";

// The monthly definition made daily at 09:30 under another key; with
// `unique_open` a dealer holds one open instance at a time.
std::string DailyDefinition(const std::string& key, bool unique_open) {
  std::string yaml = kScheduledDefinition;
  auto replace = [&yaml](const std::string& from, const std::string& to) {
    yaml.replace(yaml.find(from), from.size(), to);
  };
  replace("key: monthly", "key: " + key);
  replace("working_day: 1", "every: DAILY");
  replace("at: \"10:00\"", "at: \"09:30\"");
  if (unique_open) replace("type: dealer}", "type: dealer, unique_open: true}");
  return yaml;
}

// UTC, Monday to Friday 09:00-17:00.
constexpr char kWorkCalendar[] = R"(
name: work
time_zone: UTC
working_hours: [{start: "09:00", end: "17:00"}]
)";

class LedgerServerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_OK(Publish(kBudgetDefinition, "publish-budget"));
  }

  absl::StatusOr<v1::LedgerBalance> Get(const std::string& user, const std::string& ledger = "budget",
                                        const std::string& period = "") {
    v1::GetLedgerRequest request;
    request.set_definition_key("budget");
    request.set_ledger(ledger);
    request.set_period(period);
    auto response =
        client_->Call(user, *client_->ledgers, &v1::LedgerService::Stub::GetLedger, request);
    if (!response.ok()) return response.status();
    return response->balance();
  }

  absl::StatusOr<v1::GetLedgerResponse> SetLimit(const std::string& user, double limit,
                                                 const std::string& request_id,
                                                 const std::string& period = "") {
    v1::SetLedgerLimitRequest request;
    request.set_request_id(request_id);
    request.set_definition_key("budget");
    request.set_ledger("budget");
    request.set_period(period);
    request.set_limit(limit);
    return client_->Call(user, *client_->ledgers, &v1::LedgerService::Stub::SetLedgerLimit,
                         request);
  }

  // Starts a request for `amount` and has finance approve it.
  absl::Status StartAndReserve(const std::string& applicant, const std::string& amount,
                               const std::string& id, std::string* instance_id = nullptr) {
    auto view = client_->Start(applicant, "budget", "{amount: " + amount + "}", "start-" + id);
    if (!view.ok()) return view.status();
    if (instance_id != nullptr) *instance_id = view->id();
    return client_->Decide("fiona", PendingTaskOf(*view, "fiona"), v1::APPROVE, "approve-" + id)
        .status();
  }
};

TEST_F(LedgerServerTest, ADecisionThatWouldOverdrawIsRefusedUntilTheLimitIsRaised) {
  std::string first;
  ASSERT_OK(StartAndReserve("ann", "600", "a", &first));
  ASSERT_OK_AND_ASSIGN(v1::LedgerBalance balance, Get("ceo"));
  EXPECT_EQ(balance.period(), "2026-Q1");
  EXPECT_EQ(balance.limit(), 1000);
  EXPECT_EQ(balance.reserved(), 600);
  EXPECT_EQ(balance.remaining(), 400);
  EXPECT_EQ(balance.unit(), "CNY");

  absl::Status refused = StartAndReserve("bo", "400.01", "b");
  EXPECT_CODE(refused, absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("ledger budget has 400.00 CNY remaining"));
  ASSERT_OK_AND_ASSIGN(v1::LedgerBalance unchanged, Get("ceo"));
  EXPECT_EQ(unchanged.reserved(), 600);

  ASSERT_OK_AND_ASSIGN(auto raised, SetLimit("ceo", 1000.01, "raise"));
  EXPECT_EQ(raised.balance().remaining(), 400.01);
  ASSERT_OK(StartAndReserve("bo", "400.01", "c"));
  ASSERT_OK_AND_ASSIGN(v1::LedgerBalance full, Get("aud"));
  EXPECT_EQ(full.remaining(), 0);

  // The first request's executive approval consumes its reservation.
  ASSERT_OK_AND_ASSIGN(v1::InstanceView view, client_->Get("ann", first));
  ASSERT_OK(client_->Decide("sam", PendingTaskOf(view, "sam"), v1::APPROVE, "sign-a"));
  ASSERT_OK_AND_ASSIGN(v1::LedgerBalance after, Get("ceo"));
  EXPECT_EQ(after.consumed(), 600);
  EXPECT_EQ(after.reserved(), 400.01);
  ExpectReplayMatchesStore(first);

  v1::ListLedgersRequest list;
  list.set_definition_key("budget");
  ASSERT_OK_AND_ASSIGN(auto listed, client_->Call("aud", *client_->ledgers,
                                                  &v1::LedgerService::Stub::ListLedgers, list));
  ASSERT_THAT(listed.balances(), SizeIs(1));
  EXPECT_EQ(listed.balances(0).consumed(), 600);
}

TEST_F(LedgerServerTest, WithdrawingGivesTheReservationBack) {
  std::string id;
  ASSERT_OK(StartAndReserve("ann", "700", "a", &id));
  v1::WithdrawInstanceRequest withdraw;
  withdraw.set_request_id("withdraw");
  withdraw.set_id(id);
  withdraw.set_comment("not this quarter");
  ASSERT_OK(client_->Call("ann", *client_->instances,
                          &v1::InstanceService::Stub::WithdrawInstance, withdraw));
  ASSERT_OK_AND_ASSIGN(v1::LedgerBalance balance, Get("ceo"));
  EXPECT_EQ(balance.reserved(), 0);
  EXPECT_EQ(balance.remaining(), 1000);
}

TEST_F(LedgerServerTest, OnlyProcessAdminsSetAndAuditorsReadAlongside) {
  EXPECT_CODE(Get("ann"), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Get("fiona"), absl::StatusCode::kPermissionDenied);
  EXPECT_OK(Get("aud"));
  EXPECT_CODE(SetLimit("aud", 5, "aud-set"), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(SetLimit("ann", 5, "ann-set"), absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(v1::LedgerBalance untouched, Get("ceo"));
  EXPECT_EQ(untouched.limit(), 1000);
}

TEST_F(LedgerServerTest, BadInputNamesItsField) {
  EXPECT_CODE(SetLimit("ceo", -1, "negative"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("limit"));
  EXPECT_CODE(SetLimit("ceo", 1.001, "fraction"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("limit"));
  EXPECT_CODE(SetLimit("ceo", 5, "month", "2026-04"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("period"));
  EXPECT_CODE(Get("ceo", "nope"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("ledger"));
  v1::GetLedgerRequest unknown;
  unknown.set_definition_key("no-such-definition");
  unknown.set_ledger("budget");
  EXPECT_CODE(client_->Call("ceo", *client_->ledgers, &v1::LedgerService::Stub::GetLedger, unknown),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("definition_key"));
  ASSERT_OK_AND_ASSIGN(v1::LedgerBalance untouched, Get("ceo"));
  EXPECT_EQ(untouched.limit(), 1000);
}

// ------------------------------------------------------------ limits in the admin trail

TEST_F(LedgerServerTest, ALimitSetIsInTheAdminTrailWithWhatItReplaced) {
  ASSERT_OK(SetLimit("ceo", 1500, "raise", "2026-Q2"));
  ASSERT_OK(SetLimit("ceo", 1200.5, "lower", "2026-Q2"));
  // A retry, a refused caller and a bad limit add nothing.
  ASSERT_OK(SetLimit("ceo", 1200.5, "lower", "2026-Q2"));
  EXPECT_CODE(SetLimit("aud", 1, "aud-set", "2026-Q2"), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(SetLimit("ceo", -1, "negative", "2026-Q2"), absl::StatusCode::kInvalidArgument);

  v1::ListAdminEventsRequest list;
  list.set_page_size(1000);
  ASSERT_OK_AND_ASSIGN(auto trail, client_->Call("aud", *client_->audit,
                                                 &v1::AuditService::Stub::ListAdminEvents, list));
  EXPECT_TRUE(trail.chain_verified());
  std::vector<v1::AdminEvent> limits;
  for (const auto& event : trail.events()) {
    if (event.has_ledger_limit_set()) limits.push_back(event);
  }
  ASSERT_THAT(limits, SizeIs(2));
  EXPECT_EQ(limits[0].actor(), "ceo");
  EXPECT_EQ(limits[0].action(), "ledger_limit_set");
  EXPECT_EQ(limits[0].target(), "budget/budget");
  const v1::LedgerLimitSet& raised = limits[0].ledger_limit_set();
  EXPECT_EQ(raised.definition_key(), "budget");
  EXPECT_EQ(raised.ledger(), "budget");
  EXPECT_EQ(raised.key(), "");
  EXPECT_EQ(raised.period(), "2026-Q2");
  EXPECT_EQ(raised.unit(), "CNY");
  // The first limit replaces the declared one.
  EXPECT_EQ(raised.previous_limit(), 1000);
  EXPECT_EQ(raised.limit(), 1500);
  EXPECT_EQ(limits[1].ledger_limit_set().previous_limit(), 1500);
  EXPECT_EQ(limits[1].ledger_limit_set().limit(), 1200.5);
}

// ------------------------------------------------------------ the ledger report

// A monthly quota per dealer, consumed when finance approves; a claim the
// quota cannot pay for goes to sales instead. A yearly pool no step moves.
constexpr char kRebateDefinition[] = R"(
key: rebate
form:
  fields:
    - {name: amount, type: MONEY, required: true}
    - {name: dealer, type: STRING, required: true}
ledgers:
  - {name: quota, period: MONTH, key_field: dealer, limit: 100, unit: CNY}
  - {name: pool, period: YEAR, limit: 1000}
steps:
  - id: finance
    approval: {approvers: [{user: fiona}]}
    ledger_entries:
      - {ledger: quota, operation: CONSUME, amount_field: amount, on_exceeded: sales}
    next: [{to: done}]
  - id: sales
    approval: {approvers: [{user: sam}]}
    next: [{to: done}]
  - id: done
    end: {}
)";

class LedgerReportTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_OK(Publish(kRebateDefinition, "publish-rebate"));
    reports_ = v1::ReportService::NewStub(server_->InProcessChannel());
  }

  // A claim of `dealer` for `amount` that finance approves.
  void Claim(const std::string& dealer, const std::string& amount) {
    const std::string id = absl::StrCat(dealer, "-", amount, "-", ++serial_);
    auto view =
        client_->Start("ann", "rebate",
                       absl::StrCat("{dealer: ", dealer, ", amount: ", amount, "}"), "start-" + id);
    ASSERT_OK(view);
    ASSERT_OK(
        client_->Decide("fiona", PendingTaskOf(*view, "fiona"), v1::APPROVE, "approve-" + id));
  }

  absl::StatusOr<v1::LedgerReport> Report(const std::string& user, const std::string& from,
                                          const std::string& to, const std::string& ledger = "",
                                          const std::string& definition = "rebate") {
    v1::LedgerReportRequest request;
    request.set_definition_key(definition);
    request.set_from(from);
    request.set_to(to);
    request.set_ledger(ledger);
    return client_->Call(user, *reports_, &v1::ReportService::Stub::GetLedgerReport, request);
  }

  // "ledger key period" of each row.
  static std::vector<std::string> Places(const v1::LedgerReport& report) {
    std::vector<std::string> places;
    for (const auto& row : report.rows()) {
      places.push_back(absl::StrCat(row.ledger(), " ", row.key(), " ", row.period()));
    }
    return places;
  }

  std::unique_ptr<v1::ReportService::Stub> reports_;
  int serial_ = 0;
};

TEST_F(LedgerReportTest, EachBalanceOfThePeriodsWithItsUseAndRoutings) {
  Claim("D1", "60");
  // 50 more than the 40 left: routed to sales, nothing moved.
  Claim("D1", "50");
  Claim("D2", "100");
  now_.Advance(absl::Hours(24 * 31));  // February
  Claim("D1", "30");
  v1::SetLedgerLimitRequest pool;
  pool.set_request_id("pool-limit");
  pool.set_definition_key("rebate");
  pool.set_ledger("pool");
  pool.set_limit(5000);
  ASSERT_OK(
      client_->Call("ceo", *client_->ledgers, &v1::LedgerService::Stub::SetLedgerLimit, pool));

  ASSERT_OK_AND_ASSIGN(v1::LedgerReport both, Report("aud", "2026-01-01", "2026-02-28"));
  ASSERT_THAT(Places(both), ElementsAre("quota D1 2026-01", "quota D2 2026-01", "quota D1 2026-02",
                                        "pool  2026"));
  const v1::LedgerReportRow& d1 = both.rows(0);
  EXPECT_EQ(d1.unit(), "CNY");
  EXPECT_EQ(d1.limit(), 100);
  EXPECT_EQ(d1.reserved(), 0);
  EXPECT_EQ(d1.consumed(), 60);
  EXPECT_EQ(d1.remaining(), 40);
  EXPECT_DOUBLE_EQ(d1.utilisation_percent(), 60);
  EXPECT_EQ(d1.exceeded_routed(), 1);
  EXPECT_DOUBLE_EQ(both.rows(1).utilisation_percent(), 100);
  EXPECT_EQ(both.rows(1).exceeded_routed(), 0);
  EXPECT_EQ(both.rows(2).consumed(), 30);
  EXPECT_EQ(both.rows(3).limit(), 5000);
  EXPECT_DOUBLE_EQ(both.rows(3).utilisation_percent(), 0);

  // February alone, one ledger; the year's pool shows for any day of it.
  ASSERT_OK_AND_ASSIGN(v1::LedgerReport february,
                       Report("ceo", "2026-02-01", "2026-02-28", "quota"));
  EXPECT_THAT(Places(february), ElementsAre("quota D1 2026-02"));
  ASSERT_OK_AND_ASSIGN(v1::LedgerReport pool_only,
                       Report("ceo", "2026-01-31", "2026-01-31", "pool"));
  EXPECT_THAT(Places(pool_only), ElementsAre("pool  2026"));
  ASSERT_OK_AND_ASSIGN(v1::LedgerReport before, Report("ceo", "2025-12-01", "2025-12-31"));
  EXPECT_THAT(before.rows(), SizeIs(0));

  // A limit lowered below what was used: more than 100%, nothing left.
  v1::SetLedgerLimitRequest lower;
  lower.set_request_id("lower-d2");
  lower.set_definition_key("rebate");
  lower.set_ledger("quota");
  lower.set_key("D2");
  lower.set_period("2026-01");
  lower.set_limit(80);
  ASSERT_OK(
      client_->Call("ceo", *client_->ledgers, &v1::LedgerService::Stub::SetLedgerLimit, lower));
  ASSERT_OK_AND_ASSIGN(v1::LedgerReport lowered,
                       Report("aud", "2026-01-01", "2026-01-31", "quota"));
  ASSERT_THAT(Places(lowered), ElementsAre("quota D1 2026-01", "quota D2 2026-01"));
  EXPECT_DOUBLE_EQ(lowered.rows(1).utilisation_percent(), 125);
  EXPECT_EQ(lowered.rows(1).remaining(), -20);
}

TEST_F(LedgerReportTest, OnlyThoseWhoSeeEveryCaseReadIt) {
  Claim("D1", "10");
  EXPECT_OK(Report("aud", "2026-01-01", "2026-01-31"));
  EXPECT_OK(Report("ceo", "2026-01-01", "2026-01-31"));
  // The applicant, the approver, and a department head (who sees the
  // volume report of their departments' cases).
  for (const std::string user : {"ann", "fiona", "sam"}) {
    EXPECT_CODE(Report(user, "2026-01-01", "2026-01-31"), absl::StatusCode::kPermissionDenied)
        << user;
  }
  v1::ReportRequest volume;
  volume.set_definition_key("rebate");
  volume.set_from("2026-01-01");
  volume.set_to("2026-01-31");
  EXPECT_OK(client_->Call("sam", *reports_, &v1::ReportService::Stub::GetVolumeReport, volume));
}

TEST_F(LedgerReportTest, BadRequestsNameTheirFields) {
  EXPECT_CODE(Report("aud", "2026-13-01", "2026-01-31"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("from"));
  EXPECT_CODE(Report("aud", "2026-02-01", "2026-01-31"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("to"));
  EXPECT_CODE(Report("aud", "2026-01-01", "2027-06-30"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("to"));
  EXPECT_CODE(Report("aud", "2026-01-01", "2026-01-31", "nope"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("ledger"));
  EXPECT_CODE(Report("aud", "2026-01-01", "2026-01-31", "", "no-such-definition"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("definition_key"));
  EXPECT_CODE(Report("aud", "", "", "", ""), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("from", "to", "definition_key"));
}

class ScheduleServerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    v1::PublishCalendarRequest calendar;
    calendar.set_request_id("calendar");
    calendar.set_yaml(kWorkCalendar);
    ASSERT_OK(client_->Call("ceo", *client_->calendars,
                            &v1::CalendarService::Stub::PublishCalendar, calendar));
    ASSERT_OK(Publish(kScheduledDefinition, "publish-monthly"));
  }

  std::vector<v1::InstanceState> Started(const std::string& key = "monthly") {
    storage::InstanceFilter filter;
    filter.definition_key = key;
    filter.page_size = 100;
    auto page = store_->ListInstances(filter);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->items : std::vector<v1::InstanceState>{};
  }
};

TEST_F(ScheduleServerTest, NothingStartsBeforeTheFirstRun) {
  // 2026-01-01 is a working day on the test calendar; its run is at 10:00.
  now_.Advance(absl::Hours(10) - absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(auto round, app_->schedules().StartDue());
  EXPECT_THAT(round.started, ::testing::IsEmpty());
  now_.Advance(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(auto due, app_->schedules().StartDue());
  EXPECT_THAT(due.started, ElementsAre("monthly/2026-01/D1", "monthly/2026-01/D2"));
  for (const auto& instance : Started()) {
    EXPECT_EQ(instance.applicant(), "svc");
    EXPECT_EQ(instance.scheduled_period(), "2026-01");
    ExpectReplayMatchesStore(instance.id());
  }
}

TEST_F(ScheduleServerTest, TwoApplicationsCatchUpMissedMonthsOnceBetweenThem) {
  ASSERT_OK_AND_ASSIGN(auto second,
                       app::Application::Create(store_, [this] { return now_.load(); }));
  // Down from New Year to mid-April: four runs missed.
  now_.Advance(absl::Hours(24 * 104));
  std::vector<app::ScheduleRound> rounds(2);
  std::thread other([&] {
    auto round = second->schedules().StartDue();
    if (round.ok()) rounds[1] = *round;
  });
  auto round = app_->schedules().StartDue();
  other.join();
  ASSERT_OK(round);
  rounds[0] = *round;
  EXPECT_EQ(rounds[0].started.size() + rounds[1].started.size(), 8u);
  EXPECT_THAT(rounds[0].failures, ::testing::IsEmpty());
  EXPECT_THAT(rounds[1].failures, ::testing::IsEmpty());
  std::map<std::string, int> per_period;
  for (const auto& instance : Started()) ++per_period[instance.scheduled_period()];
  EXPECT_THAT(per_period, ElementsAre(::testing::Pair("2026-01", 2), ::testing::Pair("2026-02", 2),
                                      ::testing::Pair("2026-03", 2), ::testing::Pair("2026-04", 2)));

  // A restart, or another round on either, starts nothing more.
  Restart();
  ASSERT_OK_AND_ASSIGN(auto again, app_->schedules().StartDue());
  EXPECT_THAT(again.started, ::testing::IsEmpty());
  ASSERT_OK_AND_ASSIGN(auto other_again, second->schedules().StartDue());
  EXPECT_THAT(other_again.started, ::testing::IsEmpty());
  EXPECT_THAT(Started(), SizeIs(8));
}

// The runs of one definition among a round's starts.
std::vector<std::string> RunsOf(const std::string& key, const std::vector<std::string>& runs) {
  std::vector<std::string> of;
  for (const auto& run : runs) {
    if (run.rfind(key + "/", 0) == 0) of.push_back(run);
  }
  return of;
}

TEST_F(ScheduleServerTest, DailyRunsStartOnceAcrossTwoApplicationsAndARestart) {
  ASSERT_OK(Publish(DailyDefinition("daily", false), "publish-daily"));
  ASSERT_OK_AND_ASSIGN(auto second,
                       app::Application::Create(store_, [this] { return now_.load(); }));
  // Thursday 2026-01-01 09:29: its run is a minute away.
  now_.Advance(absl::Hours(9) + absl::Minutes(29));
  ASSERT_OK_AND_ASSIGN(auto early, app_->schedules().StartDue());
  EXPECT_THAT(RunsOf("daily", early.started), ::testing::IsEmpty());
  now_.Advance(absl::Minutes(1));
  auto race = [&] {
    std::vector<app::ScheduleRound> rounds(2);
    std::thread other([&] {
      auto round = second->schedules().StartDue();
      EXPECT_OK(round);
      if (round.ok()) rounds[1] = *round;
    });
    auto round = app_->schedules().StartDue();
    other.join();
    EXPECT_OK(round);
    if (round.ok()) rounds[0] = *round;
    std::vector<std::string> started = RunsOf("daily", rounds[0].started);
    for (const auto& run : RunsOf("daily", rounds[1].started)) started.push_back(run);
    std::sort(started.begin(), started.end());
    for (const auto& round : rounds) {
      EXPECT_THAT(round.failures, ::testing::IsEmpty());
      EXPECT_THAT(round.skipped, ::testing::IsEmpty());
    }
    return started;
  };
  EXPECT_THAT(race(), ElementsAre("daily/2026-01-01/D1", "daily/2026-01-01/D2"));

  // Down from there to Tuesday 12:00: Friday, Monday and Tuesday are
  // caught up, the weekend has no run.
  now_.Advance(absl::Hours(24 * 5) + absl::Hours(2) + absl::Minutes(30));
  EXPECT_THAT(race(), ElementsAre("daily/2026-01-02/D1", "daily/2026-01-02/D2",
                                  "daily/2026-01-05/D1", "daily/2026-01-05/D2",
                                  "daily/2026-01-06/D1", "daily/2026-01-06/D2"));
  std::map<std::string, int> per_period;
  for (const auto& instance : Started("daily")) ++per_period[instance.scheduled_period()];
  EXPECT_THAT(per_period, ElementsAre(::testing::Pair("2026-01-01", 2), ::testing::Pair("2026-01-02", 2),
                                      ::testing::Pair("2026-01-05", 2), ::testing::Pair("2026-01-06", 2)));

  // A restart, or another round on either, starts nothing more.
  Restart();
  ASSERT_OK_AND_ASSIGN(auto again, app_->schedules().StartDue());
  EXPECT_THAT(RunsOf("daily", again.started), ::testing::IsEmpty());
  ASSERT_OK_AND_ASSIGN(auto other_again, second->schedules().StartDue());
  EXPECT_THAT(RunsOf("daily", other_again.started), ::testing::IsEmpty());
  EXPECT_THAT(Started("daily"), SizeIs(8));
}

TEST_F(ScheduleServerTest, ASubjectStillOpenIsSkippedForThePeriodOnceAndForAll) {
  ASSERT_OK(Publish(DailyDefinition("daily-open", true), "publish-daily-open"));
  now_.Advance(absl::Hours(9) + absl::Minutes(30));
  ASSERT_OK_AND_ASSIGN(auto first, app_->schedules().StartDue());
  EXPECT_THAT(RunsOf("daily-open", first.started),
              ElementsAre("daily-open/2026-01-01/D1", "daily-open/2026-01-01/D2"));

  // Friday's run: both dealers' Thursday instances are still open.
  now_.Advance(absl::Hours(24));
  ASSERT_OK_AND_ASSIGN(auto friday, app_->schedules().StartDue());
  EXPECT_THAT(RunsOf("daily-open", friday.started), ::testing::IsEmpty());
  EXPECT_THAT(friday.failures, ::testing::IsEmpty());
  ASSERT_THAT(friday.skipped, SizeIs(2));
  EXPECT_EQ(friday.skipped[0].run, "daily-open/2026-01-02/D1");
  EXPECT_THAT(friday.skipped[0].reason, HasSubstr("already has an open instance"));
  ASSERT_OK_AND_ASSIGN(auto recorded, store_->ListScheduleStarts("daily-open", "2026-01-02"));
  ASSERT_THAT(recorded, SizeIs(2));
  EXPECT_EQ(recorded[0].subject, "D1");
  EXPECT_EQ(recorded[0].instance_id, "");
  EXPECT_THAT(recorded[0].skip_reason, HasSubstr("already has an open instance"));

  // The next rounds leave the skipped run be, even once D1 is free again
  // within the same day.
  now_.Advance(absl::Minutes(1));
  ASSERT_OK_AND_ASSIGN(auto settled, app_->schedules().StartDue());
  EXPECT_THAT(settled.skipped, ::testing::IsEmpty());
  EXPECT_THAT(settled.failures, ::testing::IsEmpty());
  std::string d1_task;
  for (const auto& instance : Started("daily-open")) {
    if (instance.subject() == "D1" && instance.tasks_size() == 1) d1_task = instance.tasks(0).id();
  }
  ASSERT_FALSE(d1_task.empty());
  ASSERT_OK(client_->Decide("mia", d1_task, v1::APPROVE, "approve-d1"));
  now_.Advance(absl::Minutes(1));
  ASSERT_OK_AND_ASSIGN(auto after_approval, app_->schedules().StartDue());
  EXPECT_THAT(RunsOf("daily-open", after_approval.started), ::testing::IsEmpty());
  EXPECT_THAT(after_approval.skipped, ::testing::IsEmpty());
  Restart();
  ASSERT_OK_AND_ASSIGN(auto restarted, app_->schedules().StartDue());
  EXPECT_THAT(RunsOf("daily-open", restarted.started), ::testing::IsEmpty());
  EXPECT_THAT(restarted.skipped, ::testing::IsEmpty());

  // Monday's run starts D1 again; D2 is still open and skipped.
  now_.Advance(absl::Hours(24 * 3));
  ASSERT_OK_AND_ASSIGN(auto monday, app_->schedules().StartDue());
  EXPECT_THAT(RunsOf("daily-open", monday.started), ElementsAre("daily-open/2026-01-05/D1"));
  ASSERT_THAT(monday.skipped, SizeIs(1));
  EXPECT_EQ(monday.skipped[0].run, "daily-open/2026-01-05/D2");
  EXPECT_THAT(Started("daily-open"), SizeIs(3));
}

TEST_F(ScheduleServerTest, ASchedulesWorkingDayMustFitItsFrequency) {
  std::string daily = DailyDefinition("bad-daily", false);
  daily.replace(daily.find("every: DAILY"), 12, "every: DAILY\n  working_day: 1");
  EXPECT_CODE(Publish(daily, "publish-bad-daily"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("definition.schedule.working_day"));
  std::string weekly = DailyDefinition("bad-weekly", false);
  weekly.replace(weekly.find("every: DAILY"), 12, "every: WEEKLY\n  working_day: 8");
  EXPECT_CODE(Publish(weekly, "publish-bad-weekly"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("definition.schedule.working_day"));
  std::string good = DailyDefinition("weekly", false);
  good.replace(good.find("every: DAILY"), 12, "every: WEEKLY\n  working_day: 5");
  EXPECT_OK(Publish(good, "publish-weekly"));
}

}  // namespace
}  // namespace signoff::testing
