#pragma once

// Keys and certificates made at test time with OpenSSL, so that no secret
// is checked in and none outlives the test.

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace signoff::testing {

using TestKey = std::shared_ptr<EVP_PKEY>;

inline TestKey GenerateKey(int type, int rsa_bits = 2048) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
      EVP_PKEY_CTX_new_id(type, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (context == nullptr || EVP_PKEY_keygen_init(context.get()) <= 0) return nullptr;
  if (type == EVP_PKEY_RSA) EVP_PKEY_CTX_set_rsa_keygen_bits(context.get(), rsa_bits);
  if (type == EVP_PKEY_EC) EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context.get(), NID_X9_62_prime256v1);
  if (EVP_PKEY_keygen(context.get(), &key) <= 0) return nullptr;
  return TestKey(key, EVP_PKEY_free);
}

inline TestKey GenerateRsaKey() { return GenerateKey(EVP_PKEY_RSA); }
inline TestKey GenerateP256Key() { return GenerateKey(EVP_PKEY_EC); }

inline std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(length));
}

inline std::string PrivateKeyPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return BioText(bio.get());
}

inline std::string PublicKeyPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), key);
  return BioText(bio.get());
}

inline void WriteTextFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// A certificate for `key`, signed by `issuer_key` under `issuer` (itself
// when null: a self-signed CA).
struct TestCertificate {
  std::shared_ptr<X509> cert;
  TestKey key;
  std::string Pem() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_X509(bio.get(), cert.get());
    return BioText(bio.get());
  }
  std::string KeyPem() const { return PrivateKeyPem(key.get()); }
};

inline void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

// A leaf certificate carries `subject_alt_names`, in OpenSSL's config
// syntax ("URI:spiffe://signoff.test/sa/svc,DNS:svc.signoff.test"); none
// when empty. The default suits a server on this machine.
inline constexpr char kLocalhostNames[] = "DNS:localhost,IP:127.0.0.1";

inline TestCertificate MakeCertificate(const std::string& common_name,
                                       const TestCertificate* issuer, bool is_ca,
                                       long serial,
                                       const std::string& subject_alt_names = kLocalhostNames) {
  TestCertificate made{std::shared_ptr<X509>(X509_new(), X509_free), GenerateP256Key()};
  X509* cert = made.cert.get();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, made.key.get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509* issuer_cert = issuer == nullptr ? cert : issuer->cert.get();
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  if (is_ca) {
    AddExtension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    if (!subject_alt_names.empty()) {
      AddExtension(cert, issuer_cert, NID_subject_alt_name, subject_alt_names.c_str());
    }
    AddExtension(cert, issuer_cert, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  X509_sign(cert, issuer == nullptr ? made.key.get() : issuer->key.get(), EVP_sha256());
  return made;
}

}  // namespace signoff::testing
