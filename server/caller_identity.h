#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/app/caller.h"
#include "server/auth/jwks_file.h"
#include "server/auth/jwt_verifier.h"
#include "server/certificate_identity.h"

namespace signoff::server {

struct IdentityOptions {
  // "dev" trusts the x-signoff-user header; "jwt" verifies a bearer token.
  std::string auth = "dev";
  std::string jwks_file;
  auth::JwtOptions jwt;
  // "none", "uri" or "dns": whether, and by which SANs, a verified client
  // certificate names the caller of a call that names none itself.
  std::string client_certificate_identity = "none";
};

// Who a gRPC call comes from, read from its metadata and, when the options
// say so, from the client certificate its connection was verified with.
class CallerIdentity {
 public:
  // INVALID_ARGUMENT for an unknown mode or certificate identity, and in
  // jwt mode for a missing issuer or audience or a JWKS file without a
  // usable key.
  static absl::StatusOr<std::unique_ptr<CallerIdentity>> Create(const IdentityOptions& options);

  bool trusts_header() const { return jwks_ == nullptr; }

  // The caller. A call that carries its own credential (the header in dev
  // mode, an authorization header in jwt mode) is the user that names,
  // whatever certificate its connection presented: a portal holding a
  // certificate forwards its users' tokens. Dev mode: the header's value,
  // possibly empty (the application refuses it). Jwt mode: UNAUTHENTICATED
  // unless a valid bearer token names the user; a token that fails is
  // refused, with no fall back to the certificate. Only a call carrying
  // neither is named by the certificate's SANs, as a caller the
  // application accepts only if it is a service account.
  absl::StatusOr<app::Caller> CallerOf(const grpc::ServerContextBase& context) const;

  // A request header's value by its lower-case name, if it has one.
  using HeaderLookup = std::function<std::optional<std::string>(const char* name)>;
  // Who an HTTP request comes from, by the same headers and rules as a
  // gRPC call's metadata. The HTTP listener sees no client certificates, so
  // a request without a credential of its own is UNAUTHENTICATED (jwt mode)
  // or names nobody (dev mode, which the application refuses).
  absl::StatusOr<app::Caller> CallerOfHeaders(const HeaderLookup& header) const;

 private:
  CallerIdentity() = default;

  bool CarriesCredential(const HeaderLookup& header) const;
  absl::StatusOr<std::string> UserOf(const HeaderLookup& header) const;

  std::unique_ptr<auth::JwksFile> jwks_;
  std::unique_ptr<auth::JwtVerifier> verifier_;
  CertificateIdentity certificate_identity_ = CertificateIdentity::kNone;
};

}  // namespace signoff::server
