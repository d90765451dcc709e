// Bearer tokens as a caller sends them, checked against a key set with one
// key of each algorithm signoff accepts (RS256, ES256, HS256); and a
// header and claims signed with the HS256 key, to reach the claim checks.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "fuzz_input.h"
#include "server/auth/json_object.h"
#include "server/auth/jwks.h"
#include "server/auth/jws_signature.h"
#include "server/auth/jwt_verifier.h"
#include "test_keys.h"

namespace {

namespace auth = ::signoff::server::auth;
using signoff::fuzz::Required;

// A time the seed tokens hold at: after their nbf, before their exp.
const absl::Time kNow = absl::FromUnixSeconds(1767225600 + 600);
const std::string kHmacSecret = "0123456789abcdef0123456789abcdef";

// The members of the one key in a JWKS.
std::string KeyMembers(const std::string& jwks) {
  const size_t begin = jwks.find('[') + 1;
  return jwks.substr(begin, jwks.rfind(']') - begin);
}

std::shared_ptr<const auth::KeySet> KeysOfEveryAlgorithm() {
  const signoff::testing::TestKey rsa = signoff::testing::GenerateRsaKey();
  const signoff::testing::TestKey ec = signoff::testing::GenerateP256Key();
  if (rsa == nullptr || ec == nullptr) std::abort();
  const std::string jwks = absl::StrCat(
      "{\"keys\":[", KeyMembers(Required(auth::PublicJwksOf(rsa.get(), "rsa-1"))), ",",
      KeyMembers(Required(auth::PublicJwksOf(ec.get(), "ec-1"))),
      ",{\"kty\":\"oct\",\"kid\":\"hmac-1\",\"k\":\"", auth::Base64UrlEncode(kHmacSecret), "\"}]}");
  return std::make_shared<const auth::KeySet>(Required(auth::ParseJwks(jwks)));
}

const auth::JwtVerifier& Verifier() {
  static const auto* const verifier = [] {
    auth::JwtOptions options;
    options.issuer = "https://id.example.com";
    options.audience = "signoff";
    std::shared_ptr<const auth::KeySet> keys = KeysOfEveryAlgorithm();
    return new auth::JwtVerifier(options, [keys] { return keys; });
  }();
  return *verifier;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input = signoff::fuzz::TextOf(data, size);
  Verifier().Verify(input, kNow).IgnoreError();
  // Mutating base64 text seldom yields JSON and never a signature, so the
  // claim checks behind them would go untried. An input that starts with
  // '{', which no token does, is a header and claims as JSON, one per line:
  // encoded and signed with the HS256 key, as a holder of that key would.
  if (!input.empty() && input[0] == '{') {
    const size_t newline = std::min(input.find('\n'), input.size());
    const std::string signing_input =
        absl::StrCat(auth::Base64UrlEncode(input.substr(0, newline)), ".",
                     auth::Base64UrlEncode(input.substr(std::min(newline + 1, input.size()))));
    const std::string signature = auth::SignWithSecret(kHmacSecret, signing_input);
    Verifier().Verify(absl::StrCat(signing_input, ".", auth::Base64UrlEncode(signature)), kNow)
        .IgnoreError();
  }
  return 0;
}
