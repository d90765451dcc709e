#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/auth/jwks_file.h"
#include "server/auth/jwt_verifier.h"

namespace signoff::server {

struct IdentityOptions {
  // "dev" trusts the x-signoff-user header; "jwt" verifies a bearer token.
  std::string auth = "dev";
  std::string jwks_file;
  auth::JwtOptions jwt;
};

// Who a gRPC call comes from, read from its metadata.
class CallerIdentity {
 public:
  // INVALID_ARGUMENT for an unknown mode, and in jwt mode for a missing
  // issuer or audience or a JWKS file without a usable key.
  static absl::StatusOr<std::unique_ptr<CallerIdentity>> Create(const IdentityOptions& options);

  bool trusts_header() const { return jwks_ == nullptr; }

  // The caller's user id. Dev mode: the header's value, possibly empty
  // (the application refuses it). Jwt mode: UNAUTHENTICATED unless a
  // valid bearer token names the user.
  absl::StatusOr<std::string> UserOf(
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const;

 private:
  CallerIdentity() = default;

  std::unique_ptr<auth::JwksFile> jwks_;
  std::unique_ptr<auth::JwtVerifier> verifier_;
};

}  // namespace signoff::server
