#include "server/auth/jwks.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "server/auth/json_object.h"
#include "server/json_log.h"

namespace signoff::server::auth {

namespace {

// RSA keys shorter than this are refused (NIST SP 800-131A).
constexpr int kMinRsaBits = 2048;
// HS256 keys shorter than the hash are refused (RFC 7518 section 3.2).
constexpr size_t kMinHmacSecretBytes = 32;

struct BignumFree {
  void operator()(BIGNUM* number) const { BN_free(number); }
};
using BignumPtr = std::unique_ptr<BIGNUM, BignumFree>;

EvpPkeyPtr Own(EVP_PKEY* key) { return EvpPkeyPtr(key, EvpPkeyFree()); }

BignumPtr BignumOf(const std::string& big_endian) {
  return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                             static_cast<int>(big_endian.size()), nullptr));
}

std::string BytesOf(const BIGNUM* number, int width = 0) {
  std::string bytes(width > 0 ? width : BN_num_bytes(number), '\0');
  BN_bn2binpad(number, reinterpret_cast<unsigned char*>(bytes.data()),
               static_cast<int>(bytes.size()));
  return bytes;
}

// A key from OpenSSL parameters built by `add`; nullptr when OpenSSL refuses
// them.
template <typename AddParameters>
EvpPkeyPtr KeyFromParameters(const char* openssl_type, AddParameters add) {
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(),
                                                                         OSSL_PARAM_BLD_free);
  if (builder == nullptr || !add(builder.get())) return nullptr;
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(
      OSSL_PARAM_BLD_to_param(builder.get()), OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
      EVP_PKEY_CTX_new_from_name(nullptr, openssl_type, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (params == nullptr || context == nullptr || EVP_PKEY_fromdata_init(context.get()) <= 0 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return nullptr;
  }
  return Own(key);
}

absl::StatusOr<std::string> DecodedMember(const google::protobuf::Struct& jwk,
                                          const std::string& name) {
  auto text = StringMember(jwk, name);
  if (!text) return absl::InvalidArgumentError(absl::StrCat("has no \"", name, "\""));
  auto bytes = Base64UrlDecode(*text);
  if (!bytes || bytes->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is not base64url"));
  }
  return *bytes;
}

absl::StatusOr<Jwk> RsaKeyOf(const google::protobuf::Struct& object) {
  auto n = DecodedMember(object, "n");
  if (!n.ok()) return n.status();
  auto e = DecodedMember(object, "e");
  if (!e.ok()) return e.status();
  BignumPtr modulus = BignumOf(*n);
  BignumPtr exponent = BignumOf(*e);
  if (BN_num_bits(modulus.get()) < kMinRsaBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("RSA key of ", BN_num_bits(modulus.get()), " bits; at least ", kMinRsaBits,
                     " are needed"));
  }
  Jwk jwk;
  jwk.type = KeyType::kRsa;
  jwk.public_key = KeyFromParameters("RSA", [&](OSSL_PARAM_BLD* builder) {
    return OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_N, modulus.get()) &&
           OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_E, exponent.get());
  });
  if (jwk.public_key == nullptr) return absl::InvalidArgumentError("not a valid RSA key");
  return jwk;
}

absl::StatusOr<Jwk> EcKeyOf(const google::protobuf::Struct& object) {
  if (StringMember(object, "crv").value_or("") != "P-256") {
    return absl::InvalidArgumentError("EC key not on curve P-256");
  }
  auto x = DecodedMember(object, "x");
  if (!x.ok()) return x.status();
  auto y = DecodedMember(object, "y");
  if (!y.ok()) return y.status();
  if (x->size() != 32 || y->size() != 32) {
    return absl::InvalidArgumentError("P-256 coordinates must be 32 bytes each");
  }
  // The uncompressed point: 0x04, then x, then y (SEC 1 section 2.3.3).
  std::string point = absl::StrCat("\x04", *x, *y);
  Jwk jwk;
  jwk.type = KeyType::kEcP256;
  jwk.public_key = KeyFromParameters("EC", [&](OSSL_PARAM_BLD* builder) {
    return OSSL_PARAM_BLD_push_utf8_string(builder, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1",
                                           0) &&
           OSSL_PARAM_BLD_push_octet_string(builder, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                            point.size());
  });
  if (jwk.public_key == nullptr) return absl::InvalidArgumentError("not a point on P-256");
  return jwk;
}

absl::StatusOr<Jwk> HmacKeyOf(const google::protobuf::Struct& object) {
  auto secret = DecodedMember(object, "k");
  if (!secret.ok()) return secret.status();
  if (secret->size() < kMinHmacSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("HMAC secret shorter than ", kMinHmacSecretBytes, " bytes"));
  }
  Jwk jwk;
  jwk.type = KeyType::kHmac;
  jwk.secret = *std::move(secret);
  return jwk;
}

