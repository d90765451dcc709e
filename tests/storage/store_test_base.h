#pragma once

// A storage test suite shared by every Store backend, in the manner of
// Ray's GCS store client test base. Each TEST_P runs once per backend; a
// backend joins by providing a StoreBackend factory and one
// INSTANTIATE_TEST_SUITE_P line (see store_test.cc).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "signoff/v1/service.pb.h"
#include "status_matchers.h"
#include "storage/dialect.h"
#include "storage/encoded_mutation.h"
#include "storage/store.h"

namespace signoff::storage::testing {

// One empty database for one test.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // Opens a Store on this test's database; may be called again after the
  // previous Store is closed, and sees the same data.
  virtual absl::StatusOr<std::unique_ptr<Store>> Open() = 0;
  // Runs the backend's migrations on this test's database.
  virtual absl::StatusOr<int> Migrate() = 0;
  // Runs raw SQL against the database behind the store's back, to play an
  // attacker editing rows.
  virtual absl::Status ExecuteRaw(const std::string& sql) = 0;
  // The backend's Dialect on this test's database, to drive the writer
  // directly.
  virtual absl::StatusOr<std::unique_ptr<Dialect>> MakeDialect() = 0;
  // A SQL expression: `column` (bytes) with its first `from` replaced by
  // `to`, both plain ASCII.
  virtual std::string ReplaceBytesSql(const std::string& column, const std::string& from,
                                      const std::string& to) const = 0;
};

struct BackendParam {
  std::string name;
  std::function<std::unique_ptr<StoreBackend>()> make;
};

// Shows the backend's name, not its bytes, in test output.
inline void PrintTo(const BackendParam& param, std::ostream* out) { *out << param.name; }

inline std::string BackendName(const ::testing::TestParamInfo<BackendParam>& info) {
  return info.param.name;
}

std::unique_ptr<StoreBackend> MakeSqliteBackend();
std::unique_ptr<StoreBackend> MakePostgresqlBackend();

class StoreTest : public ::testing::TestWithParam<BackendParam> {
 protected:
  void SetUp() override {
    backend_ = GetParam().make();
    ASSERT_NE(backend_, nullptr);
    auto store = backend_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(store).value();
  }

  void Reopen() {
    store_.reset();
    auto store = backend_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(store).value();
  }

  Store& store() { return *store_; }
  StoreBackend& backend() { return *backend_; }

 private:
  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<Store> store_;
};

// ---- builders for test data -------------------------------------------

inline google::protobuf::Timestamp At(int64_t seconds) {
  google::protobuf::Timestamp time;
  time.set_seconds(seconds);
  return time;
}

inline signoff::v1::InstanceState MakeInstance(const std::string& id, int64_t version,
                                               const std::string& definition_key = "dealer",
                                               const std::string& applicant = "alice",
                                               const std::string& subject = "dealer-1") {
  signoff::v1::InstanceState instance;
  instance.set_id(id);
  instance.set_definition_key(definition_key);
  instance.set_definition_version(1);
  instance.set_status(signoff::v1::RUNNING);
  instance.set_applicant(applicant);
  instance.set_subject(subject);
  instance.set_version(version);
  *instance.mutable_created_at() = At(1000);
  *instance.mutable_updated_at() = At(1000 + version);
  return instance;
}

inline signoff::v1::Event MakeEvent(const std::string& instance_id, const std::string& actor,
                                    int64_t seconds = 1000) {
  signoff::v1::Event event;
  event.set_instance_id(instance_id);
  event.set_actor(actor);
  *event.mutable_time() = At(seconds);
  event.set_comment("by " + actor);
  event.mutable_comment_added();
  return event;
}

inline signoff::v1::Task MakeTask(const std::string& id, const std::string& instance_id,
                                  signoff::v1::TaskStatus status, const std::string& assignee,
                                  int64_t created_seconds) {
  signoff::v1::Task task;
  task.set_id(id);
  task.set_instance_id(instance_id);
  task.set_step_id("review");
  task.set_status(status);
  task.set_assignee(assignee);
  *task.mutable_created_at() = At(created_seconds);
  return task;
}

inline signoff::v1::Task MakeGroupTask(const std::string& id, const std::string& instance_id,
                                       const std::string& role, const std::string& department,
                                       int64_t created_seconds) {
  signoff::v1::Task task =
      MakeTask(id, instance_id, signoff::v1::PENDING, "", created_seconds);
  task.mutable_candidate_group()->set_role(role);
  task.mutable_candidate_group()->set_department(department);
  return task;
}

// An SLA timer of the "review" step, due at `fire_seconds`.
inline signoff::v1::Timer MakeTimer(const std::string& id, int64_t fire_seconds) {
  signoff::v1::Timer timer;
  timer.set_id(id);
  timer.set_kind(signoff::v1::TIMER_SLA);
  timer.set_token("k1");
  timer.set_step_id("review");
  *timer.mutable_fire_at() = At(fire_seconds);
  return timer;
}

inline signoff::v1::PublishedDefinition MakeDefinition(const std::string& key,
                                                       const std::string& name) {
  signoff::v1::PublishedDefinition published;
  published.set_key(key);
  published.mutable_definition()->set_key(key);
  published.mutable_definition()->set_name(name);
  published.set_published_by("admin");
  *published.mutable_published_at() = At(5000);
  return published;
}

// An admin event recording that `actor` upserted the user `user_id`.
inline signoff::v1::AdminEvent MakeAdminEvent(const std::string& actor,
                                              const std::string& user_id,
                                              int64_t seconds = 2000) {
  signoff::v1::AdminEvent event;
  event.set_actor(actor);
  event.set_target(user_id);
  *event.mutable_time() = At(seconds);
  signoff::v1::User* user = event.mutable_users_upserted()->add_users();
  user->set_id(user_id);
  user->set_display_name("user " + user_id);
  return event;
}

inline Mutation RecordAdminEvent(const signoff::v1::AdminEvent& event) {
  Mutation mutation;
  mutation.admin_events.push_back(event);
  return mutation;
}

// A mutation that starts `instance` with no events or tasks.
// Mutations as the store hands them to its writer, encoded.
inline std::vector<EncodedMutation> EncodedAll(const std::vector<const Mutation*>& mutations) {
  std::vector<EncodedMutation> encoded;
  for (const Mutation* mutation : mutations) {
    absl::StatusOr<EncodedMutation> one = EncodeMutation(*mutation);
    if (!one.ok()) {
      ADD_FAILURE() << one.status();
      continue;
    }
    encoded.push_back(std::move(*one));
  }
  return encoded;
}

inline std::vector<const EncodedMutation*> Pointers(const std::vector<EncodedMutation>& batch) {
  std::vector<const EncodedMutation*> pointers;
  for (const EncodedMutation& mutation : batch) pointers.push_back(&mutation);
  return pointers;
}

inline Mutation StartMutation(const signoff::v1::InstanceState& instance) {
  Mutation mutation;
  mutation.instance = instance;
  mutation.expected_version = 0;
  return mutation;
}

inline Mutation Publish(const signoff::v1::PublishedDefinition& definition) {
  Mutation mutation;
  mutation.definition = definition;
  return mutation;
}

inline Mutation Record(const IdempotencyRecord& record) {
  Mutation mutation;
  mutation.idempotency = record;
  return mutation;
}

// Commits every mutation from `threads` threads at once, so that the
// writer batches them; results come back in the mutations' order.
std::vector<absl::StatusOr<CommitResult>> CommitConcurrently(Store& store,
                                                             std::vector<Mutation> mutations,
                                                             int threads);

}  // namespace signoff::storage::testing
