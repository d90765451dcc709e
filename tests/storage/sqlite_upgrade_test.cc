// Upgrading a database written by the release that stored bodies as JSON
// (schema 5, kept in testdata/): every row reads back as it was written,
// every audit trail still verifies, and a body that does not parse stops
// the upgrade without changing anything.

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "storage/codec.h"
#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using google::protobuf::util::MessageDifferencer;
using signoff::v1::Event;
using signoff::v1::InstanceState;
using signoff::v1::Task;

constexpr int kSchemaBeforeBinaryBodies = 5;

// Rows of one query on a database, read with SQLite itself, each as its
// columns' text.
std::vector<std::vector<std::string>> Rows(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::vector<std::vector<std::string>> rows;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK) {
    while (sqlite3_step(statement) == SQLITE_ROW) {
      auto& row = rows.emplace_back();
      for (int i = 0; i < sqlite3_column_count(statement); ++i) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_blob(statement, i));
        row.emplace_back(text == nullptr ? "" : std::string(text, sqlite3_column_bytes(statement, i)));
      }
    }
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return rows;
}

bool Execute(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  bool ok = sqlite3_open(path.c_str(), &db) == SQLITE_OK &&
            sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return ok;
}

int SchemaVersion(const std::string& path) {
  auto rows = Rows(path, "SELECT MAX(version) FROM schema_version");
  return rows.empty() ? -1 : std::stoi(rows[0][0]);
}

template <typename Message>
Message FromJsonOrDie(const std::string& json) {
  Message message;
  absl::Status parsed = FromJson(json, &message);
  EXPECT_TRUE(parsed.ok()) << parsed;
  return message;
}

class SqliteUpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::path(::testing::TempDir()) /
                 absl::StrCat("signoff_upgrade_", getpid(), "_",
                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
    std::filesystem::copy_file(std::string(SIGNOFF_TESTDATA_DIR) + "/schema5_json_bodies.db",
                               Path());
    ASSERT_EQ(SchemaVersion(Path()), kSchemaBeforeBinaryBodies);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string Path() const { return (directory_ / "store.db").string(); }

  absl::StatusOr<std::unique_ptr<Store>> Open() {
    SqliteOptions options;
    options.path = Path();
    return OpenSqliteStore(options);
  }

 private:
  std::filesystem::path directory_;
};

TEST_F(SqliteUpgradeTest, InstancesTasksAndEventsReadBackAsTheyWereWritten) {
  auto instances = Rows(Path(), "SELECT id, state FROM instances ORDER BY id");
  auto tasks = Rows(Path(), "SELECT id, body FROM tasks ORDER BY id");
  auto events = Rows(Path(), "SELECT instance_id, body, global_seq, prev_hash, hash FROM events"
                             " ORDER BY instance_id, instance_seq");
  ASSERT_EQ(instances.size(), 4u);
  ASSERT_GE(tasks.size(), 5u);
  ASSERT_GE(events.size(), 20u);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Open());
  EXPECT_GT(SchemaVersion(Path()), kSchemaBeforeBinaryBodies);

  for (const auto& row : instances) {
    ASSERT_OK_AND_ASSIGN(InstanceState upgraded, store->GetInstance(row[0]));
    EXPECT_TRUE(MessageDifferencer::Equals(upgraded, FromJsonOrDie<InstanceState>(row[1])))
        << row[0];
    ASSERT_OK_AND_ASSIGN(History history, store->GetHistory(row[0]));
    EXPECT_TRUE(VerifyHistory(history)) << row[0];
  }
  for (const auto& row : tasks) {
    ASSERT_OK_AND_ASSIGN(Task upgraded, store->GetTask(row[0]));
    EXPECT_TRUE(MessageDifferencer::Equals(upgraded, FromJsonOrDie<Task>(row[1]))) << row[0];
  }
  std::map<std::string, std::vector<Event>> histories;
  for (const auto& row : events) {
    if (histories.count(row[0]) == 0) {
      ASSERT_OK_AND_ASSIGN(histories[row[0]], store->ListEvents(row[0]));
    }
  }
  size_t at = 0;
  for (const auto& [instance_id, upgraded] : histories) {
    for (const Event& event : upgraded) {
      ASSERT_LT(at, events.size());
      Event expected = FromJsonOrDie<Event>(events[at][1]);
      expected.set_global_seq(std::stoll(events[at][2]));
      expected.set_prev_hash(events[at][3]);
      expected.set_hash(events[at][4]);
      EXPECT_TRUE(MessageDifferencer::Equals(event, expected)) << instance_id;
      ++at;
    }
  }
  EXPECT_EQ(at, events.size());
}

