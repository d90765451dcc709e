// What only the SQLite backend has: pragmas, lock contention, options and
// the migration script splitter.

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "storage/migrations.h"
#include "storage/mutation_writer.h"
#include "storage/sqlite_dialect.h"
#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using ::testing::ElementsAre;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = absl::StrCat("signoff_sqlite_", getpid(), "_",
                                    ::testing::UnitTest::GetInstance()->random_seed(), "_",
                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    directory_ = std::filesystem::path(::testing::TempDir()) / name;
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string Path() const { return (directory_ / "store.db").string(); }

  SqliteOptions Options() const {
    SqliteOptions options;
    options.path = Path();
    return options;
  }

 private:
  std::filesystem::path directory_;
};

// A second connection that holds SQLite's write lock while it lives.
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const std::string& path) {
    sqlite3_open(path.c_str(), &db_);
    locked_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  ~WriteLockHolder() {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }
  bool locked() const { return locked_; }

 private:
  sqlite3* db_ = nullptr;
  bool locked_ = false;
};

std::string JournalMode(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  std::string mode;
  sqlite3_exec(
      db, "PRAGMA journal_mode",
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) = values[0] == nullptr ? "" : values[0];
        return 0;
      },
      &mode, nullptr);
  sqlite3_close(db);
  return mode;
}

TEST_F(SqliteStoreTest, DatabaseUsesWriteAheadLog) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(Options()));
  EXPECT_EQ(JournalMode(Path()), "wal");
}

TEST_F(SqliteStoreTest, MigrateReachesTheLastEmbeddedVersion) {
  ASSERT_FALSE(SqliteMigrations().empty());
  ASSERT_OK_AND_ASSIGN(int version, MigrateSqlite(Path()));
  EXPECT_EQ(version, SqliteMigrations().back().version);
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(Options()));
  ASSERT_OK_AND_ASSIGN(int again, MigrateSqlite(Path()));
  EXPECT_EQ(again, version);
}

// Builds the database a release with migrations up to `version` left.
void MakeDatabaseAtVersion(const std::string& path, int version) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto exec = [db](const std::string& sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "") << "\n" << sql;
  };
  exec("CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY,"
       " name TEXT NOT NULL, applied_us BIGINT NOT NULL)");
  for (const Migration& migration : SqliteMigrations()) {
    if (migration.version > version) break;
    exec(migration.sql);
    exec(absl::StrCat("INSERT INTO schema_version VALUES (", migration.version, ", '",
                      migration.name, "', 0)"));
  }
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, ADatabaseFromTheReleaseBeforeKeepsItsRecordsAndChains) {
  MakeDatabaseAtVersion(Path(), 2);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(Path().c_str(), &db), SQLITE_OK);
    const char* rows =
        "INSERT INTO instances (id, definition_key, definition_version, status, applicant,"
        " subject, version, state, created_us, updated_us)"
        " VALUES ('i-old', 'leave', 1, 1, 'ann', '', 2, '{}', 1, 2);"
        "INSERT INTO events (instance_id, instance_seq, type, time_us, actor, body,"
        " prev_hash, hash) VALUES ('i-old', 1, 'instance_started', 1, 'ann', '{}', '', 'h1'),"
        " ('i-old', 2, 'step_entered', 2, 'system', '{}', 'h1', 'h2');"
        "INSERT INTO instances (id, definition_key, definition_version, status, applicant,"
        " subject, version, state, created_us, updated_us)"
        " VALUES ('i-quiet', 'leave', 1, 1, 'ann', '', 1, '{}', 1, 1);"
        "INSERT INTO idempotency (request_id, method, fingerprint, reply, created_us)"
        " VALUES ('signoffd:timer:i-old-m1', 'FireTimer', 'fp', '', 3);";
    ASSERT_EQ(sqlite3_exec(db, rows, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(Options()));

  ASSERT_OK_AND_ASSIGN(History history, store->GetHistory("i-old"));
  EXPECT_EQ(history.event_count, 2);
  EXPECT_EQ(history.head_hash, "h2");
  ASSERT_EQ(history.events.size(), 2u);
  ASSERT_OK_AND_ASSIGN(History quiet, store->GetHistory("i-quiet"));
  EXPECT_EQ(quiet.event_count, 0);
  EXPECT_EQ(quiet.head_hash, "");
  // Records from before were signoffd's own or a caller's; either way they
  // are kept, in the scope of signoffd's own changes.
  ASSERT_OK_AND_ASSIGN(auto record, store->FindIdempotency("", "signoffd:timer:i-old-m1"));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->method, "FireTimer");
}

