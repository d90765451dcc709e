// Standing delegations: written whole, replaced by id, removed, listed in
// order, and moving the directory's catalog version on.

#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "store_test_base.h"
#include "workflow/time_util.h"

namespace signoff::storage::testing {
namespace {

using ::signoff::v1::Delegation;
using ::testing::ElementsAre;

const absl::Time kMonday = absl::FromUnixSeconds(1772409600);  // 2026-03-02

Delegation MakeDelegation(const std::string& id, const std::string& delegator,
                          const std::string& delegate, int start_day, int days) {
  Delegation delegation;
  delegation.set_id(id);
  delegation.set_delegator(delegator);
  delegation.set_delegate(delegate);
  *delegation.mutable_starts_at() =
      workflow::ToTimestamp(kMonday + absl::Hours(24) * start_day);
  *delegation.mutable_ends_at() =
      workflow::ToTimestamp(kMonday + absl::Hours(24) * (start_day + days));
  delegation.add_definition_keys("probation-review");
  delegation.set_comment("annual leave");
  return delegation;
}

std::vector<std::string> Ids(const std::vector<Delegation>& delegations) {
  std::vector<std::string> ids;
  for (const auto& delegation : delegations) ids.push_back(delegation.id());
  return ids;
}

TEST_P(StoreTest, DelegationsAreListedByDelegatorThenStart) {
  Mutation mutation;
  mutation.delegations = {MakeDelegation("d3", "sam", "ceo", 7, 2),
                          MakeDelegation("d1", "sam", "sid", 0, 5),
                          MakeDelegation("d2", "fay", "fin", 3, 1)};
  ASSERT_OK(store().Commit(mutation));
  ASSERT_OK_AND_ASSIGN(auto listed, store().ListDelegations());
  EXPECT_THAT(Ids(listed), ElementsAre("d2", "d1", "d3"));
  EXPECT_EQ(listed[1].SerializeAsString(),
            MakeDelegation("d1", "sam", "sid", 0, 5).SerializeAsString());
}

TEST_P(StoreTest, ADelegationWithAKnownIdIsReplaced) {
  Mutation first;
  first.delegations = {MakeDelegation("d1", "sam", "sid", 0, 5)};
  ASSERT_OK(store().Commit(first));
  Mutation second;
  second.delegations = {MakeDelegation("d1", "sam", "ceo", 1, 2)};
  ASSERT_OK(store().Commit(second));
  ASSERT_OK_AND_ASSIGN(auto listed, store().ListDelegations());
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].delegate(), "ceo");
  EXPECT_EQ(listed[0].starts_at().seconds(),
            absl::ToUnixSeconds(kMonday + absl::Hours(24)));
}

TEST_P(StoreTest, RemovedDelegationsAreGone) {
  Mutation mutation;
  mutation.delegations = {MakeDelegation("d1", "sam", "sid", 0, 5),
                          MakeDelegation("d2", "fay", "fin", 3, 1)};
  ASSERT_OK(store().Commit(mutation));
  Mutation removal;
  removal.delegations_removed = {"d1", "never-stored"};
  ASSERT_OK(store().Commit(removal));
  ASSERT_OK_AND_ASSIGN(auto listed, store().ListDelegations());
  EXPECT_THAT(Ids(listed), ElementsAre("d2"));
}

TEST_P(StoreTest, DelegationChangesMoveTheDirectoryVersionOn) {
  ASSERT_OK_AND_ASSIGN(CatalogVersions before, store().GetCatalogVersions());
  Mutation set;
  set.delegations = {MakeDelegation("d1", "sam", "sid", 0, 5)};
  ASSERT_OK(store().Commit(set));
  ASSERT_OK_AND_ASSIGN(CatalogVersions after_set, store().GetCatalogVersions());
  EXPECT_EQ(after_set.directory, before.directory + 1);
  EXPECT_EQ(after_set.definitions, before.definitions);
  Mutation removal;
  removal.delegations_removed = {"d1"};
  ASSERT_OK(store().Commit(removal));
  ASSERT_OK_AND_ASSIGN(CatalogVersions after_removal, store().GetCatalogVersions());
  EXPECT_EQ(after_removal.directory, after_set.directory + 1);
}

TEST_P(StoreTest, ADelegationWithoutAnIdStoresNothing) {
  Mutation mutation;
  mutation.delegations = {MakeDelegation("", "sam", "sid", 0, 5)};
  EXPECT_CODE(store().Commit(mutation), absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto listed, store().ListDelegations());
  EXPECT_TRUE(listed.empty());
}

// The store is the last word on overlaps: a delegation of the same user
// for the same definitions at overlapping times is refused, and nothing of
// it is stored. Ranges include their start and exclude their end.
TEST_P(StoreTest, AnOverlappingDelegationOfTheSameUserIsRefusedAndNothingChanges) {
  Mutation first;
  first.delegations = {MakeDelegation("d1", "sam", "sid", 0, 5)};
  ASSERT_OK(store().Commit(first));
  Mutation overlapping;
  overlapping.delegations = {MakeDelegation("d2", "sam", "ceo", 4, 2)};
  EXPECT_CODE(store().Commit(overlapping), absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(auto listed, store().ListDelegations());
  EXPECT_THAT(Ids(listed), ElementsAre("d1"));

  Mutation touching;
  touching.delegations = {MakeDelegation("d3", "sam", "ceo", 5, 2)};
  EXPECT_OK(store().Commit(touching));
  Mutation someone_else;
  someone_else.delegations = {MakeDelegation("d4", "fay", "fin", 0, 5)};
  EXPECT_OK(store().Commit(someone_else));
  Delegation other_definition = MakeDelegation("d5", "sam", "sid", 0, 5);
  other_definition.set_definition_keys(0, "dealer-claim");
  Mutation elsewhere;
  elsewhere.delegations = {other_definition};
  EXPECT_OK(store().Commit(elsewhere));
  // A delegation moved within its own time does not conflict with itself.
  Mutation moved;
  moved.delegations = {MakeDelegation("d1", "sam", "sid", 1, 4)};
  EXPECT_OK(store().Commit(moved));
  ASSERT_OK_AND_ASSIGN(listed, store().ListDelegations());
  EXPECT_THAT(Ids(listed), ElementsAre("d4", "d5", "d1", "d3"));
}

// Two replicas (a store each) set overlapping delegations of one user at
// the same moment: one is stored, the other refused.
TEST_P(StoreTest, OverlappingDelegationsSetAtOnceOnTwoReplicasStoreOne) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> first_replica, backend().Open());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> second_replica, backend().Open());
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    const std::string delegator = absl::StrCat("user-", round);
    Mutation one;
    one.delegations = {MakeDelegation(absl::StrCat("a", round), delegator, "sid", 0, 5)};
    Mutation other;
    other.delegations = {MakeDelegation(absl::StrCat("b", round), delegator, "ceo", 2, 5)};
    absl::Status first_status;
    absl::Status second_status;
    std::thread first([&] { first_status = first_replica->Commit(one).status(); });
    std::thread second([&] { second_status = second_replica->Commit(other).status(); });
    first.join();
    second.join();
    EXPECT_NE(first_status.ok(), second_status.ok())
        << "round " << round << ": " << first_status << " / " << second_status;
    const absl::Status& refused = first_status.ok() ? second_status : first_status;
    EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  }
  ASSERT_OK_AND_ASSIGN(auto listed, store().ListDelegations());
  EXPECT_EQ(listed.size(), static_cast<size_t>(kRounds));
}

}  // namespace
}  // namespace signoff::storage::testing
