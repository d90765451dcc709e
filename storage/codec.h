#pragma once

// Conversions between protobuf values and what the tables store: messages
// as binary protobuf, times as microseconds since the epoch, page positions
// as opaque tokens.

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"

namespace signoff::storage {

// A message as its body column holds it. Binary, not JSON: it is several
// times cheaper to write and read, and smaller.
absl::StatusOr<std::string> EncodeBody(const google::protobuf::Message& message);
// Fields unknown to this release are kept, so that rows written by a newer
// release survive being read and written back during a rolling upgrade.
// DATA_LOSS when the bytes do not parse.
absl::Status DecodeBody(absl::string_view body, google::protobuf::Message* message);

// Bodies written as JSON by releases before schema 6; only the migration
// that converts them reads JSON.
absl::Status FromJson(const std::string& json, google::protobuf::Message* message);

int64_t NowMicros();

// A page token names the list it belongs to, so that a token from one list
// is refused by another instead of silently skipping rows.
std::string EncodePageToken(absl::string_view list, absl::string_view position);
// The position, or INVALID_ARGUMENT for a token this list did not issue.
absl::StatusOr<std::string> DecodePageToken(absl::string_view list,
                                            absl::string_view token);

// 1..500; values <= 0 take the default.
int ClampPageSize(int32_t requested, int default_size);

}  // namespace signoff::storage
