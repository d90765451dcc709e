#include "server/auth/dev_token.h"

#include "absl/strings/str_cat.h"
#include "server/auth/json_object.h"
#include "server/auth/jws_signature.h"
#include "server/json_log.h"

namespace signoff::server::auth {

namespace {

std::string HeaderJson(const std::string& alg, const std::string& kid) {
  return absl::StrCat("{\"alg\":\"", alg, "\",\"typ\":\"JWT\"",
                      kid.empty() ? "" : absl::StrCat(",\"kid\":\"", JsonEscape(kid), "\""), "}");
}

std::string PayloadJson(const DevTokenClaims& claims) {
  const int64_t issued = absl::ToUnixSeconds(claims.issued_at);
  return absl::StrCat("{\"iss\":\"", JsonEscape(claims.issuer), "\",\"aud\":\"",
                      JsonEscape(claims.audience), "\",\"sub\":\"", JsonEscape(claims.user),
                      "\",\"iat\":", issued, ",\"nbf\":", issued,
                      ",\"exp\":", issued + absl::ToInt64Seconds(claims.lifetime), "}");
}

std::string SigningInput(const std::string& header_json, const std::string& payload_json) {
  return absl::StrCat(Base64UrlEncode(header_json), ".", Base64UrlEncode(payload_json));
}

}  // namespace

absl::StatusOr<std::string> SignDevToken(EVP_PKEY* key, const DevTokenClaims& claims) {
  const char* alg = EVP_PKEY_is_a(key, "RSA") ? "RS256" : EVP_PKEY_is_a(key, "EC") ? "ES256" : "";
  if (*alg == '\0') return absl::InvalidArgumentError("only RSA and EC P-256 keys can sign");
  const std::string input = SigningInput(HeaderJson(alg, claims.kid), PayloadJson(claims));
  const std::string signature = SignWithPrivateKey(key, input);
  if (signature.empty()) return absl::InvalidArgumentError("OpenSSL could not sign the token");
  return absl::StrCat(input, ".", Base64UrlEncode(signature));
}

std::string SignDevTokenWithSecret(const std::string& secret, const DevTokenClaims& claims) {
  const std::string input = SigningInput(HeaderJson("HS256", claims.kid), PayloadJson(claims));
  return absl::StrCat(input, ".", Base64UrlEncode(SignWithSecret(secret, input)));
}

std::string CompactJws(const std::string& header_json, const std::string& payload_json,
                       const std::string& signature) {
  return absl::StrCat(SigningInput(header_json, payload_json), ".", Base64UrlEncode(signature));
}

}  // namespace signoff::server::auth
