// The bearer token checks, with keys made at test time.
#include "server/auth/jwt_verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/auth/dev_token.h"
#include "server/auth/json_object.h"
#include "server/auth/jwks.h"
#include "server/auth/jwks_file.h"
#include "server/auth/jws_signature.h"
#include "status_matchers.h"
#include "test_keys.h"

namespace signoff::server::auth {
namespace {

using ::signoff::testing::GenerateP256Key;
using ::signoff::testing::GenerateRsaKey;
using ::signoff::testing::TestKey;
using ::testing::HasSubstr;

const absl::Time kIssuedAt = absl::FromUnixSeconds(1767225600);
const std::string kHmacSecret = "0123456789abcdef0123456789abcdef";

// One key of a JWKS, as an element of "keys".
std::string JwkOf(EVP_PKEY* key, const std::string& kid) {
  auto jwks = PublicJwksOf(key, kid);
  EXPECT_TRUE(jwks.ok()) << jwks.status();
  const std::string text = *jwks;
  const size_t begin = text.find('[') + 1;
  return text.substr(begin, text.rfind(']') - begin);
}

std::string HmacJwk(const std::string& kid) {
  return absl::StrCat("{\"kty\":\"oct\",\"kid\":\"", kid, "\",\"k\":\"",
                      Base64UrlEncode(kHmacSecret), "\"}");
}

std::string Jwks(const std::vector<std::string>& keys) {
  return absl::StrCat("{\"keys\":[", absl::StrJoin(keys, ","), "]}");
}

DevTokenClaims Claims(const std::string& kid) {
  DevTokenClaims claims;
  claims.user = "bob.zhang";
  claims.issuer = "https://id.example.com";
  claims.audience = "signoff";
  claims.issued_at = kIssuedAt;
  claims.lifetime = absl::Hours(1);
  claims.kid = kid;
  return claims;
}

std::string Sign(EVP_PKEY* key, const DevTokenClaims& claims) {
  auto token = SignDevToken(key, claims);
  EXPECT_TRUE(token.ok()) << token.status();
  return token.value_or("");
}

class JwtVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rsa_ = GenerateRsaKey();
    ec_ = GenerateP256Key();
    ASSERT_NE(rsa_, nullptr);
    ASSERT_NE(ec_, nullptr);
    UseKeys(Jwks({JwkOf(rsa_.get(), "rsa-1"), JwkOf(ec_.get(), "ec-1"), HmacJwk("hmac-1")}));
  }

  void UseKeys(const std::string& jwks) {
    auto keys = ParseJwks(jwks);
    ASSERT_OK(keys);
    keys_ = std::make_shared<const KeySet>(*std::move(keys));
  }

  absl::StatusOr<std::string> Verify(const std::string& token, absl::Time now = kIssuedAt) {
    JwtOptions options;
    options.issuer = "https://id.example.com";
    options.audience = "signoff";
    options.clock_skew = absl::Seconds(60);
    std::shared_ptr<const KeySet> keys = keys_;
    return JwtVerifier(options, [keys] { return keys; }).Verify(token, now);
  }

  // Expects UNAUTHENTICATED with `why` in the message.
  void ExpectRefused(const std::string& token, const std::string& why,
                     absl::Time now = kIssuedAt) {
    auto user = Verify(token, now);
    EXPECT_EQ(user.status().code(), absl::StatusCode::kUnauthenticated) << user.status();
    EXPECT_THAT(std::string(user.status().message()), HasSubstr(why));
  }

  // An HS256 token of any payload, signed correctly.
  std::string HmacToken(const std::string& payload) {
    const std::string header = R"({"alg":"HS256","kid":"hmac-1"})";
    const std::string input =
        absl::StrCat(Base64UrlEncode(header), ".", Base64UrlEncode(payload));
    return CompactJws(header, payload, SignWithSecret(kHmacSecret, input));
  }

  TestKey rsa_;
  TestKey ec_;
  std::shared_ptr<const KeySet> keys_;
};

TEST_F(JwtVerifierTest, AcceptsRs256Es256AndHs256Tokens) {
  ASSERT_OK_AND_ASSIGN(auto rsa_user, Verify(Sign(rsa_.get(), Claims("rsa-1"))));
  EXPECT_EQ(rsa_user, "bob.zhang");
  ASSERT_OK_AND_ASSIGN(auto ec_user, Verify(Sign(ec_.get(), Claims("ec-1"))));
  EXPECT_EQ(ec_user, "bob.zhang");
  ASSERT_OK_AND_ASSIGN(auto hmac_user,
                       Verify(SignDevTokenWithSecret(kHmacSecret, Claims("hmac-1"))));
  EXPECT_EQ(hmac_user, "bob.zhang");
}