int PageCount(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  int pages = 0;
  sqlite3_exec(
      db, "PRAGMA page_count",
      [](void* out, int, char** values, char**) {
        *static_cast<int*>(out) = std::atoi(values[0]);
        return 0;
      },
      &pages, nullptr);
  sqlite3_close(db);
  return pages;
}

TEST_F(SqliteStoreTest, AFullDatabaseIsResourceExhaustedAndKeepsWhatItHad) {
  { ASSERT_OK_AND_ASSIGN(auto created, OpenSqliteStore(Options())); }
  SqliteOptions capped = Options();
  capped.max_pages = PageCount(Path()) + 8;
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(capped));
  std::vector<std::string> committed;
  absl::Status full;
  for (int i = 0; i < 100 && full.ok(); ++i) {
    signoff::v1::InstanceState instance = MakeInstance(absl::StrCat("i-", i), 1);
    (*instance.mutable_form()->mutable_fields())["notes"].set_string_value(std::string(6000, 'n'));
    absl::StatusOr<CommitResult> result = store->Commit(StartMutation(instance));
    if (result.ok()) {
      committed.push_back(instance.id());
    } else {
      full = result.status();
    }
  }
  ASSERT_FALSE(committed.empty());
  EXPECT_CODE(full, absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(full.message()), ::testing::HasSubstr("database is full"));
  for (const auto& id : committed) EXPECT_OK(store->GetInstance(id));
  EXPECT_CODE(store->GetInstance(absl::StrCat("i-", committed.size())),
              absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, CheckWritableSeesTheFileGoneOrReplaced) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(Options()));
  EXPECT_OK(store->CheckWritable());
  std::filesystem::rename(Path(), Path() + ".moved");
  absl::Status gone = store->CheckWritable();
  EXPECT_CODE(gone, absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(gone.message()), ::testing::HasSubstr("is gone"));
  { std::ofstream replacement(Path()); }
  absl::Status replaced = store->CheckWritable();
  EXPECT_CODE(replaced, absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(replaced.message()), ::testing::HasSubstr("was replaced"));
  std::filesystem::remove(Path());
  std::filesystem::rename(Path() + ".moved", Path());
  EXPECT_OK(store->CheckWritable());
}

TEST_F(SqliteStoreTest, NegativeMaxPagesIsRefused) {
  SqliteOptions options = Options();
  options.max_pages = -1;
  EXPECT_CODE(OpenSqliteStore(options), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, HeldWriteLockGivesUnavailableAndLosesNothing) {
  SqliteOptions options = Options();
  options.busy_timeout_ms = 50;
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(options));
  ASSERT_OK(store->Commit(StartMutation(MakeInstance("i-1", 1))));
  {
    WriteLockHolder lock(Path());
    ASSERT_TRUE(lock.locked());
    EXPECT_CODE(store->Commit(StartMutation(MakeInstance("i-2", 1))),
                absl::StatusCode::kUnavailable);
    // WAL readers are not blocked by a writer.
    EXPECT_OK(store->GetInstance("i-1"));
  }
  EXPECT_CODE(store->GetInstance("i-2"), absl::StatusCode::kNotFound);
  ASSERT_OK(store->Commit(StartMutation(MakeInstance("i-2", 1))));
  EXPECT_OK(store->GetInstance("i-2"));
}

