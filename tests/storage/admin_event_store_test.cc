// The admin audit trail: numbering, the hash chain, pages, and tampering.

#include "absl/strings/str_cat.h"
#include "storage/event_chain.h"
#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using ::signoff::v1::AdminEvent;

// Records `count` admin events, each in a commit of its own, by users
// u-1, u-2, ... upserting themselves.
void SeedAdminEvents(Store& store, int count) {
  for (int i = 1; i <= count; ++i) {
    const std::string user = absl::StrCat("u-", i);
    ASSERT_OK(store.Commit(RecordAdminEvent(MakeAdminEvent(user, user, 2000 + i))));
  }
}

std::vector<int64_t> SeqsOf(const std::vector<AdminEvent>& events) {
  std::vector<int64_t> seqs;
  for (const AdminEvent& event : events) seqs.push_back(event.seq());
  return seqs;
}

TEST_P(StoreTest, AdminEventsAreNumberedChainedAndStoredWithTheirChange) {
  Mutation publish = Publish(MakeDefinition("dealer", "Dealer application"));
  AdminEvent published;
  published.set_actor("carl");
  published.set_target("dealer");
  published.mutable_definition_published()->set_key("dealer");
  published.mutable_definition_published()->set_version(1);
  publish.admin_events.push_back(published);
  publish.admin_events.push_back(MakeAdminEvent("carl", "ann"));
  ASSERT_OK_AND_ASSIGN(CommitResult result, store().Commit(publish));

  ASSERT_EQ(result.admin_events.size(), 2u);
  EXPECT_EQ(result.definition_version, 1);
  EXPECT_EQ(result.admin_events[0].seq(), 1);
  EXPECT_EQ(result.admin_events[1].seq(), 2);
  EXPECT_EQ(result.admin_events[0].action(), "definition_published");
  EXPECT_EQ(result.admin_events[1].action(), "users_upserted");
  EXPECT_TRUE(result.admin_events[0].prev_hash().empty());
  EXPECT_EQ(result.admin_events[0].hash().size(), 64u);
  EXPECT_EQ(result.admin_events[1].prev_hash(), result.admin_events[0].hash());

  ASSERT_OK_AND_ASSIGN(AdminTrailPage page, store().ListAdminEvents(0, 10));
  ASSERT_EQ(page.events.size(), 2u);
  EXPECT_EQ(page.events[0].SerializeAsString(), result.admin_events[0].SerializeAsString());
  EXPECT_EQ(page.events[1].SerializeAsString(), result.admin_events[1].SerializeAsString());
  EXPECT_EQ(page.events[1].users_upserted().users(0).display_name(), "user ann");
  EXPECT_EQ(page.event_count, 2);
  EXPECT_EQ(page.head_hash, result.admin_events[1].hash());
  EXPECT_TRUE(VerifyAdminTrailPage(page));
}

TEST_P(StoreTest, AnEmptyTrailVerifies) {
  ASSERT_OK_AND_ASSIGN(AdminTrailPage page, store().ListAdminEvents(0, 10));
  EXPECT_TRUE(page.events.empty());
  EXPECT_EQ(page.event_count, 0);
  EXPECT_TRUE(VerifyAdminTrailPage(page));
}

