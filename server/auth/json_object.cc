#include "server/auth/json_object.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace signoff::server::auth {

absl::StatusOr<google::protobuf::Struct> ParseJsonObject(const std::string& text,
                                                         const std::string& what) {
  google::protobuf::Struct object;
  // A JSON value that is not an object (an array, a number) fails here too.
  if (!google::protobuf::util::JsonStringToMessage(text, &object).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a JSON object"));
  }
  return object;
}

std::optional<std::string> StringMember(const google::protobuf::Struct& object,
                                        const std::string& name) {
  auto it = object.fields().find(name);
  if (it == object.fields().end() || !it->second.has_string_value()) return std::nullopt;
  return it->second.string_value();
}

std::optional<double> NumberMember(const google::protobuf::Struct& object,
                                   const std::string& name) {
  auto it = object.fields().find(name);
  if (it == object.fields().end() || !it->second.has_number_value()) return std::nullopt;
  return it->second.number_value();
}

std::string Base64UrlEncode(const std::string& bytes) { return absl::WebSafeBase64Escape(bytes); }

std::optional<std::string> Base64UrlDecode(const std::string& text) {
  // JWS forbids padding, and absl would accept it.
  if (text.find('=') != std::string::npos) return std::nullopt;
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(text, &bytes)) return std::nullopt;
  return bytes;
}

}  // namespace signoff::server::auth
