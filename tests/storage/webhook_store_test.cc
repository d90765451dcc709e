// Webhook subscriptions, the dispatch position and the delivery outbox, on
// every backend.

#include "absl/strings/str_cat.h"
#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using ::signoff::v1::Delivery;
using ::testing::ElementsAre;

StoredWebhook MakeWebhook(const std::string& id, const std::string& owner,
                          int64_t start_after = 0, int max_attempts = 3) {
  StoredWebhook stored;
  stored.webhook.set_id(id);
  stored.webhook.set_owner(owner);
  stored.webhook.set_url("http://127.0.0.1:9/" + id);
  stored.webhook.add_kinds("instance_started");
  stored.webhook.add_kinds("notification");
  stored.webhook.add_definition_keys("dealer");
  stored.webhook.set_max_attempts(max_attempts);
  *stored.webhook.mutable_created_at() = At(4000);
  stored.webhook.set_start_after_global_seq(start_after);
  stored.secret = "0123456789abcdef-" + id;
  return stored;
}

Mutation Create(const StoredWebhook& stored) {
  Mutation mutation;
  mutation.webhooks.create = stored;
  return mutation;
}

NewDelivery MakeDelivery(const std::string& webhook_id, int64_t seq, int index = 0) {
  return NewDelivery{absl::StrCat(webhook_id, ".", seq, ".", index), webhook_id, seq, index,
                     index == 0 ? "instance_started" : "notification",
                     absl::StrCat("{\"cursor\":\"", seq, "\"}"), absl::FromUnixSeconds(5000)};
}

Mutation Advance(WebhookDispatchPosition from, int64_t to, std::vector<NewDelivery> deliveries) {
  Mutation mutation;
  mutation.webhooks.advance = WebhookDispatchAdvance{from, to, std::move(deliveries)};
  return mutation;
}

Mutation ClaimAt(int64_t seconds, const std::string& owner, int limit = 10) {
  Mutation mutation;
  mutation.webhooks.claim =
      DeliveryClaim{absl::FromUnixSeconds(seconds), owner, absl::Seconds(40), limit};
  return mutation;
}

std::vector<std::string> IdsOf(const std::vector<ClaimedDelivery>& claimed) {
  std::vector<std::string> ids;
  for (const auto& one : claimed) ids.push_back(one.delivery.id());
  return ids;
}

std::vector<std::string> IdsOf(const std::vector<Delivery>& deliveries) {
  std::vector<std::string> ids;
  for (const auto& one : deliveries) ids.push_back(one.id());
  return ids;
}

Mutation Outcome(const std::string& id, const std::string& owner, bool delivered, bool dead,
                 int64_t next_seconds) {
  Mutation mutation;
  DeliveryOutcome outcome;
  outcome.id = id;
  outcome.owner = owner;
  outcome.at = absl::FromUnixSeconds(next_seconds - 1);
  outcome.delivered = delivered;
  outcome.error = delivered ? "" : "HTTP 500";
  outcome.dead = dead;
  outcome.next_attempt_at = absl::FromUnixSeconds(next_seconds);
  mutation.webhooks.outcomes.push_back(outcome);
  return mutation;
}

class WebhookStoreTest : public StoreTest {
 protected:
  // A subscription "wh" with deliveries for feed items 1, 2 and 3.
  void SeedOutbox() {
    ASSERT_OK(store().Commit(Create(MakeWebhook("wh", "svc"))));
    ASSERT_OK_AND_ASSIGN(WebhookDispatchPosition position, store().GetWebhookDispatchPosition());
    ASSERT_OK(store().Commit(Advance(
        position, 3, {MakeDelivery("wh", 1), MakeDelivery("wh", 2), MakeDelivery("wh", 3)})));
  }

  absl::StatusOr<std::vector<ClaimedDelivery>> Claim(int64_t seconds, const std::string& owner) {
    absl::StatusOr<CommitResult> result = store().Commit(ClaimAt(seconds, owner));
    if (!result.ok()) return result.status();
    return result->webhooks.claimed;
  }
};

