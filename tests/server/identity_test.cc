// signoffd's transport with bearer tokens (--auth=jwt) and with TLS.
#include <gmock/gmock.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/auth/dev_token.h"
#include "server/auth/jwks.h"
#include "server/certificate_identity.h"
#include "server_fixture.h"
#include "test_keys.h"

namespace signoff::testing {
namespace {

using ::testing::HasSubstr;

// grpc.health.v1 Check of readiness; the status of the call itself.
grpc::Status CheckReadiness(const std::shared_ptr<grpc::Channel>& channel) {
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("readiness");
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return health->Check(&context, request, &response);
}

class JwtServerTest : public ServerTest {
 protected:
  // The directory is loaded below the transport: with tokens on, the
  // fixture's header-identified calls would be refused.
  bool StartsWithOrganisation() const override { return false; }

  void ConfigureServer(server::ServerOptions& options) override {
    if (key_ == nullptr) key_ = GenerateRsaKey();
    auto jwks = server::auth::PublicJwksOf(key_.get(), "test-key");
    ASSERT_TRUE(jwks.ok()) << jwks.status();
    WriteTextFile(dir_ / "jwks.json", *jwks);
    options.auth = "jwt";
    options.jwks_file = (dir_ / "jwks.json").string();
    options.jwt.issuer = "https://id.example.com";
    options.jwt.audience = "signoff";
  }

  void SetUp() override {
    ServerTest::SetUp();
    auto organisation = workflow::ParseOrganisationYaml(kTestOrganisation);
    ASSERT_OK(organisation);
    ASSERT_OK(app_->directory().SeedOrganisation(*organisation));
  }

  std::string TokenFor(const std::string& user) { return TokenSignedWith(key_, "test-key", user); }

  std::string TokenSignedWith(const TestKey& key, const std::string& kid,
                              const std::string& user) {
    server::auth::DevTokenClaims claims;
    claims.user = user;
    claims.issuer = "https://id.example.com";
    claims.audience = "signoff";
    claims.issued_at = absl::Now();
    claims.kid = kid;
    auto token = server::auth::SignDevToken(key.get(), claims);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.value_or("");
  }

  // Publishes the leave definition with `authorization` (none when empty).
  grpc::Status PublishWith(const std::string& authorization, const std::string& request_id) {
    auto stub = v1::DefinitionService::NewStub(server_->InProcessChannel());
    v1::PublishDefinitionRequest request;
    request.set_request_id(request_id);
    request.mutable_source()->set_yaml(kLeaveDefinition);
    v1::PublishDefinitionResponse response;
    grpc::ClientContext context;
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    return stub->PublishDefinition(&context, request, &response);
  }

