// Three signoffd replicas on one PostgreSQL, with clients spread over them
// as a load balancer would, while one replica is killed with SIGKILL and
// restarted and PostgreSQL itself is stopped at once and started again.
// Afterwards: no acknowledged change lost, none applied twice, every due
// timer fired exactly once, every chain verifying, and the event feed read
// through a surviving replica complete and in order.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "api_client.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "run_program.h"
#include "signoffd_process.h"
#include "status_matchers.h"

namespace signoff::testing {
namespace {

using HealthStatus = grpc::health::v1::HealthCheckResponse;

constexpr int kReplicas = 3;
constexpr int kClients = 8;
constexpr char kAdmin[] = "peter.lin";
// Reads every instance and the event feed.
constexpr char kAuditor[] = "olivia.ke";
constexpr char kApprover[] = "grace.liu";
const char* const kApplicants[kClients] = {"alice.chen", "bob.zhang",  "cathy.wu", "derek.huang",
                                           "eric.zhou",  "henry.zhao", "ivy.wang", "jack.sun"};

// Approved by grace.liu within three seconds, or rejected as late by its
// timer.
constexpr char kDefinition[] = R"(
key: replica-check
name: Replica check
reject_reasons: [{code: late}]
form:
  fields:
    - {name: marker, type: STRING, required: true}
steps:
  - id: review
    approval: {approvers: [{user: grace.liu}]}
    sla:
      due: {seconds: 3}
      on_timeout: {action: TIMEOUT_AUTO_REJECT, reason_code: late}
    next: [{to: done}]
  - {id: done, end: {}}
)";

std::string ClusterScript() {
  return std::string(SIGNOFF_SOURCE_DIR) + "/tests/support/pg_test_cluster.sh";
}

// The test's own cluster: it is stopped and started mid-test, so it cannot
// be the one other tests share.
class Cluster {
 public:
  explicit Cluster(std::filesystem::path state) : state_(std::move(state)) {}
  ~Cluster() { Run("stop"); }

  bool Run(const std::string& command) {
    ProgramResult result = RunProgram({"/bin/bash", ClusterScript(), command, state_.string()}, {},
                                      state_.parent_path());
    if (result.exit_code != 0) {
      ADD_FAILURE() << "pg_test_cluster.sh " << command << " failed:\n" << result.err;
    }
    return result.exit_code == 0;
  }
  std::string url() const {
    const std::string text = ReadWholeFile(state_ / "url");
    return text.substr(0, text.find('\n'));
  }

 private:
  std::filesystem::path state_;
};

HealthStatus::ServingStatus Readiness(const std::string& address) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("readiness");
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (!health->Check(&context, request, &response).ok()) return HealthStatus::UNKNOWN;
  return response.status();
}

// Errors a client retries, on another replica, with the same request_id.
bool WorthRetrying(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded ||
         status.code() == absl::StatusCode::kAborted ||
         status.code() == absl::StatusCode::kCancelled;
}

// The replicas' current addresses; a restarted replica listens on a new
// port.
class Balancer {
 public:
  void Set(int replica, std::string address) {
    std::lock_guard<std::mutex> lock(mutex_);
    addresses_[replica] = std::move(address);
  }
  std::string AddressFor(int turn) {
    std::lock_guard<std::mutex> lock(mutex_);
    return addresses_[turn % kReplicas];
  }

 private:
  std::mutex mutex_;
  std::string addresses_[kReplicas];
};