TEST_P(WebhookStoreTest, ASubscriptionIsStoredListedAndSoftDeleted) {
  ASSERT_OK(store().Commit(Create(MakeWebhook("wh-1", "svc", 7))));
  ASSERT_OK(store().Commit(Create(MakeWebhook("wh-2", "other"))));

  ASSERT_OK_AND_ASSIGN(StoredWebhook read, store().GetWebhook("wh-1"));
  EXPECT_EQ(read.webhook.SerializeAsString(), MakeWebhook("wh-1", "svc", 7).webhook.SerializeAsString());
  EXPECT_EQ(read.secret, "0123456789abcdef-wh-1");
  EXPECT_FALSE(read.deleted);
  ASSERT_OK_AND_ASSIGN(auto owned, store().ListWebhooks("svc"));
  ASSERT_EQ(owned.size(), 1u);
  EXPECT_EQ(owned[0].webhook.id(), "wh-1");
  ASSERT_OK_AND_ASSIGN(auto all, store().ListWebhooks(""));
  EXPECT_EQ(all.size(), 2u);

  Mutation deletion;
  deletion.webhooks.deletion = WebhookDeletion{"wh-1", absl::FromUnixSeconds(4100)};
  ASSERT_OK(store().Commit(deletion));
  ASSERT_OK_AND_ASSIGN(read, store().GetWebhook("wh-1"));
  EXPECT_TRUE(read.deleted);
  ASSERT_OK_AND_ASSIGN(all, store().ListWebhooks(""));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].webhook.id(), "wh-2");
  EXPECT_TRUE(absl::IsNotFound(store().GetWebhook("nope").status()));
}

TEST_P(WebhookStoreTest, TheDispatchPositionMovesOnlyFromWhereItWasRead) {
  ASSERT_OK(store().Commit(Create(MakeWebhook("wh", "svc"))));
  ASSERT_OK_AND_ASSIGN(WebhookDispatchPosition read, store().GetWebhookDispatchPosition());
  ASSERT_OK(store().Commit(Advance(read, 5, {MakeDelivery("wh", 4)})));

  // A second dispatcher that read the same position lost the race.
  absl::StatusOr<CommitResult> stale = store().Commit(Advance(read, 6, {MakeDelivery("wh", 6)}));
  EXPECT_TRUE(absl::IsAborted(stale.status())) << stale.status();
  ASSERT_OK_AND_ASSIGN(WebhookDispatchPosition now, store().GetWebhookDispatchPosition());
  EXPECT_EQ(now.after_global_seq, 5);

  // A subscription created since changes the generation: a match made
  // without it cannot commit.
  ASSERT_OK(store().Commit(Create(MakeWebhook("wh-new", "svc", 5))));
  EXPECT_TRUE(absl::IsAborted(store().Commit(Advance(now, 6, {})).status()));

  ASSERT_OK_AND_ASSIGN(Page<Delivery> page, store().ListDeliveries({"wh", false, 10, ""}));
  EXPECT_THAT(IdsOf(page.items), ElementsAre("wh.4.0"));
}

TEST_P(WebhookStoreTest, ASubscriptionStartingBehindThePositionMovesItBackAndRepeatsAreKeptOnce) {
  ASSERT_OK(store().Commit(Create(MakeWebhook("wh", "svc"))));
  ASSERT_OK_AND_ASSIGN(WebhookDispatchPosition read, store().GetWebhookDispatchPosition());
  ASSERT_OK(store().Commit(Advance(read, 10, {MakeDelivery("wh", 9)})));

  ASSERT_OK(store().Commit(Create(MakeWebhook("late", "svc", 8))));
  ASSERT_OK_AND_ASSIGN(WebhookDispatchPosition back, store().GetWebhookDispatchPosition());
  EXPECT_EQ(back.after_global_seq, 8);
  // Matching 9..10 again writes wh's delivery once, and late's.
  ASSERT_OK(store().Commit(Advance(back, 10, {MakeDelivery("wh", 9), MakeDelivery("late", 9)})));
  ASSERT_OK_AND_ASSIGN(Page<Delivery> page, store().ListDeliveries({"wh", false, 10, ""}));
  EXPECT_THAT(IdsOf(page.items), ElementsAre("wh.9.0"));
  ASSERT_OK_AND_ASSIGN(page, store().ListDeliveries({"late", false, 10, ""}));
  EXPECT_THAT(IdsOf(page.items), ElementsAre("late.9.0"));
}

