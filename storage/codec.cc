#include "storage/codec.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "workflow/status_macros.h"

namespace signoff::storage {
namespace {

constexpr int kMaxPageSize = 500;

bool IsByteaHex(absl::string_view column) {
  return column.size() >= 2 && column[0] == '\\' && column[1] == 'x';
}

}  // namespace

absl::StatusOr<std::string> EncodeBody(const google::protobuf::Message& message) {
  std::string body;
  if (!message.SerializeToString(&body)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot store ", message.GetTypeName(), ": it does not serialize"));
  }
  return body;
}

absl::StatusOr<std::string> StoredBytes(std::string column) {
  if (!IsByteaHex(column)) return column;
  const absl::string_view digits = absl::string_view(column).substr(2);
  if (digits.size() % 2 != 0 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return absl::ascii_isxdigit(c); })) {
    return absl::DataLossError("a stored body is neither bytes nor hex-encoded bytes");
  }
  return absl::HexStringToBytes(digits);
}

absl::Status DecodeBody(absl::string_view body, google::protobuf::Message* message) {
  std::string decoded;
  if (IsByteaHex(body)) {
    absl::StatusOr<std::string> bytes = StoredBytes(std::string(body));
    if (!bytes.ok()) return bytes.status();
    decoded = std::move(*bytes);
    body = decoded;
  }
  if (!message->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return absl::DataLossError(
        absl::StrCat("a stored ", message->GetTypeName(), " does not parse"));
  }
  return absl::OkStatus();
}

absl::Status FromJson(const std::string& json, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, message, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("stored ", message->GetTypeName(),
                                            " is not valid JSON: ", status.ToString()));
  }
  return absl::OkStatus();
}

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

std::string EncodePageToken(absl::string_view list, absl::string_view position) {
  return absl::WebSafeBase64Escape(absl::StrCat(list, "/", position));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view list,
                                            absl::string_view token) {
  std::string decoded;
  const std::string prefix = absl::StrCat(list, "/");
  if (!absl::WebSafeBase64Unescape(token, &decoded) ||
      !absl::StartsWith(decoded, prefix) || decoded.size() == prefix.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token is not a token from a previous ", list, " page"));
  }
  return decoded.substr(prefix.size());
}

int ClampPageSize(int32_t requested, int default_size) {
  if (requested <= 0) return default_size;
  return std::min<int32_t>(requested, kMaxPageSize);
}

std::string EncodeTimeIdPosition(int64_t time_us, absl::string_view id) {
  return absl::StrCat(time_us, ":", id);
}

absl::StatusOr<TimeIdPosition> DecodeTimeIdPageToken(absl::string_view list,
                                                     absl::string_view token) {
  SIGNOFF_ASSIGN_OR_RETURN(std::string position, DecodePageToken(list, token));
  const size_t colon = position.find(':');
  TimeIdPosition decoded;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(position.substr(0, colon), &decoded.time_us)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token is not a token from a previous ", list, " page"));
  }
  decoded.id = position.substr(colon + 1);
  return decoded;
}

}  // namespace signoff::storage