TEST_F(SqliteStoreTest, TransactionFailureFailsEveryMemberOfTheBatch) {
  SqliteOptions options = Options();
  options.busy_timeout_ms = 50;
  ASSERT_OK_AND_ASSIGN(auto store, OpenSqliteStore(options));
  ASSERT_OK_AND_ASSIGN(auto dialect, MakeSqliteDialect(options));
  ASSERT_OK_AND_ASSIGN(auto writer, MutationWriter::Open(*dialect));
  Mutation a = StartMutation(MakeInstance("a", 1));
  Mutation b = StartMutation(MakeInstance("b", 1));
  Mutation c = StartMutation(MakeInstance("c", 1));
  const auto batch = EncodedAll({&a, &b, &c});
  {
    WriteLockHolder lock(Path());
    ASSERT_TRUE(lock.locked());
    auto results = writer->CommitBatch(Pointers(batch));
    ASSERT_EQ(results.size(), 3u);
    for (const auto& result : results) {
      EXPECT_CODE(result, absl::StatusCode::kUnavailable);
    }
  }
  for (const char* id : {"a", "b", "c"}) {
    EXPECT_CODE(store->GetInstance(id), absl::StatusCode::kNotFound);
  }
  auto retried = writer->CommitBatch(Pointers(batch));
  for (const auto& result : retried) EXPECT_OK(result);
  EXPECT_OK(store->GetInstance("c"));
}

TEST_F(SqliteStoreTest, BadOptionsAreInvalidArgument) {
  SqliteOptions no_path;
  EXPECT_CODE(OpenSqliteStore(no_path), absl::StatusCode::kInvalidArgument);
  SqliteOptions bad_sync = Options();
  bad_sync.synchronous = "FULL; DROP TABLE users";
  EXPECT_CODE(OpenSqliteStore(bad_sync), absl::StatusCode::kInvalidArgument);
  SqliteOptions no_readers = Options();
  no_readers.read_pool_size = 0;
  EXPECT_CODE(OpenSqliteStore(no_readers), absl::StatusCode::kInvalidArgument);
  SqliteOptions no_batch = Options();
  no_batch.max_batch = 0;
  EXPECT_CODE(OpenSqliteStore(no_batch), absl::StatusCode::kInvalidArgument);
  SqliteOptions normal = Options();
  normal.synchronous = "normal";
  EXPECT_OK(OpenSqliteStore(normal));
}

TEST_F(SqliteStoreTest, UnopenablePathIsAnErrorNotACrash) {
  SqliteOptions options;
  options.path = "/nonexistent-signoff-dir/sub/store.db";
  auto store = OpenSqliteStore(options);
  EXPECT_FALSE(store.ok());
  EXPECT_FALSE(MigrateSqlite(options.path).ok());
}

TEST(SplitSqlScriptTest, SplitsOnSemicolonsOutsideQuotesAndComments) {
  const std::string script =
      "-- a comment; with a semicolon\n"
      "CREATE TABLE t (a TEXT DEFAULT 'x;y');\n"
      "/* block; comment */ INSERT INTO t VALUES ('it''s; fine');\n"
      "\n  ;\n"
      "SELECT \"odd;name\" FROM t";
  EXPECT_THAT(SplitSqlScript(script),
              ElementsAre("CREATE TABLE t (a TEXT DEFAULT 'x;y')",
                          "INSERT INTO t VALUES ('it''s; fine')",
                          "SELECT \"odd;name\" FROM t"));
}

TEST(SplitSqlScriptTest, EmbeddedMigrationsSplitIntoStatements) {
  for (const Migration& migration : SqliteMigrations()) {
    const auto statements = SplitSqlScript(migration.sql);
    EXPECT_FALSE(statements.empty()) << migration.name;
    for (const std::string& statement : statements) {
      EXPECT_EQ(statement.find(';'), std::string::npos) << statement;
    }
  }
}

}  // namespace
}  // namespace signoff::storage::testing
