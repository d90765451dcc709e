#include "sqlite_baseline.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace signoff::bench {

namespace {

// signoffd's tables, cut to what one decision touches, with the indexes
// its writes keep up to date.
constexpr char kSchema[] = R"sql(
CREATE TABLE instances (
  id TEXT NOT NULL PRIMARY KEY,
  definition_key TEXT NOT NULL,
  status INTEGER NOT NULL,
  applicant TEXT NOT NULL,
  version BIGINT NOT NULL,
  state BLOB NOT NULL,
  updated_us BIGINT NOT NULL
);
CREATE INDEX instances_by_definition ON instances (definition_key, status, id);
CREATE INDEX instances_by_status ON instances (status, id);
CREATE TABLE tasks (
  id TEXT NOT NULL PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances (id),
  status INTEGER NOT NULL,
  assignee TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  body BLOB NOT NULL
);
CREATE INDEX tasks_by_assignee ON tasks (assignee, status, created_us, id);
CREATE INDEX tasks_by_status ON tasks (status, created_us, id);
CREATE INDEX tasks_by_instance ON tasks (instance_id);
CREATE TABLE events (
  global_seq INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL REFERENCES instances (id),
  instance_seq BIGINT NOT NULL,
  time_us BIGINT NOT NULL,
  body BLOB NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  UNIQUE (instance_id, instance_seq)
);
CREATE TABLE idempotency (
  caller TEXT NOT NULL,
  request_id TEXT NOT NULL,
  method TEXT NOT NULL,
  reply BLOB NOT NULL,
  created_us BIGINT NOT NULL,
  PRIMARY KEY (caller, request_id)
);
)sql";

// The sizes of a decision's bodies in signoffd's JSON: an instance state
// of about 1.5 KB, events and a task of a few hundred bytes.
constexpr size_t kStateBytes = 1536;
constexpr size_t kEventBytes = 320;
constexpr size_t kTaskBytes = 480;

std::string Body(const std::string& prefix, size_t size) {
  std::string body = prefix;
  body.resize(size, 'x');
  return body;
}

std::string InstanceId(int64_t n) { return absl::StrFormat("i%013d", n); }

absl::Status SqliteError(sqlite3* db, const std::string& what) {
  return absl::InternalError(absl::StrCat("sqlite baseline: ", what, ": ", sqlite3_errmsg(db)));
}

absl::Status Exec(sqlite3* db, const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) == SQLITE_OK) {
    return absl::OkStatus();
  }
  absl::Status status = absl::InternalError(
      absl::StrCat("sqlite baseline: ", message == nullptr ? "?" : message, " in: ", sql));
  sqlite3_free(message);
  return status;
}

// Steps a statement that returns no rows, and resets it for the next use.
absl::Status Step(sqlite3* db, sqlite3_stmt* statement, const char* what) {
  const int result = sqlite3_step(statement);
  sqlite3_reset(statement);
  sqlite3_clear_bindings(statement);
  if (result == SQLITE_DONE) return absl::OkStatus();
  return SqliteError(db, what);
}

void BindText(sqlite3_stmt* statement, int index, const std::string& text) {
  sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

void BindBlob(sqlite3_stmt* statement, int index, const std::string& bytes) {
  sqlite3_bind_blob(statement, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteBaseline>> SqliteBaseline::Create(
    const std::filesystem::path& path, int instances) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    absl::Status status = SqliteError(db, absl::StrCat("open ", path.string()));
    sqlite3_close(db);
    return status;
  }
  std::unique_ptr<SqliteBaseline> baseline(new SqliteBaseline(db, instances));
  // As signoffd opens its database.
  for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL",
                             "PRAGMA busy_timeout = 5000", "PRAGMA foreign_keys = ON"}) {
    if (absl::Status done = Exec(db, pragma); !done.ok()) return done;
  }
  if (absl::Status made = Exec(db, kSchema); !made.ok()) return made;
  // The instances the decisions update, loaded in one transaction.
  if (absl::Status begun = Exec(db, "BEGIN"); !begun.ok()) return begun;
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO instances (id, definition_key, status, applicant, version, "
                         "state, updated_us) VALUES (?1, 'dealer-application', 1, ?2, 1, ?3, 0)",
                         -1, &insert, nullptr) != SQLITE_OK) {
    return SqliteError(db, "prepare the instance load");
  }
  const std::string state = Body("{\"state\":", kStateBytes);
  for (int n = 0; n < instances; ++n) {
    const std::string id = InstanceId(n);
    const std::string applicant = absl::StrCat("user", n % 40);
    BindText(insert, 1, id);
    BindText(insert, 2, applicant);
    BindBlob(insert, 3, state);
    if (absl::Status stepped = Step(db, insert, "load an instance"); !stepped.ok()) {
      sqlite3_finalize(insert);
      return stepped;
    }
  }
  sqlite3_finalize(insert);
  if (absl::Status committed = Exec(db, "COMMIT"); !committed.ok()) return committed;
  baseline->chain_heads_.assign(instances, std::string(64, '0'));
  baseline->event_counts_.assign(instances, 0);
  if (absl::Status prepared = baseline->Prepare(); !prepared.ok()) return prepared;
  baseline->writer_ = std::thread([raw = baseline.get()] { raw->WriteBatches(); });
  baseline->completer_ = std::thread([raw = baseline.get()] { raw->CompleteBatches(); });
  return baseline;
}

