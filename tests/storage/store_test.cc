// Migrations, persistence, definitions and idempotency records.

#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using ::signoff::v1::PublishedDefinition;

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(BackendParam{"sqlite", &MakeSqliteBackend},
                                           BackendParam{"postgresql", &MakePostgresqlBackend}),
                         BackendName);

TEST_P(StoreTest, MigrationsAreIdempotent) {
  ASSERT_OK_AND_ASSIGN(int first, backend().Migrate());
  ASSERT_OK_AND_ASSIGN(int second, backend().Migrate());
  EXPECT_GE(first, 1);
  EXPECT_EQ(first, second);
  Reopen();
  Reopen();
  ASSERT_OK_AND_ASSIGN(int after_reopen, backend().Migrate());
  EXPECT_EQ(after_reopen, first);
}

TEST_P(StoreTest, DataSurvivesReopen) {
  Mutation mutation = StartMutation(MakeInstance("i-1", 1));
  mutation.events.push_back(MakeEvent("i-1", "alice"));
  mutation.tasks.push_back(MakeTask("t-1", "i-1", signoff::v1::PENDING, "bob", 10));
  mutation.definition = MakeDefinition("dealer", "Dealer application");
  ASSERT_OK(store().Commit(mutation));

  Reopen();

  ASSERT_OK_AND_ASSIGN(auto instance, store().GetInstance("i-1"));
  EXPECT_EQ(instance.applicant(), "alice");
  ASSERT_OK_AND_ASSIGN(auto events, store().ListEvents("i-1"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(VerifyEventChain(events));
  ASSERT_OK_AND_ASSIGN(auto task, store().GetTask("t-1"));
  EXPECT_EQ(task.assignee(), "bob");
  ASSERT_OK_AND_ASSIGN(auto definition, store().GetDefinition("dealer", 0));
  EXPECT_EQ(definition.definition().name(), "Dealer application");
}

TEST_P(StoreTest, DefinitionVersionsCountUpPerKey) {
  ASSERT_OK_AND_ASSIGN(CommitResult first,
                       store().Commit(Publish(MakeDefinition("dealer", "v1"))));
  ASSERT_OK_AND_ASSIGN(CommitResult second,
                       store().Commit(Publish(MakeDefinition("dealer", "v2"))));
  ASSERT_OK_AND_ASSIGN(CommitResult other,
                       store().Commit(Publish(MakeDefinition("probation", "p"))));
  EXPECT_EQ(first.definition_version, 1);
  EXPECT_EQ(second.definition_version, 2);
  EXPECT_EQ(other.definition_version, 1);

  ASSERT_OK_AND_ASSIGN(PublishedDefinition v1, store().GetDefinition("dealer", 1));
  EXPECT_EQ(v1.version(), 1);
  EXPECT_EQ(v1.definition().name(), "v1");
  EXPECT_EQ(v1.published_by(), "admin");
  EXPECT_EQ(v1.published_at().seconds(), 5000);

  ASSERT_OK_AND_ASSIGN(PublishedDefinition latest, store().GetDefinition("dealer", 0));
  EXPECT_EQ(latest.key(), "dealer");
  EXPECT_EQ(latest.version(), 2);
  EXPECT_EQ(latest.definition().name(), "v2");
}

TEST_P(StoreTest, NamedDefinitionVersionMustBeTheNextOne) {
  ASSERT_OK(store().Commit(Publish(MakeDefinition("dealer", "v1"))));
  Mutation stale = Publish(MakeDefinition("dealer", "raced"));
  stale.definition->set_version(1);
  EXPECT_CODE(store().Commit(std::move(stale)), absl::StatusCode::kAborted);
  Mutation next = Publish(MakeDefinition("dealer", "v2"));
  next.definition->set_version(2);
  ASSERT_OK_AND_ASSIGN(CommitResult result, store().Commit(std::move(next)));
  EXPECT_EQ(result.definition_version, 2);
  ASSERT_OK_AND_ASSIGN(PublishedDefinition latest, store().GetDefinition("dealer", 0));
  EXPECT_EQ(latest.definition().name(), "v2");
}

TEST_P(StoreTest, MissingDefinitionIsNotFound) {
  EXPECT_CODE(store().GetDefinition("nope", 0), absl::StatusCode::kNotFound);
  ASSERT_OK(store().Commit(Publish(MakeDefinition("dealer", "v1"))));
  auto missing_version = store().GetDefinition("dealer", 7);
  EXPECT_CODE(missing_version, absl::StatusCode::kNotFound);
  EXPECT_NE(missing_version.status().message().find("dealer"), std::string::npos);
}

TEST_P(StoreTest, DefinitionWithoutKeyIsRejected) {
  PublishedDefinition keyless = MakeDefinition("", "nameless");
  EXPECT_CODE(store().Commit(Publish(keyless)),
              absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto summaries, store().ListDefinitions());
  EXPECT_TRUE(summaries.empty());
}

TEST_P(StoreTest, ListDefinitionsSummarisesLatestVersionPerKey) {
  ASSERT_OK(store().Commit(Publish(MakeDefinition("dealer", "Dealer v1"))));
  ASSERT_OK(store().Commit(Publish(MakeDefinition("dealer", "Dealer v2"))));
  ASSERT_OK(store().Commit(Publish(MakeDefinition("probation", "Probation"))));

  ASSERT_OK_AND_ASSIGN(auto summaries, store().ListDefinitions());
  ASSERT_EQ(summaries.size(), 2u);
  EXPECT_EQ(summaries[0].key(), "dealer");
  EXPECT_EQ(summaries[0].latest_version(), 2);
  EXPECT_EQ(summaries[0].name(), "Dealer v2");
  EXPECT_EQ(summaries[0].published_at().seconds(), 5000);
  EXPECT_EQ(summaries[1].key(), "probation");
  EXPECT_EQ(summaries[1].latest_version(), 1);
}

IdempotencyRecord MakeRecord(const std::string& request_id, const std::string& reply,
                             const std::string& caller = "") {
  return IdempotencyRecord{caller, request_id, "DecideTask", "fp-" + request_id, reply};
}

TEST_P(StoreTest, IdempotencyRecordKeepsBinaryReply) {
  const std::string reply("\x00\x01\xff binary\n", 11);
  ASSERT_OK(store().Commit(Record(MakeRecord("r-1", reply))));

  ASSERT_OK_AND_ASSIGN(auto found, store().FindIdempotency("", "r-1"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->request_id, "r-1");
  EXPECT_EQ(found->method, "DecideTask");
  EXPECT_EQ(found->fingerprint, "fp-r-1");
  EXPECT_EQ(found->reply, reply);

  ASSERT_OK_AND_ASSIGN(auto absent, store().FindIdempotency("", "r-2"));
  EXPECT_FALSE(absent.has_value());
}

TEST_P(StoreTest, DuplicateRequestReturnsFirstRecordAndAppliesNothing) {
  Mutation first = StartMutation(MakeInstance("i-1", 1));
  first.idempotency = MakeRecord("r-1", "first reply");
  first.events.push_back(MakeEvent("i-1", "alice"));
  ASSERT_OK_AND_ASSIGN(CommitResult first_result, store().Commit(first));
  EXPECT_FALSE(first_result.duplicate_request);

  Mutation repeat;
  repeat.idempotency = MakeRecord("r-1", "second reply");
  repeat.instance = MakeInstance("i-1", 2);
  repeat.expected_version = 1;
  repeat.events.push_back(MakeEvent("i-1", "mallory"));
  repeat.tasks.push_back(MakeTask("t-9", "i-1", signoff::v1::PENDING, "bob", 1));
  repeat.definition = MakeDefinition("dealer", "sneaky");
  ASSERT_OK_AND_ASSIGN(CommitResult repeat_result, store().Commit(repeat));

  EXPECT_TRUE(repeat_result.duplicate_request);
  EXPECT_EQ(repeat_result.existing.reply, "first reply");
  EXPECT_TRUE(repeat_result.events.empty());
  ASSERT_OK_AND_ASSIGN(auto instance, store().GetInstance("i-1"));
  EXPECT_EQ(instance.version(), 1);
  ASSERT_OK_AND_ASSIGN(auto events, store().ListEvents("i-1"));
  EXPECT_EQ(events.size(), 1u);
  EXPECT_CODE(store().GetTask("t-9"), absl::StatusCode::kNotFound);
  EXPECT_CODE(store().GetDefinition("dealer", 0), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto stored, store().FindIdempotency("", "r-1"));
  EXPECT_EQ(stored->reply, "first reply");
}

TEST_P(StoreTest, RequestIdsAreScopedToTheirCaller) {
  ASSERT_OK(store().Commit(Record(MakeRecord("r-1", "alice's reply", "alice"))));
  ASSERT_OK_AND_ASSIGN(CommitResult other, store().Commit(Record(MakeRecord("r-1", "bob's reply", "bob"))));
  EXPECT_FALSE(other.duplicate_request);

  ASSERT_OK_AND_ASSIGN(auto alice, store().FindIdempotency("alice", "r-1"));
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->reply, "alice's reply");
  ASSERT_OK_AND_ASSIGN(auto bob, store().FindIdempotency("bob", "r-1"));
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(bob->reply, "bob's reply");
  ASSERT_OK_AND_ASSIGN(auto nobody, store().FindIdempotency("carol", "r-1"));
  EXPECT_FALSE(nobody.has_value());

  ASSERT_OK_AND_ASSIGN(CommitResult repeat,
                       store().Commit(Record(MakeRecord("r-1", "again", "alice"))));
  EXPECT_TRUE(repeat.duplicate_request);
  EXPECT_EQ(repeat.existing.reply, "alice's reply");
}

}  // namespace
}  // namespace signoff::storage::testing
