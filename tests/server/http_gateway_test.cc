// signoffd's HTTP listener: gRPC-web and Connect framing, trailers, error
// mapping, GET for reads, CORS, limits, the event stream and the portal's
// files, against a real listener on loopback.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"
#include "http_client.h"
#include "server/web_protocols.h"
#include "server_fixture.h"
#include "signoff/v1/events.pb.h"
#include "signoff/v1/reports.pb.h"

namespace signoff::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kConnectJson[] = "application/json";
constexpr char kGrpcWeb[] = "application/grpc-web+proto";
constexpr char kGrpcWebText[] = "application/grpc-web-text";

std::string Path(const std::string& service, const std::string& method) {
  return absl::StrCat("/signoff.v1.", service, "/", method);
}

// A gRPC-web answer taken apart: its messages and its trailers.
struct GrpcWebReply {
  std::vector<std::string> messages;
  std::map<std::string, std::string> trailers;
  int code() const {
    auto it = trailers.find("grpc-status");
    return it == trailers.end() ? -1 : std::stoi(it->second);
  }
};

GrpcWebReply ParseGrpcWeb(const std::string& body) {
  GrpcWebReply reply;
  auto envelopes = server::DecodeEnvelopes(body, 64 << 20);
  EXPECT_TRUE(envelopes.ok()) << envelopes.status();
  if (!envelopes.ok()) return reply;
  for (const auto& envelope : *envelopes) {
    if (envelope.flags & server::kTrailersFlag) {
      for (absl::string_view line : absl::StrSplit(envelope.payload, "\r\n", absl::SkipEmpty())) {
        const size_t colon = line.find(':');
        reply.trailers[std::string(line.substr(0, colon))] = std::string(line.substr(colon + 1));
      }
    } else {
      reply.messages.push_back(envelope.payload);
    }
  }
  return reply;
}

class HttpGatewayTest : public ServerTest {
 protected:
  void ConfigureServer(server::ServerOptions& options) override {
    options.http.listen = "127.0.0.1:0";
    options.http.threads = 2;
    options.http.web_root = WebRoot();
    options.http.cors_origins = {"https://portal.example"};
    ConfigureHttp(options.http);
  }
  virtual void ConfigureHttp(server::HttpOptions&) {}

  std::string WebRoot() {
    const auto root = dir_ / "web";
    std::filesystem::create_directories(root);
    std::ofstream(root / "index.html") << "<!doctype html><title>signoff</title>";
    std::ofstream(root / "app.js") << "console.log('signoff');";
    return root.string();
  }

  int port() const { return server_->http_port(); }

  HttpAnswer PostJson(const std::string& path, const std::string& json,
                      const std::string& user = "ann") {
    HttpClient client(port());
    return client.Post(path, kConnectJson, json, {{"x-signoff-user", user}});
  }

  HttpAnswer PostGrpcWeb(const std::string& path, const std::string& message,
                         const std::string& user = "ann") {
    HttpClient client(port());
    return client.Post(path, kGrpcWeb, server::EncodeEnvelope(0, message),
                       {{"x-signoff-user", user}, {"x-grpc-web", "1"}});
  }

  std::string StartLeaveRequestJson(const std::string& request_id, int days = 2) {
    return absl::StrCat(R"({"requestId":")", request_id,
                        R"(","definitionKey":"leave","form":{"employee":"ann","days":)", days,
                        "}}");
  }

  int64_t StoredInstances() {
    auto page = store_->ListEventsSince(0, 100000);
    EXPECT_OK(page);
    std::set<std::string> ids;
    for (const auto& event : *page) ids.insert(event.instance_id());
    return static_cast<int64_t>(ids.size());
  }
};

TEST_F(HttpGatewayTest, ConnectJsonStartsAnInstanceTheGrpcApiThenSees) {
  HttpAnswer answer = PostJson(Path("InstanceService", "StartInstance"),
                               StartLeaveRequestJson("http-start-1"));
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.Header("content-type"), "application/json");
  v1::InstanceResponse started;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(answer.body, &started).ok())
      << answer.body;
  ASSERT_FALSE(started.instance().id().empty());
  EXPECT_EQ(started.instance().definition_key(), "leave");

  v1::GetInstanceRequest get;
  get.set_id(started.instance().id());
  auto seen = client_->Call("mia", *client_->instances, &v1::InstanceService::Stub::GetInstance,
                            get);
  ASSERT_OK(seen);
  EXPECT_EQ(PendingTaskOf(seen->instance(), "mia").empty(), false);

  // The same request again is a replay: the same instance, nothing new.
  HttpAnswer again = PostJson(Path("InstanceService", "StartInstance"),
                              StartLeaveRequestJson("http-start-1"));
  ASSERT_EQ(again.status, 200) << again.body;
  v1::InstanceResponse replayed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(again.body, &replayed).ok());
  EXPECT_EQ(replayed.instance().id(), started.instance().id());
  EXPECT_EQ(StoredInstances(), 1);
}

