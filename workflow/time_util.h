#pragma once

// The one conversion between absl::Time and protobuf timestamps. Every time
// signoff records is kept at microsecond precision, the precision the store
// indexes due times at, so a time written and read back compares equal.

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace signoff::workflow {

// Truncates towards the past to a whole microsecond.
inline google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  const int64_t micros = absl::ToUnixMicros(time);
  int64_t seconds = micros / 1000000;
  int64_t rest = micros % 1000000;
  if (rest < 0) {
    rest += 1000000;
    --seconds;
  }
  google::protobuf::Timestamp stamp;
  stamp.set_seconds(seconds);
  stamp.set_nanos(static_cast<int32_t>(rest * 1000));
  return stamp;
}

// Safe for any stamp a caller can send: seconds and nanoseconds are added
// as durations, never multiplied into one integer.
inline absl::Time FromTimestamp(const google::protobuf::Timestamp& stamp) {
  const absl::Time exact =
      absl::FromUnixSeconds(stamp.seconds()) + absl::Nanoseconds(stamp.nanos());
  return absl::FromUnixMicros(absl::ToUnixMicros(exact));
}

inline int64_t ToUnixMicros(const google::protobuf::Timestamp& stamp) {
  return absl::ToUnixMicros(FromTimestamp(stamp));
}

inline google::protobuf::Timestamp FromUnixMicros(int64_t micros) {
  return ToTimestamp(absl::FromUnixMicros(micros));
}

inline std::string FormatTimestamp(const google::protobuf::Timestamp& stamp) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromTimestamp(stamp), absl::UTCTimeZone());
}

}  // namespace signoff::workflow
