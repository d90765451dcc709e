#pragma once

// What the fuzzers share: the input as text, cut into two YAML documents
// where a fuzzer wants two, and fixtures that must not fail.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "google/protobuf/stubs/logging.h"

namespace signoff::fuzz {

inline std::string TextOf(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// An input of two documents, "first\n---\nsecond", keeps both readable as
// YAML in the seed corpus; without the marker there is only a first one.
inline std::pair<std::string, std::optional<std::string>> SplitDocuments(const std::string& text) {
  static const std::string kMarker = "\n---\n";
  const size_t at = text.find(kMarker);
  if (at == std::string::npos) return {text, std::nullopt};
  return {text.substr(0, at), text.substr(at + kMarker.size())};
}

// A fixture the fuzzer cannot do without; a broken one is a bug in the
// fuzzer, not a finding.
template <typename T>
T Required(absl::StatusOr<T> value) {
  if (!value.ok()) {
    std::fprintf(stderr, "fuzzer fixture: %s\n", value.status().ToString().c_str());
    std::abort();
  }
  return *std::move(value);
}

// Protobuf logs an error for every string it serializes that is not UTF-8,
// as fuzzed text often is (signoff's own input arrives in messages gRPC has
// checked). Those lines would bury the fuzzer's output; others still show.
inline void IgnoreInvalidUtf8Logs() {
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel level, const char* file, int line,
                                     const std::string& message) {
    if (message.find("invalid UTF-8") != std::string::npos) return;
    std::fprintf(stderr, "[libprotobuf %d %s:%d] %s\n", static_cast<int>(level), file, line,
                 message.c_str());
  });
}

}  // namespace signoff::fuzz