TEST_F(HttpGatewayTest, ConnectBinaryAndGrpcWebCarryTheSameMessages) {
  v1::StartInstanceRequest start;
  start.set_request_id("http-proto-1");
  start.set_definition_key("leave");
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  R"({"employee":"ann","days":3})", start.mutable_form())
                  .ok());
  HttpClient client(port());
  HttpAnswer binary = client.Post(Path("InstanceService", "StartInstance"), "application/proto",
                                  start.SerializeAsString(), {{"x-signoff-user", "ann"}});
  ASSERT_EQ(binary.status, 200) << binary.body;
  EXPECT_EQ(binary.Header("content-type"), "application/proto");
  v1::InstanceResponse started;
  ASSERT_TRUE(started.ParseFromString(binary.body));

  v1::GetInstanceRequest get;
  get.set_id(started.instance().id());
  HttpAnswer web = PostGrpcWeb(Path("InstanceService", "GetInstance"), get.SerializeAsString());
  ASSERT_EQ(web.status, 200);
  EXPECT_EQ(web.Header("content-type"), "application/grpc-web+proto");
  GrpcWebReply reply = ParseGrpcWeb(web.body);
  EXPECT_EQ(reply.code(), 0);
  ASSERT_EQ(reply.messages.size(), 1u);
  v1::InstanceResponse fetched;
  ASSERT_TRUE(fetched.ParseFromString(reply.messages[0]));
  EXPECT_EQ(fetched.instance().id(), started.instance().id());
  EXPECT_EQ(fetched.instance().version(), started.instance().version());
}

TEST_F(HttpGatewayTest, GrpcWebTextIsBase64BothWays) {
  v1::ListDefinitionsRequest request;
  HttpClient client(port());
  HttpAnswer answer =
      client.Post(Path("DefinitionService", "ListDefinitions"), kGrpcWebText,
                  absl::Base64Escape(server::EncodeEnvelope(0, request.SerializeAsString())),
                  {{"x-signoff-user", "ann"}});
  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(answer.Header("content-type"), "application/grpc-web-text+proto");
  std::string bytes;
  ASSERT_TRUE(absl::Base64Unescape(answer.body, &bytes)) << answer.body;
  GrpcWebReply reply = ParseGrpcWeb(bytes);
  EXPECT_EQ(reply.code(), 0);
  ASSERT_EQ(reply.messages.size(), 1u);
  v1::ListDefinitionsResponse definitions;
  ASSERT_TRUE(definitions.ParseFromString(reply.messages[0]));
  ASSERT_EQ(definitions.definitions_size(), 1);
  EXPECT_EQ(definitions.definitions(0).key(), "leave");
}

TEST_F(HttpGatewayTest, ConnectErrorsCarryTheCodeHttpStatusAndFieldViolations) {
  HttpAnswer invalid = PostJson(Path("InstanceService", "StartInstance"),
                                R"({"requestId":"bad-1","definitionKey":"leave",
                                    "form":{"employee":"ann","days":61}})");
  EXPECT_EQ(invalid.status, 400);
  EXPECT_THAT(invalid.body, HasSubstr(R"("code":"invalid_argument")"));
  EXPECT_THAT(invalid.body, HasSubstr(R"("type":"google.rpc.BadRequest")"));
  // The detail's value is the BadRequest itself, base64 without padding.
  const size_t value_at = invalid.body.find(R"("value":")");
  ASSERT_NE(value_at, std::string::npos);
  const size_t value_end = invalid.body.find('"', value_at + 9);
  std::string bytes;
  ASSERT_TRUE(absl::Base64Unescape(invalid.body.substr(value_at + 9, value_end - value_at - 9),
                                   &bytes));
  google::rpc::BadRequest violations;
  ASSERT_TRUE(violations.ParseFromString(bytes));
  ASSERT_GE(violations.field_violations_size(), 1);
  EXPECT_EQ(violations.field_violations(0).field(), "form.days");

  HttpAnswer missing = PostJson(Path("InstanceService", "GetInstance"), R"({"id":"nope"})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.body, HasSubstr(R"("code":"not_found")"));

  HttpAnswer denied = PostJson(Path("DefinitionService", "PublishDefinition"),
                               R"({"requestId":"p1","source":{"yaml":"key: x"}})", "ann");
  EXPECT_EQ(denied.status, 403);
  EXPECT_THAT(denied.body, HasSubstr(R"("code":"permission_denied")"));

  HttpAnswer nobody = PostJson(Path("TaskService", "ListTasks"), "{}", "");
  EXPECT_EQ(nobody.status, 401);
  EXPECT_THAT(nobody.body, HasSubstr(R"("code":"unauthenticated")"));

  HttpAnswer unknown_user = PostJson(Path("TaskService", "ListTasks"), "{}", "stranger");
  EXPECT_EQ(unknown_user.status, 401);
}

