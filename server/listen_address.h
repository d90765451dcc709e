#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace signoff::server {

// A --listen value taken apart and checked: "host:port", "[v6]:port" or
// "unix:/path".
struct ListenAddress {
  std::string host;
  int port = 0;
  std::string unix_path;
  // Every address the host resolves to is on this machine only.
  bool loopback = false;
};

// INVALID_ARGUMENT for a missing or bad port (0 to 65535; 0 picks a free
// one) and for a host that does not resolve. A host counts as loopback
// only when every address it resolves to is 127.0.0.0/8 or ::1.
absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& listen);

}  // namespace signoff::server
