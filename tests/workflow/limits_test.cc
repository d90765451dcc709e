#include "workflow/limits.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "signoff/v1/service.pb.h"
#include "status_matchers.h"
#include "workflow/errors.h"

namespace signoff::testing {
namespace {

namespace v1 = ::signoff::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const auto& violation : workflow::ViolationsOf(status)) fields.push_back(violation.field);
  return fields;
}

TEST(RequestInputTest, IdsAreBoundedAtTheirExactLimit) {
  v1::GetInstanceRequest request;
  request.set_id(std::string(workflow::kMaxIdBytes, 'i'));
  EXPECT_OK(workflow::CheckRequestInput(request));
  request.set_id(std::string(workflow::kMaxIdBytes + 1, 'i'));
  absl::Status status = workflow::CheckRequestInput(request);
  EXPECT_CODE(status, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(status), ElementsAre("id"));
  EXPECT_LT(status.message().size(), 200u);
}

TEST(RequestInputTest, CommentsAndListsAreBoundedAtTheirExactLimit) {
  v1::DecideTaskRequest request;
  request.set_task_id("i1-t1");
  request.set_comment(std::string(workflow::kMaxTextBytes, 'c'));
  for (int i = 0; i < workflow::kMaxListItems; ++i) request.add_users("someone");
  EXPECT_OK(workflow::CheckRequestInput(request));

  request.set_comment(std::string(workflow::kMaxTextBytes + 1, 'c'));
  request.add_users("one-too-many");
  absl::Status status = workflow::CheckRequestInput(request);
  EXPECT_CODE(status, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(status), ElementsAre("comment", "users"));
}

TEST(RequestInputTest, ShortTextAndEachListItemAreBounded) {
  v1::DecideTaskRequest request;
  request.set_reason_code(std::string(workflow::kMaxShortTextBytes, 'r'));
  request.add_users(std::string(workflow::kMaxShortTextBytes, 'u'));
  EXPECT_OK(workflow::CheckRequestInput(request));
  request.set_reason_code(std::string(workflow::kMaxShortTextBytes + 1, 'r'));
  request.add_users(std::string(workflow::kMaxShortTextBytes + 1, 'u'));
  EXPECT_THAT(Fields(workflow::CheckRequestInput(request)),
              ElementsAre("reason_code", "users[1]"));
}

TEST(RequestInputTest, FormsAreBoundedWhole) {
  v1::StartInstanceRequest request;
  request.set_definition_key("leave");
  auto& fields = *request.mutable_form()->mutable_fields();
  fields["note"].set_string_value(std::string(workflow::kMaxStructBytes, 'x'));
  absl::Status status = workflow::CheckRequestInput(request);
  EXPECT_CODE(status, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(status), ElementsAre("form"));
  fields["note"].set_string_value(std::string(workflow::kMaxStructBytes - 100, 'x'));
  EXPECT_OK(workflow::CheckRequestInput(request));
}

TEST(RequestInputTest, DirectoryChangesMayCarryMoreItems) {
  v1::UpsertUsersRequest request;
  for (int i = 0; i < workflow::kMaxDirectoryItems; ++i) request.add_users()->set_id("u");
  EXPECT_OK(workflow::CheckRequestInput(request));
  request.add_users()->set_id("u");
  EXPECT_THAT(Fields(workflow::CheckRequestInput(request)), ElementsAre("users"));
}

TEST(RequestInputTest, AnOversizedDefinitionIsResourceExhausted) {
  v1::PublishDefinitionRequest request;
  request.mutable_source()->set_yaml(std::string(workflow::kMaxDefinitionBytes, '#'));
  EXPECT_OK(workflow::CheckRequestInput(request));
  request.mutable_source()->set_yaml(std::string(workflow::kMaxDefinitionBytes + 1, '#'));
  EXPECT_CODE(workflow::CheckRequestInput(request), absl::StatusCode::kResourceExhausted);
}

TEST(RequestInputTest, UnknownEnumNumbersAreNamed) {
  v1::DecideTaskRequest request;
  request.set_action(static_cast<v1::Action>(97));
  absl::Status status = workflow::CheckRequestInput(request);
  EXPECT_CODE(status, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(status), ElementsAre("action"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("97 is not a known signoff.v1.Action"));

  v1::ListTasksRequest list;
  list.set_status(static_cast<v1::TaskStatus>(-3));
  EXPECT_THAT(Fields(workflow::CheckRequestInput(list)), ElementsAre("status"));
  list.set_status(v1::PENDING);
  EXPECT_OK(workflow::CheckRequestInput(list));
}

TEST(ShortForMessageTest, KeepsShortTextAndCutsLongTextToAPrefix) {
  EXPECT_EQ(workflow::ShortForMessage("i0001"), "i0001");
  EXPECT_EQ(workflow::ShortForMessage("a\nb"), "a\\nb");
  const std::string long_text(1 << 20, 'x');
  const std::string shown = workflow::ShortForMessage(long_text);
  EXPECT_LT(shown.size(), 100u);
  EXPECT_THAT(shown, HasSubstr("(1048576 bytes)"));
  // A cut never splits a UTF-8 character.
  std::string chinese;
  for (int i = 0; i < 40; ++i) chinese += "审";
  EXPECT_THAT(workflow::ShortForMessage(chinese), HasSubstr("审审... (120 bytes)"));
}

}  // namespace
}  // namespace signoff::testing