TEST_F(HttpGatewayTest, GrpcWebErrorsRideInTrailersWithStatusDetails) {
  v1::StartInstanceRequest start;
  start.set_request_id("bad-web-1");
  start.set_definition_key("leave");
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(R"({"employee":"ann","days":0.1})",
                                                         start.mutable_form())
                  .ok());
  HttpAnswer answer = PostGrpcWeb(Path("InstanceService", "StartInstance"),
                                  start.SerializeAsString());
  // gRPC-web reports every outcome with HTTP 200 and a status trailer.
  ASSERT_EQ(answer.status, 200);
  GrpcWebReply reply = ParseGrpcWeb(answer.body);
  EXPECT_TRUE(reply.messages.empty());
  EXPECT_EQ(reply.code(), 3);
  EXPECT_FALSE(reply.trailers["grpc-message"].empty());
  std::string details_bytes;
  ASSERT_TRUE(absl::Base64Unescape(reply.trailers["grpc-status-details-bin"], &details_bytes));
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(details_bytes));
  EXPECT_EQ(details.code(), 3);
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::BadRequest violations;
  ASSERT_TRUE(violations.ParseFromString(details.details(0).value()));
  EXPECT_EQ(violations.field_violations(0).field(), "form.days");
}

TEST_F(HttpGatewayTest, GrpcMessageTrailerIsPercentEncoded) {
  const std::string message = "bad\r\ninjected: 1 — 100%";
  const std::string trailers = server::GrpcWebTrailers(absl::InvalidArgumentError(message));
  EXPECT_THAT(trailers, HasSubstr("grpc-message:bad%0D%0Ainjected: 1 %E2%80%94 100%25\r\n"));
  EXPECT_EQ(server::GrpcWebTrailers(absl::OkStatus()), "grpc-status:0\r\n");
}

TEST_F(HttpGatewayTest, ConnectGetServesReadsOnly) {
  ASSERT_OK(client_->Start("ann", "leave", "{employee: ann, days: 2}", "get-1"));
  HttpClient client(port());
  HttpAnswer json = client.Send(
      "GET",
      absl::StrCat(Path("TaskService", "ListTasks"), "?connect=v1&encoding=json&message=",
                   "%7B%7D"),
      {{"x-signoff-user", "mia"}}, "");
  ASSERT_EQ(json.status, 200) << json.body;
  v1::ListTasksResponse tasks;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.body, &tasks).ok());
  EXPECT_EQ(tasks.tasks_size(), 1);

  v1::ListTasksRequest request;
  std::string message;
  absl::WebSafeBase64Escape(request.SerializeAsString(), &message);
  HttpAnswer binary = client.Send(
      "GET",
      absl::StrCat(Path("TaskService", "ListTasks"),
                   "?connect=v1&encoding=proto&base64=1&message=", message),
      {{"x-signoff-user", "mia"}}, "");
  ASSERT_EQ(binary.status, 200);
  v1::ListTasksResponse binary_tasks;
  ASSERT_TRUE(binary_tasks.ParseFromString(binary.body));
  EXPECT_EQ(binary_tasks.tasks_size(), 1);

  HttpAnswer write = client.Send(
      "GET",
      absl::StrCat(Path("InstanceService", "StartInstance"),
                   "?connect=v1&encoding=json&message=%7B%7D"),
      {{"x-signoff-user", "ann"}}, "");
  EXPECT_EQ(write.status, 405);
  EXPECT_THAT(write.body, HasSubstr("POST"));

  HttpAnswer no_version = client.Send(
      "GET", absl::StrCat(Path("TaskService", "ListTasks"), "?encoding=json&message=%7B%7D"),
      {{"x-signoff-user", "mia"}}, "");
  EXPECT_EQ(no_version.status, 400);
  HttpAnswer bad_escape = client.Send(
      "GET",
      absl::StrCat(Path("TaskService", "ListTasks"), "?connect=v1&encoding=json&message=%7"),
      {{"x-signoff-user", "mia"}}, "");
  EXPECT_EQ(bad_escape.status, 400);
}

