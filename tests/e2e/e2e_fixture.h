#pragma once

// The end-to-end fixture: the real signoffd on a temporary database with
// the shipped definitions, calendars and demo organisation, over TCP.

#include <grpcpp/grpcpp.h>
#include <filesystem>
#include <functional>
#include <thread>
#include "api_client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/app/views.h"
#include "signoffd_process.h"
#include "test_database.h"
#include "status_matchers.h"
#include "workflow/engine.h"

namespace signoff::testing {

// The demo organisation's auditor: reads every instance, so the tests
// check what the server holds through them.
inline constexpr char kObserver[] = "olivia.ke";

class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDirectory("signoff-e2e");
    auto database = TestDatabase::Create(dir_);
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = std::move(*database);
    const std::string definitions = std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions";
    server_ = std::make_unique<SignoffdProcess>(
        SIGNOFFD_BINARY, dir_,
        std::vector<std::string>{"--directory", definitions + "/demo-org.yaml", "--definitions",
                                 definitions, "--timer-poll", "100ms"});
    server_->UseDatabase(database_->db_flag());
    StartServer();
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    database_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartServer() {
    server_->Start();
    auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                          std::chrono::seconds(10)));
    client_ = std::make_unique<ApiClient>(channel);
  }

  // A crash, then a restart whose clock runs `offset` (e.g. "12d") ahead:
  // how tests reach deadlines weeks away without waiting for them.
  void CrashAndRestartLater(const std::string& offset) {
    std::vector<std::string> flags = server_->extra_flags();
    for (size_t i = 0; i + 1 < flags.size(); ++i) {
      if (flags[i] == "--clock-offset") flags.erase(flags.begin() + i, flags.begin() + i + 2);
    }
    flags.push_back("--clock-offset");
    flags.push_back(offset);
    server_->SetExtraFlags(flags);
    CrashAndRestart();
  }

  // Polls until `done` holds; timers fire on the server's own schedule.
  bool Eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 100; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  }

  // A crash and a restart: every acknowledged change must still be there.
  void CrashAndRestart() {
    client_.reset();
    server_->Kill(SIGKILL);
    StartServer();
  }

  // The single pending task of `user` in `instance`, claiming a group task
  // first when needed.
  std::string TaskFor(const std::string& user, const std::string& instance) {
    auto inbox = client_->Inbox(user);
    EXPECT_TRUE(inbox.ok()) << inbox.status();
    if (!inbox.ok()) return "";
    for (const auto& task : *inbox) {
      if (task.instance_id() != instance) continue;
      if (task.assignee().empty()) {
        v1::ClaimTaskRequest claim;
        claim.set_request_id(absl::StrCat("claim-", task.id(), "-", user));
        claim.set_id(task.id());
        EXPECT_OK(client_->Call(user, *client_->tasks, &v1::TaskService::Stub::ClaimTask, claim));
      }
      return task.id();
    }
    ADD_FAILURE() << "no task for " << user << " in " << instance;
    return "";
  }

  void Approve(const std::string& user, const std::string& instance) {
    const std::string task = TaskFor(user, instance);
    ASSERT_OK(client_->Decide(user, task, v1::APPROVE, absl::StrCat("approve-", task)));
  }

  void Complete(const std::string& user, const std::string& instance,
                const std::string& result_yaml = "{}") {
    v1::DecideTaskRequest request;
    request.set_task_id(TaskFor(user, instance));
    request.set_action(v1::COMPLETE);
    *request.mutable_result() = *workflow::ParseFormYaml(result_yaml);
    ASSERT_OK(client_->Decide(user, request, absl::StrCat("complete-", request.task_id())));
  }

  v1::InstanceView Get(const std::string& id) {
    auto view = client_->Get(kObserver, id);
    EXPECT_TRUE(view.ok()) << view.status();
    return view.ok() ? *view : v1::InstanceView();
  }

  // The audit trail, checked: the hash chain holds and folding it gives
  // the instance the server reports.
  std::vector<v1::Event> VerifiedHistory(const std::string& id) {
    auto history = client_->History(kObserver, id);
    EXPECT_TRUE(history.ok()) << history.status();
    if (!history.ok()) return {};
    EXPECT_TRUE(history->chain_verified());
    std::vector<v1::Event> events(history->events().begin(), history->events().end());
    auto replayed = workflow::Replay(events);
    EXPECT_TRUE(replayed.ok()) << replayed.status();
    v1::InstanceView actual = Get(id);
    auto definition = client_->DefinitionOf("grace.liu", actual);
    EXPECT_TRUE(definition.ok()) << definition.status();
    v1::InstanceView expected = app::ViewOf(*replayed, *definition, absl::InfinitePast());
    expected.set_version(actual.version());
    // Overdue is a projection at read time, not state the trail holds.
    for (auto& task : *actual.mutable_pending_tasks()) task.clear_overdue();
    std::string difference;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&difference);
    EXPECT_TRUE(differencer.Compare(expected, actual)) << difference;
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].instance_seq(), static_cast<int64_t>(i) + 1);
    }
    return events;
  }

  std::filesystem::path dir_;
  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<SignoffdProcess> server_;
  std::unique_ptr<ApiClient> client_;
};

}  // namespace signoff::testing
