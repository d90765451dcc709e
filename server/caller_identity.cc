#include "server/caller_identity.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace signoff::server {

namespace {

constexpr char kUserHeader[] = "x-signoff-user";
constexpr char kAuthorizationHeader[] = "authorization";
constexpr char kBearerScheme[] = "bearer ";

std::string HeaderValue(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                        const char* name, bool* present) {
  auto it = metadata.find(name);
  *present = it != metadata.end();
  if (!*present) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

absl::StatusOr<std::unique_ptr<CallerIdentity>> CallerIdentity::Create(
    const IdentityOptions& options) {
  std::unique_ptr<CallerIdentity> identity(new CallerIdentity());
  if (options.auth == "dev") return identity;
  if (options.auth != "jwt") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown --auth '", options.auth, "'; use dev or jwt"));
  }
  if (options.jwks_file.empty()) {
    return absl::InvalidArgumentError("--auth=jwt needs --jwks-file, the keys tokens are signed with");
  }
  if (options.jwt.issuer.empty() || options.jwt.audience.empty()) {
    return absl::InvalidArgumentError("--auth=jwt needs --jwt-issuer and --jwt-audience");
  }
  if (options.jwt.user_claim.empty()) {
    return absl::InvalidArgumentError("--jwt-user-claim must name a claim");
  }
  if (options.jwt.clock_skew < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--jwt-clock-skew must not be negative");
  }
  auto jwks = auth::JwksFile::Open(options.jwks_file);
  if (!jwks.ok()) return jwks.status();
  identity->jwks_ = *std::move(jwks);
  auth::JwksFile* keys = identity->jwks_.get();
  identity->verifier_ =
      std::make_unique<auth::JwtVerifier>(options.jwt, [keys] { return keys->Keys(); });
  return identity;
}

absl::StatusOr<std::string> CallerIdentity::UserOf(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const {
  bool present = false;
  if (trusts_header()) return HeaderValue(metadata, kUserHeader, &present);
  const std::string authorization = HeaderValue(metadata, kAuthorizationHeader, &present);
  if (!present) {
    return absl::UnauthenticatedError("no bearer token: send 'authorization: Bearer <token>'");
  }
  if (!absl::StartsWithIgnoreCase(authorization, kBearerScheme)) {
    return absl::UnauthenticatedError("the authorization header is not 'Bearer <token>'");
  }
  const std::string token(
      absl::StripAsciiWhitespace(absl::string_view(authorization).substr(sizeof(kBearerScheme) - 1)));
  return verifier_->Verify(token, absl::Now());
}

}  // namespace signoff::server