// ReportService is routed like every other service: the ledger report over
// Connect JSON (POST and GET) and gRPC-web, its errors with their fields.
TEST_F(HttpGatewayTest, TheLedgerReportTravelsOverEveryWebProtocol) {
  const std::string path = Path("ReportService", "GetLedgerReport");
  const std::string json = R"({"definitionKey":"leave","from":"2026-01-01","to":"2026-01-31"})";
  HttpAnswer posted = PostJson(path, json, "aud");
  ASSERT_EQ(posted.status, 200) << posted.body;
  v1::LedgerReport report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(posted.body, &report).ok())
      << posted.body;
  EXPECT_EQ(report.rows_size(), 0);

  HttpClient client(port());
  HttpAnswer got = client.Send(
      "GET",
      absl::StrCat(path, "?connect=v1&encoding=json&message=",
                   "%7B%22definitionKey%22%3A%22leave%22%2C%22from%22%3A%222026-01-01%22%2C"
                   "%22to%22%3A%222026-01-31%22%7D"),
      {{"x-signoff-user", "aud"}}, "");
  EXPECT_EQ(got.status, 200) << got.body;

  v1::LedgerReportRequest request;
  request.set_definition_key("leave");
  request.set_from("2026-01-01");
  request.set_to("2026-01-31");
  HttpAnswer web = PostGrpcWeb(path, request.SerializeAsString(), "aud");
  ASSERT_EQ(web.status, 200);
  EXPECT_EQ(ParseGrpcWeb(web.body).code(), 0);

  HttpAnswer denied = PostJson(path, json, "ann");
  EXPECT_EQ(denied.status, 403);
  HttpAnswer invalid =
      PostJson(path, R"({"definitionKey":"leave","from":"2026-01-01","to":"2025-01-31"})", "aud");
  EXPECT_EQ(invalid.status, 400);
  EXPECT_THAT(invalid.body, HasSubstr(R"("type":"google.rpc.BadRequest")"));
}

TEST_F(HttpGatewayTest, MalformedRequestsGetClearErrorsAndStoreNothing) {
  ASSERT_OK(client_->Start("ann", "leave", "{employee: ann, days: 2}", "keep-1"));
  const int64_t before = StoredInstances();
  const std::string start_path = Path("InstanceService", "StartInstance");
  HttpClient client(port());
  const std::map<std::string, std::string> as_ann = {{"x-signoff-user", "ann"}};

  // A frame that announces more than it holds.
  std::string truncated = server::EncodeEnvelope(0, "abcdef");
  truncated.resize(truncated.size() - 2);
  GrpcWebReply reply = ParseGrpcWeb(client.Post(start_path, kGrpcWeb, truncated, as_ann).body);
  EXPECT_EQ(reply.code(), 3);
  EXPECT_THAT(reply.trailers["grpc-message"], HasSubstr("ends inside a frame"));

  // Two request messages for a unary call.
  reply = ParseGrpcWeb(client
                           .Post(start_path, kGrpcWeb,
                                 server::EncodeEnvelope(0, "") + server::EncodeEnvelope(0, ""),
                                 as_ann)
                           .body);
  EXPECT_EQ(reply.code(), 3);

  // A compressed message, when no compression was offered.
  reply = ParseGrpcWeb(
      client.Post(start_path, kGrpcWeb, server::EncodeEnvelope(1, "x"), as_ann).body);
  EXPECT_EQ(reply.code(), 12);

  // Bytes that are no StartInstanceRequest.
  reply = ParseGrpcWeb(
      client.Post(start_path, kGrpcWeb, server::EncodeEnvelope(0, "\xff\xff\xff"), as_ann).body);
  EXPECT_EQ(reply.code(), 3);

  // Text that is not base64.
  HttpAnswer text = client.Post(start_path, kGrpcWebText, "!!!not base64!!!", as_ann);
  std::string text_bytes;
  ASSERT_TRUE(absl::Base64Unescape(text.body, &text_bytes));
  EXPECT_EQ(ParseGrpcWeb(text_bytes).code(), 3);

  // JSON that is broken, or names a field the message lacks.
  HttpAnswer broken = client.Post(start_path, kConnectJson, R"({"requestId": )", as_ann);
  EXPECT_EQ(broken.status, 400);
  EXPECT_THAT(broken.body, HasSubstr("invalid_argument"));
  HttpAnswer unknown_field =
      client.Post(start_path, kConnectJson, R"({"requestId":"x","colour":"red"})", as_ann);
  EXPECT_EQ(unknown_field.status, 400);
  EXPECT_THAT(unknown_field.body, HasSubstr("colour"));

  // A content type signoffd does not speak, and plain gRPC.
  EXPECT_EQ(client.Post(start_path, "text/plain", "{}", as_ann).status, 415);
  EXPECT_EQ(client.Post(start_path, "application/grpc", "", as_ann).status, 415);
  EXPECT_EQ(client.Post(start_path, "", "{}", as_ann).status, 415);

  // An unknown method, in each protocol.
  const std::string unknown = Path("InstanceService", "Explode");
  EXPECT_EQ(client.Post(unknown, kConnectJson, "{}", as_ann).status, 404);
  EXPECT_EQ(ParseGrpcWeb(client.Post(unknown, kGrpcWeb, server::EncodeEnvelope(0, ""), as_ann)
                             .body)
                .code(),
            12);
  // Other verbs.
  EXPECT_EQ(client.Send("PUT", start_path, as_ann, "{}").status, 405);
  EXPECT_EQ(client.Send("DELETE", "/inbox", as_ann, "").status, 405);

  // A stream called as if unary, and a unary call as a stream.
  EXPECT_EQ(client.Post(Path("EventService", "WatchEvents"), kConnectJson, "{}", as_ann).status,
            415);
  EXPECT_EQ(client
                .Post(start_path, "application/connect+json",
                      server::EncodeEnvelope(0, "{}"), as_ann)
                .status,
            415);

  // Not HTTP at all: an answer, then the connection closes.
  HttpClient garbage(port());
  ASSERT_TRUE(garbage.WriteRaw("\x16\x03\x01 hello\r\n\r\n"));
  HttpAnswer refused = garbage.ReadAnswer();
  EXPECT_EQ(refused.status, 400) << refused.error;

  EXPECT_EQ(StoredInstances(), before);
  auto events = store_->ListEventsSince(0, 1000);
  ASSERT_OK(events);
  ASSERT_FALSE(events->empty());
  ExpectReplayMatchesStore(events->front().instance_id());
}

