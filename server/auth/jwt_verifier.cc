#include "server/auth/jwt_verifier.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/auth/json_object.h"
#include "server/auth/jws_signature.h"

namespace signoff::server::auth {

namespace {

using google::protobuf::Struct;

absl::Status Refuse(const std::string& why) {
  return absl::UnauthenticatedError(absl::StrCat("bearer token refused: ", why));
}

struct TokenParts {
  Struct header;
  Struct claims;
  std::string signing_input;
  std::string signature;
};

absl::StatusOr<Struct> DecodeJsonPart(const std::string& part, const std::string& what) {
  auto bytes = Base64UrlDecode(part);
  if (!bytes) return Refuse(absl::StrCat("its ", what, " is not base64url"));
  auto object = ParseJsonObject(*bytes, absl::StrCat("its ", what));
  if (!object.ok()) return Refuse(std::string(object.status().message()));
  return object;
}

absl::StatusOr<TokenParts> Split(const std::string& token) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Refuse("not three base64url parts separated by dots");
  TokenParts split;
  auto header = DecodeJsonPart(parts[0], "header");
  if (!header.ok()) return header.status();
  split.header = *std::move(header);
  auto claims = DecodeJsonPart(parts[1], "payload");
  if (!claims.ok()) return claims.status();
  split.claims = *std::move(claims);
  auto signature = Base64UrlDecode(parts[2]);
  if (!signature) return Refuse("its signature is not base64url");
  split.signature = *std::move(signature);
  split.signing_input = absl::StrCat(parts[0], ".", parts[1]);
  return split;
}

// The keys the header allows: the one its kid names (which must sign with
// the header's alg), or without a kid every key of that alg. Never chosen by
// the alg alone when a kid is given, so that an attacker cannot pair a public
// key with a secret-key algorithm.
absl::StatusOr<std::vector<const Jwk*>> CandidateKeys(const Struct& header, const KeySet& keys) {
  const auto alg = StringMember(header, "alg");
  if (!alg) return Refuse("its header has no alg");
  if (*alg == "none") return Refuse("alg none (an unsigned token) is not accepted");
  if (*alg != "RS256" && *alg != "ES256" && *alg != "HS256") {
    return Refuse(absl::StrCat("alg ", *alg, " is not supported (RS256, ES256, HS256 are)"));
  }
  const auto kid = StringMember(header, "kid");
  std::vector<const Jwk*> candidates;
  for (const Jwk& key : keys.keys) {
    if (kid && key.kid != *kid) continue;
    if (*alg != AlgorithmOf(key.type)) {
      if (kid) {
        return Refuse(absl::StrCat("alg ", *alg, " does not match key ", *kid, ", an ",
                                   AlgorithmOf(key.type), " key"));
      }
      continue;
    }
    candidates.push_back(&key);
  }
  if (candidates.empty()) {
    return Refuse(kid ? absl::StrCat("no key has kid ", *kid)
                      : absl::StrCat("no key for alg ", *alg));
  }
  return candidates;
}

bool AudienceHolds(const Struct& claims, const std::string& audience) {
  auto it = claims.fields().find("aud");
  if (it == claims.fields().end()) return false;
  if (it->second.has_string_value()) return it->second.string_value() == audience;
  if (!it->second.has_list_value()) return false;
  for (const auto& value : it->second.list_value().values()) {
    if (value.has_string_value() && value.string_value() == audience) return true;
  }
  return false;
}

// An exp or nbf claim (seconds since the epoch, fractions allowed) as a
// time. A number past what int64 seconds hold, which a signed token may
// carry, is infinitely far rather than a conversion with no defined result.
absl::Time TimeOfClaim(double seconds) { return absl::UnixEpoch() + absl::Seconds(seconds); }

absl::Status CheckTimes(const Struct& claims, absl::Time now, absl::Duration skew) {
  const double seconds = absl::ToDoubleSeconds(now - absl::UnixEpoch());
  const double leeway = absl::ToDoubleSeconds(skew);
  const auto expires = NumberMember(claims, "exp");
  if (!expires) return Refuse("it has no numeric exp");
  if (seconds >= *expires + leeway) {
    return Refuse(absl::StrCat("it expired at ",
                               absl::FormatTime(TimeOfClaim(*expires), absl::UTCTimeZone())));
  }
  if (claims.fields().count("nbf")) {
    const auto not_before = NumberMember(claims, "nbf");
    if (!not_before) return Refuse("its nbf is not a number");
    if (seconds < *not_before - leeway) {
      return Refuse(absl::StrCat(
          "it is not valid before ",
          absl::FormatTime(TimeOfClaim(*not_before), absl::UTCTimeZone())));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> JwtVerifier::Verify(const std::string& token, absl::Time now) const {
  auto parts = Split(token);
  if (!parts.ok()) return parts.status();
  const std::shared_ptr<const KeySet> keys = keys_();
  auto candidates = CandidateKeys(parts->header, *keys);
  if (!candidates.ok()) return candidates.status();
  bool signed_by_a_key = false;
  for (const Jwk* key : *candidates) {
    if (SignatureMatches(*key, parts->signing_input, parts->signature)) {
      signed_by_a_key = true;
      break;
    }
  }
  if (!signed_by_a_key) return Refuse("its signature does not verify");
  const Struct& claims = parts->claims;
  if (StringMember(claims, "iss").value_or("") != options_.issuer) {
    return Refuse(absl::StrCat("its iss is not ", options_.issuer));
  }
  if (!AudienceHolds(claims, options_.audience)) {
    return Refuse(absl::StrCat("its aud does not include ", options_.audience));
  }
  if (absl::Status times = CheckTimes(claims, now, options_.clock_skew); !times.ok()) return times;
  const auto user = StringMember(claims, options_.user_claim);
  if (!user || user->empty()) {
    return Refuse(absl::StrCat("it has no string claim ", options_.user_claim));
  }
  return *user;
}

}  // namespace signoff::server::auth
