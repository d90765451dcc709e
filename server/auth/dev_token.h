#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/auth/jwks.h"

namespace signoff::server::auth {

// What `signoffd dev-token` signs, for local trials of --auth=jwt.
struct DevTokenClaims {
  std::string user;
  std::string issuer = "signoff-dev";
  std::string audience = "signoff";
  absl::Time issued_at;
  absl::Duration lifetime = absl::Hours(1);
  std::string kid;
};

// A compact JWS signed with an RSA (RS256) or P-256 (ES256) private key.
absl::StatusOr<std::string> SignDevToken(EVP_PKEY* key, const DevTokenClaims& claims);

// The same with an HMAC secret (HS256); tests sign with it.
std::string SignDevTokenWithSecret(const std::string& secret, const DevTokenClaims& claims);

// A compact JWS of any header and payload JSON with any signature, for
// tests that build tokens a real issuer would not.
std::string CompactJws(const std::string& header_json, const std::string& payload_json,
                       const std::string& signature);

}  // namespace signoff::server::auth