TEST_F(HttpGatewayTest, CrossOriginCallsOnlyFromConfiguredOrigins) {
  HttpClient client(port());
  const std::string path = Path("DefinitionService", "ListDefinitions");
  HttpAnswer preflight = client.Send("OPTIONS", path,
                                     {{"origin", "https://portal.example"},
                                      {"access-control-request-method", "POST"},
                                      {"access-control-request-headers",
                                       "content-type,x-signoff-user"}},
                                     "");
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.Header("access-control-allow-origin"), "https://portal.example");
  EXPECT_THAT(preflight.Header("access-control-allow-headers"), HasSubstr("x-signoff-user"));
  EXPECT_THAT(preflight.Header("access-control-allow-methods"), HasSubstr("POST"));

  HttpAnswer call = client.Post(path, kConnectJson, "{}",
                                {{"origin", "https://portal.example"}, {"x-signoff-user", "ann"}});
  EXPECT_EQ(call.status, 200);
  EXPECT_EQ(call.Header("access-control-allow-origin"), "https://portal.example");
  EXPECT_THAT(call.Header("access-control-expose-headers"), HasSubstr("grpc-status"));

  // Another origin: refused, and told nothing that would let a browser read.
  HttpAnswer evil_preflight =
      client.Send("OPTIONS", path,
                  {{"origin", "https://evil.example"}, {"access-control-request-method", "POST"}},
                  "");
  EXPECT_EQ(evil_preflight.status, 403);
  EXPECT_EQ(evil_preflight.Header("access-control-allow-origin"), "");
  HttpAnswer evil = client.Post(path, kConnectJson, "{}",
                                {{"origin", "https://evil.example"}, {"x-signoff-user", "ann"}});
  EXPECT_EQ(evil.status, 403);
  EXPECT_EQ(evil.Header("access-control-allow-origin"), "");
  // A prefix of a configured origin is another origin.
  EXPECT_EQ(client
                .Post(path, kConnectJson, "{}",
                      {{"origin", "https://portal.example.evil"}, {"x-signoff-user", "ann"}})
                .status,
            403);

  // The portal signoffd serves is same-origin and needs no configuration.
  HttpAnswer same = client.Post(
      path, kConnectJson, "{}",
      {{"origin", absl::StrCat("http://127.0.0.1:", port())}, {"x-signoff-user", "ann"}});
  EXPECT_EQ(same.status, 200);
  EXPECT_EQ(same.Header("access-control-allow-origin"), "");
}

