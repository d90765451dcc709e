#pragma once

#include <cstdint>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace signoff::app {

// `prefix`, the time in hex microseconds and a random tail: ids made later
// sort after earlier ones, so that listing by id is listing by creation.
inline std::string NewTimeOrderedId(absl::string_view prefix, absl::Time now) {
  static thread_local absl::BitGen random;
  return absl::StrFormat("%s%013x%06x", prefix, absl::ToUnixMicros(now),
                         absl::Uniform<uint32_t>(random, 0, 1u << 24));
}

}  // namespace signoff::app
