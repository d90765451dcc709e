// Tasks: upsert and every ListTasks filter, inbox included.

#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

using ::signoff::v1::PENDING;
using ::signoff::v1::Task;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

signoff::v1::CandidateGroup Group(const std::string& role, const std::string& department) {
  signoff::v1::CandidateGroup group;
  group.set_role(role);
  group.set_department(department);
  return group;
}

// Two instances; tasks created at increasing times except t-07, which
// shares t-02's time to exercise the id tie-break.
void SeedTasks(Store& store) {
  Mutation first = StartMutation(MakeInstance("i-1", 1));
  first.tasks = {
      MakeTask("t-01", "i-1", PENDING, "bob", 10),
      MakeTask("t-02", "i-1", signoff::v1::DONE, "bob", 20),
      MakeGroupTask("t-03", "i-1", "finance", "east", 30),
      MakeGroupTask("t-04", "i-1", "finance", "west", 40),
  };
  ASSERT_OK(store.Commit(first));

  Mutation second = StartMutation(MakeInstance("i-2", 1));
  Task claimed = MakeGroupTask("t-05", "", "finance", "east", 50);
  claimed.set_assignee("carol");
  Task waiting = MakeTask("t-06", "", signoff::v1::WAITING, "bob", 60);
  second.tasks = {claimed, waiting, MakeTask("t-07", "", PENDING, "dave", 20),
                  MakeTask("t-08", "", PENDING, "bob", 70)};
  ASSERT_OK(store.Commit(second));
}

std::vector<std::string> Ids(const Page<Task>& page) {
  std::vector<std::string> ids;
  for (const Task& task : page.items) ids.push_back(task.id());
  return ids;
}

absl::StatusOr<std::vector<std::string>> ListIds(Store& store, const TaskFilter& filter) {
  auto page = store.ListTasks(filter);
  if (!page.ok()) return page.status();
  return Ids(*page);
}

TEST_P(StoreTest, TaskUpsertReplacesTheRow) {
  SeedTasks(store());
  ASSERT_OK_AND_ASSIGN(Task before, store().GetTask("t-03"));
  EXPECT_EQ(before.candidate_group().role(), "finance");
  EXPECT_EQ(before.instance_id(), "i-1");

  Task claimed = before;
  claimed.set_assignee("erin");
  claimed.set_status(signoff::v1::DONE);
  claimed.set_comment("looked fine");
  Mutation update;
  update.tasks.push_back(claimed);
  ASSERT_OK(store().Commit(update));

  ASSERT_OK_AND_ASSIGN(Task after, store().GetTask("t-03"));
  EXPECT_EQ(after.SerializeAsString(), claimed.SerializeAsString());
  TaskFilter by_assignee;
  by_assignee.assignee = "erin";
  EXPECT_THAT(*ListIds(store(), by_assignee), ElementsAre("t-03"));
  TaskFilter by_instance;
  by_instance.instance_id = "i-1";
  EXPECT_EQ(ListIds(store(), by_instance)->size(), 4u);
  EXPECT_CODE(store().GetTask("t-99"), absl::StatusCode::kNotFound);
}

TEST_P(StoreTest, ListTasksOrdersByCreationThenId) {
  SeedTasks(store());
  ASSERT_OK_AND_ASSIGN(auto all, ListIds(store(), TaskFilter{}));
  EXPECT_THAT(all, ElementsAre("t-01", "t-02", "t-07", "t-03", "t-04", "t-05", "t-06", "t-08"));
}

TEST_P(StoreTest, ListTasksFiltersByAssignee) {
  SeedTasks(store());
  TaskFilter filter;
  filter.assignee = "bob";
  EXPECT_THAT(*ListIds(store(), filter), ElementsAre("t-01", "t-02", "t-06", "t-08"));
}

TEST_P(StoreTest, ListTasksFiltersByCandidateGroup) {
  SeedTasks(store());
  TaskFilter group;
  group.role = "finance";
  group.department = "east";
  EXPECT_THAT(*ListIds(store(), group), ElementsAre("t-03", "t-05"));
  TaskFilter role_only;
  role_only.role = "finance";
  EXPECT_THAT(*ListIds(store(), role_only), ElementsAre("t-03", "t-04", "t-05"));
}

TEST_P(StoreTest, ListTasksFiltersByStatusAndInstance) {
  SeedTasks(store());
  TaskFilter pending;
  pending.status = PENDING;
  EXPECT_THAT(*ListIds(store(), pending),
              ElementsAre("t-01", "t-07", "t-03", "t-04", "t-05", "t-08"));
  TaskFilter instance;
  instance.instance_id = "i-2";
  EXPECT_THAT(*ListIds(store(), instance), ElementsAre("t-07", "t-05", "t-06", "t-08"));
  TaskFilter both;
  both.instance_id = "i-2";
  both.status = PENDING;
  both.assignee = "bob";
  EXPECT_THAT(*ListIds(store(), both), ElementsAre("t-08"));
}

