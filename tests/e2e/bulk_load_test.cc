// signoffd bulk-load, the benchmark's way to fill a database: the instances
// it starts are the engine's own (a served signoffd lists them, their tasks
// sit in inboxes and group queues, their deadlines run on the load's clock),
// and bad flags are refused with a reason.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api_client.h"
#include "gmock/gmock.h"
#include "run_program.h"
#include "signoff/v1/service.pb.h"
#include "signoffd_process.h"
#include "test_database.h"

namespace signoff::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class BulkLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDirectory("signoff-bulk-load");
    auto database = TestDatabase::Create(dir_);
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = std::move(*database);
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    database_.reset();
    std::filesystem::remove_all(dir_);
  }

  // signoffd bulk-load on the test's database with the shipped definitions
  // and the demo organisation, and `flags`.
  ProgramResult BulkLoad(std::vector<std::string> flags) {
    const std::string definitions = std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions";
    std::vector<std::string> args = {SIGNOFFD_BINARY,
                                     "bulk-load",
                                     "--db",
                                     database_->db_flag(),
                                     "--directory",
                                     definitions + "/demo-org.yaml",
                                     "--definitions",
                                     definitions};
    args.insert(args.end(), flags.begin(), flags.end());
    return RunProgram(std::move(args), {}, dir_);
  }

  void Serve() {
    server_ = std::make_unique<SignoffdProcess>(
        SIGNOFFD_BINARY, dir_, std::vector<std::string>{"--timer-poll", "100ms"});
    server_->UseDatabase(database_->db_flag());
    server_->Start();
    auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                          std::chrono::seconds(10)));
    client_ = std::make_unique<ApiClient>(channel);
  }

  // Every instance of `key`, newest first, read page by page.
  std::vector<v1::InstanceView> Instances(const std::string& key, bool sla_breached = false) {
    std::vector<v1::InstanceView> all;
    v1::ListInstancesRequest request;
    request.set_definition_key(key);
    request.set_sla_breached(sla_breached);
    request.set_page_size(7);
    do {
      auto page = client_->Call("olivia.ke", *client_->instances,
                                &v1::InstanceService::Stub::ListInstances, request);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      all.insert(all.end(), page->instances().begin(), page->instances().end());
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
    return all;
  }

  std::filesystem::path dir_;
  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<SignoffdProcess> server_;
  std::unique_ptr<ApiClient> client_;
};

TEST_F(BulkLoadTest, StartsInstancesThroughTheEngineOnTheLoadsClock) {
  const absl::Time as_of = absl::Now() - absl::Hours(24 * 14);
  ProgramResult loaded =
      BulkLoad({"--instances", "40", "--definition", "dealer-application", "--definition",
                "partner-termination", "--threads", "4", "--as-of",
                absl::FormatTime(absl::RFC3339_full, as_of, absl::UTCTimeZone())});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.out << loaded.err;
  EXPECT_THAT(loaded.out, HasSubstr("bulk-load: 40 instances started"));
  ASSERT_NO_FATAL_FAILURE(Serve());

  const std::vector<v1::InstanceView> applications = Instances("dealer-application");
  const std::vector<v1::InstanceView> terminations = Instances("partner-termination");
  ASSERT_EQ(applications.size(), 20u);
  ASSERT_EQ(terminations.size(), 20u);
  std::map<std::string, int> applicants;
  for (const auto* instances : {&applications, &terminations}) {
    for (const auto& instance : *instances) {
      ++applicants[instance.applicant()];
      // Made on the load's clock, which started at --as-of.
      const absl::Time created = absl::FromUnixSeconds(instance.created_at().seconds());
      EXPECT_GE(created, as_of - absl::Seconds(1)) << instance.id();
      EXPECT_LT(created, as_of + absl::Minutes(10)) << instance.id();
      EXPECT_EQ(instance.pending_tasks_size(), 1) << instance.id();
    }
  }
  // Spread over the organisation, not one applicant.
  EXPECT_GE(applicants.size(), 10u);

  // Each application waits in the applicant's manager's inbox.
  for (const auto& application : applications) {
    ASSERT_EQ(application.pending_tasks_size(), 1);
    const v1::Task& task = application.pending_tasks(0);
    auto inbox = client_->Inbox(task.assignee());
    ASSERT_TRUE(inbox.ok()) << inbox.status();
    int found = 0;
    for (const auto& waiting : *inbox) found += waiting.id() == task.id();
    EXPECT_EQ(found, 1) << task.assignee() << " " << task.id();
  }
  // Each termination's warning is offered to the partner managers' group.
  v1::ListTasksRequest group;
  group.set_role("partner-manager");
  group.set_department("partner-mgmt");
  group.set_page_size(100);
  auto queue = client_->Call("helen.qin", *client_->tasks, &v1::TaskService::Stub::ListTasks, group);
  ASSERT_TRUE(queue.ok()) << queue.status();
  EXPECT_EQ(queue->tasks_size(), 20);
  auto inbox = client_->Inbox("helen.qin");
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  EXPECT_GE(inbox->size(), 20u);

  // Two weeks on the load's clock: every warning's deadline has passed,
  // and the served signoffd fires each one, once.
  bool all_breached = false;
  for (int i = 0; i < 200 && !all_breached; ++i) {
    all_breached = Instances("partner-termination", /*sla_breached=*/true).size() == 20u;
    if (!all_breached) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(all_breached);
  for (const auto& termination : terminations) {
    auto history = client_->History("olivia.ke", termination.id());
    ASSERT_TRUE(history.ok()) << history.status();
    EXPECT_TRUE(history->chain_verified());
    std::map<std::string, int> firings;
    for (const auto& event : history->events()) {
      if (event.has_timer_fired()) ++firings[event.timer_fired().timer_id()];
    }
    EXPECT_FALSE(firings.empty()) << termination.id();
    for (const auto& [timer, count] : firings) EXPECT_EQ(count, 1) << termination.id() << " " << timer;
  }
}

TEST_F(BulkLoadTest, LoadingAgainAddsToTheDatabase) {
  for (int load = 0; load < 2; ++load) {
    ProgramResult loaded = BulkLoad({"--instances", "5", "--definition", "partner-termination"});
    ASSERT_EQ(loaded.exit_code, 0) << loaded.out << loaded.err;
  }
  ASSERT_NO_FATAL_FAILURE(Serve());
  EXPECT_EQ(Instances("partner-termination").size(), 10u);
}

TEST_F(BulkLoadTest, BadFlagsAreRefusedWithTheReason) {
  struct Case {
    std::vector<std::string> flags;
    std::string reason;
  };
  const Case cases[] = {
      {{"--instances", "0", "--definition", "dealer-application"}, "--instances"},
      {{"--instances", "many", "--definition", "dealer-application"}, "--instances"},
      {{"--definition", "dealer-application"}, "--instances is required"},
      {{"--instances", "5"}, "--definition is required"},
      {{"--instances", "5", "--definition", "dealer-application", "--threads", "0"}, "--threads"},
      {{"--instances", "5", "--definition", "dealer-application", "--as-of", "last week"},
       "--as-of: 'last week' is not an RFC 3339 time"},
      {{"--instances", "5", "--definition", "no-such-definition"},
       "no-such-definition is not published"},
  };
  for (const auto& bad : cases) {
    ProgramResult refused = BulkLoad(bad.flags);
    EXPECT_NE(refused.exit_code, 0) << bad.reason;
    EXPECT_THAT(refused.err, HasSubstr(bad.reason));
    EXPECT_THAT(refused.out, Not(HasSubstr("instances started"))) << bad.reason;
  }
}

}  // namespace
}  // namespace signoff::testing
