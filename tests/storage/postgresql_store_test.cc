// What only a database server does to its clients: connections dropped
// under a running store, and connection strings to check.

#include "postgresql_test_database.h"
#include "status_matchers.h"
#include "storage/postgresql_dialect.h"
#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using signoff::testing::PostgresqlTestDatabase;

// Calls fn until it succeeds, at most `attempts` times; each failure must
// be UNAVAILABLE, never an error that would tell a client its request was
// wrong. Returns how many attempts failed.
template <typename Fn>
int FailuresBeforeSuccess(Fn fn, int attempts) {
  for (int failures = 0; failures < attempts; ++failures) {
    const absl::Status status = fn();
    if (status.ok()) return failures;
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  }
  ADD_FAILURE() << "still failing after " << attempts << " attempts";
  return attempts;
}

class PostgresqlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = PostgresqlTestDatabase::Create();
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = std::move(*database);
    PostgresqlOptions options;
    options.connection = database_->connection();
    options.read_pool_size = 2;
    auto store = OpenPostgresqlStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  std::unique_ptr<PostgresqlTestDatabase> database_;
  std::unique_ptr<Store> store_;
};

TEST_F(PostgresqlStoreTest, EveryConnectionComesBackAfterTheServerDropsThem) {
  ASSERT_OK(store_->Commit(StartMutation(MakeInstance("i-1", 1))));
  ASSERT_OK(store_->GetInstance("i-1"));
  ASSERT_OK(store_->CheckWritable());

  ASSERT_OK(database_->TerminateConnections());

  // Each lost connection fails the one call that finds it lost, and no
  // more: the probe's and the writer's are found lost at their next use.
  EXPECT_EQ(FailuresBeforeSuccess([&] { return store_->CheckWritable(); }, 3), 1);
  Mutation decide;
  decide.instance = MakeInstance("i-1", 2);
  decide.expected_version = 1;
  decide.events.push_back(MakeEvent("i-1", "bob"));
  EXPECT_EQ(FailuresBeforeSuccess([&] { return store_->Commit(decide).status(); }, 3), 1);
  EXPECT_LE(FailuresBeforeSuccess([&] { return store_->GetInstance("i-1").status(); }, 4), 2);
  EXPECT_LE(FailuresBeforeSuccess([&] { return store_->ListEvents("i-1").status(); }, 4), 2);

  ASSERT_OK_AND_ASSIGN(auto instance, store_->GetInstance("i-1"));
  EXPECT_EQ(instance.version(), 2);
  ASSERT_OK_AND_ASSIGN(History history, store_->GetHistory("i-1"));
  EXPECT_EQ(history.events.size(), 1u);
  EXPECT_TRUE(VerifyHistory(history));
}

TEST_F(PostgresqlStoreTest, AnUnreachableServerIsUnavailableAtOnce) {
  PostgresqlOptions options;
  // Nothing listens on port 1 of loopback.
  options.connection = "postgresql://signoff@127.0.0.1:1/postgres";
  EXPECT_CODE(OpenPostgresqlStore(options), absl::StatusCode::kUnavailable);
}

TEST(PostgresqlConnectionStringTest, UrlsBecomeKeywordsWithDefaultsAdded) {
  ASSERT_OK_AND_ASSIGN(std::string conninfo,
                       NormalizeConnectionString("postgresql://ann:s%27cret@db.local:6543/signoff",
                                                 7));
  EXPECT_THAT(conninfo, ::testing::HasSubstr("host='db.local'"));
  EXPECT_THAT(conninfo, ::testing::HasSubstr("port='6543'"));
  EXPECT_THAT(conninfo, ::testing::HasSubstr("dbname='signoff'"));
  EXPECT_THAT(conninfo, ::testing::HasSubstr("password='s\\'cret'"));
  EXPECT_THAT(conninfo, ::testing::HasSubstr("connect_timeout=7"));
  EXPECT_THAT(conninfo, ::testing::HasSubstr("application_name=signoffd"));
}

TEST(PostgresqlConnectionStringTest, TheStringsOwnSettingsWin) {
  ASSERT_OK_AND_ASSIGN(
      std::string conninfo,
      NormalizeConnectionString("host=db connect_timeout=2 application_name=ops", 7));
  EXPECT_THAT(conninfo, ::testing::HasSubstr("connect_timeout='2'"));
  EXPECT_THAT(conninfo, ::testing::Not(::testing::HasSubstr("connect_timeout=7")));
  EXPECT_THAT(conninfo, ::testing::HasSubstr("application_name='ops'"));
}

TEST(PostgresqlConnectionStringTest, WhatLibpqCannotParseIsInvalidArgument) {
  EXPECT_CODE(NormalizeConnectionString("postgresql://db/x?no_such_option=1", 5),
              absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(NormalizeConnectionString("host=db port", 5), absl::StatusCode::kInvalidArgument);
  PostgresqlOptions empty;
  EXPECT_CODE(OpenPostgresqlStore(empty), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace signoff::storage::testing
