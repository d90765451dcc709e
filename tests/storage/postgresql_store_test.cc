// What only a database server does to its clients: connections dropped
// under a running store, and connection strings to check.

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "postgresql_test_database.h"
#include "storage/dialect.h"
#include "storage/mutation_writer.h"
#include "storage/open_store.h"
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

  // Connections lost while idle are found lost before anything is sent,
  // and replaced at no cost to the call.
  EXPECT_EQ(FailuresBeforeSuccess([&] { return store_->CheckWritable(); }, 3), 0);
  Mutation decide;
  decide.instance = MakeInstance("i-1", 2);
  decide.expected_version = 1;
  decide.events.push_back(MakeEvent("i-1", "bob"));
  EXPECT_EQ(FailuresBeforeSuccess([&] { return store_->Commit(decide).status(); }, 3), 0);
  EXPECT_EQ(FailuresBeforeSuccess([&] { return store_->GetInstance("i-1").status(); }, 4), 0);
  EXPECT_EQ(FailuresBeforeSuccess([&] { return store_->ListEvents("i-1").status(); }, 4), 0);
  EXPECT_EQ(FailuresBeforeSuccess([&] { return store_->ListInstances({}).status(); }, 4), 0);

  ASSERT_OK_AND_ASSIGN(auto instance, store_->GetInstance("i-1"));
  EXPECT_EQ(instance.version(), 2);
  ASSERT_OK_AND_ASSIGN(History history, store_->GetHistory("i-1"));
  EXPECT_EQ(history.events.size(), 1u);
  EXPECT_TRUE(VerifyHistory(history));
}

// The database's deadlock count, read as an operator would.
int64_t DeadlocksSoFar() {
  absl::StatusOr<std::string> url = signoff::testing::PostgresqlTestUrl();
  EXPECT_TRUE(url.ok());
  absl::StatusOr<std::string> conninfo = NormalizeConnectionString(*url, 5);
  EXPECT_TRUE(conninfo.ok());
  soci::session session(soci::postgresql, *conninfo);
  int64_t deadlocks = 0;
  session << "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
      soci::into(deadlocks);
  return deadlocks;
}

// Two writers taking the same instances in opposite orders deadlock; the
// database fails one of them, which is run again and then finds every
// instance already moved on: each instance changes once, and no caller
// sees anything but success or ABORTED.
TEST_F(PostgresqlStoreTest, WritersThatDeadlockEachChangeEveryInstanceOnce) {
  constexpr int kInstances = 40;
  for (int i = 0; i < kInstances; ++i) {
    ASSERT_OK(store_->Commit(StartMutation(MakeInstance(absl::StrCat("i-", i), 1))));
  }
  auto decisions = [&](bool reversed, const std::string& actor) {
    std::vector<Mutation> batch;
    for (int n = 0; n < kInstances; ++n) {
      const int i = reversed ? kInstances - 1 - n : n;
      Mutation decide;
      decide.instance = MakeInstance(absl::StrCat("i-", i), 2);
      decide.expected_version = 1;
      decide.events.push_back(MakeEvent(absl::StrCat("i-", i), actor));
      batch.push_back(std::move(decide));
    }
    return batch;
  };
  const std::vector<Mutation> forward_mutations = decisions(false, "forward");
  const std::vector<Mutation> backward_mutations = decisions(true, "backward");
  auto pointers = [](const std::vector<Mutation>& mutations) {
    std::vector<const Mutation*> all;
    for (const Mutation& mutation : mutations) all.push_back(&mutation);
    return all;
  };
  const std::vector<EncodedMutation> forward = EncodedAll(pointers(forward_mutations));
  const std::vector<EncodedMutation> backward = EncodedAll(pointers(backward_mutations));
  PostgresqlOptions options;
  options.connection = database_->connection();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Dialect> dialect, MakePostgresqlDialect(options));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MutationWriter> first, MutationWriter::Open(*dialect));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MutationWriter> second, MutationWriter::Open(*dialect));
  const int64_t deadlocks_before = DeadlocksSoFar();

  // Both writers first wait on a row each that a third transaction holds,
  // so that they start together when it lets go, and meet half-way.
  soci::session holder(soci::postgresql, database_->connection());
  holder << "BEGIN";
  holder << absl::StrCat("SELECT id FROM instances WHERE id IN ('i-0', 'i-", kInstances - 1,
                         "') FOR UPDATE");
  std::vector<absl::StatusOr<CommitResult>> forward_results, backward_results;
  std::thread one([&] { forward_results = first->CommitBatch(Pointers(forward)); });
  std::thread other([&] { backward_results = second->CommitBatch(Pointers(backward)); });
  int waiting = 0;
  for (int poll = 0; poll < 100 && waiting < 2; ++poll) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    holder << "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
              " AND application_name = current_setting('application_name')",
        soci::into(waiting);
  }
  EXPECT_EQ(waiting, 2) << "the writers did not both wait for the held rows";
  holder << "COMMIT";
  one.join();
  other.join();

  // A server process reports its statistics when it ends, at the latest.
  first.reset();
  second.reset();
  int64_t deadlocks_after = deadlocks_before;
  for (int wait = 0; wait < 50 && deadlocks_after == deadlocks_before; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    deadlocks_after = DeadlocksSoFar();
  }
  EXPECT_GT(deadlocks_after, deadlocks_before) << "the writers never deadlocked";
  ASSERT_EQ(forward_results.size(), static_cast<size_t>(kInstances));
  ASSERT_EQ(backward_results.size(), static_cast<size_t>(kInstances));
  for (int n = 0; n < kInstances; ++n) {
    const auto& one = forward_results[n];
    const auto& other_one = backward_results[kInstances - 1 - n];
    EXPECT_NE(one.ok(), other_one.ok()) << "instance i-" << n;
    for (const auto* result : {&one, &other_one}) {
      if (!result->ok()) {
        EXPECT_EQ(result->status().code(), absl::StatusCode::kAborted);
      }
    }
    ASSERT_OK_AND_ASSIGN(History history, store_->GetHistory(absl::StrCat("i-", n)));
    EXPECT_EQ(history.events.size(), 1u);
    EXPECT_TRUE(VerifyHistory(history));
  }
}

