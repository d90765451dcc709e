// What signoffd does with input it should not accept: bytes that do not
// parse, values over their bounds, unknown enum numbers, and request_ids
// reused across callers. Each is refused with a clear code, and nothing
// already stored changes.

#include <grpcpp/generic/generic_stub.h>

#include <future>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "server_fixture.h"
#include "status_matchers.h"
#include "workflow/limits.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class InputTest : public ServerTest {
 protected:
  // Sends `bytes` as the request of `method`, as a client with a broken
  // encoder would.
  grpc::Status RawCall(const std::string& method, const std::string& bytes,
                       const std::string& user = "ann") {
    grpc::GenericStub stub(server_->InProcessChannel());
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    context.AddMetadata("x-signoff-user", user);
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                   [&](grpc::Status status) { done.set_value(status); });
    return done.get_future().get();
  }

  // One started leave request, and what the store holds of it.
  void StartOne() {
    auto started = client_->Start("ann", "leave", "{employee: ann, days: 2}", "input-start");
    ASSERT_OK(started);
    view_ = *started;
  }

  void ExpectUnchanged() {
    ASSERT_OK_AND_ASSIGN(auto now, client_->Get("ann", view_.id()));
    EXPECT_EQ(now.version(), view_.version());
    ASSERT_OK_AND_ASSIGN(auto history, client_->History("ann", view_.id()));
    EXPECT_TRUE(history.chain_verified());
    ExpectReplayMatchesStore(view_.id());
  }

  v1::InstanceView view_;
};

// A Struct nested `depth` levels deep: {"a": {"a": ... "x" ...}}.
google::protobuf::Value Nested(int depth) {
  google::protobuf::Value value;
  value.set_string_value("x");
  for (int i = 0; i < depth; ++i) {
    google::protobuf::Value outer;
    (*outer.mutable_struct_value()->mutable_fields())["a"] = value;
    value = outer;
  }
  return value;
}