// Instances stored before reading was restricted get their readers from
// their own events: the applicant, and every task's assignee.
TEST_F(SqliteUpgradeTest, InstancesStoredBeforeAccessRulesGetTheirReadersFromTheirEvents) {
  auto instances = Rows(Path(), "SELECT id, state FROM instances ORDER BY id");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Open());
  for (const auto& row : instances) {
    const InstanceState state = FromJsonOrDie<InstanceState>(row[1]);
    ASSERT_OK_AND_ASSIGN(auto grants, store->GetAccessGrants(row[0]));
    auto has = [&](const std::string& user) {
      return std::count(grants.begin(), grants.end(),
                        workflow::AccessGrant{workflow::UserPrincipal(user),
                                              workflow::AccessKind::kParty}) > 0;
    };
    EXPECT_TRUE(has(state.applicant())) << row[0];
    for (const auto& task : state.tasks()) {
      if (!task.assignee().empty()) EXPECT_TRUE(has(task.assignee())) << task.id();
    }
    storage::InstanceFilter filter;
    filter.readable_by = ReadableBy{{workflow::UserPrincipal(state.applicant())}, {}};
    ASSERT_OK_AND_ASSIGN(auto page, store->ListInstances(filter));
    bool listed = false;
    for (const auto& instance : page.items) listed |= instance.id() == row[0];
    EXPECT_TRUE(listed) << row[0];
  }
}

TEST_F(SqliteUpgradeTest, StoredRepliesDefinitionsAndDirectorySurvive) {
  auto replies = Rows(Path(), "SELECT caller, request_id, reply FROM idempotency");
  auto definitions = Rows(Path(), "SELECT key, version, body FROM definitions");
  auto users = Rows(Path(), "SELECT id, body FROM users ORDER BY id");
  ASSERT_GE(replies.size(), 5u);
  ASSERT_EQ(definitions.size(), 4u);
  ASSERT_FALSE(users.empty());

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Open());
  for (const auto& row : replies) {
    ASSERT_OK_AND_ASSIGN(auto record, store->FindIdempotency(row[0], row[1]));
    ASSERT_TRUE(record.has_value()) << row[1];
    std::string reply;
    ASSERT_TRUE(absl::Base64Unescape(row[2], &reply));
    EXPECT_EQ(record->reply, reply) << row[1];
  }
  for (const auto& row : definitions) {
    ASSERT_OK_AND_ASSIGN(auto published, store->GetDefinition(row[0], std::stoi(row[1])));
    EXPECT_TRUE(MessageDifferencer::Equals(
        published.definition(), FromJsonOrDie<signoff::v1::WorkflowDefinition>(row[2])))
        << row[0];
  }
  ASSERT_OK_AND_ASSIGN(auto organisation, store->LoadDirectory());
  ASSERT_EQ(static_cast<size_t>(organisation.users_size()), users.size());
  for (int i = 0; i < organisation.users_size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(organisation.users(i),
                                           FromJsonOrDie<signoff::v1::User>(users[i][1])));
  }
}

TEST_F(SqliteUpgradeTest, CalendarsDepartmentsRolesAndTimersSurvive) {
  auto calendars = Rows(Path(), "SELECT name, version, body FROM calendars");
  auto departments = Rows(Path(), "SELECT id, body FROM departments ORDER BY id");
  auto roles = Rows(Path(), "SELECT user_id, role, department FROM user_roles ORDER BY 1, 2, 3");
  auto timers = Rows(Path(), "SELECT id, instance_id, fire_us FROM timers ORDER BY id");
  ASSERT_FALSE(calendars.empty());
  ASSERT_FALSE(departments.empty());
  ASSERT_FALSE(roles.empty());
  ASSERT_FALSE(timers.empty());

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Open());
  for (const auto& row : calendars) {
    ASSERT_OK_AND_ASSIGN(auto published, store->GetCalendar(row[0], std::stoi(row[1])));
    EXPECT_TRUE(MessageDifferencer::Equals(published.calendar(),
                                           FromJsonOrDie<signoff::v1::Calendar>(row[2])));
  }
  ASSERT_OK_AND_ASSIGN(auto organisation, store->LoadDirectory());
  ASSERT_EQ(static_cast<size_t>(organisation.departments_size()), departments.size());
  for (int i = 0; i < organisation.departments_size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(
        organisation.departments(i), FromJsonOrDie<signoff::v1::Department>(departments[i][1])));
  }
  EXPECT_EQ(Rows(Path(), "SELECT user_id, role, department FROM user_roles ORDER BY 1, 2, 3"), roles);
  EXPECT_EQ(Rows(Path(), "SELECT id, instance_id, fire_us FROM timers ORDER BY id"), timers);
}

