// signoffd with bearer tokens, as the README shows it: a key from OpenSSL,
// its JWKS and a token from `signoffd dev-jwks` and `signoffd dev-token`;
// and the start-up refusals of identity and TLS settings.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/ascii.h"
#include "run_program.h"
#include "signoff/v1/service.grpc.pb.h"
#include "signoffd_process.h"
#include "test_keys.h"

namespace signoff::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kIssuer[] = "https://id.example.com";
constexpr char kAudience[] = "signoff";

class JwtEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshTestDirectory("signoff-jwt-e2e"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ProgramResult Signoffd(std::vector<std::string> args) {
    args.insert(args.begin(), SIGNOFFD_BINARY);
    return RunProgram(std::move(args), {}, dir_);
  }

  // Serves on a fresh database with `flags`; the exit code and output of a
  // start that is refused at once.
  ProgramResult RefusedStart(std::vector<std::string> flags) {
    std::vector<std::string> args = {"/usr/bin/timeout", "-s", "KILL", "20", SIGNOFFD_BINARY,
                                     "serve", "--db", (dir_ / "refused.db").string()};
    args.insert(args.end(), flags.begin(), flags.end());
    return RunProgram(std::move(args), {}, dir_);
  }

  std::string WriteKey(const TestKey& key) {
    const std::string path = (dir_ / "signing.pem").string();
    WriteTextFile(path, PrivateKeyPem(key.get()));
    return path;
  }

  std::filesystem::path dir_;
};

grpc::Status ListDefinitions(const std::string& address, const std::string& authorization) {
  auto stub = v1::DefinitionService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  v1::ListDefinitionsRequest request;
  v1::ListDefinitionsResponse response;
  return stub->ListDefinitions(&context, request, &response);
}

TEST_F(JwtEndToEndTest, DevCommandsGiveATokenTheServerAccepts) {
  for (const TestKey& key : {GenerateRsaKey(), GenerateP256Key()}) {
    const std::string key_file = WriteKey(key);
    ProgramResult jwks = Signoffd({"dev-jwks", "--key", key_file, "--kid", "trial"});
    ASSERT_EQ(jwks.exit_code, 0) << jwks.err;
    WriteTextFile(dir_ / "jwks.json", jwks.out);
    ProgramResult token = Signoffd({"dev-token", "--key", key_file, "--kid", "trial", "--user",
                                    "carl.yuan", "--issuer", kIssuer, "--audience", kAudience,
                                    "--ttl", "10m"});
    ASSERT_EQ(token.exit_code, 0) << token.err;

    SignoffdProcess server(
        SIGNOFFD_BINARY, dir_,
        {"--auth=jwt", "--jwks-file", (dir_ / "jwks.json").string(), "--jwt-issuer", kIssuer,
         "--jwt-audience", kAudience, "--directory",
         std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions/demo-org.yaml"});
    server.Start();
    const std::string bearer =
        "Bearer " + std::string(absl::StripAsciiWhitespace(token.out));
    grpc::Status accepted = ListDefinitions(server.address(), bearer);
    EXPECT_TRUE(accepted.ok()) << accepted.error_message();
    EXPECT_EQ(ListDefinitions(server.address(), "").error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    server.Kill(SIGTERM);
  }
}

TEST_F(JwtEndToEndTest, DevTokenNeedsAUsableKey) {
  WriteTextFile(dir_ / "not-a-key.pem", "hello");
  ProgramResult result = Signoffd({"dev-token", "--key", (dir_ / "not-a-key.pem").string(),
                                   "--user", "carl.yuan"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("holds no PEM private key"));
}

TEST_F(JwtEndToEndTest, UnusableIdentityOrTlsSettingsStopTheStart) {
  WriteTextFile(dir_ / "empty-jwks.json", R"({"keys": []})");
  const std::string jwks_flag = "--jwks-file=" + (dir_ / "empty-jwks.json").string();
  const std::vector<std::pair<std::vector<std::string>, std::string>> refusals = {
      {{"--listen", "127.0.0.1:0", "--auth=jwt", "--jwt-issuer", kIssuer, "--jwt-audience",
        kAudience},
       "--auth=jwt needs --jwks-file"},
      {{"--listen", "127.0.0.1:0", "--auth=jwt", jwks_flag, "--jwt-issuer", kIssuer,
        "--jwt-audience", kAudience},
       "no usable key"},
      {{"--listen", "127.0.0.1:0", "--auth=jwt", "--jwks-file=/nonexistent/jwks.json",
        "--jwt-audience", kAudience},
       "--jwt-issuer"},
      {{"--listen", "0.0.0.0:0"}, "only listens on loopback"},
      {{"--listen", "127.0.0.1:0", "--tls-cert-file", (dir_ / "server.pem").string()},
       "--tls-cert-file and --tls-key-file go together"},
      {{"--listen", "127.0.0.1:0", "--tls-client-identity=uri"},
       "--tls-client-identity needs --tls-client-ca-file"},
  };
  for (const auto& [flags, message] : refusals) {
    ProgramResult result = RefusedStart(flags);
    EXPECT_EQ(result.exit_code, 1) << message << "\n" << result.err;
    EXPECT_THAT(result.err, HasSubstr(message));
    EXPECT_THAT(result.out, ::testing::Not(HasSubstr("listening on")));
    EXPECT_FALSE(std::filesystem::exists(dir_ / "refused.db")) << message;
  }
}

}  // namespace
}  // namespace signoff::testing
