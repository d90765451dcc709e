#include "server/auth/jws_signature.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>

#include <memory>

namespace signoff::server::auth {

namespace {

// ES256 signatures are two 32-byte big-endian integers (RFC 7518 section
// 3.4); OpenSSL speaks DER.
constexpr size_t kP256IntegerBytes = 32;

using DigestContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

DigestContext NewDigestContext() { return DigestContext(EVP_MD_CTX_new(), EVP_MD_CTX_free); }

const unsigned char* Bytes(const std::string& text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

std::string RawToDer(const std::string& raw) {
  if (raw.size() != 2 * kP256IntegerBytes) return "";
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(Bytes(raw), kP256IntegerBytes, nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(raw) + kP256IntegerBytes, kP256IntegerBytes, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || !ECDSA_SIG_set0(sig.get(), r, s)) {
    BN_free(r);
    BN_free(s);
    return "";
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return "";
  std::string encoded(reinterpret_cast<char*>(der), length);
  OPENSSL_free(der);
  return encoded;
}

std::string DerToRaw(const std::string& der) {
  const unsigned char* cursor = Bytes(der);
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
      d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())), ECDSA_SIG_free);
  if (sig == nullptr) return "";
  std::string raw(2 * kP256IntegerBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, kP256IntegerBytes);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + kP256IntegerBytes, kP256IntegerBytes);
  return raw;
}

std::string Hmac(const std::string& secret, const std::string& input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), Bytes(input),
           input.size(), mac, &length) == nullptr) {
    return "";
  }
  return std::string(reinterpret_cast<char*>(mac), length);
}

bool PublicKeyVerifies(EVP_PKEY* key, const std::string& input, const std::string& signature) {
  DigestContext context = NewDigestContext();
  return context != nullptr &&
         EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
         EVP_DigestVerify(context.get(), Bytes(signature), signature.size(), Bytes(input),
                          input.size()) == 1;
}

}  // namespace

bool SignatureMatches(const Jwk& key, const std::string& signing_input,
                      const std::string& signature) {
  switch (key.type) {
    case KeyType::kHmac: {
      const std::string expected = Hmac(key.secret, signing_input);
      return !expected.empty() && expected.size() == signature.size() &&
             CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) == 0;
    }
    case KeyType::kRsa:
      return PublicKeyVerifies(key.public_key.get(), signing_input, signature);
    case KeyType::kEcP256: {
      const std::string der = RawToDer(signature);
      return !der.empty() && PublicKeyVerifies(key.public_key.get(), signing_input, der);
    }
  }
  return false;
}

std::string SignWithPrivateKey(EVP_PKEY* key, const std::string& signing_input) {
  DigestContext context = NewDigestContext();
  size_t length = 0;
  if (context == nullptr ||
      EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &length, Bytes(signing_input),
                     signing_input.size()) != 1) {
    return "";
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     Bytes(signing_input), signing_input.size()) != 1) {
    return "";
  }
  signature.resize(length);
  return EVP_PKEY_is_a(key, "EC") ? DerToRaw(signature) : signature;
}

std::string SignWithSecret(const std::string& secret, const std::string& signing_input) {
  return Hmac(secret, signing_input);
}

}  // namespace signoff::server::auth
