// The real signoffctl against a real signoffd that wants bearer tokens,
// TLS or client certificates: tokens from `signoffd dev-token`, and a CA,
// server and client certificates made for each test.
#include <gmock/gmock.h>
#include <grpcpp/support/status.h>
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "run_program.h"
#include "signoffd_process.h"
#include "test_keys.h"

namespace signoff::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kIssuer[] = "https://id.example.com";
constexpr char kAudience[] = "signoff";

// signoffctl's exit code for a call that failed with `code`.
constexpr int ExitCodeOf(grpc::StatusCode code) { return 64 + static_cast<int>(code); }

class CliTransportTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshTestDirectory("signoff-cli-transport"); }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // signoffd with the demo organisation and `flags`.
  void StartServer(std::vector<std::string> flags) {
    flags.insert(flags.begin(), {"--directory", std::string(SIGNOFF_SOURCE_DIR) +
                                                    "/workflow/definitions/demo-org.yaml"});
    server_ = std::make_unique<SignoffdProcess>(SIGNOFFD_BINARY, dir_, flags);
    server_->Start();
  }

  // The flags of jwt mode with the keys of `signoffd dev-jwks`; the key
  // signs the tokens of Token.
  std::vector<std::string> JwtFlags() {
    WriteTextFile(dir_ / "signing.pem", PrivateKeyPem(GenerateP256Key().get()));
    ProgramResult jwks = Signoffd({"dev-jwks", "--key", Path("signing.pem")});
    EXPECT_EQ(jwks.exit_code, 0) << jwks.err;
    WriteTextFile(dir_ / "jwks.json", jwks.out);
    return {"--auth=jwt", "--jwks-file", Path("jwks.json"), "--jwt-issuer", kIssuer,
            "--jwt-audience", kAudience};
  }

  // What `signoffd dev-token` prints for `user`, its newline included.
  std::string Token(const std::string& user) {
    ProgramResult token = Signoffd({"dev-token", "--key", Path("signing.pem"), "--user", user,
                                    "--issuer", kIssuer, "--audience", kAudience, "--ttl", "10m"});
    EXPECT_EQ(token.exit_code, 0) << token.err;
    return token.out;
  }

  // A test CA, the server's certificate (for localhost and 127.0.0.1) and
  // a client's, all signed by it; another CA and a client certificate it
  // signed. Returns signoffd's TLS flags.
  std::vector<std::string> TlsFlags() {
    ca_ = MakeCertificate("signoff test CA", nullptr, true, 1);
    const TestCertificate server = MakeCertificate("localhost", &ca_, false, 2);
    const TestCertificate client = MakeCertificate("portal", &ca_, false, 3);
    const TestCertificate other_ca = MakeCertificate("another CA", nullptr, true, 4);
    const TestCertificate stranger = MakeCertificate("stranger", &other_ca, false, 5);
    WriteTextFile(dir_ / "ca.pem", ca_.Pem());
    WriteTextFile(dir_ / "server.pem", server.Pem());
    WriteTextFile(dir_ / "server.key", server.KeyPem());
    WriteTextFile(dir_ / "client.pem", client.Pem());
    WriteTextFile(dir_ / "client.key", client.KeyPem());
    WriteTextFile(dir_ / "other-ca.pem", other_ca.Pem());
    WriteTextFile(dir_ / "stranger.pem", stranger.Pem());
    WriteTextFile(dir_ / "stranger.key", stranger.KeyPem());
    return {"--tls-cert-file", Path("server.pem"), "--tls-key-file", Path("server.key")};
  }

  std::vector<std::string> MutualTlsFlags() {
    std::vector<std::string> flags = TlsFlags();
    flags.insert(flags.end(), {"--tls-client-ca-file", Path("ca.pem")});
    return flags;
  }

  // NAME.pem and NAME.key: a client certificate from the test CA (made by
  // TlsFlags) for `subject_alt_names`.
  void WriteClientCertificate(const std::string& name, const std::string& subject_alt_names) {
    const TestCertificate made = MakeCertificate(name, &ca_, false, ++serial_, subject_alt_names);
    WriteTextFile(dir_ / (name + ".pem"), made.Pem());
    WriteTextFile(dir_ / (name + ".key"), made.KeyPem());
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  ProgramResult Signoffd(std::vector<std::string> args) {
    args.insert(args.begin(), SIGNOFFD_BINARY);
    return RunProgram(std::move(args), {}, dir_);
  }

  // signoffctl against the running server (or `address`), with exactly
  // the environment `env`.
  ProgramResult Signoffctl(std::vector<std::string> args, std::vector<std::string> env = {},
                           const std::string& address = "") {
    args.insert(args.begin(), {SIGNOFFCTL_BINARY, "--address",
                               address.empty() ? server_->address() : address, "--timeout", "5"});
    return RunProgram(std::move(args), std::move(env), dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<SignoffdProcess> server_;
  TestCertificate ca_;
  long serial_ = 100;
};

TEST_F(CliTransportTest, ATokenFromDevTokenIsSentAsABearerToken) {
  StartServer(JwtFlags());
  const std::string token = Token("carl.yuan");
  WriteTextFile(dir_ / "token", token);
  const std::string bare_token(absl::StripAsciiWhitespace(token));

  ProgramResult given = Signoffctl({"--token", bare_token, "task", "list"});
  EXPECT_EQ(given.exit_code, 0) << given.err;
  ProgramResult from_environment = Signoffctl({"task", "list"}, {"SIGNOFF_TOKEN=" + bare_token});
  EXPECT_EQ(from_environment.exit_code, 0) << from_environment.err;
  ProgramResult from_file = Signoffctl({"--token-file", Path("token"), "task", "list"});
  EXPECT_EQ(from_file.exit_code, 0) << from_file.err;
  ProgramResult file_from_environment =
      Signoffctl({"task", "list"}, {"SIGNOFF_TOKEN_FILE=" + Path("token")});
  EXPECT_EQ(file_from_environment.exit_code, 0) << file_from_environment.err;

  // The token says who calls: carl.yuan administers the directory,
  // bob.zhang does not.
  WriteTextFile(dir_ / "org.yaml",
                "departments: [{id: audit, name: Audit, parent: exec, head: ada.audit}]\n"
                "users: [{id: ada.audit, display_name: Ada, department: audit, "
                "manager: grace.liu, roles: [{role: auditor}]}]\n");
  ProgramResult bob_imports =
      Signoffctl({"--token", std::string(absl::StripAsciiWhitespace(Token("bob.zhang"))),
                  "directory", "import", Path("org.yaml")});
  EXPECT_EQ(bob_imports.exit_code, ExitCodeOf(grpc::StatusCode::PERMISSION_DENIED))
      << bob_imports.err;
  ProgramResult carl_imports =
      Signoffctl({"--token", bare_token, "directory", "import", Path("org.yaml")});
  EXPECT_EQ(carl_imports.exit_code, 0) << carl_imports.err;

  ProgramResult none = Signoffctl({"task", "list"});
  EXPECT_EQ(none.exit_code, ExitCodeOf(grpc::StatusCode::UNAUTHENTICATED)) << none.err;
  EXPECT_THAT(none.err, HasSubstr("UNAUTHENTICATED"));
  EXPECT_EQ(Signoffctl({"--as", "carl.yuan", "task", "list"}).exit_code,
            ExitCodeOf(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_EQ(Signoffctl({"--token", "not.a.token", "task", "list"}).exit_code,
            ExitCodeOf(grpc::StatusCode::UNAUTHENTICATED));
  // Probes need no token.
  EXPECT_EQ(Signoffctl({"health"}).exit_code, 0);
}

TEST_F(CliTransportTest, ATokenTravelsInPlaintextOnlyOnThisMachineUnlessAskedTo) {
  StartServer(JwtFlags());
  const std::string token(absl::StripAsciiWhitespace(Token("carl.yuan")));
  for (const std::string loopback : {"localhost", "127.0.0.1", "ipv4:127.0.0.1", "dns:///localhost"}) {
    const std::string address = absl::StrCat(loopback, ":", server_->port());
    ProgramResult result = Signoffctl({"--token", token, "task", "list"}, {}, address);
    EXPECT_EQ(result.exit_code, 0) << address << ": " << result.err;
  }
  // Linux takes a connection to 0.0.0.0 to this machine, but signoffctl
  // cannot know that without resolving and counts it as another.
  const std::string elsewhere = absl::StrCat("0.0.0.0:", server_->port());
  ProgramResult refused = Signoffctl({"--token", token, "task", "list"}, {}, elsewhere);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("plaintext to 0.0.0.0:"));
  EXPECT_THAT(refused.err, HasSubstr("--insecure-token"));
  ProgramResult insisted =
      Signoffctl({"--token", token, "--insecure-token", "task", "list"}, {}, elsewhere);
  EXPECT_EQ(insisted.exit_code, 0) << insisted.err;
  // Without a token there is nothing to protect.
  EXPECT_EQ(Signoffctl({"health"}, {}, elsewhere).exit_code, 0);
}

TEST_F(CliTransportTest, TokenMistakesAreUsageErrors) {
  const std::string nowhere = "127.0.0.1:1";
  WriteTextFile(dir_ / "empty-token", "\n");
  WriteTextFile(dir_ / "two-tokens", "first\nsecond\n");
  WriteTextFile(dir_ / "token", "a.b.c\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> mistakes = {
      {{"--token", "a.b.c", "--token-file", Path("token")}, "not both"},
      {{"--token-file", Path("missing-token")}, "--token-file: cannot read"},
      {{"--token-file", Path("empty-token")}, "is empty"},
      {{"--token-file", Path("two-tokens")}, "without spaces"},
      {{"--token", "a b"}, "without spaces"},
  };
  for (const auto& [flags, message] : mistakes) {
    std::vector<std::string> args = flags;
    args.push_back("health");
    ProgramResult result = Signoffctl(args, {}, nowhere);
    EXPECT_EQ(result.exit_code, 2) << message << ": " << result.err;
    EXPECT_THAT(result.err, HasSubstr(message));
  }
  ProgramResult both_from_environment =
      Signoffctl({"health"}, {"SIGNOFF_TOKEN=a.b.c", "SIGNOFF_TOKEN_FILE=" + Path("token")},
                 nowhere);
  EXPECT_EQ(both_from_environment.exit_code, 2) << both_from_environment.err;
}

TEST_F(CliTransportTest, TlsTrustsTheGivenCaOnly) {
  StartServer(TlsFlags());
  ProgramResult trusted = Signoffctl({"--ca", Path("ca.pem"), "health"});
  EXPECT_EQ(trusted.exit_code, 0) << trusted.err;
  EXPECT_EQ(Signoffctl({"health"}, {"SIGNOFF_CA=" + Path("ca.pem")}).exit_code, 0);
  const std::string by_name = absl::StrCat("localhost:", server_->port());
  EXPECT_EQ(Signoffctl({"--ca", Path("ca.pem"), "health"}, {}, by_name).exit_code, 0);
  EXPECT_EQ(Signoffctl({"--ca", Path("ca.pem"), "--tls-server-name", "localhost", "health"})
                .exit_code,
            0);

  const int unavailable = ExitCodeOf(grpc::StatusCode::UNAVAILABLE);
  ProgramResult other_ca = Signoffctl({"--ca", Path("other-ca.pem"), "health"});
  EXPECT_EQ(other_ca.exit_code, unavailable) << other_ca.err;
  EXPECT_THAT(other_ca.err, HasSubstr("UNAVAILABLE"));
  // The test CA is not among the system's.
  EXPECT_EQ(Signoffctl({"--tls", "health"}).exit_code, unavailable);
  EXPECT_EQ(Signoffctl({"health"}, {"SIGNOFF_TLS=true"}).exit_code, unavailable);
  EXPECT_EQ(Signoffctl({"health"}).exit_code, unavailable);
  EXPECT_EQ(Signoffctl({"--ca", Path("ca.pem"), "--tls-server-name", "signoff.example.com",
                        "health"})
                .exit_code,
            unavailable);

  ProgramResult missing = Signoffctl({"--ca", Path("missing.pem"), "health"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("--ca: cannot read"));
  ProgramResult not_a_certificate = Signoffctl({"--ca", Path("server.key"), "health"});
  EXPECT_EQ(not_a_certificate.exit_code, 2) << not_a_certificate.err;
  EXPECT_THAT(not_a_certificate.err, HasSubstr("holds no PEM certificate"));
}

TEST_F(CliTransportTest, MutualTlsTakesOnlyAClientCertificateFromTheServersCa) {
  StartServer(MutualTlsFlags());
  ProgramResult accepted = Signoffctl(
      {"--ca", Path("ca.pem"), "--cert", Path("client.pem"), "--key", Path("client.key"), "health"});
  EXPECT_EQ(accepted.exit_code, 0) << accepted.err;
  ProgramResult from_environment =
      Signoffctl({"health"}, {"SIGNOFF_CA=" + Path("ca.pem"), "SIGNOFF_CERT=" + Path("client.pem"),
                              "SIGNOFF_KEY=" + Path("client.key")});
  EXPECT_EQ(from_environment.exit_code, 0) << from_environment.err;

  const int unavailable = ExitCodeOf(grpc::StatusCode::UNAVAILABLE);
  ProgramResult without = Signoffctl({"--ca", Path("ca.pem"), "health"});
  EXPECT_EQ(without.exit_code, unavailable) << without.err;
  ProgramResult stranger = Signoffctl({"--ca", Path("ca.pem"), "--cert", Path("stranger.pem"),
                                       "--key", Path("stranger.key"), "health"});
  EXPECT_EQ(stranger.exit_code, unavailable) << stranger.err;

  ProgramResult no_key = Signoffctl({"--ca", Path("ca.pem"), "--cert", Path("client.pem"), "health"});
  EXPECT_EQ(no_key.exit_code, 2) << no_key.err;
  EXPECT_THAT(no_key.err, HasSubstr("--cert and --key go together"));
  EXPECT_EQ(Signoffctl({"--ca", Path("ca.pem"), "--key", Path("client.key"), "health"}).exit_code,
            2);
  ProgramResult wrong_key = Signoffctl({"--ca", Path("ca.pem"), "--cert", Path("client.pem"),
                                        "--key", Path("stranger.key"), "health"});
  EXPECT_EQ(wrong_key.exit_code, 2) << wrong_key.err;
  EXPECT_THAT(wrong_key.err, HasSubstr("is not the key of"));
  ProgramResult unreadable_key = Signoffctl({"--ca", Path("ca.pem"), "--cert", Path("client.pem"),
                                             "--key", Path("missing.key"), "health"});
  EXPECT_EQ(unreadable_key.exit_code, 2) << unreadable_key.err;
  EXPECT_THAT(unreadable_key.err, HasSubstr("--key: cannot read"));
}

TEST_F(CliTransportTest, ATokenOverMutualTls) {
  std::vector<std::string> flags = JwtFlags();
  for (const std::string& flag : MutualTlsFlags()) flags.push_back(flag);
  StartServer(flags);
  WriteTextFile(dir_ / "token", Token("carl.yuan"));
  const std::vector<std::string> tls = {"--ca", Path("ca.pem"), "--cert", Path("client.pem"),
                                        "--key", Path("client.key")};
  std::vector<std::string> with_token = tls;
  with_token.insert(with_token.end(), {"--token-file", Path("token"), "task", "list"});
  ProgramResult accepted = Signoffctl(with_token);
  EXPECT_EQ(accepted.exit_code, 0) << accepted.err;
  std::vector<std::string> without_token = tls;
  without_token.insert(without_token.end(), {"task", "list"});
  EXPECT_EQ(Signoffctl(without_token).exit_code, ExitCodeOf(grpc::StatusCode::UNAUTHENTICATED));
}

TEST_F(CliTransportTest, AServiceAccountsCertificateNamesTheCallerOfACallWithoutAToken) {
  std::vector<std::string> flags = JwtFlags();
  for (const std::string& flag : MutualTlsFlags()) flags.push_back(flag);
  flags.push_back("--tls-client-identity=uri");
  StartServer(flags);
  WriteClientCertificate("doc-check", "URI:spiffe://signoff.example/ns/ops/sa/svc-doc-check");
  WriteClientCertificate("carl", "URI:spiffe://signoff.example/ns/ops/sa/carl.yuan");
  WriteTextFile(dir_ / "org.yaml",
                "departments: [{id: audit, name: Audit, parent: exec, head: ada.audit}]\n"
                "users: [{id: ada.audit, display_name: Ada, department: audit, "
                "manager: grace.liu, roles: [{role: auditor}]}]\n");
  // signoffctl over the certificate `name`, with `args`.
  auto over = [this](const std::string& name, const std::vector<std::string>& args) {
    std::vector<std::string> all = {"--ca", Path("ca.pem"), "--cert", Path(name + ".pem"),
                                    "--key", Path(name + ".key")};
    all.insert(all.end(), args.begin(), args.end());
    return Signoffctl(all);
  };

  ProgramResult service_lists = over("doc-check", {"task", "list"});
  EXPECT_EQ(service_lists.exit_code, 0) << service_lists.err;
  // svc-doc-check is authenticated, but administers nothing.
  ProgramResult service_imports = over("doc-check", {"directory", "import", Path("org.yaml")});
  EXPECT_EQ(service_imports.exit_code, ExitCodeOf(grpc::StatusCode::PERMISSION_DENIED))
      << service_imports.err;
  // A certificate never stands for a person, administrator or not.
  ProgramResult person = over("carl", {"task", "list"});
  EXPECT_EQ(person.exit_code, ExitCodeOf(grpc::StatusCode::UNAUTHENTICATED)) << person.err;
  EXPECT_THAT(person.err, HasSubstr("not an enabled service account"));
  ProgramResult unnamed = over("client", {"task", "list"});
  EXPECT_EQ(unnamed.exit_code, ExitCodeOf(grpc::StatusCode::UNAUTHENTICATED)) << unnamed.err;

  // A token names the caller whatever the certificate: carl.yuan's imports
  // over svc-doc-check's connection; a bad one is refused, not taken for
  // the certificate's account.
  WriteTextFile(dir_ / "token", Token("carl.yuan"));
  ProgramResult token_imports = over(
      "doc-check", {"--token-file", Path("token"), "directory", "import", Path("org.yaml")});
  EXPECT_EQ(token_imports.exit_code, 0) << token_imports.err;
  ProgramResult bad_token = over("doc-check", {"--token", "not.a.token", "task", "list"});
  EXPECT_EQ(bad_token.exit_code, ExitCodeOf(grpc::StatusCode::UNAUTHENTICATED)) << bad_token.err;
}

}  // namespace
}  // namespace signoff::testing
