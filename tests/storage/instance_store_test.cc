// Instances: version checks, open subjects, listing.

#include <cstdio>

#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using ::signoff::v1::InstanceState;

Mutation UpdateMutation(const InstanceState& instance, int64_t expected_version) {
  Mutation mutation;
  mutation.instance = instance;
  mutation.expected_version = expected_version;
  return mutation;
}

TEST_P(StoreTest, InsertedInstanceReadsBack) {
  InstanceState instance = MakeInstance("i-1", 1);
  instance.set_outcome_reason("pending");
  ASSERT_OK(store().Commit(StartMutation(instance)));

  ASSERT_OK_AND_ASSIGN(InstanceState stored, store().GetInstance("i-1"));
  EXPECT_EQ(stored.SerializeAsString(), instance.SerializeAsString());
  EXPECT_CODE(store().GetInstance("i-2"), absl::StatusCode::kNotFound);
}

TEST_P(StoreTest, InsertMustStoreVersionOne) {
  EXPECT_CODE(store().Commit(StartMutation(MakeInstance("i-1", 2))),
              absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(store().GetInstance("i-1"), absl::StatusCode::kNotFound);
}

TEST_P(StoreTest, InsertOfExistingInstanceIsAborted) {
  ASSERT_OK(store().Commit(StartMutation(MakeInstance("i-1", 1, "dealer", "alice"))));
  EXPECT_CODE(store().Commit(StartMutation(MakeInstance("i-1", 1, "dealer", "mallory"))),
              absl::StatusCode::kAborted);
  ASSERT_OK_AND_ASSIGN(InstanceState stored, store().GetInstance("i-1"));
  EXPECT_EQ(stored.applicant(), "alice");
}

TEST_P(StoreTest, UpdateWithCurrentVersionSucceeds) {
  ASSERT_OK(store().Commit(StartMutation(MakeInstance("i-1", 1))));
  InstanceState next = MakeInstance("i-1", 2);
  next.set_status(signoff::v1::APPROVED);
  ASSERT_OK(store().Commit(UpdateMutation(next, 1)));

  ASSERT_OK_AND_ASSIGN(InstanceState stored, store().GetInstance("i-1"));
  EXPECT_EQ(stored.version(), 2);
  EXPECT_EQ(stored.status(), signoff::v1::APPROVED);
}

TEST_P(StoreTest, StaleVersionIsAbortedAndChangesNothing) {
  Mutation start = StartMutation(MakeInstance("i-1", 1));
  start.events.push_back(MakeEvent("i-1", "alice"));
  ASSERT_OK(store().Commit(start));
  ASSERT_OK(store().Commit(UpdateMutation(MakeInstance("i-1", 2), 1)));

  InstanceState stale = MakeInstance("i-1", 2);
  stale.set_status(signoff::v1::REJECTED);
  Mutation late = UpdateMutation(stale, 1);
  late.events.push_back(MakeEvent("i-1", "bob"));
  late.tasks.push_back(MakeTask("t-1", "i-1", signoff::v1::PENDING, "bob", 1));
  late.idempotency = IdempotencyRecord{"", "r-late", "DecideTask", "fp", "reply"};
  auto result = store().Commit(late);

  EXPECT_CODE(result, absl::StatusCode::kAborted);
  EXPECT_NE(result.status().message().find("i-1"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(InstanceState stored, store().GetInstance("i-1"));
  EXPECT_EQ(stored.version(), 2);
  EXPECT_EQ(stored.status(), signoff::v1::RUNNING);
  ASSERT_OK_AND_ASSIGN(auto events, store().ListEvents("i-1"));
  EXPECT_EQ(events.size(), 1u);
  EXPECT_CODE(store().GetTask("t-1"), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto record, store().FindIdempotency("", "r-late"));
  EXPECT_FALSE(record.has_value());
}

TEST_P(StoreTest, UpdateOfMissingInstanceIsAborted) {
  EXPECT_CODE(store().Commit(UpdateMutation(MakeInstance("ghost", 4), 3)),
              absl::StatusCode::kAborted);
}

TEST_P(StoreTest, OpenSubjectIsHeldByOneInstance) {
  Mutation first = StartMutation(MakeInstance("i-1", 1));
  first.open_subject_key = "dealer/D-42";
  ASSERT_OK(store().Commit(first));

  Mutation second = StartMutation(MakeInstance("i-2", 1));
  second.open_subject_key = "dealer/D-42";
  auto refused = store().Commit(second);
  EXPECT_CODE(refused, absl::StatusCode::kAlreadyExists);
  EXPECT_NE(refused.status().message().find("dealer/D-42"), std::string::npos);
  EXPECT_CODE(store().GetInstance("i-2"), absl::StatusCode::kNotFound);

  Mutation other_subject = StartMutation(MakeInstance("i-3", 1));
  other_subject.open_subject_key = "dealer/D-43";
  EXPECT_OK(store().Commit(other_subject));
}

TEST_P(StoreTest, KeepingTheSubjectOnUpdateIsAllowed) {
  Mutation first = StartMutation(MakeInstance("i-1", 1));
  first.open_subject_key = "dealer/D-42";
  ASSERT_OK(store().Commit(first));
  Mutation update = UpdateMutation(MakeInstance("i-1", 2), 1);
  update.open_subject_key = "dealer/D-42";
  EXPECT_OK(store().Commit(update));
}

TEST_P(StoreTest, ReleasedSubjectCanBeTakenAgain) {
  Mutation first = StartMutation(MakeInstance("i-1", 1));
  first.open_subject_key = "dealer/D-42";
  ASSERT_OK(store().Commit(first));

  InstanceState finished = MakeInstance("i-1", 2);
  finished.set_status(signoff::v1::APPROVED);
  ASSERT_OK(store().Commit(UpdateMutation(finished, 1)));

  Mutation second = StartMutation(MakeInstance("i-2", 1));
  second.open_subject_key = "dealer/D-42";
  EXPECT_OK(store().Commit(second));
}

// Six instances over two definitions, three applicants and two statuses.
void SeedInstances(Store& store) {
  const struct {
    const char* id;
    const char* key;
    const char* applicant;
    const char* subject;
    signoff::v1::InstanceStatus status;
  } rows[] = {
      {"i-01", "dealer", "alice", "D-1", signoff::v1::RUNNING},
      {"i-02", "dealer", "bob", "D-2", signoff::v1::APPROVED},
      {"i-03", "probation", "alice", "E-1", signoff::v1::RUNNING},
      {"i-04", "dealer", "alice", "D-1", signoff::v1::APPROVED},
      {"i-05", "probation", "carol", "E-2", signoff::v1::RUNNING},
      {"i-06", "dealer", "bob", "D-3", signoff::v1::RUNNING},
  };
  for (const auto& row : rows) {
    InstanceState instance = MakeInstance(row.id, 1, row.key, row.applicant, row.subject);
    instance.set_status(row.status);
    ASSERT_OK(store.Commit(StartMutation(instance)));
  }
}

std::vector<std::string> Ids(const Page<InstanceState>& page) {
  std::vector<std::string> ids;
  for (const InstanceState& instance : page.items) ids.push_back(instance.id());
  return ids;
}

using ::testing::ElementsAre;

TEST_P(StoreTest, ListInstancesNewestFirst) {
  SeedInstances(store());
  ASSERT_OK_AND_ASSIGN(auto page, store().ListInstances(InstanceFilter{}));
  EXPECT_THAT(Ids(page), ElementsAre("i-06", "i-05", "i-04", "i-03", "i-02", "i-01"));
  EXPECT_TRUE(page.next_page_token.empty());
}

TEST_P(StoreTest, ListInstancesFiltersByEachField) {
  SeedInstances(store());
  InstanceFilter by_key;
  by_key.definition_key = "probation";
  ASSERT_OK_AND_ASSIGN(auto probation, store().ListInstances(by_key));
  EXPECT_THAT(Ids(probation), ElementsAre("i-05", "i-03"));

  InstanceFilter by_status;
  by_status.status = signoff::v1::APPROVED;
  ASSERT_OK_AND_ASSIGN(auto approved, store().ListInstances(by_status));
  EXPECT_THAT(Ids(approved), ElementsAre("i-04", "i-02"));

  InstanceFilter by_applicant;
  by_applicant.applicant = "alice";
  ASSERT_OK_AND_ASSIGN(auto alice, store().ListInstances(by_applicant));
  EXPECT_THAT(Ids(alice), ElementsAre("i-04", "i-03", "i-01"));

  InstanceFilter by_subject;
  by_subject.subject = "D-1";
  ASSERT_OK_AND_ASSIGN(auto subject, store().ListInstances(by_subject));
  EXPECT_THAT(Ids(subject), ElementsAre("i-04", "i-01"));
}

TEST_P(StoreTest, ListInstancesFiltersByTheNamedOutcomeKeptOnUpdate) {
  ASSERT_OK(store().Commit(StartMutation(MakeInstance("i-1", 1, "warning", "alice", "P-1"))));
  ASSERT_OK(store().Commit(StartMutation(MakeInstance("i-2", 1, "warning", "alice", "P-2"))));
  ASSERT_OK(store().Commit(StartMutation(MakeInstance("i-3", 1, "warning", "alice", "P-3"))));
  InstanceFilter kept;
  kept.outcome = "KEPT";
  ASSERT_OK_AND_ASSIGN(auto none_yet, store().ListInstances(kept));
  EXPECT_THAT(Ids(none_yet), ElementsAre());

  InstanceState first = MakeInstance("i-1", 2, "warning", "alice", "P-1");
  first.set_status(signoff::v1::APPROVED);
  first.set_outcome("KEPT");
  ASSERT_OK(store().Commit(UpdateMutation(first, 1)));
  InstanceState second = MakeInstance("i-2", 2, "warning", "alice", "P-2");
  second.set_status(signoff::v1::REJECTED);
  second.set_outcome("TERMINATED");
  ASSERT_OK(store().Commit(UpdateMutation(second, 1)));

  ASSERT_OK_AND_ASSIGN(auto kept_page, store().ListInstances(kept));
  EXPECT_THAT(Ids(kept_page), ElementsAre("i-1"));
  EXPECT_EQ(kept_page.items[0].outcome(), "KEPT");
  InstanceFilter terminated;
  terminated.outcome = "TERMINATED";
  terminated.status = signoff::v1::REJECTED;
  ASSERT_OK_AND_ASSIGN(auto terminated_page, store().ListInstances(terminated));
  EXPECT_THAT(Ids(terminated_page), ElementsAre("i-2"));
  // Outcomes match exactly, case included.
  InstanceFilter lower;
  lower.outcome = "kept";
  ASSERT_OK_AND_ASSIGN(auto lower_page, store().ListInstances(lower));
  EXPECT_THAT(Ids(lower_page), ElementsAre());
  ASSERT_OK_AND_ASSIGN(InstanceState stored, store().GetInstance("i-2"));
  EXPECT_EQ(stored.outcome(), "TERMINATED");
}

TEST_P(StoreTest, ListInstancesCombinesFiltersWithAnd) {
  SeedInstances(store());
  InstanceFilter filter;
  filter.definition_key = "dealer";
  filter.status = signoff::v1::RUNNING;
  filter.applicant = "bob";
  ASSERT_OK_AND_ASSIGN(auto page, store().ListInstances(filter));
  EXPECT_THAT(Ids(page), ElementsAre("i-06"));
}

TEST_P(StoreTest, ListInstancesPagesThroughEverythingOnce) {
  SeedInstances(store());
  InstanceFilter filter;
  filter.page_size = 4;
  ASSERT_OK_AND_ASSIGN(auto first, store().ListInstances(filter));
  EXPECT_THAT(Ids(first), ElementsAre("i-06", "i-05", "i-04", "i-03"));
  ASSERT_FALSE(first.next_page_token.empty());

  filter.page_token = first.next_page_token;
  ASSERT_OK_AND_ASSIGN(auto second, store().ListInstances(filter));
  EXPECT_THAT(Ids(second), ElementsAre("i-02", "i-01"));
  EXPECT_TRUE(second.next_page_token.empty());
}

TEST_P(StoreTest, ListInstancesPagingKeepsFilters) {
  SeedInstances(store());
  InstanceFilter filter;
  filter.definition_key = "dealer";
  constexpr size_t kDealerInstances = 4;
  constexpr size_t kPageSize = 1;
  filter.page_size = kPageSize;
  // The pages the instances fill, with room for an empty last page when they
  // fill them exactly: a token after that means paging does not end.
  constexpr size_t kMaxPages = kDealerInstances / kPageSize + 1;
  std::vector<std::string> seen;
  size_t pages = 0;
  do {
    ASSERT_OK_AND_ASSIGN(auto page, store().ListInstances(filter));
    ASSERT_LE(page.items.size(), 1u);
    for (const auto& instance : page.items) seen.push_back(instance.id());
    filter.page_token = page.next_page_token;
  } while (!filter.page_token.empty() && ++pages < kMaxPages);
  ASSERT_TRUE(filter.page_token.empty())
      << "ListInstances still had a next page after " << kMaxPages << " pages";
  EXPECT_THAT(seen, ElementsAre("i-06", "i-04", "i-02", "i-01"));
}

TEST_P(StoreTest, ListInstancesClampsPageSize) {
  std::vector<Mutation> mutations;
  for (int i = 0; i < 520; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "i-%04d", i);
    mutations.push_back(StartMutation(MakeInstance(id, 1)));
  }
  for (const auto& result : CommitConcurrently(store(), std::move(mutations), 8)) {
    ASSERT_OK(result);
  }
  InstanceFilter huge;
  huge.page_size = 10000;
  ASSERT_OK_AND_ASSIGN(auto clamped, store().ListInstances(huge));
  EXPECT_EQ(clamped.items.size(), 500u);
  EXPECT_FALSE(clamped.next_page_token.empty());

  InstanceFilter unset;
  unset.page_size = 0;
  ASSERT_OK_AND_ASSIGN(auto defaulted, store().ListInstances(unset));
  EXPECT_EQ(defaulted.items.size(), 50u);
}

TEST_P(StoreTest, MalformedInstancePageTokenIsInvalidArgument) {
  SeedInstances(store());
  for (const std::string token : {"!!not base64!!", "Zm9vYmFy", "dGFza3MvMTI6aS0x"}) {
    InstanceFilter filter;
    filter.page_token = token;
    EXPECT_CODE(store().ListInstances(filter), absl::StatusCode::kInvalidArgument) << token;
  }
}

}  // namespace
}  // namespace signoff::storage::testing
