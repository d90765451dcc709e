// End to end with ledgers and schedules: the real signoffd with the
// shipped loyalty-scheme and quota-monitoring definitions, the budget read
// and limited through the real signoffctl, and the monthly quota check
// started by its schedule when the clock passes the month's run.
#include <fstream>
#include <map>
#include <sstream>

#include "e2e_fixture.h"
#include "google/protobuf/util/json_util.h"
#include "run_program.h"
#include "signoff/v1/reports.pb.h"
#include "workflow/schedule.h"
#include "workflow/yaml_mapping.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class LedgerEndToEndTest : public EndToEndTest {
 protected:
  // signoffctl as `user`, with JSON output.
  ProgramResult Ctl(const std::string& user, std::vector<std::string> args) {
    args.insert(args.begin(), {SIGNOFFCTL_BINARY, "--address", server_->address(), "--timeout",
                               "5", "--as", user, "-o", "json"});
    return RunProgram(std::move(args), {}, dir_);
  }

  v1::LedgerBalance Budget() {
    ProgramResult result = Ctl("lena.bai", {"ledger", "get", "loyalty-scheme", "loyalty-budget"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    v1::GetLedgerResponse response;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(result.out, &response).ok())
        << result.out;
    return response.balance();
  }

  std::string StartScheme(const std::string& budget, const std::string& pnl_ratio,
                          const std::string& request_id) {
    auto view = client_->Start("mia.xu", "loyalty-scheme",
                               absl::StrCat("{scheme_name: Double points, budget: '", budget,
                                            "', pnl_ratio: ", pnl_ratio,
                                            ", description: double points on weekend dining}"),
                               request_id);
    EXPECT_OK(view);
    return view.ok() ? view->id() : "";
  }

  std::vector<v1::InstanceView> QuotaInstances() {
    v1::ListInstancesRequest request;
    request.set_definition_key("quota-monitoring");
    request.set_page_size(100);
    auto listed = client_->Call(kObserver, *client_->instances,
                                &v1::InstanceService::Stub::ListInstances, request);
    EXPECT_OK(listed);
    if (!listed.ok()) return {};
    return {listed->instances().begin(), listed->instances().end()};
  }

  // How far the clock must jump to land a day past the quota check's next
  // monthly run, and no further than the one after.
  std::string OffsetPastNextRun() {
    std::ifstream in(std::string(SIGNOFF_SOURCE_DIR) +
                     "/workflow/definitions/calendars/cn-mainland.yaml");
    std::stringstream text;
    text << in.rdbuf();
    auto calendar = workflow::ParseCalendarYaml(text.str());
    EXPECT_OK(calendar);
    absl::TimeZone zone;
    EXPECT_TRUE(absl::LoadTimeZone(calendar->time_zone(), &zone));
    auto business = workflow::BusinessCalendar::Create(*calendar, zone);
    EXPECT_OK(business);
    v1::Schedule schedule;
    schedule.set_working_day(1);
    schedule.set_at("10:00");
    auto run = workflow::NextRun(schedule, *business, absl::Now());
    EXPECT_OK(run);
    return absl::StrCat(absl::ToInt64Seconds(run->at - absl::Now() + absl::Hours(24)), "s");
  }
};

TEST_F(LedgerEndToEndTest, ApprovedSchemesConsumeTheQuartersBudget) {
  // Small and profitable: the department head alone.
  const std::string small = StartScheme("150000", "2.0", "scheme-small");
  Approve("rachel.feng", small);
  EXPECT_EQ(Get(small).status(), v1::APPROVED);
  // Large: finance, then the executive office.
  const std::string large = StartScheme("600000", "1.3", "scheme-large");
  Approve("rachel.feng", large);
  EXPECT_THAT(Get(large).active_steps(), ElementsAre("finance-review"));
  v1::LedgerBalance reserved = Budget();
  EXPECT_EQ(reserved.reserved(), 600000);
  EXPECT_EQ(reserved.consumed(), 150000);
  Approve("victor.fang", large);
  EXPECT_THAT(Get(large).active_steps(), ElementsAre("executive-approval"));
  Approve("grace.liu", large);
  EXPECT_EQ(Get(large).status(), v1::APPROVED);

  const v1::LedgerBalance balance = Budget();
  EXPECT_EQ(balance.limit(), 1000000);
  EXPECT_EQ(balance.reserved(), 0);
  EXPECT_EQ(balance.consumed(), 750000);
  EXPECT_EQ(balance.remaining(), 250000);
  EXPECT_EQ(balance.unit(), "CNY");
  VerifiedHistory(large);

  // The budget survives a crash.
  CrashAndRestart();
  EXPECT_EQ(Budget().consumed(), 750000);
}

