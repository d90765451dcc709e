// NotificationsOf: who is told what, decided from events alone.

#include <gtest/gtest.h>

#include "test_organisation.h"
#include "workflow/notifications.h"
#include "workflow/yaml_mapping.h"

namespace signoff::workflow {
namespace {

class NotificationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto organisation = ParseOrganisationYaml(testing::kTestOrganisation);
    ASSERT_TRUE(organisation.ok()) << organisation.status();
    directory_ = std::make_unique<Directory>(*organisation);
    state_.set_id("i1");
    state_.set_definition_key("leave");
    state_.set_applicant("ann");
  }

  v1::Event TaskEvent(const std::string& actor, const std::string& reason,
                      const std::string& assignee, const std::string& delegated_from = "") {
    v1::Event event;
    event.set_actor(actor);
    event.set_reason(reason);
    v1::Task* task = event.mutable_task_updated()->mutable_task();
    task->set_id("t1");
    task->set_status(v1::PENDING);
    task->set_assignee(assignee);
    task->set_delegated_from(delegated_from);
    return event;
  }

  std::vector<std::pair<std::string, v1::NotificationKind>> Told(
      const std::vector<v1::Event>& events) {
    std::vector<std::pair<std::string, v1::NotificationKind>> told;
    for (const auto& pending : NotificationsOf(events, state_, *directory_)) {
      EXPECT_EQ(pending.notification.instance_id(), "i1");
      EXPECT_EQ(pending.notification.definition_key(), "leave");
      told.emplace_back(pending.notification.recipient(), pending.notification.kind());
    }
    return told;
  }

  std::unique_ptr<Directory> directory_;
  v1::InstanceState state_;
};

TEST_F(NotificationsTest, ADelegationBySomeoneElseTellsTheDelegateAndTheDelegator) {
  using Told = std::vector<std::pair<std::string, v1::NotificationKind>>;
  EXPECT_EQ(this->Told({TaskEvent("ceo", "delegated", "bo", "mia")}),
            (Told{{"bo", v1::TASK_ASSIGNED}, {"mia", v1::TASK_DELEGATED}}));
  // The delegator's own delegation tells only the delegate.
  EXPECT_EQ(this->Told({TaskEvent("mia", "delegated", "bo", "mia")}),
            (Told{{"bo", v1::TASK_ASSIGNED}}));
}

TEST_F(NotificationsTest, DisabledUsersServiceAccountsAndTheActorAreNotTold) {
  using Told = std::vector<std::pair<std::string, v1::NotificationKind>>;
  EXPECT_EQ(this->Told({TaskEvent("mia", "transferred", "gone")}), Told{});
  EXPECT_EQ(this->Told({TaskEvent("mia", "transferred", "svc")}), Told{});
  EXPECT_EQ(this->Told({TaskEvent("bo", "transferred", "bo")}), Told{});
  EXPECT_EQ(this->Told({TaskEvent("mia", "transferred", "bo")}), (Told{{"bo", v1::TASK_ASSIGNED}}));
  // Claims and deadline moves tell nobody.
  EXPECT_EQ(this->Told({TaskEvent("bo", "claimed", "bo")}), Told{});
  EXPECT_EQ(this->Told({TaskEvent("system", "deadline changed", "bo")}), Told{});
}

TEST_F(NotificationsTest, EscalationsReturnsAndOutcomesTellTheirPeople) {
  using Told = std::vector<std::pair<std::string, v1::NotificationKind>>;
  v1::Event escalated;
  escalated.set_actor("system");
  escalated.mutable_task_escalated()->add_users("sam");
  escalated.mutable_task_escalated()->mutable_group()->set_role("hrbp");
  escalated.mutable_task_escalated()->mutable_group()->set_department("hr");
  v1::Event returned;
  returned.set_actor("mia");
  returned.mutable_instance_returned()->set_from_step("manager");
  v1::Event returned_to_step = returned;
  returned_to_step.mutable_instance_returned()->set_to_step("manager");
  v1::Event finished;
  finished.set_actor("system");
  finished.mutable_instance_finished()->set_status(v1::REJECTED);
  EXPECT_EQ(this->Told({escalated, returned, returned_to_step, finished}),
            (Told{{"sam", v1::TASK_ESCALATED},
                  {"hal", v1::TASK_ESCALATED},
                  {"hue", v1::TASK_ESCALATED},
                  {"ann", v1::INSTANCE_OUTCOME},
                  {"ann", v1::INSTANCE_OUTCOME}}));
  const auto made = NotificationsOf({finished}, state_, *directory_);
  ASSERT_EQ(made.size(), 1u);
  EXPECT_EQ(made[0].notification.detail(), "REJECTED");
  EXPECT_EQ(made[0].event_index, 0);
}

}  // namespace
}  // namespace signoff::workflow
