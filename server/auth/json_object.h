#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"

namespace signoff::server::auth {

// A JSON object, as the JOSE documents (JWKS, token header and claims) are.
// INVALID_ARGUMENT for text that is not one; `what` names it in the message.
absl::StatusOr<google::protobuf::Struct> ParseJsonObject(const std::string& text,
                                                         const std::string& what);

// The member `name` when it is a string; nullopt when absent or not one.
std::optional<std::string> StringMember(const google::protobuf::Struct& object,
                                        const std::string& name);

// The member `name` when it is a number; nullopt when absent or not one.
std::optional<double> NumberMember(const google::protobuf::Struct& object,
                                   const std::string& name);

// base64url without padding (RFC 7515 section 2).
std::string Base64UrlEncode(const std::string& bytes);
// nullopt for text that is not base64url.
std::optional<std::string> Base64UrlDecode(const std::string& text);

}  // namespace signoff::server::auth
