#pragma once

// The in-process server every server test runs against: a SQLite store in
// a temporary folder, the application on a fake clock, the gRPC server and
// a client on its in-process channel.

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "api_client.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/app/seed.h"
#include "server/server.h"
#include "status_matchers.h"
#include "storage/store.h"
#include "test_database.h"
#include "test_organisation.h"
#include "workflow/engine.h"
#include "workflow/yaml_mapping.h"

namespace signoff::testing {

constexpr char kLeaveDefinition[] = R"(
key: leave
name: Leave request
form:
  fields:
    - {name: employee, type: USER, required: true}
    - {name: days, type: NUMBER, required: true, min: 0.5, max: 60}
    - {name: reason, type: STRING}
subject: {field: employee, type: employee, unique_open: true}
reject_reasons: [{code: staffing}, {code: policy}]
appeal: {allowed: true, window_days: 5}
steps:
  - id: manager
    approval: {approvers: [{manager_level: 1}]}
    actions: {allowed: [APPROVE, REJECT, RETURN, TRANSFER, DELEGATE, ADD_SIGNER, COMMENT, CC, REMIND]}
    next: [{when: {field: days, op: GT, value: 5}, to: finance}, {to: hr}]
  - id: finance
    approval: {approvers: [{user: fiona}, {user: fred}], policy: ANY}
    next: [{to: hr}]
  - id: hr
    approval: {approvers: [{role: {name: hrbp, department: hr, candidate_group: true}}]}
    next: [{to: done}]
  - {id: done, end: {}}
)";

#ifdef SIGNOFF_SOURCE_DIR
// The demo organisation and every shipped definition and calendar, as
// `signoffd seed` loads them from workflow/definitions.
inline absl::Status SeedShipped(app::Application& app) {
  const std::string shipped = std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions";
  app::SeedSources sources;
  sources.organisation_file = shipped + "/demo-org.yaml";
  sources.definitions = {shipped};
  return app::Seed(app, sources);
}
#endif

// The server's clock, moved by tests instead of sleeping.
class FakeClock {
 public:
  absl::Time load() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return now_;
  }
  void Advance(absl::Duration by) {
    std::lock_guard<std::mutex> lock(mutex_);
    now_ += by;
  }

 private:
  mutable std::mutex mutex_;
  absl::Time now_ = absl::FromUnixSeconds(1767225600);
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("signoff-server-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Open();
    if (!StartsWithOrganisation()) return;
    auto organisation = workflow::ParseOrganisationYaml(kTestOrganisation);
    ASSERT_OK(organisation);
    ASSERT_OK(app_->directory().SeedOrganisation(*organisation));
    ASSERT_OK(Publish(kLeaveDefinition, "publish-leave"));
  }

  // False for a signoffd started on an empty directory, with nothing
  // published.
  virtual bool StartsWithOrganisation() const { return true; }

  // Options a test's server differs in, e.g. its identity mode.
  virtual void ConfigureServer(server::ServerOptions&) {}

  // Stops everything and opens the same database again, as a restarted
  // signoffd would.
  void Restart() {
    client_.reset();
    server_.reset();
    app_.reset();
    store_.reset();
    Open();
  }

  void Open() {
    if (database_ == nullptr) {
      auto database = TestDatabase::Create(dir_);
      ASSERT_OK(database);
      database_ = std::move(*database);
    }
    auto opened = database_->Open();
    ASSERT_OK(opened);
    store_ = std::move(*opened);
    auto core = app::Application::Create(store_, [this] { return now_.load(); });
    ASSERT_OK(core);
    app_ = std::move(*core);
    server::ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.log_calls = false;
    server_options.max_message_bytes = 256 << 10;
    // Tests fire timers themselves, at the fake clock's time.
    server_options.timer_poll = absl::ZeroDuration();
    server_options.readiness_poll = absl::Milliseconds(50);
    ConfigureServer(server_options);
    auto started = server::SignoffServer::Start(app_, server_options);
    ASSERT_OK(started);
    server_ = std::move(*started);
    client_ = std::make_unique<ApiClient>(server_->InProcessChannel());
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    app_.reset();
    store_.reset();
    database_.reset();
    std::filesystem::remove_all(dir_);
  }

  absl::StatusOr<v1::PublishDefinitionResponse> Publish(const std::string& yaml,
                                                        const std::string& request_id,
                                                        const std::string& user = "ceo") {
    v1::PublishDefinitionRequest request;
    request.set_request_id(request_id);
    request.mutable_source()->set_yaml(yaml);
    return client_->Call(user, *client_->definitions,
                         &v1::DefinitionService::Stub::PublishDefinition, request);
  }

  std::string PendingTaskOf(const v1::InstanceView& view, const std::string& user) {
    for (const auto& task : view.pending_tasks()) {
      if (task.assignee() == user && task.status() == v1::PENDING) return task.id();
    }
    return "";
  }

  // Folding the stored events gives the stored state.
  void ExpectReplayMatchesStore(const std::string& id) {
    auto events = store_->ListEvents(id);
    ASSERT_OK(events);
    EXPECT_TRUE(storage::VerifyEventChain(*events));
    auto replayed = workflow::Replay(*events);
    ASSERT_OK(replayed);
    auto stored = store_->GetInstance(id);
    ASSERT_OK(stored);
    replayed->set_version(stored->version());
    std::string difference;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&difference);
    EXPECT_TRUE(differencer.Compare(*replayed, *stored)) << difference;
  }

  std::filesystem::path dir_;
  std::unique_ptr<TestDatabase> database_;
  FakeClock now_;
  std::shared_ptr<storage::Store> store_;
  std::shared_ptr<app::Application> app_;
  std::unique_ptr<server::SignoffServer> server_;
  std::unique_ptr<ApiClient> client_;
};

}  // namespace signoff::testing
