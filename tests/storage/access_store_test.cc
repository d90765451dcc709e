// Who may read an instance, as the store records it: the grants events
// give, kept once each and never taken back, and the lists cut down to a
// caller's principals and definitions.

#include <algorithm>
#include <set>

#include "store_test_base.h"
#include "workflow/access.h"

namespace signoff::storage::testing {
namespace {

using ::signoff::v1::Event;
using ::signoff::v1::InstanceState;
using ::signoff::v1::Task;
using workflow::AccessGrant;
using workflow::AccessKind;
using workflow::UserPrincipal;

Event Started(const std::string& instance, const std::string& applicant,
              std::vector<std::string> managers = {}) {
  Event event = MakeEvent(instance, applicant);
  event.clear_comment_added();
  auto* started = event.mutable_instance_started();
  started->set_applicant(applicant);
  for (auto& manager : managers) started->add_managers_above(std::move(manager));
  return event;
}

Event TaskCreated(const std::string& instance, const std::string& assignee,
                  const std::string& role = "") {
  Event event = MakeEvent(instance, "system");
  event.clear_comment_added();
  Task* task = event.mutable_task_created()->mutable_task();
  task->set_id(instance + "-t");
  task->set_assignee(assignee);
  if (!role.empty()) {
    task->mutable_candidate_group()->set_role(role);
    task->mutable_candidate_group()->set_department("ops");
  }
  return event;
}

Event CcSent(const std::string& instance, const std::string& user) {
  Event event = MakeEvent(instance, "bob");
  event.clear_comment_added();
  event.mutable_cc_sent()->add_users(user);
  return event;
}

absl::Status StartWith(Store& store, const std::string& id, const std::string& definition,
                       std::vector<Event> events) {
  Mutation mutation = StartMutation(MakeInstance(id, 1, definition, "alice"));
  mutation.events = std::move(events);
  return store.Commit(std::move(mutation)).status();
}

std::set<std::string> Ids(const Page<InstanceState>& page) {
  std::set<std::string> ids;
  for (const auto& instance : page.items) ids.insert(instance.id());
  return ids;
}

TEST_P(StoreTest, EventsGrantReadersOnceEachAndKeepThem) {
  ASSERT_OK(StartWith(store(), "i-1", "dealer",
                      {Started("i-1", "alice", {"mia"}), TaskCreated("i-1", "bob"),
                       CcSent("i-1", "carol"), TaskCreated("i-1", "bob")}));
  // A later command naming the same people adds nothing twice.
  Mutation later;
  later.events = {TaskCreated("i-1", "bob"), CcSent("i-1", "carol")};
  ASSERT_OK(store().Commit(std::move(later)));

  ASSERT_OK_AND_ASSIGN(auto grants, store().GetAccessGrants("i-1"));
  EXPECT_EQ(grants, (std::vector<AccessGrant>{
                        {UserPrincipal("alice"), AccessKind::kParty},
                        {UserPrincipal("bob"), AccessKind::kParty},
                        {UserPrincipal("carol"), AccessKind::kCopied},
                        {UserPrincipal("mia"), AccessKind::kManagerAbove},
                    }));
  ASSERT_OK_AND_ASSIGN(auto none, store().GetAccessGrants("i-unknown"));
  EXPECT_TRUE(none.empty());
}

TEST_P(StoreTest, ListsKeepOnlyWhatTheCallerReads) {
  ASSERT_OK(StartWith(store(), "i-1", "dealer", {Started("i-1", "alice"), TaskCreated("i-1", "bob")}));
  ASSERT_OK(StartWith(store(), "i-2", "dealer",
                      {Started("i-2", "alice"), TaskCreated("i-2", "", "reviewer")}));
  ASSERT_OK(StartWith(store(), "i-3", "probation", {Started("i-3", "alice")}));
  ASSERT_OK(StartWith(store(), "i-4", "probation", {Started("i-4", "dave"), CcSent("i-4", "bob")}));

  auto listed = [&](std::vector<std::string> principals, std::vector<std::string> keys) {
    InstanceFilter filter;
    filter.readable_by = ReadableBy{std::move(principals), std::move(keys)};
    auto page = store().ListInstances(filter);
    EXPECT_OK(page);
    return page.ok() ? Ids(*page) : std::set<std::string>{};
  };
  EXPECT_EQ(listed({UserPrincipal("bob")}, {}), (std::set<std::string>{"i-1", "i-4"}));
  EXPECT_EQ(listed({"group:reviewer@ops"}, {}), (std::set<std::string>{"i-2"}));
  EXPECT_EQ(listed({UserPrincipal("nobody")}, {"probation"}),
            (std::set<std::string>{"i-3", "i-4"}));
  EXPECT_EQ(listed({UserPrincipal("dave")}, {"dealer"}),
            (std::set<std::string>{"i-1", "i-2", "i-4"}));
  EXPECT_TRUE(listed({}, {}).empty());
  // Other filters still apply on top.
  InstanceFilter both;
  both.definition_key = "dealer";
  both.readable_by = ReadableBy{{UserPrincipal("bob")}, {}};
  ASSERT_OK_AND_ASSIGN(auto page, store().ListInstances(both));
  EXPECT_EQ(Ids(page), (std::set<std::string>{"i-1"}));
  // Unset lists everything.
  ASSERT_OK_AND_ASSIGN(auto all, store().ListInstances(InstanceFilter()));
  EXPECT_EQ(all.items.size(), 4u);
}

TEST_P(StoreTest, TaskListsKeepOnlyTasksOfInstancesTheCallerReads) {
  Mutation first = StartMutation(MakeInstance("i-1", 1, "dealer", "alice"));
  first.events = {Started("i-1", "alice"), TaskCreated("i-1", "bob")};
  first.tasks = {MakeTask("i-1-t1", "i-1", signoff::v1::PENDING, "bob", 10)};
  ASSERT_OK(store().Commit(std::move(first)));
  Mutation second = StartMutation(MakeInstance("i-2", 1, "probation", "dave"));
  second.events = {Started("i-2", "dave"), TaskCreated("i-2", "erin")};
  second.tasks = {MakeTask("i-2-t1", "i-2", signoff::v1::PENDING, "erin", 11)};
  ASSERT_OK(store().Commit(std::move(second)));

  auto tasks = [&](std::vector<std::string> principals, std::vector<std::string> keys) {
    TaskFilter filter;
    filter.status = signoff::v1::PENDING;
    filter.readable_by = ReadableBy{std::move(principals), std::move(keys)};
    std::set<std::string> ids;
    auto page = store().ListTasks(filter);
    EXPECT_OK(page);
    if (page.ok()) {
      for (const auto& task : page->items) ids.insert(task.id());
    }
    return ids;
  };
  EXPECT_EQ(tasks({UserPrincipal("alice")}, {}), (std::set<std::string>{"i-1-t1"}));
  EXPECT_EQ(tasks({UserPrincipal("erin")}, {}), (std::set<std::string>{"i-2-t1"}));
  EXPECT_EQ(tasks({UserPrincipal("zed")}, {"probation"}), (std::set<std::string>{"i-2-t1"}));
  EXPECT_TRUE(tasks({UserPrincipal("zed")}, {}).empty());
}

}  // namespace
}  // namespace signoff::storage::testing
