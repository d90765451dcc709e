#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace signoff::server::auth {

// The signature algorithms signoff accepts. HS256 shares a secret with the
// issuer, so it suits tests rather than production.
enum class KeyType { kRsa, kEcP256, kHmac };

struct EvpPkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using EvpPkeyPtr = std::shared_ptr<EVP_PKEY>;

// One verification key from a JWKS.
struct Jwk {
  std::string kid;
  KeyType type = KeyType::kRsa;
  // The JWK's "alg", empty when it names none.
  std::string alg;
  // RSA and EC keys.
  EvpPkeyPtr public_key;
  // HMAC keys.
  std::string secret;
};

// The JWS "alg" a key of this type signs with: RS256, ES256 or HS256.
const char* AlgorithmOf(KeyType type);

struct KeySet {
  std::vector<Jwk> keys;
  // Why keys the set holds were left out (unknown kty, weak RSA, ...).
  std::vector<std::string> skipped;
};

// Parses a JWKS document ({"keys": [...]}). Keys signoff cannot use are
// skipped and named in `skipped`; INVALID_ARGUMENT when the text is not a
// JWKS or when no key is left.
absl::StatusOr<KeySet> ParseJwks(const std::string& json);

// The public half of a PEM private (or public) RSA or P-256 key as a JWKS
// with one key, for `signoffd dev-jwks`.
absl::StatusOr<std::string> PublicJwksOf(EVP_PKEY* key, const std::string& kid);

// Reads a PEM private key; INVALID_ARGUMENT naming the file otherwise.
absl::StatusOr<EvpPkeyPtr> ReadPrivateKeyPem(const std::string& path);

}  // namespace signoff::server::auth
