#pragma once

// Drives the pure engine in memory: applies commands, keeps the events as
// a store would, and checks that folding them rebuilds the state.

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "google/protobuf/util/message_differencer.h"
#include "status_matchers.h"
#include "test_organisation.h"
#include "workflow/engine.h"
#include "workflow/validation.h"
#include "workflow/yaml_mapping.h"

namespace signoff::testing {

namespace v1 = ::signoff::v1;


class Harness {
 public:
  explicit Harness(const std::string& definition_yaml,
                   const std::string& organisation_yaml = kTestOrganisation) {
    auto organisation = workflow::ParseOrganisationYaml(organisation_yaml);
    EXPECT_TRUE(organisation.ok()) << organisation.status();
    directory_ = std::make_unique<workflow::Directory>(*organisation);
    auto definition = workflow::ParseDefinitionYaml(definition_yaml);
    EXPECT_TRUE(definition.ok()) << definition.status();
    definition_ = *definition;
    auto problems = workflow::ValidateDefinition(definition_, directory_.get());
    for (const auto& problem : problems) {
      ADD_FAILURE() << problem.path() << ": " << problem.message();
    }
  }

  ~Harness() { ExpectReplayRebuildsState(); }

  absl::Status Run(const std::string& actor, const v1::Command& command) {
    workflow::Context context;
    context.now = now;
    context.actor = actor;
    context.directory = directory_.get();
    context.new_instance_id = "i1";
    auto transition = workflow::Apply(definition_, state_, command, context);
    if (!transition.ok()) return transition.status();
    for (auto& event : transition->events) {
      event.set_instance_seq(static_cast<int64_t>(events_.size()) + 1);
      events_.push_back(event);
    }
    state_ = std::move(transition->state);
    return absl::OkStatus();
  }

  absl::Status Start(const std::string& applicant, const std::string& form_yaml) {
    v1::Command command;
    auto form = workflow::ParseFormYaml(form_yaml);
    if (!form.ok()) return form.status();
    *command.mutable_start()->mutable_form() = *form;
    command.mutable_start()->set_definition_version(1);
    return Run(applicant, command);
  }

  absl::Status Decide(const std::string& actor, const std::string& task_id, v1::Action action,
                      const std::string& comment = "") {
    v1::DecideTaskRequest request;
    request.set_task_id(task_id);
    request.set_action(action);
    request.set_comment(comment);
    return Decide(actor, request);
  }

  absl::Status Decide(const std::string& actor, const v1::DecideTaskRequest& request) {
    v1::Command command;
    *command.mutable_decide() = request;
    return Run(actor, command);
  }

  // Approves (or completes) the pending task of `user`.
  absl::Status Approve(const std::string& user) {
    const v1::Task* task = PendingTaskOf(user);
    if (task == nullptr) return absl::NotFoundError("no pending task for " + user);
    return Decide(user, task->id(),
                  task->kind() == v1::STEP_APPROVAL ? v1::APPROVE : v1::COMPLETE);
  }

  const v1::Task* PendingTaskOf(const std::string& user) const {
    for (const auto& task : state_.tasks()) {
      if (task.status() == v1::PENDING && task.assignee() == user) return &task;
    }
    return nullptr;
  }

  std::vector<std::string> PendingAssignees() const {
    std::vector<std::string> users;
    for (const auto& task : state_.tasks()) {
      if (task.status() == v1::PENDING) users.push_back(task.assignee());
    }
    return users;
  }

  std::vector<std::string> ActiveSteps() const {
    std::vector<std::string> steps;
    for (const auto& step : state_.active_steps()) steps.push_back(step.step_id());
    return steps;
  }

  std::vector<const v1::Event*> EventsOfType(const std::string& type) const {
    std::vector<const v1::Event*> found;
    for (const auto& event : events_) {
      if (event.type() == type) found.push_back(&event);
    }
    return found;
  }

  void ExpectReplayRebuildsState() const {
    auto replayed = workflow::Replay(events_);
    ASSERT_TRUE(replayed.ok()) << replayed.status();
    std::string difference;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&difference);
    EXPECT_TRUE(differencer.Compare(*replayed, state_)) << difference;
  }

  const v1::InstanceState& state() const { return state_; }
  const std::vector<v1::Event>& events() const { return events_; }
  const v1::WorkflowDefinition& definition() const { return definition_; }
  const workflow::Directory& directory() const { return *directory_; }

  absl::Time now = absl::FromUnixSeconds(1767225600);  // 2026-01-01

 private:
  std::unique_ptr<workflow::Directory> directory_;
  v1::WorkflowDefinition definition_;
  v1::InstanceState state_;
  std::vector<v1::Event> events_;
};

}  // namespace signoff::testing
