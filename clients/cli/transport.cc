#include "transport.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "form_input.h"

namespace signoff::cli {

namespace {

using Certificate = std::unique_ptr<X509, decltype(&X509_free)>;
using PrivateKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// The text of the file `option` names; one that cannot be read is a usage
// error naming the option.
absl::StatusOr<std::string> ReadOptionFile(const std::string& option, const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return UsageError(absl::StrCat(option, ": cannot read ", path));
  return text;
}

// Stops OpenSSL from asking on the terminal for the passphrase of an
// encrypted key: signoffctl runs in scripts, which would hang.
int NoPassphrase(char*, int, int, void*) { return 0; }

// The first certificate in `pem`, or null.
Certificate FirstCertificate(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return Certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
}

PrivateKey ReadPrivateKey(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return PrivateKey(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr),
                    EVP_PKEY_free);
}

absl::StatusOr<std::string> ReadCertificates(const std::string& option, const std::string& path) {
  auto pem = ReadOptionFile(option, path);
  if (pem.ok() && FirstCertificate(*pem) == nullptr) {
    return UsageError(absl::StrCat(option, ": ", path, " holds no PEM certificate"));
  }
  return pem;
}

// Fills in the client certificate and its key. gRPC would only find a
// mismatch at the handshake and report it as an unreachable server.
absl::Status ReadClientCertificate(const TransportOptions& options,
                                   grpc::SslCredentialsOptions& ssl) {
  auto chain = ReadCertificates("--cert", options.cert_file);
  if (!chain.ok()) return chain.status();
  auto key_pem = ReadOptionFile("--key", options.key_file);
  if (!key_pem.ok()) return key_pem.status();
  PrivateKey key = ReadPrivateKey(*key_pem);
  if (key == nullptr) {
    return UsageError(absl::StrCat("--key: ", options.key_file,
                                   " holds no PEM private key without a passphrase"));
  }
  if (X509_check_private_key(FirstCertificate(*chain).get(), key.get()) != 1) {
    return UsageError(
        absl::StrCat("--key: ", options.key_file, " is not the key of ", options.cert_file));
  }
  ssl.pem_cert_chain = *std::move(chain);
  ssl.pem_private_key = *std::move(key_pem);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(
    const TransportOptions& options) {
  grpc::SslCredentialsOptions ssl;
  // Empty roots: gRPC's default, the system's CAs.
  if (!options.ca_file.empty()) {
    auto roots = ReadCertificates("--ca", options.ca_file);
    if (!roots.ok()) return roots.status();
    ssl.pem_root_certs = *std::move(roots);
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return UsageError("--cert and --key go together: a client certificate and its private key");
  }
  if (!options.cert_file.empty()) {
    if (absl::Status read = ReadClientCertificate(options, ssl); !read.ok()) return read;
  }
  return grpc::SslCredentials(ssl);
}

bool IsLoopbackHost(absl::string_view host) {
  if (absl::EqualsIgnoreCase(host, "localhost") || absl::EqualsIgnoreCase(host, "localhost.")) {
    return true;
  }
  const std::string text(host);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  return inet_pton(AF_INET6, text.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// "host:port", "[v6]:port", "host" or a bare IPv6 address.
absl::string_view HostOf(absl::string_view address) {
  if (absl::ConsumePrefix(&address, "[")) return address.substr(0, address.find(']'));
  const size_t colon = address.find(':');
  if (colon == absl::string_view::npos || address.find(':', colon + 1) != absl::string_view::npos) {
    return address;
  }
  return address.substr(0, colon);
}

// Whether a gRPC target can only lead to this machine: a Unix socket,
// localhost or a loopback address. Names are not resolved; any other name
// counts as another machine.
bool StaysOnThisMachine(absl::string_view target) {
  if (absl::StartsWith(target, "unix:") || absl::StartsWith(target, "unix-abstract:")) return true;
  if (absl::ConsumePrefix(&target, "ipv4:") || absl::ConsumePrefix(&target, "ipv6:")) {
    for (absl::string_view address : absl::StrSplit(target, ',')) {
      if (!IsLoopbackHost(HostOf(address))) return false;
    }
    return true;
  }
  // "dns:host:port", "dns:///host:port" or "dns://resolver/host:port".
  if (absl::ConsumePrefix(&target, "dns:") && absl::ConsumePrefix(&target, "//")) {
    const size_t slash = target.find('/');
    if (slash == absl::string_view::npos) return false;
    target.remove_prefix(slash + 1);
  }
  return IsLoopbackHost(HostOf(target));
}

// The token from --token or --token-file, if any.
absl::StatusOr<std::string> ReadToken(const TransportOptions& options) {
  if (!options.token.empty() && !options.token_file.empty()) {
    return UsageError(
        "give --token (SIGNOFF_TOKEN) or --token-file (SIGNOFF_TOKEN_FILE), not both");
  }
  std::string token = options.token;
  std::string source = "--token";
  if (!options.token_file.empty()) {
    auto text = ReadOptionFile("--token-file", options.token_file);
    if (!text.ok()) return text.status();
    // Files end in a newline, as `signoffd dev-token > FILE` writes them.
    token = std::string(absl::StripAsciiWhitespace(*text));
    source = absl::StrCat("--token-file: ", options.token_file);
    if (token.empty()) return UsageError(absl::StrCat(source, " is empty"));
  }
  // gRPC aborts the process on a header value with a space or control
  // character in it, so such a token must stop here.
  for (const char c : token) {
    if (c <= ' ' || c > '~') {
      return UsageError(absl::StrCat(
          source, ": a bearer token is printable ASCII without spaces; this one is not"));
    }
  }
  return token;
}

}  // namespace

absl::StatusOr<Transport> ResolveTransport(const TransportOptions& options) {
  Transport transport;
  transport.address = options.address;
  auto token = ReadToken(options);
  if (!token.ok()) return token.status();
  transport.token = *std::move(token);
  const bool tls = options.tls || !options.ca_file.empty() || !options.cert_file.empty() ||
                   !options.key_file.empty() || !options.server_name.empty();
  if (!tls) {
    if (!transport.token.empty() && !options.insecure_token &&
        !StaysOnThisMachine(options.address)) {
      return UsageError(absl::StrCat(
          "the bearer token would travel in plaintext to ", options.address,
          ": use --tls (or --ca), or --insecure-token when something else encrypts the way"));
    }
    transport.credentials = grpc::InsecureChannelCredentials();
    return transport;
  }
  auto credentials = TlsCredentials(options);
  // The checks may leave errors in OpenSSL's queue of this thread, where
  // a later handshake on it would take them for its own.
  ERR_clear_error();
  if (!credentials.ok()) return credentials.status();
  transport.credentials = *std::move(credentials);
  if (!options.server_name.empty()) {
    transport.arguments.SetSslTargetNameOverride(options.server_name);
  }
  return transport;
}

}  // namespace signoff::cli