TEST_F(HttpGatewayTest, ServesThePortalAndNothingOutsideIt) {
  HttpClient client(port());
  HttpAnswer index = client.Send("GET", "/", {}, "");
  EXPECT_EQ(index.status, 200);
  EXPECT_THAT(index.Header("content-type"), HasSubstr("text/html"));
  EXPECT_THAT(index.body, HasSubstr("<title>signoff</title>"));
  EXPECT_THAT(index.Header("content-security-policy"), HasSubstr("default-src 'self'"));
  // The app's own routes get the page, for deep links.
  EXPECT_THAT(client.Send("GET", "/task/abc", {}, "").body, HasSubstr("<title>"));
  HttpAnswer script = client.Send("GET", "/app.js", {}, "");
  EXPECT_EQ(script.status, 200);
  EXPECT_THAT(script.Header("content-type"), HasSubstr("text/javascript"));
  HttpAnswer head = client.Send("HEAD", "/app.js", {}, "");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), std::to_string(script.body.size()));
  EXPECT_TRUE(head.body.empty());

  EXPECT_EQ(client.Send("GET", "/missing.js", {}, "").status, 404);
  EXPECT_EQ(client.Send("GET", "/../server_test", {}, "").status, 404);
  EXPECT_EQ(client.Send("GET", "/%2e%2e/etc/passwd", {}, "").status, 404);
  EXPECT_EQ(client.Send("GET", "/a/../../x.js", {}, "").status, 404);
  EXPECT_FALSE(server::IsSafeStaticPath("/a/../b"));
  EXPECT_FALSE(server::IsSafeStaticPath("/a//./b"));
  EXPECT_TRUE(server::IsSafeStaticPath("/assets/app-1.2.js"));
}

TEST_F(HttpGatewayTest, OneConnectionServesRequestsOneAfterAnother) {
  HttpClient client(port());
  for (int i = 0; i < 5; ++i) {
    HttpAnswer answer = client.Post(Path("DefinitionService", "ListDefinitions"), kConnectJson,
                                    "{}", {{"x-signoff-user", "ann"}});
    ASSERT_EQ(answer.status, 200) << answer.error;
    EXPECT_NE(answer.Header("connection"), "close");
  }
  HttpAnswer last = client.Post(Path("DefinitionService", "ListDefinitions"), kConnectJson, "{}",
                                {{"x-signoff-user", "ann"}, {"connection", "close"}});
  EXPECT_EQ(last.status, 200);
  EXPECT_TRUE(client.ClosedByServer(std::chrono::seconds(5)));
}

TEST_F(HttpGatewayTest, ABodyOverTheLimitIsRefused) {
  // The fixture's messages are limited to 256 KiB; gRPC-web-text's base64
  // gets a third more.
  const std::string huge(600 << 10, 'a');
  HttpClient client(port());
  HttpAnswer answer = client.Post(Path("InstanceService", "StartInstance"), kConnectJson, huge,
                                  {{"x-signoff-user", "ann"}});
  EXPECT_EQ(answer.status, 413);
  EXPECT_THAT(answer.body, HasSubstr("resource_exhausted"));
}

class HttpGatewayLimitsTest : public HttpGatewayTest {
 protected:
  void ConfigureHttp(server::HttpOptions& options) override {
    options.max_connections = 2;
    options.idle_timeout = absl::Milliseconds(300);
    options.request_timeout = absl::Milliseconds(500);
  }
};

TEST_F(HttpGatewayLimitsTest, ConnectionsOverTheLimitAreAnswered503) {
  HttpClient first(port());
  HttpClient second(port());
  ASSERT_TRUE(first.Connect());
  ASSERT_TRUE(second.Connect());
  // Let the listener take both before the third.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  HttpClient third(port());
  ASSERT_TRUE(third.Connect());
  HttpAnswer refused = third.ReadAnswer();
  EXPECT_EQ(refused.status, 503) << refused.error;
  EXPECT_THAT(refused.body, HasSubstr("unavailable"));
  // Once one closes, a new connection is served.
  first.Close();
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    HttpClient next(port());
    served = next.Send("GET", "/", {}, "").status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served);
}

TEST_F(HttpGatewayLimitsTest, IdleAndSlowConnectionsAreClosed) {
  HttpClient idle(port());
  ASSERT_TRUE(idle.Connect());
  EXPECT_TRUE(idle.ClosedByServer(std::chrono::seconds(5)));

  // Headers arrive, the promised body never does.
  HttpClient slow(port());
  ASSERT_TRUE(slow.WriteRaw(absl::StrCat("POST ", Path("TaskService", "ListTasks"),
                                         " HTTP/1.1\r\nhost: x\r\ncontent-type: "
                                         "application/json\r\ncontent-length: 10\r\n\r\n{")));
  const absl::Time sent = absl::Now();
  EXPECT_TRUE(slow.ClosedByServer(std::chrono::seconds(5)));
  EXPECT_GE(absl::Now() - sent, absl::Milliseconds(400));
}