TEST_P(WebhookStoreTest, ClaimsTakeEachSubscriptionsOldestPendingDeliveryOnce) {
  SeedOutbox();
  ASSERT_OK_AND_ASSIGN(auto first, Claim(6000, "a"));
  ASSERT_THAT(IdsOf(first), ElementsAre("wh.1.0"));
  EXPECT_EQ(first[0].url, "http://127.0.0.1:9/wh");
  EXPECT_EQ(first[0].secret, "0123456789abcdef-wh");
  EXPECT_EQ(first[0].max_attempts, 3);
  EXPECT_EQ(first[0].body, "{\"cursor\":\"1\"}");
  EXPECT_EQ(first[0].delivery.attempts(), 0);

  // Leased: no one else gets it, nor the later ones behind it.
  ASSERT_OK_AND_ASSIGN(auto second, Claim(6001, "b"));
  EXPECT_TRUE(second.empty());

  ASSERT_OK(store().Commit(Outcome("wh.1.0", "a", /*delivered=*/true, false, 6002)));
  ASSERT_OK_AND_ASSIGN(auto next, Claim(6002, "b"));
  EXPECT_THAT(IdsOf(next), ElementsAre("wh.2.0"));
}

TEST_P(WebhookStoreTest, AnExpiredLeaseLetsAnotherSenderClaim) {
  SeedOutbox();
  ASSERT_OK_AND_ASSIGN(auto first, Claim(6000, "a"));
  ASSERT_THAT(IdsOf(first), ElementsAre("wh.1.0"));
  ASSERT_OK_AND_ASSIGN(auto taken, Claim(6041, "b"));
  EXPECT_THAT(IdsOf(taken), ElementsAre("wh.1.0"));
  // The first sender's late outcome no longer applies.
  ASSERT_OK(store().Commit(Outcome("wh.1.0", "a", /*delivered=*/true, false, 6042)));
  ASSERT_OK_AND_ASSIGN(Page<Delivery> page, store().ListDeliveries({"wh", false, 10, ""}));
  EXPECT_EQ(page.items.back().status(), v1::DELIVERY_PENDING);
}