  TestKey key_;
};

TEST_F(JwtServerTest, ACallWithoutAValidTokenIsUnauthenticated) {
  grpc::Status none = PublishWith("", "none");
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(none.error_message(), HasSubstr("no bearer token"));
  grpc::Status basic = PublishWith("Basic Y2VvOmNlbw==", "basic");
  EXPECT_EQ(basic.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status garbage = PublishWith("Bearer not-a-token", "garbage");
  EXPECT_EQ(garbage.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(garbage.error_message(), HasSubstr("three base64url parts"));
  // The header that dev mode trusts is ignored.
  auto stub = v1::DefinitionService::NewStub(server_->InProcessChannel());
  v1::ListDefinitionsRequest request;
  v1::ListDefinitionsResponse response;
  grpc::ClientContext context;
  context.AddMetadata("x-signoff-user", "ceo");
  EXPECT_EQ(stub->ListDefinitions(&context, request, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(JwtServerTest, AValidTokenActsAsItsDirectoryUser) {
  // sam is authenticated but no administrator; ceo is one.
  grpc::Status as_sam = PublishWith("Bearer " + TokenFor("sam"), "as-sam");
  EXPECT_EQ(as_sam.error_code(), grpc::StatusCode::PERMISSION_DENIED) << as_sam.error_message();
  grpc::Status as_ceo = PublishWith("Bearer " + TokenFor("ceo"), "as-ceo");
  EXPECT_TRUE(as_ceo.ok()) << as_ceo.error_message();
  EXPECT_TRUE(PublishWith("bearer " + TokenFor("ceo"), "lower-case-scheme").ok());
}

TEST_F(JwtServerTest, ATokenForAnUnknownOrDisabledUserIsUnauthenticated) {
  grpc::Status unknown = PublishWith("Bearer " + TokenFor("nobody"), "unknown");
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(unknown.error_message(), HasSubstr("not an enabled directory user"));
  grpc::Status disabled = PublishWith("Bearer " + TokenFor("gone"), "disabled");
  EXPECT_EQ(disabled.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

// Keys are rotated by rewriting the JWKS file while signoffd serves: the
// new key's tokens are taken once the file is read again, and the retired
// key's are refused from then on.
TEST_F(JwtServerTest, AKeyRotatedInTheJwksFileWhileServingTakesOver) {
  EXPECT_TRUE(PublishWith("Bearer " + TokenFor("ceo"), "before-rotation").ok());
  TestKey next = GenerateRsaKey();
  auto jwks = server::auth::PublicJwksOf(next.get(), "next-key");
  ASSERT_TRUE(jwks.ok()) << jwks.status();
  WriteTextFile(dir_ / "jwks.json.new", *jwks);
  std::filesystem::rename(dir_ / "jwks.json.new", dir_ / "jwks.json");
  grpc::Status with_next;
  for (int attempt = 0; attempt < 100; ++attempt) {
    with_next = PublishWith("Bearer " + TokenSignedWith(next, "next-key", "ceo"),
                            absl::StrCat("after-rotation-", attempt));
    if (with_next.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(with_next.ok()) << with_next.error_message();
  grpc::Status with_retired = PublishWith("Bearer " + TokenFor("ceo"), "retired-key");
  EXPECT_EQ(with_retired.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << with_retired.error_message();
}

TEST_F(JwtServerTest, HealthNeedsNoToken) {
  EXPECT_TRUE(CheckReadiness(server_->InProcessChannel()).ok());
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                     grpc::InsecureChannelCredentials());
  grpc::Status status = CheckReadiness(channel);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST(JwtServerStartTest, RefusesJwtModeWithoutKeysIssuerOrAudience) {
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.auth = "jwt";
  options.jwt.issuer = "https://id.example.com";
  options.jwt.audience = "signoff";
  auto no_jwks = server::SignoffServer::Start(nullptr, options);
  EXPECT_EQ(no_jwks.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_jwks.status().message()), HasSubstr("--jwks-file"));
  options.jwks_file = "/nonexistent/jwks.json";
  EXPECT_THAT(std::string(server::SignoffServer::Start(nullptr, options).status().message()),
              HasSubstr("cannot read"));
  options.jwt.issuer = "";
  EXPECT_THAT(std::string(server::SignoffServer::Start(nullptr, options).status().message()),
              HasSubstr("--jwt-issuer"));
}

// A CA, a server certificate and client certificates, made for the test.
class TlsServerTest : public ServerTest {
 protected:
  virtual bool RequiresClientCertificates() const { return false; }

  void ConfigureServer(server::ServerOptions& options) override {
    if (!ca_.cert) {
      ca_ = MakeCertificate("signoff test CA", nullptr, true, 1);
      server_cert_ = MakeCertificate("localhost", &ca_, false, 2);
      client_cert_ = MakeCertificate("portal", &ca_, false, 3);
      other_ca_ = MakeCertificate("another CA", nullptr, true, 4);
      stranger_cert_ = MakeCertificate("stranger", &other_ca_, false, 5);
    }
    WriteTextFile(dir_ / "ca.pem", ca_.Pem());
    WriteTextFile(dir_ / "server.pem", server_cert_.Pem());
    WriteTextFile(dir_ / "server.key", server_cert_.KeyPem());
    options.tls.cert_file = (dir_ / "server.pem").string();
    options.tls.key_file = (dir_ / "server.key").string();
    if (RequiresClientCertificates()) options.tls.client_ca_file = (dir_ / "ca.pem").string();
    options.tls.refresh_seconds = 1;
  }

  // A TLS channel trusting `trusted` (the test CA when null), presenting
  // `client` if given.
  std::shared_ptr<grpc::Channel> TlsChannel(const TestCertificate* client,
                                            const TestCertificate* trusted = nullptr) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = (trusted == nullptr ? ca_ : *trusted).Pem();
    if (client != nullptr) {
      ssl.pem_cert_chain = client->Pem();
      ssl.pem_private_key = client->KeyPem();
    }
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("localhost");
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                     grpc::SslCredentials(ssl), arguments);
  }

  TestCertificate ca_;
  TestCertificate server_cert_;
  TestCertificate client_cert_;
  // A CA the server knows nothing of, and a client certificate it signed.
  TestCertificate other_ca_;
  TestCertificate stranger_cert_;
};

TEST_F(TlsServerTest, AClientTrustingTheCaConnectsAndPlaintextDoesNot) {
  grpc::Status status = CheckReadiness(TlsChannel(nullptr));
  EXPECT_TRUE(status.ok()) << status.error_message();
  auto plaintext = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                       grpc::InsecureChannelCredentials());
  EXPECT_FALSE(CheckReadiness(plaintext).ok());
}

TEST_F(TlsServerTest, AClientTrustingAnotherCaDoesNotConnect) {
  grpc::Status status = CheckReadiness(TlsChannel(nullptr, &other_ca_));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

// A renewed certificate written over the files is served without a
// restart: here one from another CA, so that which one is served shows.
TEST_F(TlsServerTest, ARenewedCertificateIsServedWithoutARestart) {
  ASSERT_TRUE(CheckReadiness(TlsChannel(nullptr)).ok());
  TestCertificate renewed = MakeCertificate("localhost", &other_ca_, false, 6);
  WriteTextFile(dir_ / "server.key.new", renewed.KeyPem());
  WriteTextFile(dir_ / "server.pem.new", renewed.Pem());
  std::filesystem::rename(dir_ / "server.key.new", dir_ / "server.key");
  std::filesystem::rename(dir_ / "server.pem.new", dir_ / "server.pem");
  bool renewed_served = false;
  for (int attempt = 0; attempt < 100 && !renewed_served; ++attempt) {
    renewed_served = CheckReadiness(TlsChannel(nullptr, &other_ca_)).ok();
    if (!renewed_served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(renewed_served);
  EXPECT_FALSE(CheckReadiness(TlsChannel(nullptr)).ok());
}

class MutualTlsServerTest : public TlsServerTest {
 protected:
  bool RequiresClientCertificates() const override { return true; }
};

TEST_F(MutualTlsServerTest, OnlyClientsWithACertificateFromTheCaConnect) {
  EXPECT_FALSE(CheckReadiness(TlsChannel(nullptr)).ok());
  EXPECT_FALSE(CheckReadiness(TlsChannel(&stranger_cert_)).ok());
  grpc::Status status = CheckReadiness(TlsChannel(&client_cert_));
  EXPECT_TRUE(status.ok()) << status.error_message();
}

constexpr char kAdjustmentDefinition[] = R"(
key: adjustment
name: Data adjustment
service_accounts: [svc]
steps:
  - {id: adjust, system: {workers: [{user: svc}]}, next: [{to: done}]}
  - {id: done, end: {}}
)";

// mTLS where a client certificate's URI SANs name the service account of
// a call that sends no x-signoff-user header.
class CertificateIdentityTest : public MutualTlsServerTest {
 protected:
  void ConfigureServer(server::ServerOptions& options) override {
    MutualTlsServerTest::ConfigureServer(options);
    options.client_certificate_identity = "uri";
  }

  // A certificate from the test CA whose URI SAN names `user`.
  TestCertificate CertificateNaming(const std::string& user) {
    return MakeCertificate(user, &ca_, false, ++serial_,
                           "URI:spiffe://signoff.test/ns/ops/sa/" + user);
  }

  static grpc::StatusCode CodeOf(const absl::Status& status) {
    return static_cast<grpc::StatusCode>(status.code());
  }

  absl::StatusOr<v1::GetUserResponse> GetUser(ApiClient& client, const std::string& header,
                                              const std::string& id) {
    v1::GetUserRequest request;
    request.set_id(id);
    return client.Call(header, *client.directory, &v1::DirectoryService::Stub::GetUser, request);
  }

  long serial_ = 100;
};

TEST_F(CertificateIdentityTest, AServiceAccountsCertificateCallsAsThatAccount) {
  ASSERT_OK(Publish(kAdjustmentDefinition, "publish-adjustment"));
  ASSERT_OK_AND_ASSIGN(v1::InstanceView started,
                       client_->Start("ann", "adjustment", "{}", "adjust-1"));
  const std::string task = PendingTaskOf(started, "svc");
  ASSERT_FALSE(task.empty());

  const TestCertificate svc = CertificateNaming("svc");
  ApiClient as_svc(TlsChannel(&svc));
  ASSERT_OK_AND_ASSIGN(v1::GetUserResponse user, GetUser(as_svc, "", "svc"));
  EXPECT_TRUE(user.user().service());
  v1::DecideTaskRequest complete;
  complete.set_task_id(task);
  complete.set_action(v1::COMPLETE);
  (*complete.mutable_result()->mutable_fields())["ticket"].set_string_value("IT-42");
  ASSERT_OK_AND_ASSIGN(v1::DecideTaskResponse decided, as_svc.Decide("", complete, "complete-1"));
  EXPECT_EQ(decided.instance().status(), v1::APPROVED);

  v1::GetHistoryRequest history_request;
  history_request.set_instance_id(started.id());
  ASSERT_OK_AND_ASSIGN(v1::GetHistoryResponse history,
                       client_->Call("ann", *client_->instances,
                                     &v1::InstanceService::Stub::GetHistory, history_request));
  std::vector<std::string> completed_by;
  for (const v1::Event& event : history.events()) {
    if (event.has_task_completed() && event.task_id() == task) {
      completed_by.push_back(event.actor());
    }
  }
  EXPECT_THAT(completed_by, ::testing::ElementsAre("svc"));
}

TEST_F(CertificateIdentityTest, ACertificateNamingAnyoneButAnEnabledServiceAccountIsRefused) {
  v1::UpsertUsersRequest retire;
  retire.set_request_id("retire");
  v1::User* retired = retire.add_users();
  retired->set_id("svc-retired");
  retired->set_department("root");
  retired->set_service(true);
  retired->set_disabled(true);
  ASSERT_OK(client_->Call("ceo", *client_->directory, &v1::DirectoryService::Stub::UpsertUsers,
                          retire));
  for (const std::string named : {"ann", "ceo", "nobody", "svc-retired", "gone"}) {
    const TestCertificate certificate = CertificateNaming(named);
    ApiClient client(TlsChannel(&certificate));
    absl::StatusOr<v1::GetUserResponse> refused = GetUser(client, "", "ann");
    EXPECT_EQ(CodeOf(refused.status()), grpc::StatusCode::UNAUTHENTICATED) << named;
    EXPECT_THAT(std::string(refused.status().message()),
                HasSubstr("which is not an enabled service account"))
        << named;
  }
  // The test's client certificate carries DNS and IP SANs only.
  ApiClient portal(TlsChannel(&client_cert_));
  absl::StatusOr<v1::GetUserResponse> unnamed = GetUser(portal, "", "ann");
  EXPECT_EQ(CodeOf(unnamed.status()), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(std::string(unnamed.status().message()), HasSubstr("has no URI SAN"));
  // Another CA's certificate does not get through the handshake.
  const TestCertificate stranger =
      MakeCertificate("svc", &other_ca_, false, ++serial_, "URI:spiffe://signoff.test/sa/svc");
  ApiClient as_stranger(TlsChannel(&stranger));
  EXPECT_EQ(CodeOf(GetUser(as_stranger, "", "svc").status()), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(CertificateIdentityTest, TheCallsOwnHeaderWinsOverTheCertificate) {
  ASSERT_OK(Publish(kAdjustmentDefinition, "publish-adjustment"));
  ASSERT_OK_AND_ASSIGN(v1::InstanceView started,
                       client_->Start("ann", "adjustment", "{}", "adjust-1"));
  const std::string task = PendingTaskOf(started, "svc");
  // svc's certificate with ann's header is ann, who may not complete svc's
  // step.
  const TestCertificate svc = CertificateNaming("svc");
  ApiClient over_svc(TlsChannel(&svc));
  absl::StatusOr<v1::DecideTaskResponse> as_ann =
      over_svc.Decide("ann", task, v1::COMPLETE, "complete-as-ann");
  EXPECT_EQ(CodeOf(as_ann.status()), grpc::StatusCode::PERMISSION_DENIED) << as_ann.status();
  // A person's certificate does not stop a call that names its caller.
  const TestCertificate ann = CertificateNaming("ann");
  ApiClient over_ann(TlsChannel(&ann));
  ASSERT_OK_AND_ASSIGN(v1::GetUserResponse user, GetUser(over_ann, "ceo", "svc"));
  EXPECT_EQ(user.user().id(), "svc");
}

class DnsCertificateIdentityTest : public CertificateIdentityTest {
 protected:
  void ConfigureServer(server::ServerOptions& options) override {
    CertificateIdentityTest::ConfigureServer(options);
    options.client_certificate_identity = "dns";
  }
};

TEST_F(DnsCertificateIdentityTest, TheFirstLabelOfTheDnsSansNamesTheServiceAccount) {
  // Only the DNS SANs are read: the URI SAN naming ann does not count.
  const TestCertificate svc = MakeCertificate(
      "svc", &ca_, false, ++serial_, "DNS:svc.signoff.test,DNS:svc,URI:spiffe://signoff.test/ann");
  ApiClient as_svc(TlsChannel(&svc));
  ASSERT_OK_AND_ASSIGN(v1::GetUserResponse user, GetUser(as_svc, "", "ann"));
  EXPECT_EQ(user.user().id(), "ann");
  // localhost, the DNS SAN of the test's client certificate, is no user.
  ApiClient portal(TlsChannel(&client_cert_));
  EXPECT_EQ(CodeOf(GetUser(portal, "", "ann").status()), grpc::StatusCode::UNAUTHENTICATED);
}

// No call can be queued: every call that gets past identity is
// RESOURCE_EXHAUSTED, so one refused for its certificate never reached the
// queue.
class CertificateIdentityWithoutRoomTest : public CertificateIdentityTest {
 protected:
  bool StartsWithOrganisation() const override { return false; }

  void ConfigureServer(server::ServerOptions& options) override {
    CertificateIdentityTest::ConfigureServer(options);
    options.max_queued = 0;
  }

  void SetUp() override {
    CertificateIdentityTest::SetUp();
    auto organisation = workflow::ParseOrganisationYaml(kTestOrganisation);
    ASSERT_OK(organisation);
    ASSERT_OK(app_->directory().SeedOrganisation(*organisation));
  }
};

TEST_F(CertificateIdentityWithoutRoomTest, ARefusedCertificateIsRefusedBeforeTheQueue) {
  const TestCertificate svc = CertificateNaming("svc");
  ApiClient as_svc(TlsChannel(&svc));
  EXPECT_EQ(CodeOf(GetUser(as_svc, "", "svc").status()), grpc::StatusCode::RESOURCE_EXHAUSTED);
  const TestCertificate ann = CertificateNaming("ann");
  ApiClient as_ann(TlsChannel(&ann));
  EXPECT_EQ(CodeOf(GetUser(as_ann, "", "svc").status()), grpc::StatusCode::UNAUTHENTICATED);
}

TEST(CertificateIdentityRuleTest, UriSansNameTheirLastPathSegment) {
  using server::CertificateIdentity;
  using server::UserNamedBy;
  EXPECT_EQ(UserNamedBy(CertificateIdentity::kUri,
                        {"spiffe://example.org/ns/ops/sa/svc-doc-check"})
                .value_or(""),
            "svc-doc-check");
  EXPECT_EQ(UserNamedBy(CertificateIdentity::kUri,
                        {"spiffe://a.example/svc", "https://b.example/agents/svc"})
                .value_or(""),
            "svc");
  for (const std::vector<std::string>& refused : std::vector<std::vector<std::string>>{
           {},
           {"spiffe://example.org"},
           {"spiffe://example.org/sa/"},
           {"urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"},
           {"https://example.org/sa/svc?as=ceo"},
           {"https://example.org/sa/svc#ceo"},
           {"spiffe://example.org/sa/svc", "spiffe://example.org/sa/ceo"},
           {"spiffe://example.org/sa/svc", "spiffe://example.org"},
       }) {
    absl::StatusOr<std::string> user = UserNamedBy(CertificateIdentity::kUri, refused);
    EXPECT_EQ(user.status().code(), absl::StatusCode::kUnauthenticated)
        << ::testing::PrintToString(refused);
  }
}

TEST(CertificateIdentityRuleTest, DnsSansNameTheirFirstLabel) {
  using server::CertificateIdentity;
  using server::UserNamedBy;
  EXPECT_EQ(UserNamedBy(CertificateIdentity::kDns,
                        {"svc-doc-check.signoff.internal", "svc-doc-check"})
                .value_or(""),
            "svc-doc-check");
  for (const std::vector<std::string>& refused : std::vector<std::vector<std::string>>{
           {}, {"*.signoff.internal"}, {".signoff.internal"}, {"svc.internal", "localhost"}}) {
    EXPECT_EQ(UserNamedBy(CertificateIdentity::kDns, refused).status().code(),
              absl::StatusCode::kUnauthenticated)
        << ::testing::PrintToString(refused);
  }
  EXPECT_EQ(server::ParseCertificateIdentity("dns").value_or(CertificateIdentity::kNone),
            CertificateIdentity::kDns);
  EXPECT_EQ(server::ParseCertificateIdentity("email").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CertificateIdentityStartTest, RefusesACertificateIdentityWithoutAClientCa) {
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.client_certificate_identity = "uri";
  auto started = server::SignoffServer::Start(nullptr, options);
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(started.status().message()), HasSubstr("--tls-client-ca-file"));
}

TEST(TlsServerStartTest, RefusesACertificateWithoutItsKey) {
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.tls.cert_file = "/nonexistent/server.pem";
  auto started = server::SignoffServer::Start(nullptr, options);
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(started.status().message()), HasSubstr("go together"));
}

}  // namespace
}  // namespace signoff::testing