// The event stream over gRPC-web and Connect.
class HttpStreamTest : public HttpGatewayTest {
 protected:
  std::string WatchRequest(int64_t after, int heartbeat_seconds = 1) {
    v1::WatchEventsRequest request;
    request.set_after_global_seq(after);
    request.mutable_heartbeat_interval()->set_seconds(heartbeat_seconds);
    return request.SerializeAsString();
  }
};

TEST_F(HttpStreamTest, GrpcWebStreamDeliversEventsThenHeartbeats) {
  auto started = client_->Start("ann", "leave", "{employee: ann, days: 2}", "stream-1");
  ASSERT_OK(started);
  HttpClient client(port());
  HttpAnswer head = client.BeginStream(Path("EventService", "WatchEvents"), kGrpcWeb,
                                       server::EncodeEnvelope(0, WatchRequest(0)),
                                       {{"x-signoff-user", "aud"}});
  ASSERT_EQ(head.status, 200) << head.error;
  EXPECT_EQ(head.Header("content-type"), "application/grpc-web+proto");
  EXPECT_EQ(head.Header("transfer-encoding"), "chunked");

  // Frames arrive one by one; read until a heartbeat says all was sent.
  std::vector<v1::WatchEventsResponse> items;
  bool heartbeat = false;
  std::string body;
  for (int round = 0; round < 100 && !heartbeat; ++round) {
    body = client.ReadStream(body.size(), std::chrono::seconds(5));
    auto envelopes = server::DecodeEnvelopes(body, 1 << 20);
    if (!envelopes.ok()) continue;  // a frame split across reads
    items.clear();
    for (const auto& envelope : *envelopes) {
      ASSERT_EQ(envelope.flags, 0) << "the stream ended early";
      v1::WatchEventsResponse item;
      ASSERT_TRUE(item.ParseFromString(envelope.payload));
      items.push_back(item);
      heartbeat = heartbeat || item.has_heartbeat();
    }
  }
  ASSERT_TRUE(heartbeat);
  int events = 0;
  for (const auto& item : items) {
    if (item.has_event()) {
      ++events;
      EXPECT_EQ(item.event().event().instance_id(), started->id());
    }
  }
  EXPECT_GT(events, 0);

  // A commit made now arrives live.
  const size_t before = body.size();
  ASSERT_OK(client_->Start("bo", "leave", "{employee: bo, days: 1}", "stream-2"));
  bool live = false;
  for (int round = 0; round < 50 && !live; ++round) {
    body = client.ReadStream(body.size(), std::chrono::seconds(5));
    auto envelopes = server::DecodeEnvelopes(body.substr(before), 1 << 20);
    if (!envelopes.ok()) continue;
    for (const auto& envelope : *envelopes) {
      v1::WatchEventsResponse item;
      ASSERT_TRUE(item.ParseFromString(envelope.payload));
      live = live || (item.has_event() && item.event().event().instance_id() != started->id());
    }
  }
  EXPECT_TRUE(live);
}

TEST_F(HttpStreamTest, ConnectStreamSpeaksJsonAndEndsWithItsStatus) {
  ASSERT_OK(client_->Start("ann", "leave", "{employee: ann, days: 2}", "cstream-1"));
  HttpClient client(port());
  HttpAnswer head = client.BeginStream(
      Path("EventService", "WatchEvents"), "application/connect+json",
      server::EncodeEnvelope(0, R"({"afterGlobalSeq":"0","heartbeatInterval":"1s"})"),
      {{"x-signoff-user", "aud"}});
  ASSERT_EQ(head.status, 200) << head.error;
  EXPECT_EQ(head.Header("content-type"), "application/connect+json");
  std::string body = client.ReadStream(0, std::chrono::seconds(5));
  for (int round = 0; round < 20 && !absl::StrContains(body, "heartbeat"); ++round) {
    body = client.ReadStream(body.size(), std::chrono::seconds(5));
  }
  auto envelopes = server::DecodeEnvelopes(body, 1 << 20);
  ASSERT_TRUE(envelopes.ok());
  ASSERT_FALSE(envelopes->empty());
  v1::WatchEventsResponse first;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(envelopes->front().payload, &first).ok())
      << envelopes->front().payload;
  EXPECT_TRUE(first.has_event());

  // Shutting the server down ends the stream with its status, in an
  // end-of-stream message.
  std::thread stop([this] { server_->Shutdown(); });
  bool ended = false;
  for (int round = 0; round < 50 && !ended; ++round) {
    body = client.ReadStream(body.size(), std::chrono::seconds(5), &ended);
  }
  stop.join();
  ASSERT_TRUE(ended);
  auto all = server::DecodeEnvelopes(body, 1 << 20);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->back().flags, server::kEndStreamFlag);
  EXPECT_THAT(all->back().payload, HasSubstr(R"("code":"unavailable")"));
}