// One client's channels, reused across calls.
class ClientPool {
 public:
  ApiClient& For(const std::string& address) {
    auto& client = clients_[address];
    if (client == nullptr) {
      client = std::make_unique<ApiClient>(
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    }
    return *client;
  }

 private:
  std::map<std::string, std::unique_ptr<ApiClient>> clients_;
};

struct Start {
  std::string marker;
  std::string instance_id;
  std::string task_id;
};

struct Outcomes {
  std::mutex mutex;
  std::vector<Start> acknowledged_starts;
  // Task ids whose APPROVE was acknowledged.
  std::set<std::string> acknowledged_decisions;
  // APPROVEs refused because the timer had rejected the instance first.
  int overtaken_by_timer = 0;
  std::vector<std::string> unexpected;
};

class ReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDirectory("signoff-replicas");
    cluster_ = std::make_unique<Cluster>(dir_ / "postgresql");
    ASSERT_TRUE(cluster_->Run("start"));
    for (int i = 0; i < kReplicas; ++i) {
      std::filesystem::create_directories(dir_ / absl::StrCat("replica-", i));
      const std::string definitions = std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions";
      replicas_[i] = std::make_unique<SignoffdProcess>(
          SIGNOFFD_BINARY, dir_ / absl::StrCat("replica-", i),
          std::vector<std::string>{"--directory", definitions + "/demo-org.yaml", "--definitions",
                                   definitions, "--timer-poll", "200ms", "--readiness-poll",
                                   "200ms", "--cache-poll", "200ms", "--timer-lease", "3s"});
      replicas_[i]->UseDatabase(cluster_->url());
      StartReplica(i);
    }
  }

  void TearDown() override {
    for (auto& replica : replicas_) replica.reset();
    cluster_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartReplica(int i) {
    replicas_[i]->Start();
    balancer_.Set(i, replicas_[i]->address());
  }

  ApiClient& Client(int replica) { return pool_.For(replicas_[replica]->address()); }

  // Calls fn(client) on replicas in turn from `turn`, retrying what a
  // replica or the database being away explains, for up to a minute.
  template <typename Fn>
  auto OnAnyReplica(ClientPool& pool, int turn, Fn fn) -> decltype(fn(pool.For(""))) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;; ++turn) {
      auto result = fn(pool.For(balancer_.AddressFor(turn)));
      if (result.ok() || !WorthRetrying(result.status()) ||
          std::chrono::steady_clock::now() > deadline) {
        return result;
      }
      ++retries_;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  void RunClient(int client, const std::atomic<bool>& stop, Outcomes& outcomes) {
    ClientPool pool;
    for (int n = 0; !stop; ++n) {
      const std::string marker = absl::StrCat("c", client, "-", n);
      auto started = OnAnyReplica(pool, client, [&](ApiClient& api) {
        return api.Start(kApplicants[client], "replica-check", "{marker: " + marker + "}",
                         "start-" + marker);
      });
      if (!started.ok()) {
        std::lock_guard<std::mutex> lock(outcomes.mutex);
        outcomes.unexpected.push_back(absl::StrCat("start ", marker, ": ", started.status().ToString()));
        continue;
      }
      Start start{marker, started->id(), PendingTaskOf(*started)};
      {
        std::lock_guard<std::mutex> lock(outcomes.mutex);
        outcomes.acknowledged_starts.push_back(start);
      }
      // Every third instance is left for its timer.
      if (n % 3 == 0 || start.task_id.empty()) continue;
      auto decided = OnAnyReplica(pool, client + 1, [&](ApiClient& api) {
        return api.Decide(kApprover, start.task_id, v1::APPROVE, "decide-" + marker);
      });
      std::lock_guard<std::mutex> lock(outcomes.mutex);
      if (decided.ok()) {
        outcomes.acknowledged_decisions.insert(start.task_id);
      } else if (decided.status().code() == absl::StatusCode::kFailedPrecondition) {
        ++outcomes.overtaken_by_timer;
      } else {
        outcomes.unexpected.push_back(absl::StrCat("decide ", marker, ": ", decided.status().ToString()));
      }
    }
  }

  static std::string PendingTaskOf(const v1::InstanceView& view) {
    for (const auto& task : view.pending_tasks()) {
      if (task.assignee() == kApprover) return task.id();
    }
    return "";
  }

  // Waits until `wanted` on every live replica in `which`; false at the
  // time limit.
  bool ReadinessBecomes(std::vector<int> which, HealthStatus::ServingStatus wanted,
                        std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all = true;
      for (int i : which) all = all && Readiness(replicas_[i]->address()) == wanted;
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  std::vector<v1::InstanceView> AllInstances(ApiClient& api) {
    std::vector<v1::InstanceView> all;
    v1::ListInstancesRequest request;
    request.set_definition_key("replica-check");
    request.set_page_size(500);
    do {
      auto page = api.Call(kAuditor, *api.instances, &v1::InstanceService::Stub::ListInstances,
                           request);
      EXPECT_OK(page);
      if (!page.ok()) break;
      all.insert(all.end(), page->instances().begin(), page->instances().end());
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
    return all;
  }

  std::vector<v1::Event> WholeEventFeed(ApiClient& api) {
    std::vector<v1::Event> feed;
    v1::ListEventsRequest request;
    request.set_page_size(1000);
    for (;;) {
      auto page = api.Call(kAuditor, *api.instances, &v1::InstanceService::Stub::ListEvents,
                           request);
      EXPECT_OK(page);
      if (!page.ok() || page->events().empty()) return feed;
      feed.insert(feed.end(), page->events().begin(), page->events().end());
      request.set_after_global_seq(page->next_after_global_seq());
    }
  }

  std::filesystem::path dir_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<SignoffdProcess> replicas_[kReplicas];
  Balancer balancer_;
  ClientPool pool_;
  // Calls that met a replica or the database away and went again.
  std::atomic<int> retries_{0};
};

TEST_F(ReplicaTest, NothingAcknowledgedIsLostOrDoubledThroughAReplicaCrashAndADatabaseRestart) {
  v1::PublishDefinitionRequest publish;
  publish.set_request_id("publish-replica-check");
  publish.mutable_source()->set_yaml(kDefinition);
  ASSERT_OK(Client(0).Call(kAdmin, *Client(0).definitions,
                           &v1::DefinitionService::Stub::PublishDefinition, publish));

  std::atomic<bool> stop{false};
  Outcomes outcomes;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] { RunClient(c, stop, outcomes); });
  }
  auto pause = [](int seconds) { std::this_thread::sleep_for(std::chrono::seconds(seconds)); };

  pause(3);
  replicas_[1]->Kill(SIGKILL);
  pause(2);
  StartReplica(1);
  pause(2);
  ASSERT_TRUE(cluster_->Run("crash"));
  const bool not_serving_while_away =
      ReadinessBecomes({0, 1, 2}, HealthStatus::NOT_SERVING, std::chrono::seconds(10));
  ASSERT_TRUE(cluster_->Run("resume"));
  const bool serving_again =
      ReadinessBecomes({0, 1, 2}, HealthStatus::SERVING, std::chrono::seconds(30));
  pause(4);
  stop = true;
  for (std::thread& client : clients) client.join();

  EXPECT_TRUE(not_serving_while_away) << "readiness stayed SERVING while PostgreSQL was down";
  EXPECT_TRUE(serving_again) << "readiness did not come back after PostgreSQL did";
  EXPECT_THAT(outcomes.unexpected, ::testing::IsEmpty());

  // Every timer still pending falls due within three seconds of the last
  // start; a claim held by the killed replica comes back after its lease.
  ApiClient& survivor = Client(2);
  std::vector<v1::InstanceView> instances;
  for (int wait = 0; wait < 150; ++wait) {
    instances = AllInstances(survivor);
    bool running = false;
    for (const auto& view : instances) running = running || view.status() == v1::RUNNING;
    if (!running) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  std::map<std::string, std::vector<const v1::InstanceView*>> by_marker;
  for (const auto& view : instances) {
    by_marker[view.form().fields().at("marker").string_value()].push_back(&view);
  }
  // No acknowledged start lost, none applied twice.
  for (const Start& start : outcomes.acknowledged_starts) {
    auto found = by_marker.find(start.marker);
    ASSERT_NE(found, by_marker.end()) << "acknowledged start " << start.marker << " is lost";
    ASSERT_EQ(found->second.size(), 1u) << start.marker << " was started more than once";
    EXPECT_EQ(found->second[0]->id(), start.instance_id);
  }
  for (const auto& [marker, views] : by_marker) {
    EXPECT_EQ(views.size(), 1u) << marker << " was started more than once";
  }

  std::map<std::string, std::string> task_of_instance;
  for (const Start& start : outcomes.acknowledged_starts) {
    task_of_instance[start.instance_id] = start.task_id;
  }
  int timers_fired = 0, events_in_histories = 0;
  std::map<std::string, std::vector<v1::Event>> histories;
  for (const auto& view : instances) {
    EXPECT_NE(view.status(), v1::RUNNING) << view.id() << " still waits for a due timer";
    auto history = survivor.History(kAuditor, view.id());
    ASSERT_OK(history);
    EXPECT_TRUE(history->chain_verified()) << view.id();
    int breaches = 0, approvals = 0;
    for (const auto& event : history->events()) {
      breaches += event.type() == "sla_breached";
      approvals += event.type() == "task_completed" && event.actor() == kApprover;
    }
    const bool decided = task_of_instance.count(view.id()) > 0 &&
                         outcomes.acknowledged_decisions.count(task_of_instance[view.id()]) > 0;
    if (decided) {
      EXPECT_EQ(view.status(), v1::APPROVED) << view.id();
      EXPECT_EQ(approvals, 1) << view.id() << " approved other than once";
      EXPECT_EQ(breaches, 0) << view.id() << " timed out after its approval";
    } else {
      // A decision that was never acknowledged may still have landed,
      // before the timer; otherwise the timer fired, once.
      EXPECT_EQ(approvals + breaches, 1) << view.id();
      if (breaches == 1) EXPECT_EQ(view.status(), v1::REJECTED) << view.id();
    }
    timers_fired += breaches;
    events_in_histories += history->events_size();
    histories[view.id()].assign(history->events().begin(), history->events().end());
  }

  // The feed, read through a survivor: every event once, in order.
  std::vector<v1::Event> feed = WholeEventFeed(survivor);
  std::map<std::string, int64_t> next_seq;
  int64_t previous = 0;
  int feed_events_of_instances = 0;
  for (const auto& event : feed) {
    EXPECT_GT(event.global_seq(), previous);
    previous = event.global_seq();
    auto history = histories.find(event.instance_id());
    if (history == histories.end()) continue;
    ++feed_events_of_instances;
    const int64_t expected = ++next_seq[event.instance_id()];
    ASSERT_EQ(event.instance_seq(), expected) << event.instance_id();
    EXPECT_EQ(event.hash(), history->second[expected - 1].hash());
  }
  EXPECT_EQ(feed_events_of_instances, events_in_histories);

  std::printf(
      "replica test: %zu starts and %zu approvals acknowledged, %d approvals overtaken by "
      "their timer, %d calls retried, %zu instances, %d timers fired, %d events in the feed\n",
      outcomes.acknowledged_starts.size(), outcomes.acknowledged_decisions.size(),
      outcomes.overtaken_by_timer, retries_.load(), instances.size(), timers_fired,
      feed_events_of_instances);
  EXPECT_GT(retries_.load(), 0) << "neither the crash nor the restart reached a client";
  EXPECT_GT(outcomes.acknowledged_starts.size(), 50u);
  EXPECT_GT(outcomes.acknowledged_decisions.size(), 20u);
  EXPECT_GT(timers_fired, 10);
}

