// Named business outcomes through the server: on the instance, as a
// ListInstances filter; and a TASK step's declared result on DecideTask.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server_fixture.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr char kWarningDefinition[] = R"(
key: warning
outcomes: [{code: KEPT}, {code: TERMINATED}]
form:
  fields:
    - {name: partner, type: STRING, required: true}
subject: {field: partner, type: partner}
steps:
  - id: check
    task:
      assignees: [{user: hal}]
      result_fields:
        - {name: verdict, type: ENUM, required: true, values: [keep, terminate]}
        - {name: score, type: NUMBER, min: 0, max: 10}
    next:
      - {when: {field: verdict, op: EQ, value: terminate}, to: terminated}
      - {to: kept}
  - {id: kept, end: {outcome: KEPT}}
  - {id: terminated, end: {outcome: TERMINATED}}
)";

class OutcomeServerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_OK(Publish(kWarningDefinition, "publish-warning"));
  }

  absl::StatusOr<v1::DecideTaskResponse> CompleteCheck(const std::string& instance_id,
                                                        const std::string& result_yaml,
                                                        const std::string& request_id) {
    auto view = client_->Get("hal", instance_id);
    if (!view.ok()) return view.status();
    v1::DecideTaskRequest request;
    request.set_task_id(PendingTaskOf(*view, "hal"));
    request.set_action(v1::COMPLETE);
    *request.mutable_result() = *workflow::ParseFormYaml(result_yaml);
    return client_->Decide("hal", request, request_id);
  }

  std::vector<std::string> ListedWith(const std::string& outcome) {
    v1::ListInstancesRequest request;
    request.set_outcome(outcome);
    auto ids = client_->InstanceIds("ceo", request);
    EXPECT_OK(ids);
    return ids.ok() ? *ids : std::vector<std::string>();
  }
};

TEST_F(OutcomeServerTest, ListInstancesFiltersByTheNamedOutcome) {
  ASSERT_OK_AND_ASSIGN(auto kept, client_->Start("ann", "warning", "{partner: P-1}", "s1"));
  ASSERT_OK_AND_ASSIGN(auto gone, client_->Start("ann", "warning", "{partner: P-2}", "s2"));
  ASSERT_OK_AND_ASSIGN(auto open, client_->Start("ann", "warning", "{partner: P-3}", "s3"));
  ASSERT_OK_AND_ASSIGN(auto decided, CompleteCheck(kept.id(), "{verdict: keep}", "c1"));
  EXPECT_EQ(decided.instance().outcome(), "KEPT");
  ASSERT_OK(CompleteCheck(gone.id(), "{verdict: terminate, score: 2}", "c2"));

  EXPECT_THAT(ListedWith("KEPT"), ElementsAre(kept.id()));
  EXPECT_THAT(ListedWith("TERMINATED"), ElementsAre(gone.id()));
  EXPECT_THAT(ListedWith("DISMISSED"), ElementsAre());
  EXPECT_THAT(ListedWith(""), UnorderedElementsAre(kept.id(), gone.id(), open.id()));
  ASSERT_OK_AND_ASSIGN(auto fetched, client_->Get("ann", gone.id()));
  EXPECT_EQ(fetched.outcome(), "TERMINATED");
  EXPECT_EQ(fetched.form().fields().at("verdict").string_value(), "terminate");
  ASSERT_OK_AND_ASSIGN(auto running, client_->Get("ann", open.id()));
  EXPECT_EQ(running.outcome(), "");
  ExpectReplayMatchesStore(gone.id());
}

TEST_F(OutcomeServerTest, ABadResultIsInvalidArgumentAndStoresNothing) {
  ASSERT_OK_AND_ASSIGN(auto started, client_->Start("ann", "warning", "{partner: P-9}", "s9"));
  ASSERT_OK_AND_ASSIGN(auto before, client_->History("ceo", started.id()));
  EXPECT_CODE(CompleteCheck(started.id(), "{verdict: maybe, score: 11, colour: red}", "bad-1"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(),
              UnorderedElementsAre("result.verdict", "result.score", "result.colour"));
  EXPECT_CODE(CompleteCheck(started.id(), "{score: 5}", "bad-2"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("result.verdict"));
  ASSERT_OK_AND_ASSIGN(auto after, client_->History("ceo", started.id()));
  EXPECT_EQ(after.events_size(), before.events_size());
  ASSERT_OK_AND_ASSIGN(auto view, client_->Get("ann", started.id()));
  EXPECT_EQ(view.status(), v1::RUNNING);
  EXPECT_EQ(view.form().fields().count("verdict"), 0u);
  // The same task then completes with a good result.
  ASSERT_OK_AND_ASSIGN(auto done, CompleteCheck(started.id(), "{verdict: keep, score: 10}", "ok"));
  EXPECT_EQ(done.instance().outcome(), "KEPT");
}

}  // namespace
}  // namespace signoff::testing
