// Standing delegations: written whole, replaced by id, removed, listed in
// order, and moving the directory's catalog version on.

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

}  // namespace
}  // namespace signoff::storage::testing