// How long a change through one replica may take to reach the others: two
// of their 200 ms catalog polls, with room for a busy machine.
constexpr auto kCatalogReach = std::chrono::seconds(3);

// Repeats fn until it returns OK, for at most kCatalogReach; the last
// result.
template <typename Fn>
auto WithinCatalogReach(Fn fn) -> decltype(fn()) {
  const auto deadline = std::chrono::steady_clock::now() + kCatalogReach;
  for (;;) {
    auto result = fn();
    if (result.ok() || std::chrono::steady_clock::now() > deadline) return result;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

TEST_F(ReplicaTest, ChangesThroughOneReplicaReachTheOthersWithinAPoll) {
  // A user added through replica 0 may call replica 2.
  v1::UpsertUsersRequest add;
  add.set_request_id("add-zoe");
  v1::User& zoe = *add.add_users();
  zoe.set_id("zoe.new");
  zoe.set_department("sales-east");
  zoe.set_manager("ivy.wang");
  EXPECT_CODE(Client(2).Inbox("zoe.new"), absl::StatusCode::kUnauthenticated);
  ASSERT_OK(Client(0).Call(kAdmin, *Client(0).directory,
                           &v1::DirectoryService::Stub::UpsertUsers, add));
  EXPECT_OK(WithinCatalogReach([&] { return Client(2).Inbox("zoe.new"); }));

  // Disabled through replica 1, refused by replica 2.
  v1::UpsertUsersRequest disable = add;
  disable.set_request_id("disable-zoe");
  disable.mutable_users(0)->set_disabled(true);
  ASSERT_OK(Client(1).Call(kAdmin, *Client(1).directory,
                           &v1::DirectoryService::Stub::UpsertUsers, disable));
  EXPECT_OK(WithinCatalogReach([&]() -> absl::Status {
    auto inbox = Client(2).Inbox("zoe.new");
    if (inbox.ok()) return absl::FailedPreconditionError("still let in");
    return absl::IsUnauthenticated(inbox.status()) ? absl::OkStatus() : inbox.status();
  }));

  // A definition published through replica 0 is what replica 1 starts,
  // and so is its next version.
  v1::PublishDefinitionRequest publish;
  publish.set_request_id("publish-1");
  publish.mutable_source()->set_yaml(kDefinition);
  ASSERT_OK(Client(0).Call(kAdmin, *Client(0).definitions,
                           &v1::DefinitionService::Stub::PublishDefinition, publish));
  auto first = WithinCatalogReach([&] {
    return Client(1).Start("alice.chen", "replica-check", "{marker: first}", "first");
  });
  ASSERT_OK(first);
  EXPECT_EQ(first->definition_version(), 1);
  publish.set_request_id("publish-2");
  publish.mutable_source()->set_yaml(std::string(kDefinition) + "description: second\n");
  ASSERT_OK(Client(0).Call(kAdmin, *Client(0).definitions,
                           &v1::DefinitionService::Stub::PublishDefinition, publish));
  int n = 0;
  auto second = WithinCatalogReach([&]() -> absl::StatusOr<v1::InstanceView> {
    auto view = Client(1).Start("bob.zhang", "replica-check", "{marker: second}",
                                absl::StrCat("second-", n++));
    if (view.ok() && view->definition_version() != 2) {
      return absl::FailedPreconditionError("started on the old version");
    }
    return view;
  });
  EXPECT_OK(second);

  // A calendar published through replica 2 can be named in a definition
  // validated through replica 0.
  v1::PublishCalendarRequest calendar;
  calendar.set_request_id("calendar-late");
  calendar.set_yaml("{name: late-shift, time_zone: UTC}");
  ASSERT_OK(Client(2).Call(kAdmin, *Client(2).calendars,
                           &v1::CalendarService::Stub::PublishCalendar, calendar));
  v1::ValidateDefinitionRequest validate;
  validate.mutable_source()->set_yaml(
      "key: late\ncalendar: late-shift\nsteps:\n  - id: a\n    approval: {approvers: [{user: "
      "grace.liu}]}\n    next: [{to: done}]\n  - {id: done, end: {}}\n");
  EXPECT_OK(WithinCatalogReach([&]() -> absl::Status {
    auto checked = Client(0).Call(kAdmin, *Client(0).definitions,
                                  &v1::DefinitionService::Stub::ValidateDefinition, validate);
    if (!checked.ok()) return checked.status();
    return checked->valid() ? absl::OkStatus()
                                       : absl::FailedPreconditionError(checked->problems(0).message());
  }));
}

}  // namespace
}  // namespace signoff::testing
