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
// The bytes a body column held. PostgreSQL's driver returns bytea in its
// text form, "\x" and hex digits; that form is decoded here. A protobuf
// encoding never starts with "\x" (0x5c is an end-group tag, which cannot
// open a message), so raw bytes are never mistaken for it.
absl::StatusOr<std::string> StoredBytes(std::string column);

// Reads bytes in either form StoredBytes takes.
// Fields unknown to this release are kept, so that rows written by a newer
// release survive being read and written back during a rolling upgrade.
// DATA_LOSS when the bytes do not parse.
absl::Status DecodeBody(absl::string_view body, google::protobuf::Message* message);

// Bodies written as JSON by releases before schema 6; only the migration
// that converts them reads JSON. Strict: a field the message does not have
// is an error, since the conversion keeps only what parses.
absl::Status FromJson(const std::string& json, google::protobuf::Message* message);

int64_t NowMicros();

// A page token names the list it belongs to, so that a token from one list
// is refused by another instead of silently skipping rows.
std::string EncodePageToken(absl::string_view list, absl::string_view position);
// The position, or INVALID_ARGUMENT for a token this list did not issue.
absl::StatusOr<std::string> DecodePageToken(absl::string_view list,
                                            absl::string_view token);

// A position in a list ordered by (time, id), as tasks and incidents are:
// "<micros>:<id>".
struct TimeIdPosition {
  int64_t time_us = 0;
  std::string id;
};
std::string EncodeTimeIdPosition(int64_t time_us, absl::string_view id);
// The position a token of `list` holds; INVALID_ARGUMENT naming `list` for
// any other token.
absl::StatusOr<TimeIdPosition> DecodeTimeIdPageToken(absl::string_view list,
                                                     absl::string_view token);

// 1..500; values <= 0 take the default.
int ClampPageSize(int32_t requested, int default_size);

}  // namespace signoff::storage