TEST_F(PostgresqlStoreTest, AnUnreachableServerIsUnavailableAtOnce) {
  PostgresqlOptions options;
  // Nothing listens on port 1 of loopback.
  options.connection = "postgresql://signoff@127.0.0.1:1/postgres";
  EXPECT_CODE(OpenPostgresqlStore(options), absl::StatusCode::kUnavailable);
}

TEST(DescribeDatabaseTest, NamesTheServerButNeverThePassword) {
  EXPECT_EQ(DescribeDatabase("postgresql://ann:s3cret@db.local:6543/signoff?sslmode=require"),
            "postgresql db.local:6543/signoff");
  EXPECT_EQ(DescribeDatabase("postgres://ann@db.local/signoff"), "postgresql db.local:5432/signoff");
  EXPECT_EQ(DescribeDatabase("sqlite:var/x.db"), "var/x.db");
  EXPECT_EQ(DescribeDatabase("var/x.db"), "var/x.db");
  EXPECT_THAT(DescribeDatabase("postgresql://ann:s3cret@[::1"), ::testing::Not(::testing::HasSubstr("s3cret")));
  EXPECT_TRUE(IsPostgresqlUrl("postgres://h/d"));
  EXPECT_FALSE(IsPostgresqlUrl("host=h dbname=d"));
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
  EXPECT_THAT(conninfo, ::testing::HasSubstr("keepalives_idle=30"));
  EXPECT_THAT(conninfo, ::testing::HasSubstr("tcp_user_timeout=60000"));
}

TEST(WithoutBoundValuesTest, DropsTheValuesAndTheQuotedRow) {
  const std::string message =
      "Cannot execute query. Fatal error. ERROR:  duplicate key value violates unique "
      "constraint \"instances_open_subject_key\"\nDETAIL:  Key (open_subject)=(dealer:"
      "secret-9) already exists.\n while executing \"INSERT INTO instances\" with :i=\"x\".";
  const std::string kept = WithoutBoundValues(message);
  EXPECT_THAT(kept, ::testing::HasSubstr("instances_open_subject_key"));
  EXPECT_THAT(kept, ::testing::HasSubstr("while executing \"INSERT INTO instances\""));
  EXPECT_THAT(kept, ::testing::Not(::testing::HasSubstr("secret-9")));
  EXPECT_THAT(kept, ::testing::Not(::testing::HasSubstr(":i=")));
}

TEST(PostgresqlConnectionStringTest, TheStringsOwnSettingsWin) {
  ASSERT_OK_AND_ASSIGN(
      std::string conninfo,
      NormalizeConnectionString(
          "host=db connect_timeout=2 application_name=ops keepalives_idle=5", 7));
  EXPECT_THAT(conninfo, ::testing::HasSubstr("connect_timeout='2'"));
  EXPECT_THAT(conninfo, ::testing::HasSubstr("keepalives_idle='5'"));
  EXPECT_THAT(conninfo, ::testing::Not(::testing::HasSubstr("keepalives_idle=30")));
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
