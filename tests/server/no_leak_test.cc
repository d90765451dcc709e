// No leak: on a generated organisation of a few hundred people and over
// five hundred instances of the shipped definitions in many states, every
// user reaches through every list and get exactly the instances the
// visibility rules give them, no more and no fewer. The rules are worked
// out here, from the stored events and the directory, on their own.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/app/bulk_load.h"
#include "server/app/seed.h"
#include "server_fixture.h"
#include "workflow/directory.h"

namespace signoff::testing {
namespace {

// Departments of the demo organisation that get generated people: two
// leads under the head, three staff under each lead, two juniors under
// each of those.
const std::vector<std::string>& GeneratedDepartments() {
  static const auto* const kDepartments = new std::vector<std::string>{
      "sales-east", "sales-west", "sales-ops", "finance", "hr", "legal",
      "partner-mgmt", "kam", "it", "pr", "compliance"};
  return *kDepartments;
}

v1::User Person(const std::string& id, const std::string& department, const std::string& manager) {
  v1::User user;
  user.set_id(id);
  user.set_display_name(id);
  user.set_department(department);
  user.set_manager(manager);
  return user;
}

void Grant(v1::User& user, const std::string& role, const std::string& department = "",
           std::vector<std::string> definitions = {}) {
  auto* grant = user.add_roles();
  grant->set_role(role);
  grant->set_department(department);
  for (auto& key : definitions) grant->add_definitions(std::move(key));
}

std::vector<v1::User> GeneratedPeople(const workflow::Directory& demo) {
  std::vector<v1::User> people;
  for (const auto& department : GeneratedDepartments()) {
    const std::string head = demo.FindDepartment(department)->head();
    for (int l = 0; l < 2; ++l) {
      const std::string lead = absl::StrCat(department, "-lead", l);
      people.push_back(Person(lead, department, head));
      for (int s = 0; s < 3; ++s) {
        const std::string staff = absl::StrCat(lead, "-staff", s);
        people.push_back(Person(staff, department, lead));
        for (int j = 0; j < 2; ++j) {
          people.push_back(Person(absl::StrCat(staff, "-junior", j), department, staff));
        }
      }
    }
  }
  // Role holders who widen candidate groups and definition-wide readers.
  Grant(people[0], "auditor");
  for (auto& person : people) {
    const std::string& id = person.id();
    if (id == "sales-ops-lead0-staff0") Grant(person, "claims-reviewer", "sales-ops");
    if (id == "sales-ops-lead1-staff1") Grant(person, "qc-inspector", "sales-ops");
    if (id == "hr-lead0-staff2") Grant(person, "hrbp", "hr");
    if (id == "finance-lead1") Grant(person, "process-admin", "", {"dealer-claim"});
    if (id == "it-lead0-staff0-junior1") person.set_disabled(true);
  }
  return people;
}

class NoLeakTest : public ServerTest {
 protected:
  bool StartsWithOrganisation() const override { return false; }

  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_OK(SeedShipped(*app_));
    v1::UpsertUsersRequest upsert;
    upsert.set_request_id("generated-people");
    for (auto& person : GeneratedPeople(*Directory())) {
      *upsert.add_users() = std::move(person);
    }
    ASSERT_OK(client_->Call("peter.lin", *client_->directory,
                            &v1::DirectoryService::Stub::UpsertUsers, upsert));
  }

  std::shared_ptr<const workflow::Directory> Directory() { return app_->context().directory(); }

  std::vector<std::string> EnabledUsers() {
    std::vector<std::string> users;
    for (const auto& user : Directory()->organisation().users()) {
      if (!user.disabled()) users.push_back(user.id());
    }
    return users;
  }

  // Moves instances on in many ways, each by whoever may: approvals,
  // returns, rejections, CCs, delegations, transfers, claims, withdrawals.
  std::map<std::string, int> Drive(const std::vector<std::string>& instances);

  // Whoever the rules let read `instance`, from its stored events.
  std::set<std::string> Readers(const std::string& instance);

  std::set<std::string> ListedInstances(const std::string& user);
  std::set<std::string> InstancesOfListedTasks(const std::string& user);

