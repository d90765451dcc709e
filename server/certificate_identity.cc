#include "server/certificate_identity.h"

#include <grpc/grpc_security_constants.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "workflow/errors.h"

namespace signoff::server {

namespace {

// spiffe://example.org/ns/ops/sa/svc-doc-check: svc-doc-check. A query or
// fragment would make the last segment ambiguous, so such a URI names no
// one; nor does one without a path (urn:..., https://host).
std::optional<std::string> LastPathSegment(absl::string_view uri) {
  const size_t authority = uri.find("://");
  if (authority == absl::string_view::npos) return std::nullopt;
  const size_t path = uri.find('/', authority + 3);
  if (path == absl::string_view::npos || uri.find_first_of("?#") != absl::string_view::npos) {
    return std::nullopt;
  }
  absl::string_view segment = uri.substr(uri.rfind('/') + 1);
  if (segment.empty()) return std::nullopt;
  return std::string(segment);
}

// svc-doc-check.signoff.internal: svc-doc-check. A wildcard names no one.
std::optional<std::string> FirstLabel(absl::string_view name) {
  absl::string_view label = name.substr(0, name.find('.'));
  if (label.empty() || label == "*") return std::nullopt;
  return std::string(label);
}

const char* KindOf(CertificateIdentity identity) {
  return identity == CertificateIdentity::kUri ? "URI" : "DNS";
}

}  // namespace

absl::StatusOr<CertificateIdentity> ParseCertificateIdentity(absl::string_view name) {
  if (name == "none") return CertificateIdentity::kNone;
  if (name == "uri") return CertificateIdentity::kUri;
  if (name == "dns") return CertificateIdentity::kDns;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown --tls-client-identity '", workflow::ShortForMessage(std::string(name)),
      "'; use none, uri or dns"));
}

const char* SanPropertyOf(CertificateIdentity identity) {
  return identity == CertificateIdentity::kUri ? GRPC_PEER_URI_PROPERTY_NAME
                                               : GRPC_PEER_DNS_PROPERTY_NAME;
}

absl::StatusOr<std::string> UserNamedBy(CertificateIdentity identity,
                                        const std::vector<std::string>& sans) {
  if (identity == CertificateIdentity::kNone) {
    return absl::UnauthenticatedError("client certificates do not name callers here");
  }
  std::optional<std::string> named;
  for (const std::string& san : sans) {
    std::optional<std::string> user =
        identity == CertificateIdentity::kUri ? LastPathSegment(san) : FirstLabel(san);
    if (!user) {
      return absl::UnauthenticatedError(
          absl::StrCat("the client certificate's ", KindOf(identity), " SAN '",
                       workflow::ShortForMessage(san), "' names no user"));
    }
    if (named && *named != *user) {
      return absl::UnauthenticatedError(absl::StrCat(
          "the client certificate's ", KindOf(identity), " SANs name two users, '",
          workflow::ShortForMessage(*named), "' and '", workflow::ShortForMessage(*user), "'"));
    }
    named = std::move(user);
  }
  if (!named) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the call names no caller, and the client certificate has no ", KindOf(identity),
        " SAN to name a service account"));
  }
  return *std::move(named);
}

}  // namespace signoff::server