// Bodies are bytes to SQLite, not text that its functions and dumps would
// cut at the first zero byte: after the upgrade and for new writes alike.
TEST_F(SqliteUpgradeTest, EveryBodyIsStoredAsBytes) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Open());
  ASSERT_OK(store->Commit(StartMutation(MakeInstance("fresh", 1))));
  for (const char* column : {"instances.state", "tasks.body", "events.body", "definitions.body",
                             "calendars.body", "users.body", "departments.body",
                             "idempotency.reply"}) {
    const std::string name = column;
    const std::string table = name.substr(0, name.find('.'));
    const std::string field = name.substr(name.find('.') + 1);
    auto kinds = Rows(Path(), absl::StrCat("SELECT DISTINCT typeof(", field, ") FROM ", table));
    EXPECT_EQ(kinds, (std::vector<std::vector<std::string>>{{"blob"}})) << column;
  }
}

TEST_F(SqliteUpgradeTest, ADatabaseFromANewerReleaseIsRefusedUntouched) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Open());
  store.reset();
  ASSERT_TRUE(Execute(Path(), "INSERT INTO schema_version (version, name, applied_us)"
                              " VALUES (999, '0999_future', 0)"));
  auto before = Rows(Path(), "SELECT id, state FROM instances ORDER BY id");
  auto reopened = Open();
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kFailedPrecondition) << reopened.status();
  EXPECT_EQ(Rows(Path(), "SELECT id, state FROM instances ORDER BY id"), before);
}

TEST_F(SqliteUpgradeTest, UpgradedInstanceTakesNewEventsOnItsChain) {
  auto instances = Rows(Path(), "SELECT id FROM instances WHERE status = 1 ORDER BY id");
  ASSERT_FALSE(instances.empty());
  const int64_t events_before = std::stoll(Rows(Path(), "SELECT MAX(global_seq) FROM events")[0][0]);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Open());
  ASSERT_OK_AND_ASSIGN(InstanceState state, store->GetInstance(instances[0][0]));
  ASSERT_OK_AND_ASSIGN(History before, store->GetHistory(state.id()));

  Mutation next;
  next.expected_version = state.version();
  state.set_version(state.version() + 1);
  next.instance = state;
  next.events.push_back(MakeEvent(state.id(), "alice.chen", 999));
  ASSERT_OK(store->Commit(std::move(next)));

  ASSERT_OK_AND_ASSIGN(History after, store->GetHistory(state.id()));
  EXPECT_EQ(after.event_count, before.event_count + 1);
  // The event stream's order continues past every event stored before.
  auto newest = Rows(Path(), "SELECT MAX(global_seq) FROM events WHERE global_seq < "
                             + std::to_string(after.events.back().global_seq()));
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(std::stoll(newest[0][0]), events_before);
  EXPECT_EQ(after.events.back().prev_hash(), before.head_hash);
  EXPECT_TRUE(VerifyHistory(after));
}

// A body that does not parse, or holds a field its message lacks, would
// lose data in the conversion: the upgrade stops and changes nothing.
TEST_F(SqliteUpgradeTest, BodyThatDoesNotConvertStopsTheUpgradeAndChangesNothing) {
  const std::string pristine = Path() + ".pristine";
  std::filesystem::copy_file(Path(), pristine);
  for (const char* broken : {"'{not json'", "'{\"id\": \"t\", \"no_such_field\": 1}'"}) {
    std::filesystem::copy_file(pristine, Path(), std::filesystem::copy_options::overwrite_existing);
    ASSERT_TRUE(Execute(Path(), absl::StrCat("UPDATE tasks SET body = ", broken,
                                             " WHERE rowid = (SELECT MAX(rowid) FROM tasks)")));
    auto before = Rows(Path(), "SELECT id, state FROM instances ORDER BY id");

    auto opened = Open();
    ASSERT_FALSE(opened.ok()) << broken;
    EXPECT_THAT(std::string(opened.status().message()), ::testing::HasSubstr("tasks")) << broken;
    EXPECT_EQ(SchemaVersion(Path()), kSchemaBeforeBinaryBodies) << broken;
    EXPECT_EQ(Rows(Path(), "SELECT id, state FROM instances ORDER BY id"), before) << broken;
  }
}

}  // namespace
}  // namespace signoff::storage::testing
