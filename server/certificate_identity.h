#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace signoff::server {

// Which subject alternative names of a verified client certificate name
// the service account a call without a token authenticates as.
enum class CertificateIdentity {
  // The certificate only admits the connection; the call names its caller.
  kNone,
  // The last path segment of its URI SANs:
  // spiffe://example.org/ns/ops/sa/svc-doc-check names svc-doc-check.
  kUri,
  // The first label of its DNS SANs: svc-doc-check.signoff.internal names
  // svc-doc-check.
  kDns,
};

// "none", "uri" or "dns"; INVALID_ARGUMENT otherwise.
absl::StatusOr<CertificateIdentity> ParseCertificateIdentity(absl::string_view name);

// The gRPC auth context property holding the SANs `identity` reads.
const char* SanPropertyOf(CertificateIdentity identity);

// The user that a certificate's SANs of the kind `identity` reads name.
// Every such SAN must name the same one: UNAUTHENTICATED when there is
// none, when one names no user (a URI without a path, a wildcard DNS
// name), or when two name different users.
absl::StatusOr<std::string> UserNamedBy(CertificateIdentity identity,
                                        const std::vector<std::string>& sans);

}  // namespace signoff::server
