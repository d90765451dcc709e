#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace signoff::server {

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  // When set, clients must present a certificate this CA signed (mTLS).
  std::string client_ca_file;
  // How often the files are looked at for a renewed certificate.
  unsigned int refresh_seconds = 60;
};

// The gRPC listener's credentials: plaintext without certificate files,
// else TLS from files that are watched, so that a renewed certificate is
// served without a restart. INVALID_ARGUMENT when only one of cert and key
// is given, or when the files do not hold a certificate and its key.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(
    const TlsFiles& files);

}  // namespace signoff::server