TEST_F(LedgerEndToEndTest, ASchemeTheBudgetCannotPayForIsRefused) {
  const std::string first = StartScheme("300000", "1.3", "scheme-first");
  Approve("rachel.feng", first);
  ProgramResult limited = Ctl("lena.bai", {"ledger", "set-limit", "loyalty-scheme",
                                           "loyalty-budget", "400000"});
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  EXPECT_EQ(Budget().remaining(), 100000);
  // Reading or setting balances is for the process admin and auditors.
  EXPECT_EQ(Ctl("mia.xu", {"ledger", "get", "loyalty-scheme", "loyalty-budget"}).exit_code,
            64 + 7);

  const std::string second = StartScheme("100000.01", "2.0", "scheme-second");
  const std::string task = TaskFor("rachel.feng", second);
  auto refused = client_->Decide("rachel.feng", task, v1::APPROVE, "approve-second");
  EXPECT_CODE(refused, absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("loyalty-budget has 100000.00 CNY remaining"));
  EXPECT_THAT(Get(second).active_steps(), ElementsAre("scheme-review"));
  EXPECT_EQ(Budget().reserved(), 300000);

  // Finance turns the first down: its reservation comes back, and the
  // second now fits.
  v1::DecideTaskRequest reject;
  reject.set_task_id(TaskFor("wendy.shi", first));
  reject.set_action(v1::REJECT);
  reject.set_reason_code("budget");
  reject.set_comment("not worth it this quarter");
  ASSERT_OK(client_->Decide("wendy.shi", reject, "reject-first"));
  EXPECT_EQ(Get(first).status(), v1::REJECTED);
  EXPECT_EQ(Budget().reserved(), 0);
  ASSERT_OK(client_->Decide("rachel.feng", task, v1::APPROVE, "approve-second-again"));
  EXPECT_EQ(Get(second).status(), v1::APPROVED);
  EXPECT_EQ(Budget().consumed(), 100000.01);
}

TEST_F(LedgerEndToEndTest, TheMonthlyQuotaCheckStartsOncePerDealerAndEscalatesAnExcess) {
  CrashAndRestartLater(OffsetPastNextRun());
  ASSERT_TRUE(Eventually([&] { return QuotaInstances().size() == 3; }));
  std::map<std::string, std::string> by_dealer;
  for (const auto& view : QuotaInstances()) {
    EXPECT_EQ(view.applicant(), "svc-scheduler");
    by_dealer[view.subject()] = view.id();
  }
  EXPECT_THAT(by_dealer, ::testing::SizeIs(3));
  const auto started = VerifiedHistory(by_dealer["DLR-001"]);
  ASSERT_FALSE(started.empty());
  EXPECT_FALSE(started[0].instance_started().scheduled_period().empty());

  auto jobs = client_->Activate("svc-it-data", "special-sales-tally", 10, absl::Minutes(5));
  ASSERT_OK(jobs);
  ASSERT_EQ(jobs->jobs_size(), 3);
  const std::map<std::string, std::string> sales = {
      {by_dealer["DLR-001"], "31"}, {by_dealer["DLR-002"], "27"}, {by_dealer["DLR-003"], "10"}};
  for (const auto& job : jobs->jobs()) {
    ASSERT_OK(client_->CompleteJob("svc-it-data", job.key(),
                                   "{special_sales: " + sales.at(job.instance_id()) + "}",
                                   "tally-" + job.instance_id()));
  }
  // Past the quota of 30: to the head of Sales Operations, nothing taken.
  EXPECT_THAT(Get(by_dealer["DLR-001"]).active_steps(), ElementsAre("quota-exceeded"));
  EXPECT_FALSE(TaskFor("henry.zhao", by_dealer["DLR-001"]).empty());
  // Three left: flagged to Sales Operations.
  EXPECT_THAT(Get(by_dealer["DLR-002"]).active_steps(), ElementsAre("quota-warning"));
  EXPECT_EQ(Get(by_dealer["DLR-003"]).status(), v1::APPROVED);

  ProgramResult listed = Ctl("lena.bai", {"ledger", "list", "quota-monitoring"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  v1::ListLedgersResponse balances;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(listed.out, &balances).ok());
  std::map<std::string, double> consumed;
  for (const auto& balance : balances.balances()) consumed[balance.key()] = balance.consumed();
  // DLR-001's balance holds nothing, but counts the excess routed away.
  EXPECT_THAT(consumed, UnorderedElementsAre(::testing::Pair("DLR-001", 0),
                                             ::testing::Pair("DLR-002", 27),
                                             ::testing::Pair("DLR-003", 10)));
  ASSERT_GT(balances.balances_size(), 0);
  const std::string month = balances.balances(0).period();
  ProgramResult report = Ctl("lena.bai", {"report", "ledgers", "--definition", "quota-monitoring",
                                          "--from", month + "-01", "--to", month + "-28"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  v1::LedgerReport usage;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(report.out, &usage).ok()) << report.out;
  std::map<std::string, int64_t> exceeded;
  std::map<std::string, double> used;
  for (const auto& row : usage.rows()) {
    exceeded[row.key()] = row.exceeded_routed();
    used[row.key()] = row.utilisation_percent();
  }
  EXPECT_THAT(exceeded, UnorderedElementsAre(::testing::Pair("DLR-001", 1),
                                             ::testing::Pair("DLR-002", 0),
                                             ::testing::Pair("DLR-003", 0)));
  EXPECT_EQ(used["DLR-002"], 90);

  // A restart on the same clock starts nothing again.
  CrashAndRestart();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(QuotaInstances().size(), 3u);
}

}  // namespace
}  // namespace signoff::testing
