// Events: sequence numbers and the per-instance hash chain.

#include "absl/strings/str_cat.h"
#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using ::signoff::v1::Event;

// Starts i-1 with two events and i-2 with one, then appends two more to i-1.
void SeedEvents(Store& store) {
  Mutation first = StartMutation(MakeInstance("i-1", 1));
  first.events.push_back(MakeEvent("i-1", "alice", 100));
  first.events.push_back(MakeEvent("", "system", 101));
  ASSERT_OK(store.Commit(first));

  Mutation other = StartMutation(MakeInstance("i-2", 1));
  other.events.push_back(MakeEvent("i-2", "carol", 102));
  ASSERT_OK(store.Commit(other));

  Mutation next;
  next.instance = MakeInstance("i-1", 2);
  next.expected_version = 1;
  next.events.push_back(MakeEvent("i-1", "bob", 103));
  next.events.push_back(MakeEvent("i-1", "dave", 104));
  ASSERT_OK(store.Commit(next));
}

TEST_P(StoreTest, CommitReturnsEventsAsStored) {
  Mutation mutation = StartMutation(MakeInstance("i-1", 1));
  mutation.events.push_back(MakeEvent("i-1", "alice"));
  mutation.events.push_back(MakeEvent("", "system"));
  ASSERT_OK_AND_ASSIGN(CommitResult result, store().Commit(mutation));

  ASSERT_EQ(result.events.size(), 2u);
  EXPECT_EQ(result.events[0].instance_seq(), 1);
  EXPECT_EQ(result.events[1].instance_seq(), 2);
  EXPECT_EQ(result.events[1].instance_id(), "i-1");
  EXPECT_GT(result.events[0].global_seq(), 0);
  EXPECT_GT(result.events[1].global_seq(), result.events[0].global_seq());
  EXPECT_TRUE(result.events[0].prev_hash().empty());
  EXPECT_EQ(result.events[0].hash().size(), 64u);
  EXPECT_EQ(result.events[1].prev_hash(), result.events[0].hash());
  EXPECT_EQ(result.events[0].type(), "comment_added");

  ASSERT_OK_AND_ASSIGN(auto listed, store().ListEvents("i-1"));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].SerializeAsString(), result.events[0].SerializeAsString());
  EXPECT_EQ(listed[1].SerializeAsString(), result.events[1].SerializeAsString());
}

TEST_P(StoreTest, EventSequencesArePerInstanceAndGlobal) {
  SeedEvents(store());
  ASSERT_OK_AND_ASSIGN(auto events, store().ListEvents("i-1"));
  ASSERT_EQ(events.size(), 4u);
  std::vector<std::string> actors;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].instance_seq(), static_cast<int64_t>(i + 1));
    if (i > 0) {
      EXPECT_GT(events[i].global_seq(), events[i - 1].global_seq());
    }
    actors.push_back(events[i].actor());
  }
  EXPECT_THAT(actors, ::testing::ElementsAre("alice", "system", "bob", "dave"));

  ASSERT_OK_AND_ASSIGN(auto others, store().ListEvents("i-2"));
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(others[0].instance_seq(), 1);
  EXPECT_TRUE(others[0].prev_hash().empty());
  EXPECT_GT(others[0].global_seq(), events[1].global_seq());
  EXPECT_LT(others[0].global_seq(), events[2].global_seq());

  ASSERT_OK_AND_ASSIGN(auto none, store().ListEvents("i-3"));
  EXPECT_TRUE(none.empty());
}

TEST_P(StoreTest, StoredChainVerifies) {
  SeedEvents(store());
  ASSERT_OK_AND_ASSIGN(auto events, store().ListEvents("i-1"));
  EXPECT_TRUE(VerifyEventChain(events));
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(events[i].prev_hash(), events[i - 1].hash());
  }
  EXPECT_TRUE(VerifyEventChain({}));
}

TEST_P(StoreTest, VerifyEventChainDetectsEditsRemovalsAndReordering) {
  SeedEvents(store());
  ASSERT_OK_AND_ASSIGN(const auto events, store().ListEvents("i-1"));
  ASSERT_TRUE(VerifyEventChain(events));

  auto edited = events;
  edited[1].set_comment("approved, honest");
  EXPECT_FALSE(VerifyEventChain(edited));

  auto rehashed_alone = edited;
  rehashed_alone[1].set_hash(std::string(64, 'a'));
  EXPECT_FALSE(VerifyEventChain(rehashed_alone));

  auto middle_removed = events;
  middle_removed.erase(middle_removed.begin() + 1);
  EXPECT_FALSE(VerifyEventChain(middle_removed));

  auto first_removed = events;
  first_removed.erase(first_removed.begin());
  EXPECT_FALSE(VerifyEventChain(first_removed));

  auto reordered = events;
  std::swap(reordered[1], reordered[2]);
  EXPECT_FALSE(VerifyEventChain(reordered));

  auto renumbered = events;
  renumbered[3].set_instance_seq(7);
  EXPECT_FALSE(VerifyEventChain(renumbered));

  auto reactor = events;
  reactor[0].set_actor("mallory");
  EXPECT_FALSE(VerifyEventChain(reactor));
}