absl::StatusOr<Jwk> KeyOf(const google::protobuf::Struct& object) {
  const std::string use = StringMember(object, "use").value_or("sig");
  if (use != "sig") return absl::InvalidArgumentError(absl::StrCat("\"use\" is \"", use, "\""));
  const std::string kty = StringMember(object, "kty").value_or("");
  absl::StatusOr<Jwk> jwk;
  if (kty == "RSA") {
    jwk = RsaKeyOf(object);
  } else if (kty == "EC") {
    jwk = EcKeyOf(object);
  } else if (kty == "oct") {
    jwk = HmacKeyOf(object);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unsupported kty \"", kty, "\""));
  }
  if (!jwk.ok()) return jwk.status();
  jwk->kid = StringMember(object, "kid").value_or("");
  jwk->alg = StringMember(object, "alg").value_or("");
  if (!jwk->alg.empty() && jwk->alg != AlgorithmOf(jwk->type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("alg \"", jwk->alg, "\" does not fit kty \"", kty, "\""));
  }
  return jwk;
}

}  // namespace

const char* AlgorithmOf(KeyType type) {
  switch (type) {
    case KeyType::kRsa:
      return "RS256";
    case KeyType::kEcP256:
      return "ES256";
    case KeyType::kHmac:
      return "HS256";
  }
  return "";
}

absl::StatusOr<KeySet> ParseJwks(const std::string& json) {
  auto document = ParseJsonObject(json, "the JWKS");
  if (!document.ok()) return document.status();
  auto keys = document->fields().find("keys");
  if (keys == document->fields().end() || !keys->second.has_list_value()) {
    return absl::InvalidArgumentError("the JWKS has no \"keys\" array");
  }
  KeySet set;
  int index = 0;
  for (const auto& value : keys->second.list_value().values()) {
    const std::string name = absl::StrCat("key ", index++);
    if (!value.has_struct_value()) {
      set.skipped.push_back(absl::StrCat(name, ": not an object"));
      continue;
    }
    auto jwk = KeyOf(value.struct_value());
    if (jwk.ok()) {
      set.keys.push_back(*std::move(jwk));
    } else {
      const std::string kid = StringMember(value.struct_value(), "kid").value_or("");
      set.skipped.push_back(absl::StrCat(name, kid.empty() ? "" : absl::StrCat(" (kid ", kid, ")"),
                                         ": ", jwk.status().message()));
    }
  }
  if (set.keys.empty()) {
    std::string reasons;
    for (const auto& skipped : set.skipped) absl::StrAppend(&reasons, "; ", skipped);
    return absl::InvalidArgumentError(absl::StrCat("the JWKS has no usable key", reasons));
  }
  return set;
}

absl::StatusOr<std::string> PublicJwksOf(EVP_PKEY* key, const std::string& kid) {
  std::string members;
  if (EVP_PKEY_is_a(key, "RSA")) {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e)) {
      BN_free(n);
      return absl::InvalidArgumentError("cannot read the RSA key's public half");
    }
    BignumPtr modulus(n), exponent(e);
    members = absl::StrCat("\"kty\":\"RSA\",\"alg\":\"RS256\",\"n\":\"",
                           Base64UrlEncode(BytesOf(n)), "\",\"e\":\"",
                           Base64UrlEncode(BytesOf(e)), "\"");
  } else if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    BIGNUM* x = nullptr;
    BIGNUM* y = nullptr;
    if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        nullptr) ||
        std::string(group) != "prime256v1") {
      return absl::InvalidArgumentError("only EC keys on P-256 (prime256v1) are supported");
    }
    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y)) {
      BN_free(x);
      return absl::InvalidArgumentError("cannot read the EC key's public point");
    }
    BignumPtr owned_x(x), owned_y(y);
    members = absl::StrCat("\"kty\":\"EC\",\"alg\":\"ES256\",\"crv\":\"P-256\",\"x\":\"",
                           Base64UrlEncode(BytesOf(x, 32)), "\",\"y\":\"",
                           Base64UrlEncode(BytesOf(y, 32)), "\"");
  } else {
    return absl::InvalidArgumentError("only RSA and EC P-256 keys are supported");
  }
  return absl::StrCat("{\"keys\":[{\"kid\":\"", JsonEscape(kid), "\",\"use\":\"sig\",", members, "}]}\n");
}

absl::StatusOr<EvpPkeyPtr> ReadPrivateKeyPem(const std::string& path) {
  std::unique_ptr<FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "r"), std::fclose);
  if (file == nullptr) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  EVP_PKEY* key = PEM_read_PrivateKey(file.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path, " holds no PEM private key"));
  }
  return Own(key);
}

}  // namespace signoff::server::auth