TEST_P(StoreTest, AdminTrailReadsInPagesThatEachVerify) {
  SeedAdminEvents(store(), 7);
  std::vector<int64_t> seen;
  int64_t after = 0;
  for (int page_number = 0; page_number < 4; ++page_number) {
    ASSERT_OK_AND_ASSIGN(AdminTrailPage page, store().ListAdminEvents(after, 3));
    EXPECT_TRUE(VerifyAdminTrailPage(page)) << "after " << after;
    EXPECT_EQ(page.event_count, 7);
    for (int64_t seq : SeqsOf(page.events)) seen.push_back(seq);
    if (!page.events.empty()) after = page.events.back().seq();
  }
  EXPECT_THAT(seen, ::testing::ElementsAre(1, 2, 3, 4, 5, 6, 7));

  ASSERT_OK_AND_ASSIGN(AdminTrailPage last, store().ListAdminEvents(7, 3));
  EXPECT_TRUE(last.events.empty());
  EXPECT_TRUE(VerifyAdminTrailPage(last));
  // A position past the end has no event to link to.
  ASSERT_OK_AND_ASSIGN(AdminTrailPage beyond, store().ListAdminEvents(9, 3));
  EXPECT_FALSE(VerifyAdminTrailPage(beyond));

  EXPECT_CODE(store().ListAdminEvents(0, 0), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(store().ListAdminEvents(-1, 3), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreTest, TheTrailGoesOnAfterReopen) {
  SeedAdminEvents(store(), 2);
  Reopen();
  ASSERT_OK_AND_ASSIGN(CommitResult result,
                       store().Commit(RecordAdminEvent(MakeAdminEvent("carl", "bo"))));
  ASSERT_EQ(result.admin_events.size(), 1u);
  EXPECT_EQ(result.admin_events[0].seq(), 3);
  ASSERT_OK_AND_ASSIGN(AdminTrailPage page, store().ListAdminEvents(0, 10));
  EXPECT_EQ(page.events.size(), 3u);
  EXPECT_TRUE(VerifyAdminTrailPage(page));
}

TEST_P(StoreTest, AReplayedRequestRecordsNoSecondAdminEvent) {
  Mutation upsert = RecordAdminEvent(MakeAdminEvent("carl", "ann"));
  upsert.idempotency = IdempotencyRecord{"carl", "req-1", "UpsertUsers", "fp", "reply"};
  ASSERT_OK_AND_ASSIGN(CommitResult first, store().Commit(upsert));
  EXPECT_EQ(first.admin_events.size(), 1u);
  ASSERT_OK_AND_ASSIGN(CommitResult again, store().Commit(upsert));
  EXPECT_TRUE(again.duplicate_request);
  EXPECT_TRUE(again.admin_events.empty());
  ASSERT_OK_AND_ASSIGN(AdminTrailPage page, store().ListAdminEvents(0, 10));
  EXPECT_EQ(page.events.size(), 1u);
  EXPECT_EQ(page.event_count, 1);
}

TEST_P(StoreTest, AFailedChangeRecordsNothing) {
  SeedAdminEvents(store(), 1);
  signoff::v1::PublishedDefinition skipping = MakeDefinition("dealer", "D");
  skipping.set_version(3);
  Mutation publish = Publish(skipping);
  publish.admin_events.push_back(MakeAdminEvent("carl", "ann"));
  EXPECT_CODE(store().Commit(publish), absl::StatusCode::kAborted);

  ASSERT_OK_AND_ASSIGN(CommitResult next,
                       store().Commit(RecordAdminEvent(MakeAdminEvent("carl", "bo"))));
  EXPECT_EQ(next.admin_events[0].seq(), 2);
  ASSERT_OK_AND_ASSIGN(AdminTrailPage page, store().ListAdminEvents(0, 10));
  EXPECT_EQ(page.events.size(), 2u);
  EXPECT_TRUE(VerifyAdminTrailPage(page));
}

TEST_P(StoreTest, AdminEventsOfOneBatchShareOneChain) {
  std::vector<Mutation> mutations;
  for (int i = 0; i < 40; ++i) {
    mutations.push_back(RecordAdminEvent(MakeAdminEvent("carl", absl::StrCat("u-", i))));
  }
  for (const auto& result : CommitConcurrently(store(), std::move(mutations), 8)) {
    ASSERT_OK(result);
  }
  ASSERT_OK_AND_ASSIGN(AdminTrailPage page, store().ListAdminEvents(0, 100));
  EXPECT_EQ(page.events.size(), 40u);
  EXPECT_EQ(page.event_count, 40);
  EXPECT_TRUE(VerifyAdminTrailPage(page));
}

TEST_P(StoreTest, AnAdminEventWithoutABodyIsRefused) {
  AdminEvent bodiless;
  bodiless.set_actor("carl");
  EXPECT_CODE(store().Commit(RecordAdminEvent(bodiless)), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreTest, AnAdminEventEditedInTheDatabaseIsDetected) {
  SeedAdminEvents(store(), 5);
  // Same length, so the body still parses and only the chain can tell.
  ASSERT_OK(backend().ExecuteRaw(absl::StrCat(
      "UPDATE admin_events SET body = ", backend().ReplaceBytesSql("body", "user u-3", "user u-X"),
      " WHERE seq = 3")));

  ASSERT_OK_AND_ASSIGN(AdminTrailPage whole, store().ListAdminEvents(0, 10));
  ASSERT_EQ(whole.events.size(), 5u);
  EXPECT_EQ(whole.events[2].users_upserted().users(0).display_name(), "user u-X");
  EXPECT_FALSE(VerifyAdminTrailPage(whole));
  // Only the page holding it fails; pages around it still hold together.
  ASSERT_OK_AND_ASSIGN(AdminTrailPage before, store().ListAdminEvents(0, 2));
  EXPECT_TRUE(VerifyAdminTrailPage(before));
  ASSERT_OK_AND_ASSIGN(AdminTrailPage holding, store().ListAdminEvents(2, 2));
  EXPECT_FALSE(VerifyAdminTrailPage(holding));
}

TEST_P(StoreTest, AnAdminEventRehashedInTheDatabaseBreaksTheNextLink) {
  SeedAdminEvents(store(), 5);
  // The attacker edits event 3 and stores the hash that the edit has.
  ASSERT_OK(backend().ExecuteRaw(absl::StrCat(
      "UPDATE admin_events SET body = ", backend().ReplaceBytesSql("body", "user u-3", "user u-X"),
      " WHERE seq = 3")));
  ASSERT_OK_AND_ASSIGN(AdminTrailPage edited, store().ListAdminEvents(2, 1));
  ASSERT_EQ(edited.events.size(), 1u);
  ASSERT_OK(backend().ExecuteRaw(absl::StrCat("UPDATE admin_events SET hash = '",
                                              ComputeAdminEventHash(edited.events[0]),
                                              "' WHERE seq = 3")));

  ASSERT_OK_AND_ASSIGN(AdminTrailPage to_three, store().ListAdminEvents(0, 3));
  EXPECT_EQ(to_three.events[2].users_upserted().users(0).display_name(), "user u-X");
  EXPECT_TRUE(VerifyAdminTrailPage(to_three));
  ASSERT_OK_AND_ASSIGN(AdminTrailPage after_three, store().ListAdminEvents(3, 3));
  EXPECT_FALSE(VerifyAdminTrailPage(after_three));
}

TEST_P(StoreTest, AdminEventsRemovedFromTheDatabaseAreDetected) {
  SeedAdminEvents(store(), 5);
  ASSERT_OK(backend().ExecuteRaw("DELETE FROM admin_events WHERE seq >= 4"));
  ASSERT_OK_AND_ASSIGN(AdminTrailPage cut, store().ListAdminEvents(0, 10));
  ASSERT_EQ(cut.events.size(), 3u);
  // What is left still chains link by link; only the head shows the cut.
  EXPECT_EQ(cut.event_count, 5);
  EXPECT_FALSE(VerifyAdminTrailPage(cut));

  ASSERT_OK(backend().ExecuteRaw("DELETE FROM admin_events WHERE seq = 2"));
  ASSERT_OK_AND_ASSIGN(AdminTrailPage gap, store().ListAdminEvents(0, 2));
  EXPECT_THAT(SeqsOf(gap.events), ::testing::ElementsAre(1, 3));
  EXPECT_FALSE(VerifyAdminTrailPage(gap));
  ASSERT_OK_AND_ASSIGN(AdminTrailPage after_gap, store().ListAdminEvents(2, 2));
  EXPECT_FALSE(VerifyAdminTrailPage(after_gap));
}

}  // namespace
}  // namespace signoff::storage::testing
