#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/auth/jwks.h"

namespace signoff::server::auth {

struct JwtOptions {
  std::string issuer;
  // The token's "aud" (a string or an array) must hold this.
  std::string audience;
  // How far the issuer's clock may be from signoffd's, for exp and nbf.
  absl::Duration clock_skew = absl::Seconds(60);
  // The claim naming the directory user.
  std::string user_claim = "sub";
};

// Checks signed JWTs (RFC 7519) against a key set: the signature (RS256,
// ES256, HS256, with the key chosen by kid), then iss, aud, exp and nbf.
// Every refusal is UNAUTHENTICATED with a message saying why.
class JwtVerifier {
 public:
  using KeySource = std::function<std::shared_ptr<const KeySet>()>;

  JwtVerifier(JwtOptions options, KeySource keys)
      : options_(std::move(options)), keys_(std::move(keys)) {}

  // The directory user the token names.
  absl::StatusOr<std::string> Verify(const std::string& token, absl::Time now) const;

 private:
  const JwtOptions options_;
  const KeySource keys_;
};

}  // namespace signoff::server::auth