TEST_P(WebhookStoreTest, FailedAttemptsWaitTheirBackoffThenDieAndAReplaySendsThemAgain) {
  SeedOutbox();
  ASSERT_OK_AND_ASSIGN(auto claimed, Claim(6000, "a"));
  ASSERT_OK(store().Commit(Outcome("wh.1.0", "a", false, false, 6010)));
  ASSERT_OK_AND_ASSIGN(auto early, Claim(6005, "a"));
  EXPECT_TRUE(early.empty()) << "the retry is not due, and it holds the later ones back";
  ASSERT_OK_AND_ASSIGN(auto due, Claim(6010, "a"));
  ASSERT_THAT(IdsOf(due), ElementsAre("wh.1.0"));
  EXPECT_EQ(due[0].delivery.attempts(), 1);
  ASSERT_OK(store().Commit(Outcome("wh.1.0", "a", false, /*dead=*/true, 6020)));

  ASSERT_OK_AND_ASSIGN(Page<Delivery> dead, store().ListDeliveries({"wh", true, 10, ""}));
  ASSERT_THAT(IdsOf(dead.items), ElementsAre("wh.1.0"));
  EXPECT_EQ(dead.items[0].attempts(), 2);
  EXPECT_EQ(dead.items[0].last_error(), "HTTP 500");
  // A dead letter no longer holds the subscription back.
  ASSERT_OK_AND_ASSIGN(auto after, Claim(6011, "a"));
  EXPECT_THAT(IdsOf(after), ElementsAre("wh.2.0"));

  Mutation replay;
  replay.webhooks.replay = DeliveryReplay{"wh", {"wh.1.0", "wh.2.0"}, absl::FromUnixSeconds(6030)};
  ASSERT_OK_AND_ASSIGN(CommitResult replayed, store().Commit(replay));
  EXPECT_EQ(replayed.webhooks.replayed, 1) << "only the dead letter";
  ASSERT_OK_AND_ASSIGN(dead, store().ListDeliveries({"wh", true, 10, ""}));
  EXPECT_TRUE(dead.items.empty());
  ASSERT_OK_AND_ASSIGN(Page<Delivery> all, store().ListDeliveries({"wh", false, 10, ""}));
  ASSERT_EQ(all.items.size(), 3u);
  EXPECT_EQ(all.items[2].status(), v1::DELIVERY_PENDING);
  EXPECT_EQ(all.items[2].attempts(), 0);
}

TEST_P(WebhookStoreTest, DeletingASubscriptionEndsItsPendingDeliveries) {
  SeedOutbox();
  ASSERT_OK_AND_ASSIGN(WebhookDispatchPosition before, store().GetWebhookDispatchPosition());
  Mutation deletion;
  deletion.webhooks.deletion = WebhookDeletion{"wh", absl::FromUnixSeconds(6000)};
  ASSERT_OK(store().Commit(deletion));
  ASSERT_OK_AND_ASSIGN(auto claimed, Claim(7000, "a"));
  EXPECT_TRUE(claimed.empty());
  ASSERT_OK_AND_ASSIGN(Page<Delivery> dead, store().ListDeliveries({"wh", true, 10, ""}));
  EXPECT_EQ(dead.items.size(), 3u);
  EXPECT_EQ(dead.items[0].last_error(), "the subscription was deleted");
  ASSERT_OK_AND_ASSIGN(WebhookDispatchPosition after, store().GetWebhookDispatchPosition());
  EXPECT_GT(after.generation, before.generation);
}

TEST_P(WebhookStoreTest, DeliveriesPageNewestFirst) {
  ASSERT_OK(store().Commit(Create(MakeWebhook("wh", "svc"))));
  ASSERT_OK_AND_ASSIGN(WebhookDispatchPosition position, store().GetWebhookDispatchPosition());
  ASSERT_OK(store().Commit(Advance(position, 3,
                                   {MakeDelivery("wh", 1), MakeDelivery("wh", 2),
                                    MakeDelivery("wh", 2, 1), MakeDelivery("wh", 3)})));
  std::vector<std::string> seen;
  std::string token;
  for (int page_number = 0; page_number < 5; ++page_number) {
    ASSERT_OK_AND_ASSIGN(Page<Delivery> page, store().ListDeliveries({"wh", false, 3, token}));
    for (const auto& id : IdsOf(page.items)) seen.push_back(id);
    token = page.next_page_token;
    if (token.empty()) break;
  }
  EXPECT_THAT(seen, ElementsAre("wh.3.0", "wh.2.1", "wh.2.0", "wh.1.0"));
  EXPECT_TRUE(absl::IsInvalidArgument(
      store().ListDeliveries({"wh", false, 3, "not-a-token"}).status()));
}

INSTANTIATE_TEST_SUITE_P(Backends, WebhookStoreTest,
                         ::testing::Values(BackendParam{"sqlite", &MakeSqliteBackend},
                                           BackendParam{"postgresql", &MakePostgresqlBackend}),
                         BackendName);

}  // namespace
}  // namespace signoff::storage::testing
