#pragma once

// The paging of append-only logs read from a position on (every instance's
// events, the admin audit trail): the reader names the last position it
// read and how many entries it wants next.

#include <cstdint>

#include "absl/status/statusor.h"

namespace signoff::app {

inline constexpr int kDefaultLogPageSize = 100;
inline constexpr int kMaxLogPageSize = 1000;

// How many entries to read: page_size, or kDefaultLogPageSize for 0.
// INVALID_ARGUMENT, with a violation per field, for a negative position
// (named `after_field`) or a page size out of range.
absl::StatusOr<int> LogPageSize(const char* after_field, int64_t after, int32_t page_size);

}  // namespace signoff::app