TEST_F(InputTest, BytesThatDoNotParseAreInvalidArgumentAndChangeNothing) {
  StartOne();
  const std::string decide = "/signoff.v1.TaskService/DecideTask";
  grpc::Status garbage = RawCall(decide, std::string("\xff\xff\xff\xff\x0f", 5));
  EXPECT_EQ(garbage.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(garbage.error_message(), HasSubstr("could not be parsed"));
  EXPECT_THAT(garbage.error_message(), HasSubstr("signoff.v1.DecideTaskRequest"));

  // DecideTaskRequest.comment (field 4) holding bytes that are not UTF-8.
  v1::DecideTaskRequest valid;
  valid.set_request_id("input-utf8");
  valid.set_task_id(PendingTaskOf(view_, "mia"));
  valid.set_action(v1::APPROVE);
  std::string bytes = valid.SerializeAsString() + std::string("\x22\x02\xc3\x28", 4);
  grpc::Status not_utf8 = RawCall(decide, bytes, "mia");
  EXPECT_EQ(not_utf8.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << not_utf8.error_message();
  EXPECT_THAT(not_utf8.error_message(), HasSubstr("could not be parsed"));

  v1::StartInstanceRequest deep;
  deep.set_request_id("input-deep");
  deep.set_definition_key("leave");
  (*deep.mutable_form()->mutable_fields())["employee"] = Nested(150);
  grpc::Status too_deep =
      RawCall("/signoff.v1.InstanceService/StartInstance", deep.SerializeAsString());
  EXPECT_EQ(too_deep.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << too_deep.error_message();

  ExpectUnchanged();
  // The same decision, well formed, still goes through.
  EXPECT_OK(client_->Decide("mia", valid, "input-utf8"));
}

TEST_F(InputTest, AHugeIdIsRefusedWithoutBeingEchoed) {
  StartOne();
  const std::string huge(200 * 1024, 'z');
  EXPECT_CODE(client_->Get("ann", huge), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("id"));
  v1::DecideTaskRequest decide;
  decide.set_task_id(huge);
  decide.set_action(v1::APPROVE);
  absl::Status refused = client_->Decide("mia", decide, "input-huge").status();
  EXPECT_CODE(refused, absl::StatusCode::kInvalidArgument);
  EXPECT_LT(refused.message().size(), 300u);
  EXPECT_THAT(std::string(refused.message()), Not(HasSubstr(std::string(200, 'z'))));
  ExpectUnchanged();
}

TEST_F(InputTest, OversizedCommentsAndCcListsAreRefusedAndNothingIsKept) {
  StartOne();
  const std::string task = PendingTaskOf(view_, "mia");
  EXPECT_CODE(client_->Decide("mia", task, v1::COMMENT, "input-long-comment",
                              std::string(workflow::kMaxTextBytes + 1, 'c')),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("comment"));

  v1::DecideTaskRequest cc;
  cc.set_task_id(task);
  cc.set_action(v1::CC);
  for (int i = 0; i <= workflow::kMaxListItems; ++i) cc.add_users(absl::StrCat("u", i));
  EXPECT_CODE(client_->Decide("mia", cc, "input-cc"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("users"));
  ExpectUnchanged();

  // At the limit, the comment is kept.
  EXPECT_OK(client_->Decide("mia", task, v1::COMMENT, "input-max-comment",
                            std::string(workflow::kMaxTextBytes, 'c')));
}

TEST_F(InputTest, UnknownActionAndStatusNumbersAreNamed) {
  StartOne();
  v1::DecideTaskRequest decide;
  decide.set_task_id(PendingTaskOf(view_, "mia"));
  decide.set_action(static_cast<v1::Action>(42));
  absl::Status status = client_->Decide("mia", decide, "input-enum").status();
  EXPECT_CODE(status, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("42 is not a known signoff.v1.Action"));
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("action"));

  v1::ListTasksRequest list;
  list.set_status(static_cast<v1::TaskStatus>(9));
  EXPECT_CODE(client_->Call("mia", *client_->tasks, &v1::TaskService::Stub::ListTasks, list),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("status"));
  ExpectUnchanged();
}

TEST_F(InputTest, NegativeDefinitionVersionsAreRefusedEverywhere) {
  v1::StartInstanceRequest start;
  start.set_request_id("input-negative");
  start.set_definition_key("leave");
  start.set_definition_version(-1);
  EXPECT_CODE(client_->Call("ann", *client_->instances, &v1::InstanceService::Stub::StartInstance,
                            start),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("definition_version"));
  v1::PreviewRouteRequest preview;
  preview.set_definition_key("leave");
  preview.set_definition_version(-1);
  EXPECT_CODE(client_->Call("ann", *client_->instances, &v1::InstanceService::Stub::PreviewRoute,
                            preview),
              absl::StatusCode::kInvalidArgument);
  v1::GetDefinitionRequest get;
  get.set_key("leave");
  get.set_version(-1);
  EXPECT_CODE(client_->Call("ann", *client_->definitions,
                            &v1::DefinitionService::Stub::GetDefinition, get),
              absl::StatusCode::kInvalidArgument);
}

TEST_F(InputTest, ARequestIdIsOnlyItsOwnCallersToReplay) {
  auto mine = client_->Start("ann", "leave", "{employee: ann, days: 2, reason: private}",
                             "shared-id");
  ASSERT_OK(mine);
  // bo sends the very same request under the same id: he gets his own
  // instance, not ann's reply.
  auto theirs = client_->Start("bo", "leave", "{employee: ann, days: 2, reason: private}",
                               "shared-id");
  // The subject (ann) is already held, so bo's start is refused; what
  // matters is that he never sees ann's instance.
  EXPECT_CODE(theirs, absl::StatusCode::kAlreadyExists);
  auto bo_own = client_->Start("bo", "leave", "{employee: bo, days: 1}", "shared-id-2");
  ASSERT_OK(bo_own);
  auto ann_same_id = client_->Start("ann", "leave", "{employee: bo, days: 1}", "shared-id-2");
  // ann's use of the id is separate from bo's: bo holds the subject now.
  EXPECT_CODE(ann_same_id, absl::StatusCode::kAlreadyExists);
  // And ann's own repeat still replays her first reply.
  auto again = client_->Start("ann", "leave", "{employee: ann, days: 2, reason: private}",
                              "shared-id");
  ASSERT_OK(again);
  EXPECT_EQ(again->id(), mine->id());
}

}  // namespace
}  // namespace signoff::testing
