#include "server/tls_credentials.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace signoff::server {

namespace {

// How often the certificate files are looked at for a renewal.

using File = std::unique_ptr<FILE, decltype(&std::fclose)>;

File OpenFile(const std::string& path) { return File(std::fopen(path.c_str(), "r"), std::fclose); }

// gRPC reads the files on its own thread and only logs what it cannot
// use, so they are checked here first: a mistake stops signoffd at start.
absl::Status CheckCertificateAndKey(const TlsFiles& files) {
  File cert_file = OpenFile(files.cert_file);
  if (cert_file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("--tls-cert-file: cannot read ", files.cert_file));
  }
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_X509(cert_file.get(), nullptr, nullptr, nullptr), X509_free);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-cert-file: ", files.cert_file, " holds no PEM certificate"));
  }
  File key_file = OpenFile(files.key_file);
  if (key_file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("--tls-key-file: cannot read ", files.key_file));
  }
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_PrivateKey(key_file.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-key-file: ", files.key_file, " holds no PEM private key"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--tls-key-file: ", files.key_file,
                                                   " is not the key of ", files.cert_file));
  }
  if (files.client_ca_file.empty()) return absl::OkStatus();
  File ca_file = OpenFile(files.client_ca_file);
  std::unique_ptr<X509, decltype(&X509_free)> ca(
      ca_file == nullptr ? nullptr : PEM_read_X509(ca_file.get(), nullptr, nullptr, nullptr),
      X509_free);
  if (ca == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-client-ca-file: ", files.client_ca_file, " is not a readable PEM certificate"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(
    const TlsFiles& files) {
  if (files.cert_file.empty() != files.key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert-file and --tls-key-file go together");
  }
  if (files.cert_file.empty()) {
    if (!files.client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls-client-ca-file needs --tls-cert-file and --tls-key-file");
    }
    return grpc::InsecureServerCredentials();
  }
  if (absl::Status checked = CheckCertificateAndKey(files); !checked.ok()) return checked;
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_file, files.cert_file, files.client_ca_file, files.refresh_seconds);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (files.client_ca_file.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace signoff::server
