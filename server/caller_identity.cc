#include "server/caller_identity.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace signoff::server {

namespace {

constexpr char kUserHeader[] = "x-signoff-user";
constexpr char kAuthorizationHeader[] = "authorization";
constexpr char kBearerScheme[] = "bearer ";

CallerIdentity::HeaderLookup LookupIn(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  return [&metadata](const char* name) -> std::optional<std::string> {
    auto it = metadata.find(name);
    if (it == metadata.end()) return std::nullopt;
    return std::string(it->second.data(), it->second.size());
  };
}

}  // namespace

absl::StatusOr<std::unique_ptr<CallerIdentity>> CallerIdentity::Create(
    const IdentityOptions& options) {
  std::unique_ptr<CallerIdentity> identity(new CallerIdentity());
  auto certificate_identity = ParseCertificateIdentity(options.client_certificate_identity);
  if (!certificate_identity.ok()) return certificate_identity.status();
  identity->certificate_identity_ = *certificate_identity;
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

absl::StatusOr<app::Caller> CallerIdentity::CallerOf(
    const grpc::ServerContextBase& context) const {
  const HeaderLookup header = LookupIn(context.client_metadata());
  if (certificate_identity_ == CertificateIdentity::kNone || CarriesCredential(header)) {
    absl::StatusOr<std::string> user = UserOf(header);
    if (!user.ok()) return user.status();
    return app::Caller{*std::move(user)};
  }
  // Every TLS connection here presented a certificate the client CA
  // verified: SignoffServer::CheckOptions refuses a certificate identity
  // without --tls-client-ca-file. A call with none (in-process) has no SANs.
  std::vector<std::string> sans;
  if (const auto auth_context = context.auth_context(); auth_context != nullptr) {
    for (const grpc::string_ref& san :
         auth_context->FindPropertyValues(SanPropertyOf(certificate_identity_))) {
      sans.emplace_back(san.data(), san.size());
    }
  }
  absl::StatusOr<std::string> user = UserNamedBy(certificate_identity_, sans);
  if (!user.ok()) return user.status();
  app::Caller caller{*std::move(user)};
  caller.from_client_certificate = true;
  return caller;
}

absl::StatusOr<app::Caller> CallerIdentity::CallerOfHeaders(const HeaderLookup& header) const {
  absl::StatusOr<std::string> user = UserOf(header);
  if (!user.ok()) return user.status();
  return app::Caller{*std::move(user)};
}

bool CallerIdentity::CarriesCredential(const HeaderLookup& header) const {
  return header(trusts_header() ? kUserHeader : kAuthorizationHeader).has_value();
}

absl::StatusOr<std::string> CallerIdentity::UserOf(const HeaderLookup& header) const {
  if (trusts_header()) return header(kUserHeader).value_or("");
  const std::optional<std::string> found = header(kAuthorizationHeader);
  if (!found.has_value()) {
    return absl::UnauthenticatedError("no bearer token: send 'authorization: Bearer <token>'");
  }
  const std::string& authorization = *found;
  if (!absl::StartsWithIgnoreCase(authorization, kBearerScheme)) {
    return absl::UnauthenticatedError("the authorization header is not 'Bearer <token>'");
  }
  const std::string token(
      absl::StripAsciiWhitespace(absl::string_view(authorization).substr(sizeof(kBearerScheme) - 1)));
  return verifier_->Verify(token, absl::Now());
}

}  // namespace signoff::server