  std::mt19937 random_{20261130};
  int serial_ = 0;
};

std::map<std::string, int> NoLeakTest::Drive(const std::vector<std::string>& instances) {
  std::map<std::string, int> done;
  const std::vector<std::string> users = EnabledUsers();
  const auto directory = Directory();
  auto anyone = [&] { return users[random_() % users.size()]; };
  for (const auto& id : instances) {
    for (int round = 0; round < 1 + static_cast<int>(random_() % 3); ++round) {
      auto state = store_->GetInstance(id);
      if (!state.ok() || (state->status() != v1::RUNNING && state->status() != v1::RETURNED)) {
        break;
      }
      if (state->status() == v1::RETURNED || random_() % 12 == 0) {
        v1::WithdrawInstanceRequest withdraw;
        withdraw.set_request_id(absl::StrCat("drive-", ++serial_));
        withdraw.set_id(id);
        if (client_->Call(state->applicant(), *client_->instances,
                          &v1::InstanceService::Stub::WithdrawInstance, withdraw).ok()) {
          ++done["withdraw"];
        }
        break;
      }
      const v1::Task* open = nullptr;
      for (const auto& task : state->tasks()) {
        if (task.status() == v1::PENDING) open = &task;
      }
      if (open == nullptr) break;
      std::string actor = open->assignee();
      if (actor.empty()) {
        auto holders = directory->HoldersOf(open->candidate_group().role(),
                                             open->candidate_group().department());
        if (holders.empty()) break;
        actor = holders[random_() % holders.size()];
        v1::ClaimTaskRequest claim;
        claim.set_request_id(absl::StrCat("drive-", ++serial_));
        claim.set_id(open->id());
        if (!client_->Call(actor, *client_->tasks, &v1::TaskService::Stub::ClaimTask, claim).ok()) {
          break;
        }
        ++done["claim"];
      }
      v1::DecideTaskRequest decide;
      decide.set_task_id(open->id());
      decide.set_comment("driven");
      const int pick = static_cast<int>(random_() % 7);
      const char* kind = "approve";
      switch (pick) {
        case 0: decide.set_action(v1::RETURN); kind = "return"; break;
        case 1: decide.set_action(v1::REJECT); kind = "reject"; break;
        case 2: decide.set_action(v1::CC); decide.add_users(anyone()); kind = "cc"; break;
        case 3: decide.set_action(v1::DELEGATE); decide.add_users(anyone()); kind = "delegate"; break;
        case 4: decide.set_action(v1::TRANSFER); decide.add_users(anyone()); kind = "transfer"; break;
        default: decide.set_action(v1::APPROVE); break;
      }
      if (pick == 1) {
        auto published = store_->GetDefinition(state->definition_key(),
                                               state->definition_version());
        if (published.ok() && !published->definition().reject_reasons().empty()) {
          decide.set_reason_code(published->definition().reject_reasons(0).code());
        }
      }
      auto decided = client_->Decide(actor, decide, absl::StrCat("drive-", ++serial_));
      if (!decided.ok() && pick != 5 && pick != 6) {
        // Not allowed at this step: approve instead, so the instance moves.
        decide.clear_users();
        decide.clear_reason_code();
        decide.set_action(v1::APPROVE);
        decided = client_->Decide(actor, decide, absl::StrCat("drive-", ++serial_));
        kind = "approve";
      }
      if (decided.ok()) ++done[kind];
    }
  }
  return done;
}

std::set<std::string> NoLeakTest::Readers(const std::string& instance) {
  const auto snapshot = Directory();
  const workflow::Directory& directory = *snapshot;
  auto state = store_->GetInstance(instance);
  EXPECT_OK(state);
  auto published = store_->GetDefinition(state->definition_key(), state->definition_version());
  EXPECT_OK(published);
  const v1::WorkflowDefinition& definition = published->definition();
  std::set<std::string> named;
  std::vector<v1::CandidateGroup> groups;
  auto events = store_->ListEvents(instance);
  EXPECT_OK(events);
  for (const auto& event : *events) {
    if (event.has_instance_started()) {
      const auto& started = event.instance_started();
      named.insert(started.applicant());
      for (const auto& field : definition.form().fields()) {
        if (field.name() == definition.subject().field() && field.type() == v1::USER) {
          named.insert(started.form().fields().at(field.name()).string_value());
        }
      }
      const auto chain = directory.ManagerChain(started.applicant());
      for (size_t i = 0; i < chain.size() && i < definition.visibility().managers_above(); ++i) {
        named.insert(chain[i]);
      }
    }
    const v1::Task* task = event.has_task_created()     ? &event.task_created().task()
                           : event.has_task_updated()   ? &event.task_updated().task()
                           : event.has_task_completed() ? &event.task_completed().task()
                                                        : nullptr;
    if (task != nullptr) {
      named.insert(task->assignee());
      named.insert(task->delegated_from());
      if (task->has_candidate_group()) groups.push_back(task->candidate_group());
    }
    for (const auto& user : event.cc_sent().users()) named.insert(user);
    for (const auto& user : event.task_escalated().users()) named.insert(user);
  }
  std::set<std::string> readers;
  for (const auto& user : directory.organisation().users()) {
    if (user.disabled()) continue;
    const std::string& id = user.id();
    bool reads = named.count(id) > 0 || directory.HoldsRole(id, "auditor") ||
                 directory.HoldsRoleFor(id, "process-admin", definition.key()) ||
                 (!definition.policies().admin_role().empty() &&
                  directory.HoldsRole(id, definition.policies().admin_role()));
    for (const auto& group : groups) reads = reads || directory.InGroup(id, group);
    for (const auto& viewer : definition.visibility().viewers()) {
      v1::CandidateGroup group;
      group.set_role(viewer.role());
      group.set_department(viewer.department());
      reads = reads || (viewer.department().empty() ? directory.HoldsRole(id, viewer.role())
                                                    : directory.InGroup(id, group));
    }
    if (reads) readers.insert(id);
  }
  return readers;
}

std::set<std::string> NoLeakTest::ListedInstances(const std::string& user) {
  std::set<std::string> listed;
  v1::ListInstancesRequest request;
  request.set_page_size(200);
  do {
    auto page = client_->Call(user, *client_->instances,
                              &v1::InstanceService::Stub::ListInstances, request);
    EXPECT_OK(page);
    if (!page.ok()) break;
    for (const auto& view : page->instances()) listed.insert(view.id());
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  return listed;
}

std::set<std::string> NoLeakTest::InstancesOfListedTasks(const std::string& user) {
  std::set<std::string> listed;
  for (v1::TaskStatus status : {v1::PENDING, v1::WAITING, v1::DONE, v1::TASK_CANCELLED}) {
    v1::ListTasksRequest request;
    request.set_status(status);
    request.set_page_size(500);
    do {
      auto page = client_->Call(user, *client_->tasks, &v1::TaskService::Stub::ListTasks,
                                request);
      EXPECT_OK(page);
      if (!page.ok()) break;
      for (const auto& task : page->tasks()) listed.insert(task.instance_id());
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
  }
  return listed;
}

TEST_F(NoLeakTest, EveryUserReachesExactlyTheInstancesTheRulesGive) {
  app::BulkLoadOptions load;
  load.instances = 520;
  load.definition_keys = {"dealer-application", "dealer-claim", "partner-termination",
                          "probation-review"};
  load.threads = 2;
  ASSERT_OK(app::BulkLoad(*app_, load));

  std::vector<std::string> instances;
  storage::InstanceFilter all;
  do {
    auto page = store_->ListInstances(all);
    ASSERT_OK(page);
    for (const auto& state : page->items) instances.push_back(state.id());
    all.page_token = page->next_page_token;
  } while (!all.page_token.empty());
  ASSERT_GE(instances.size(), 500u);
  const std::map<std::string, int> done = Drive(instances);
  for (const char* kind : {"approve", "return", "reject", "cc", "delegate", "transfer", "claim",
                           "withdraw"}) {
    EXPECT_GT(done.count(kind) ? done.at(kind) : 0, 5) << kind;
  }
  for (const auto& [kind, count] : done) std::printf("driven: %d %s\n", count, kind.c_str());

  // Who reads what, by the rules; and the instances with tasks.
  std::map<std::string, std::set<std::string>> readable;  // user -> instances
  std::set<std::string> with_tasks;
  for (const auto& id : instances) {
    for (const auto& reader : Readers(id)) readable[reader].insert(id);
    auto state = store_->GetInstance(id);
    if (state.ok() && state->tasks_size() > 0) with_tasks.insert(id);
  }

  const std::vector<std::string> users = EnabledUsers();
  ASSERT_GE(users.size(), 200u);
  size_t users_reading_few = 0;
  size_t users_reading_many = 0;
  for (const auto& user : users) {
    const std::set<std::string>& expected = readable[user];
    (expected.size() * 10 < instances.size() ? users_reading_few : users_reading_many)++;
    EXPECT_EQ(ListedInstances(user), expected) << "ListInstances for " << user;
    std::set<std::string> expected_with_tasks;
    for (const auto& id : expected) {
      if (with_tasks.count(id)) expected_with_tasks.insert(id);
    }
    EXPECT_EQ(InstancesOfListedTasks(user), expected_with_tasks) << "ListTasks for " << user;
    auto inbox = client_->Inbox(user);
    ASSERT_OK(inbox);
    for (const auto& task : *inbox) {
      EXPECT_TRUE(expected.count(task.instance_id())) << user << " inbox " << task.id();
    }
    // Every get on every instance, through the application's services.
    const app::Caller caller{user};
    for (const auto& id : instances) {
      const bool reads = expected.count(id) > 0;
      v1::GetInstanceRequest get;
      get.set_id(id);
      auto got = app_->instances().GetInstance(caller, get);
      ASSERT_EQ(got.ok(), reads) << user << " GetInstance " << id << ": " << got.status();
      if (!reads) ASSERT_TRUE(absl::IsNotFound(got.status())) << got.status();
      v1::GetHistoryRequest history;
      history.set_instance_id(id);
      ASSERT_EQ(app_->instances().GetHistory(caller, history).ok(), reads)
          << user << " GetHistory " << id;
      if (with_tasks.count(id)) {
        v1::GetTaskRequest task;
        auto state = store_->GetInstance(id);
        task.set_id(state->tasks(0).id());
        ASSERT_EQ(app_->tasks().GetTask(caller, task).ok(), reads) << user << " GetTask " << id;
      }
    }
  }
  // The property means something only if most people read a few cases
  // and some (auditors, process admins, viewers) read many.
  EXPECT_GT(users_reading_few, 200u);
  EXPECT_GT(users_reading_many, 5u);
  std::printf("no-leak: %zu users x %zu instances; %zu users read under a tenth, %zu more\n",
              users.size(), instances.size(), users_reading_few, users_reading_many);
}

}  // namespace
}  // namespace signoff::testing
