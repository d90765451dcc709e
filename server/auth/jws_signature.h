#pragma once

#include <string>

#include "server/auth/jwks.h"

namespace signoff::server::auth {

// True when `signature` (as JWS carries it: raw r||s for ES256) signs
// `signing_input` with `key` under the key's algorithm.
bool SignatureMatches(const Jwk& key, const std::string& signing_input,
                      const std::string& signature);

// The JWS signature of `signing_input` with a private RSA or P-256 key
// (RS256 or ES256), or with an HMAC secret (HS256); empty on failure.
std::string SignWithPrivateKey(EVP_PKEY* key, const std::string& signing_input);
std::string SignWithSecret(const std::string& secret, const std::string& signing_input);

}  // namespace signoff::server::auth
