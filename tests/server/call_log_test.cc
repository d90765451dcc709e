// signoffd's log line per call: who, what, and the request_id, instance,
// task and trace it concerns, on every transport.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "server/rpc_dispatcher.h"
#include "server_fixture.h"

namespace signoff::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

class CallLogTest : public ServerTest {
 protected:
  void ConfigureServer(server::ServerOptions& options) override { options.log_calls = true; }

  // The log line of the one call whose method ends with `method`.
  static std::string LineOf(const std::string& log, const std::string& method) {
    for (absl::string_view line : absl::StrSplit(log, '\n')) {
      if (absl::StrContains(line, absl::StrCat("/", method, "\""))) return std::string(line);
    }
    return "";
  }
};

TEST_F(CallLogTest, LinesNameTheRequestInstanceTaskAndTrace) {
  ::testing::internal::CaptureStderr();
  v1::StartInstanceRequest start;
  start.set_request_id("log-start-1");
  start.set_definition_key("leave");
  (*start.mutable_form()->mutable_fields())["employee"].set_string_value("ann");
  (*start.mutable_form()->mutable_fields())["days"].set_number_value(2);
  grpc::ClientContext context;
  context.AddMetadata("x-signoff-user", "ann");
  context.AddMetadata("traceparent", kTraceparent);
  v1::InstanceResponse started;
  ASSERT_TRUE(client_->instances->StartInstance(&context, start, &started).ok());
  const std::string task_id = PendingTaskOf(started.instance(), "mia");
  ASSERT_FALSE(task_id.empty());
  v1::DecideTaskRequest decide;
  decide.set_request_id("log-decide-1");
  decide.set_task_id(task_id);
  decide.set_action(v1::APPROVE);
  ASSERT_OK(client_->Call("mia", *client_->tasks, &v1::TaskService::Stub::DecideTask, decide));
  v1::GetInstanceRequest get;
  get.set_id("no-such-instance");
  EXPECT_FALSE(
      client_->Call("ann", *client_->instances, &v1::InstanceService::Stub::GetInstance, get)
          .ok());
  const std::string log = ::testing::internal::GetCapturedStderr();

  const std::string start_line = LineOf(log, "StartInstance");
  EXPECT_THAT(start_line, HasSubstr(R"("request_id":"log-start-1")"));
  EXPECT_THAT(start_line, HasSubstr(absl::StrCat(R"("instance":")", started.instance().id())));
  EXPECT_THAT(start_line, HasSubstr(R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736")"));
  EXPECT_THAT(start_line, HasSubstr(R"("protocol":"grpc")"));

  const std::string decide_line = LineOf(log, "DecideTask");
  EXPECT_THAT(decide_line, HasSubstr(R"("request_id":"log-decide-1")"));
  EXPECT_THAT(decide_line, HasSubstr(absl::StrCat(R"("task":")", task_id)));
  EXPECT_THAT(decide_line, HasSubstr(absl::StrCat(R"("instance":")", started.instance().id())));
  EXPECT_THAT(decide_line, Not(HasSubstr("trace_id")));

  // A failed read still names what it asked for.
  const std::string get_line = LineOf(log, "GetInstance");
  EXPECT_THAT(get_line, HasSubstr(R"("instance":"no-such-instance")"));
  EXPECT_THAT(get_line, HasSubstr(R"("code":"NOT_FOUND")"));
}

TEST(TraceIdTest, OnlyAWellFormedTraceparentGivesItsTraceId) {
  EXPECT_EQ(server::TraceIdOf(kTraceparent), "4bf92f3577b34da6a3ce929d0e0e4736");
  // Later versions may add fields after the four.
  EXPECT_EQ(server::TraceIdOf("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(server::TraceIdOf(""), "");
  EXPECT_EQ(server::TraceIdOf("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(server::TraceIdOf("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(server::TraceIdOf("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(server::TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"), "");
  // One hex digit short, and one too many.
  EXPECT_EQ(server::TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(server::TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e47360-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(server::TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(server::TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"), "");
  EXPECT_EQ(server::TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"), "");
}

}  // namespace
}  // namespace signoff::testing