TEST_P(StoreTest, TamperedRowInDatabaseIsDetected) {
  SeedEvents(store());
  // Same length, so the body still parses and only the chain can tell.
  ASSERT_OK(backend().ExecuteRaw(
      absl::StrCat("UPDATE events SET body = ", backend().ReplaceBytesSql("body", "by bob", "by eve"),
                   " WHERE instance_id = 'i-1' AND instance_seq = 3")));

  ASSERT_OK_AND_ASSIGN(auto events, store().ListEvents("i-1"));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].comment(), "by eve");
  EXPECT_FALSE(VerifyEventChain(events));

  ASSERT_OK_AND_ASSIGN(auto untouched, store().ListEvents("i-2"));
  EXPECT_TRUE(VerifyEventChain(untouched));
}

TEST_P(StoreTest, BodyThatNoLongerParsesIsDataLoss) {
  SeedEvents(store());
  ASSERT_OK(backend().ExecuteRaw(absl::StrCat(
      "UPDATE events SET body = ", backend().ReplaceBytesSql("body", "by bob", "by mallory"),
      " WHERE instance_id = 'i-1' AND instance_seq = 3")));
  EXPECT_CODE(store().ListEvents("i-1"), absl::StatusCode::kDataLoss);
  EXPECT_OK(store().ListEvents("i-2"));
}

TEST_P(StoreTest, DeletedRowInDatabaseIsDetected) {
  SeedEvents(store());
  ASSERT_OK(backend().ExecuteRaw(
      "DELETE FROM events WHERE instance_id = 'i-1' AND instance_seq = 2"));
  ASSERT_OK_AND_ASSIGN(auto events, store().ListEvents("i-1"));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_FALSE(VerifyEventChain(events));
}

TEST_P(StoreTest, TheInstanceKeepsItsChainHead) {
  SeedEvents(store());
  ASSERT_OK_AND_ASSIGN(History history, store().GetHistory("i-1"));
  ASSERT_EQ(history.events.size(), 4u);
  EXPECT_EQ(history.event_count, 4);
  EXPECT_EQ(history.head_hash, history.events.back().hash());
  EXPECT_TRUE(VerifyHistory(history));
  ASSERT_OK_AND_ASSIGN(History other, store().GetHistory("i-2"));
  EXPECT_EQ(other.event_count, 1);
  EXPECT_TRUE(VerifyHistory(other));
  EXPECT_CODE(store().GetHistory("ghost"), absl::StatusCode::kNotFound);
}

TEST_P(StoreTest, RemovingTheLastEventsIsDetected) {
  SeedEvents(store());
  ASSERT_OK(backend().ExecuteRaw(
      "DELETE FROM events WHERE instance_id = 'i-1' AND instance_seq >= 3"));
  ASSERT_OK_AND_ASSIGN(History history, store().GetHistory("i-1"));
  ASSERT_EQ(history.events.size(), 2u);
  // What is left still chains link by link; only the head shows the cut.
  EXPECT_TRUE(VerifyEventChain(history.events));
  EXPECT_FALSE(VerifyHistory(history));

  ASSERT_OK(backend().ExecuteRaw("DELETE FROM events WHERE instance_id = 'i-2'"));
  ASSERT_OK_AND_ASSIGN(History emptied, store().GetHistory("i-2"));
  EXPECT_TRUE(VerifyEventChain(emptied.events));
  EXPECT_FALSE(VerifyHistory(emptied));
}

TEST_P(StoreTest, VerifyHistoryComparesCountAndHeadExactly) {
  SeedEvents(store());
  ASSERT_OK_AND_ASSIGN(const History history, store().GetHistory("i-1"));
  History counted_one_more = history;
  counted_one_more.event_count += 1;
  EXPECT_FALSE(VerifyHistory(counted_one_more));
  History counted_one_less = history;
  counted_one_less.event_count -= 1;
  EXPECT_FALSE(VerifyHistory(counted_one_less));
  History other_head = history;
  other_head.head_hash = history.events[2].hash();
  EXPECT_FALSE(VerifyHistory(other_head));
  EXPECT_TRUE(VerifyHistory(History{}));
}

TEST_P(StoreTest, EventsForUnknownInstanceAreRejectedWholeMutation) {
  Mutation mutation;
  mutation.idempotency = IdempotencyRecord{"", "r-1", "X", "fp", "reply"};
  mutation.events.push_back(MakeEvent("ghost", "alice"));
  auto result = store().Commit(mutation);
  EXPECT_FALSE(result.ok());
  EXPECT_CODE(result, absl::StatusCode::kInternal);
  ASSERT_OK_AND_ASSIGN(auto events, store().ListEvents("ghost"));
  EXPECT_TRUE(events.empty());
  ASSERT_OK_AND_ASSIGN(auto record, store().FindIdempotency("", "r-1"));
  EXPECT_FALSE(record.has_value());
}

}  // namespace
}  // namespace signoff::storage::testing