TEST_P(StoreTest, InboxHoldsAssignedAndUnclaimedGroupTasks) {
  SeedTasks(store());
  TaskFilter inbox;
  inbox.inbox_user = "bob";
  inbox.inbox_groups = {Group("finance", "east")};
  // Not t-02 (done), t-06 (waiting), t-04 (other department) or t-05
  // (claimed by carol).
  EXPECT_THAT(*ListIds(store(), inbox), ElementsAre("t-01", "t-03", "t-08"));

  TaskFilter two_groups;
  two_groups.inbox_user = "zoe";
  two_groups.inbox_groups = {Group("finance", "east"), Group("finance", "west")};
  EXPECT_THAT(*ListIds(store(), two_groups), ElementsAre("t-03", "t-04"));

  TaskFilter claimer;
  claimer.inbox_user = "carol";
  EXPECT_THAT(*ListIds(store(), claimer), ElementsAre("t-05"));

  TaskFilter groups_only;
  groups_only.inbox_groups = {Group("finance", "west")};
  EXPECT_THAT(*ListIds(store(), groups_only), ElementsAre("t-04"));

  TaskFilter nobody;
  nobody.inbox_user = "zoe";
  EXPECT_THAT(*ListIds(store(), nobody), IsEmpty());
}

TEST_P(StoreTest, ListTasksPagesWithoutGapsOrRepeats) {
  SeedTasks(store());
  TaskFilter filter;
  constexpr size_t kTasks = 8;
  constexpr size_t kPageSize = 3;
  filter.page_size = kPageSize;
  // The pages the tasks fill, with room for an empty last page when they
  // fill them exactly: a token after that means paging does not end.
  constexpr size_t kMaxPages = kTasks / kPageSize + 1;
  std::vector<std::vector<std::string>> pages;
  do {
    ASSERT_OK_AND_ASSIGN(auto page, store().ListTasks(filter));
    pages.push_back(Ids(page));
    filter.page_token = page.next_page_token;
  } while (!filter.page_token.empty() && pages.size() < kMaxPages);
  ASSERT_TRUE(filter.page_token.empty())
      << "ListTasks still had a next page after " << kMaxPages << " pages";
  EXPECT_THAT(pages, ElementsAre(ElementsAre("t-01", "t-02", "t-07"),
                                 ElementsAre("t-03", "t-04", "t-05"),
                                 ElementsAre("t-06", "t-08")));
}

TEST_P(StoreTest, InboxPagesKeepTheInboxFilter) {
  SeedTasks(store());
  TaskFilter filter;
  filter.inbox_user = "bob";
  filter.inbox_groups = {Group("finance", "east")};
  filter.page_size = 2;
  ASSERT_OK_AND_ASSIGN(auto first, store().ListTasks(filter));
  EXPECT_THAT(Ids(first), ElementsAre("t-01", "t-03"));
  ASSERT_FALSE(first.next_page_token.empty());
  filter.page_token = first.next_page_token;
  ASSERT_OK_AND_ASSIGN(auto second, store().ListTasks(filter));
  EXPECT_THAT(Ids(second), ElementsAre("t-08"));
  EXPECT_TRUE(second.next_page_token.empty());
}

// Each way into an inbox is its own ordered query; the merge must keep one
// order across them, ties on the creation time broken by id, one page at a
// time, and a group named twice must not show its tasks twice.
TEST_P(StoreTest, InboxMergesItsWaysInOneOrderAcrossPages) {
  Mutation start = StartMutation(MakeInstance("i-1", 1));
  start.tasks = {MakeTask("t-b", "i-1", PENDING, "bob", 10),
                 MakeGroupTask("t-a", "i-1", "finance", "east", 10),
                 MakeGroupTask("t-c", "i-1", "finance", "west", 10),
                 MakeTask("t-d", "i-1", PENDING, "bob", 5),
                 MakeGroupTask("t-e", "i-1", "finance", "east", 20)};
  ASSERT_OK(store().Commit(start));
  TaskFilter filter;
  filter.inbox_user = "bob";
  filter.inbox_groups = {Group("finance", "east"), Group("finance", "west"),
                         Group("finance", "east")};
  filter.page_size = 1;
  std::vector<std::string> walked;
  for (int page = 0; page < 10; ++page) {
    ASSERT_OK_AND_ASSIGN(auto listed, store().ListTasks(filter));
    for (const Task& task : listed.items) walked.push_back(task.id());
    if (listed.next_page_token.empty()) break;
    filter.page_token = listed.next_page_token;
  }
  EXPECT_THAT(walked, ElementsAre("t-d", "t-a", "t-b", "t-c", "t-e"));
}

TEST_P(StoreTest, MalformedTaskPageTokenIsInvalidArgument) {
  SeedTasks(store());
  InstanceFilter paged;
  paged.page_size = 1;
  ASSERT_OK_AND_ASSIGN(auto instance_page, store().ListInstances(paged));
  ASSERT_FALSE(instance_page.next_page_token.empty());

  for (const std::string& token : {std::string("%%%"), std::string("dGFza3M="),
                                   std::string("dGFza3Mvbm90LWEtbnVtYmVyOnQtMQ"),
                                   instance_page.next_page_token}) {
    TaskFilter filter;
    filter.page_token = token;
    EXPECT_CODE(store().ListTasks(filter), absl::StatusCode::kInvalidArgument) << token;
  }
}

}  // namespace
}  // namespace signoff::storage::testing
