// JWKS documents, as signoffd reads them from its --jwks file: parsed, and
// every key taken from them tried on a signature.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_input.h"
#include "server/auth/jwks.h"
#include "server/auth/jws_signature.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace auth = ::signoff::server::auth;
  auto keys = auth::ParseJwks(signoff::fuzz::TextOf(data, size));
  if (!keys.ok()) return 0;
  // A signature of the right length for each algorithm, so that each key
  // reaches its verification rather than a length check.
  for (const auth::Jwk& key : keys->keys) {
    auth::SignatureMatches(key, "header.payload", std::string(32, 's'));
    auth::SignatureMatches(key, "header.payload", std::string(64, 's'));
    auth::SignatureMatches(key, "header.payload", std::string(256, 's'));
  }
  return 0;
}