absl::Status SqliteBaseline::Prepare() {
  const std::pair<sqlite3_stmt**, const char*> statements[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&update_instance_,
       "UPDATE instances SET version = version + 1, status = 1, state = ?2, updated_us = ?3 "
       "WHERE id = ?1"},
      {&insert_event_,
       "INSERT INTO events (instance_id, instance_seq, time_us, body, prev_hash, hash) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&upsert_task_,
       "INSERT INTO tasks (id, instance_id, status, assignee, created_us, body) "
       "VALUES (?1, ?2, 2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
       "body = excluded.body"},
      {&insert_idempotency_,
       "INSERT INTO idempotency (caller, request_id, method, reply, created_us) "
       "VALUES (?1, ?2, 'DecideTask', ?3, ?4)"},
  };
  for (const auto& [statement, sql] : statements) {
    if (sqlite3_prepare_v2(db_, sql, -1, statement, nullptr) != SQLITE_OK) {
      return SqliteError(db_, absl::StrCat("prepare ", sql));
    }
  }
  return absl::OkStatus();
}

SqliteBaseline::~SqliteBaseline() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_queued_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (completer_.joinable()) completer_.join();
  for (sqlite3_stmt* statement : {begin_, commit_, rollback_, update_instance_, insert_event_,
                                  upsert_task_, insert_idempotency_}) {
    sqlite3_finalize(statement);
  }
  sqlite3_close(db_);
}

Operation SqliteBaseline::Transaction(int run) {
  return [this, run](uint64_t sequence, OperationDone done) {
    // The bodies are made by the caller, as signoffd's workers would, so
    // that the writer only binds and steps.
    Pending pending;
    const int64_t instance = static_cast<int64_t>(sequence % static_cast<uint64_t>(instances_));
    const std::string request = absl::StrCat("run", run, "-", sequence);
    pending.instance = instance;
    pending.instance_id = InstanceId(instance);
    pending.state = Body(absl::StrCat("{\"state\":\"", request, "\""), kStateBytes);
    pending.event_bodies[0] = Body(absl::StrCat("{\"decided\":\"", request, "\""), kEventBytes);
    pending.event_bodies[1] = Body(absl::StrCat("{\"step\":\"", request, "\""), kEventBytes);
    pending.task_id = absl::StrCat(pending.instance_id, "-t", sequence % 3);
    pending.task_body = Body(absl::StrCat("{\"task\":\"", request, "\""), kTaskBytes);
    pending.request_id = request;
    pending.done = std::move(done);
    pending.queued = absl::Now();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(pending));
    }
    work_queued_.notify_one();
  };
}

void SqliteBaseline::WriteBatches() {
  while (true) {
    std::deque<Pending> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        writer_stopped_ = true;
        batch_committed_.notify_all();
        return;
      }
      batch.swap(queue_);
    }
    absl::Status status = Commit(batch);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      committed_.push_back({std::move(batch), std::move(status), absl::Now()});
    }
    batch_committed_.notify_all();
  }
}

void SqliteBaseline::CompleteBatches() {
  while (true) {
    Committed done;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      batch_committed_.wait(lock, [this] { return !committed_.empty() || writer_stopped_; });
      if (committed_.empty()) return;
      done = std::move(committed_.front());
      committed_.pop_front();
    }
    for (auto& pending : done.batch) {
      pending.done(done.status.ok(), done.at - pending.queued,
                   done.status.ok() ? "" : std::string(done.status.message()));
    }
  }
}

absl::Status SqliteBaseline::Commit(std::deque<Pending>& batch) {
  if (absl::Status begun = Step(db_, begin_, "begin"); !begun.ok()) return begun;
  const int64_t now_us = absl::ToUnixMicros(absl::Now());
  for (const auto& pending : batch) {
    if (absl::Status written = Write(pending, now_us); !written.ok()) {
      Step(db_, rollback_, "rollback").IgnoreError();
      return written;
    }
  }
  return Step(db_, commit_, "commit");
}

absl::Status SqliteBaseline::Write(const Pending& pending, int64_t now_us) {
  BindText(update_instance_, 1, pending.instance_id);
  BindBlob(update_instance_, 2, pending.state);
  sqlite3_bind_int64(update_instance_, 3, now_us);
  if (absl::Status done = Step(db_, update_instance_, "update the instance"); !done.ok()) {
    return done;
  }
  const int64_t instance = pending.instance;
  for (const auto& body : pending.event_bodies) {
    const std::string hash = absl::StrFormat("%064x", now_us ^ ++event_counts_[instance]);
    BindText(insert_event_, 1, pending.instance_id);
    sqlite3_bind_int64(insert_event_, 2, event_counts_[instance]);
    sqlite3_bind_int64(insert_event_, 3, now_us);
    BindBlob(insert_event_, 4, body);
    BindText(insert_event_, 5, chain_heads_[instance]);
    BindText(insert_event_, 6, hash);
    if (absl::Status done = Step(db_, insert_event_, "append an event"); !done.ok()) return done;
    chain_heads_[instance] = hash;
  }
  BindText(upsert_task_, 1, pending.task_id);
  BindText(upsert_task_, 2, pending.instance_id);
  BindText(upsert_task_, 3, "alice.chen");
  sqlite3_bind_int64(upsert_task_, 4, now_us);
  BindBlob(upsert_task_, 5, pending.task_body);
  if (absl::Status done = Step(db_, upsert_task_, "upsert the task"); !done.ok()) return done;
  BindText(insert_idempotency_, 1, "alice.chen");
  BindText(insert_idempotency_, 2, pending.request_id);
  BindBlob(insert_idempotency_, 3, pending.task_body);
  sqlite3_bind_int64(insert_idempotency_, 4, now_us);
  return Step(db_, insert_idempotency_, "record the request");
}

}  // namespace signoff::bench