TEST_F(HttpStreamTest, RefusedWatchersHearWhyInTheProtocolTheyAsked) {
  HttpClient client(port());
  // Not an auditor: refused before the stream begins.
  HttpAnswer web = client.Post(Path("EventService", "WatchEvents"), kGrpcWeb,
                               server::EncodeEnvelope(0, WatchRequest(0)),
                               {{"x-signoff-user", "ann"}});
  ASSERT_EQ(web.status, 200);
  EXPECT_EQ(ParseGrpcWeb(web.body).code(), 7);
  HttpAnswer connect = client.Post(Path("EventService", "WatchEvents"),
                                   "application/connect+json",
                                   server::EncodeEnvelope(0, R"({"heartbeatInterval":"500s"})"),
                                   {{"x-signoff-user", "aud"}});
  ASSERT_EQ(connect.status, 200);
  auto end = server::DecodeEnvelopes(connect.body, 1 << 20);
  ASSERT_TRUE(end.ok());
  ASSERT_EQ(end->size(), 1u);
  EXPECT_EQ(end->front().flags, server::kEndStreamFlag);
  EXPECT_THAT(end->front().payload, HasSubstr(R"("code":"invalid_argument")"));
  // The connection is still good for the next call.
  EXPECT_EQ(client
                .Post(Path("DefinitionService", "ListDefinitions"), kConnectJson, "{}",
                      {{"x-signoff-user", "ann"}})
                .status,
            200);
}

TEST_F(HttpStreamTest, AClientThatGoesAwayEndsItsStream) {
  HttpClient client(port());
  HttpAnswer head = client.BeginStream(Path("EventService", "WatchEvents"), kGrpcWeb,
                                       server::EncodeEnvelope(0, WatchRequest(0, 60)),
                                       {{"x-signoff-user", "aud"}});
  ASSERT_EQ(head.status, 200);
  ASSERT_EQ(server_->http_gateway()->open_streams(), 1);
  client.Close();
  // The server notices at once, not at a failed heartbeat a minute away.
  bool ended = false;
  for (int i = 0; i < 250 && !ended; ++i) {
    ended = server_->http_gateway()->open_streams() == 0;
    if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(ended);
}

TEST_F(HttpGatewayTest, EveryRpcOfEveryServiceIsServed) {
  HttpClient client(port());
  int methods = 0;
  for (const char* name :
       {"signoff.v1.DefinitionService", "signoff.v1.InstanceService", "signoff.v1.TaskService",
        "signoff.v1.CalendarService", "signoff.v1.DirectoryService", "signoff.v1.AuditService",
        "signoff.v1.NotificationService", "signoff.v1.JobService", "signoff.v1.WebhookService",
        "signoff.v1.ReportService", "signoff.v1.LedgerService",
        "signoff.v1.AttachmentService"}) {
    const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      if (method->server_streaming()) continue;
      // ActivateJobs would wait for jobs; an empty request is refused at once.
      const std::string path = absl::StrCat("/", service->full_name(), "/", method->name());
      HttpAnswer answer =
          client.Post(path, kGrpcWeb, server::EncodeEnvelope(0, ""), {{"x-signoff-user", "aud"}});
      ASSERT_EQ(answer.status, 200) << path;
      EXPECT_NE(ParseGrpcWeb(answer.body).code(), 12) << path << " is not served over HTTP";
      ++methods;
    }
  }
  EXPECT_GT(methods, 45);
}

TEST(HttpOptionsTest, DevIdentitiesStayOnLoopbackAndOriginsMustBeOrigins) {
  server::HttpOptions options;
  options.listen = "0.0.0.0:8080";
  EXPECT_EQ(server::CheckHttpOptions(options, /*trusts_header=*/true).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_OK(server::CheckHttpOptions(options, /*trusts_header=*/false));
  options.listen = "127.0.0.1:8080";
  options.cors_origins = {"https://portal.example/"};
  EXPECT_EQ(server::CheckHttpOptions(options, true).code(), absl::StatusCode::kInvalidArgument);
  options.cors_origins = {"portal.example"};
  EXPECT_EQ(server::CheckHttpOptions(options, true).code(), absl::StatusCode::kInvalidArgument);
  options.cors_origins = {"http://localhost:5173"};
  EXPECT_OK(server::CheckHttpOptions(options, true));
  options.listen = "unix:/tmp/x.sock";
  EXPECT_EQ(server::CheckHttpOptions(options, true).code(), absl::StatusCode::kInvalidArgument);
  options.listen = "127.0.0.1:99999";
  EXPECT_EQ(server::CheckHttpOptions(options, true).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace signoff::testing