TEST_F(JwtVerifierTest, WithoutKidAKeyOfTheTokensAlgorithmIsTried) {
  ASSERT_OK_AND_ASSIGN(auto user, Verify(Sign(ec_.get(), Claims(""))));
  EXPECT_EQ(user, "bob.zhang");
}

TEST_F(JwtVerifierTest, ExpiryAllowsTheClockSkewToTheSecond) {
  const std::string token = Sign(rsa_.get(), Claims("rsa-1"));
  const absl::Time expires = kIssuedAt + absl::Hours(1);
  EXPECT_OK(Verify(token, expires + absl::Seconds(59)));
  ExpectRefused(token, "expired", expires + absl::Seconds(61));
}

TEST_F(JwtVerifierTest, NotBeforeAllowsTheClockSkewToTheSecond) {
  const std::string token = Sign(rsa_.get(), Claims("rsa-1"));
  EXPECT_OK(Verify(token, kIssuedAt - absl::Seconds(59)));
  ExpectRefused(token, "not valid before", kIssuedAt - absl::Seconds(61));
}

// Found by tests/fuzz/bearer_token_fuzzer: such times were converted to
// int64 seconds, which is undefined for them.
TEST_F(JwtVerifierTest, TimesBeyondAnyClockAreRefusedAsInfinitelyFar) {
  ExpectRefused(
      HmacToken(R"({"iss":"https://id.example.com","aud":"signoff","sub":"bob","exp":-1e300})"),
      "expired at infinite-past");
  ExpectRefused(HmacToken(R"({"iss":"https://id.example.com","aud":"signoff","sub":"bob",)"
                          R"("exp":1e300,"nbf":1.8e19})"),
                "not valid before infinite-future");
}

TEST_F(JwtVerifierTest, RefusesAnotherIssuerOrAudience) {
  DevTokenClaims issuer = Claims("rsa-1");
  issuer.issuer = "https://evil.example.com";
  ExpectRefused(Sign(rsa_.get(), issuer), "iss is not https://id.example.com");
  DevTokenClaims audience = Claims("rsa-1");
  audience.audience = "payroll";
  ExpectRefused(Sign(rsa_.get(), audience), "aud does not include signoff");
}

TEST_F(JwtVerifierTest, AnAudienceArrayMustHoldTheAudience) {
  const std::string exp = absl::StrCat(absl::ToUnixSeconds(kIssuedAt) + 600);
  EXPECT_OK(Verify(HmacToken(absl::StrCat(
      R"({"iss":"https://id.example.com","aud":["payroll","signoff"],"sub":"bob.zhang","exp":)",
      exp, "}"))));
  ExpectRefused(HmacToken(absl::StrCat(
                    R"({"iss":"https://id.example.com","aud":["payroll"],"sub":"bob.zhang","exp":)",
                    exp, "}")),
                "aud does not include signoff");
}

TEST_F(JwtVerifierTest, RefusesTokensWithoutExpiryOrUser) {
  ExpectRefused(HmacToken(R"({"iss":"https://id.example.com","aud":"signoff","sub":"bob"})"),
                "no numeric exp");
  const std::string exp = absl::StrCat(absl::ToUnixSeconds(kIssuedAt) + 600);
  ExpectRefused(HmacToken(absl::StrCat(R"({"iss":"https://id.example.com","aud":"signoff","exp":)",
                                       exp, "}")),
                "no string claim sub");
}

TEST_F(JwtVerifierTest, RefusesAnUnknownKidAndAnotherKeysSignature) {
  ExpectRefused(Sign(rsa_.get(), Claims("rsa-9")), "no key has kid rsa-9");
  TestKey other = GenerateRsaKey();
  ExpectRefused(Sign(other.get(), Claims("rsa-1")), "signature does not verify");
}

TEST_F(JwtVerifierTest, RefusesAlgNone) {
  const std::string payload = absl::StrCat(
      R"({"iss":"https://id.example.com","aud":"signoff","sub":"ceo","exp":)",
      absl::ToUnixSeconds(kIssuedAt) + 600, "}");
  ExpectRefused(CompactJws(R"({"alg":"none"})", payload, ""), "alg none");
  ExpectRefused(CompactJws(R"({"alg":"none","kid":"rsa-1"})", payload, ""), "alg none");
}

TEST_F(JwtVerifierTest, RefusesAnHmacTokenKeyedWithTheRsaPublicKey) {
  // The classic confusion: the public key, which anyone has, used as an
  // HMAC secret under the RSA key's kid.
  const std::string public_pem = ::signoff::testing::PublicKeyPem(rsa_.get());
  DevTokenClaims claims = Claims("rsa-1");
  claims.user = "ceo";
  ExpectRefused(SignDevTokenWithSecret(public_pem, claims), "alg HS256 does not match key rsa-1");
  // Without a kid, no HMAC key accepts it either.
  UseKeys(Jwks({JwkOf(rsa_.get(), "rsa-1")}));
  claims.kid = "";
  ExpectRefused(SignDevTokenWithSecret(public_pem, claims), "no key for alg HS256");
}

TEST_F(JwtVerifierTest, RefusesATamperedPayload) {
  const std::vector<std::string> parts =
      absl::StrSplit(Sign(rsa_.get(), Claims("rsa-1")), '.');
  ASSERT_EQ(parts.size(), 3u);
  const std::string forged = absl::StrCat(
      R"({"iss":"https://id.example.com","aud":"signoff","sub":"ceo","exp":)",
      absl::ToUnixSeconds(kIssuedAt) + 600, "}");
  ExpectRefused(absl::StrCat(parts[0], ".", Base64UrlEncode(forged), ".", parts[2]),
                "signature does not verify");
}

TEST_F(JwtVerifierTest, RefusesMalformedTokens) {
  const std::string header = Base64UrlEncode(R"({"alg":"HS256","kid":"hmac-1"})");
  ExpectRefused("", "three base64url parts");
  ExpectRefused("abc.def", "three base64url parts");
  ExpectRefused("a.b.c.d", "three base64url parts");
  ExpectRefused(absl::StrCat("!!!.", header, ".abc"), "header is not base64url");
  ExpectRefused(absl::StrCat(header, ".", Base64UrlEncode("not json"), ".abc"),
                "payload is not a JSON object");
  ExpectRefused(absl::StrCat(Base64UrlEncode("[1,2]"), ".", header, ".abc"),
                "header is not a JSON object");
  ExpectRefused(absl::StrCat(header, ".", header, ".a=b"), "signature is not base64url");
}

TEST(JwksTest, SkipsKeysSignoffCannotUseAndRefusesASetWithoutAny) {
  TestKey weak = ::signoff::testing::GenerateKey(EVP_PKEY_RSA, 1024);
  auto only_weak = ParseJwks(Jwks({JwkOf(weak.get(), "weak")}));
  EXPECT_EQ(only_weak.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(only_weak.status().message()), HasSubstr("no usable key"));
  TestKey ec = GenerateP256Key();
  ASSERT_OK_AND_ASSIGN(auto mixed, ParseJwks(Jwks({JwkOf(weak.get(), "weak"), JwkOf(ec.get(), "ec"),
                                                   R"({"kty":"OKP","kid":"ed"})"})));
  ASSERT_EQ(mixed.keys.size(), 1u);
  EXPECT_EQ(mixed.keys[0].kid, "ec");
  EXPECT_EQ(mixed.skipped.size(), 2u);
  EXPECT_FALSE(ParseJwks("not json").ok());
  EXPECT_FALSE(ParseJwks(R"({"keys":{}})").ok());
}

TEST(JwksFileTest, ARotatedFileIsUsedAndABrokenOneKeepsTheKeys) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    absl::StrCat("signoff-jwks-test-", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::filesystem::path path = dir / "jwks.json";
  TestKey old_key = GenerateRsaKey();
  TestKey new_key = GenerateP256Key();
  ::signoff::testing::WriteTextFile(path, Jwks({JwkOf(old_key.get(), "2025")}));
  ASSERT_OK_AND_ASSIGN(auto file, JwksFile::Open(path.string(), std::chrono::seconds(0)));
  JwtOptions options;
  options.issuer = "https://id.example.com";
  options.audience = "signoff";
  JwksFile* keys = file.get();
  JwtVerifier verifier(options, [keys] { return keys->Keys(); });
  const std::string old_token = Sign(old_key.get(), Claims("2025"));
  const std::string new_token = Sign(new_key.get(), Claims("2026"));
  EXPECT_OK(verifier.Verify(old_token, kIssuedAt));
  EXPECT_FALSE(verifier.Verify(new_token, kIssuedAt).ok());

  // Replaced the way a Secret volume does it: a new file renamed over.
  ::signoff::testing::WriteTextFile(dir / "next.json", Jwks({JwkOf(new_key.get(), "2026")}));
  std::filesystem::rename(dir / "next.json", path);
  EXPECT_EQ(verifier.Verify(old_token, kIssuedAt).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_OK(verifier.Verify(new_token, kIssuedAt));

  ::signoff::testing::WriteTextFile(path, "{\"keys\": [");
  EXPECT_OK(verifier.Verify(new_token, kIssuedAt));
  std::filesystem::remove_all(dir);
}

TEST(JwksFileTest, OpeningAMissingOrKeylessFileFails) {
  EXPECT_EQ(JwksFile::Open("/nonexistent/jwks.json").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace signoff::server::auth
