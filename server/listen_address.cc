#include "server/listen_address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace signoff::server {

namespace {

bool IsLoopback(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
  }
  return false;
}

// True when `host` resolves, and only to loopback addresses.
absl::StatusOr<bool> ResolvesToLoopbackOnly(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int error = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (error != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen: cannot resolve host '", host, "': ", gai_strerror(error)));
  }
  bool loopback = found != nullptr;
  for (addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    loopback = loopback && IsLoopback(entry->ai_addr);
  }
  freeaddrinfo(found);
  return loopback;
}

}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& listen) {
  ListenAddress address;
  if (absl::StartsWith(listen, "unix:")) {
    address.unix_path = listen.substr(5);
    if (address.unix_path.empty()) {
      return absl::InvalidArgumentError("--listen: unix: needs a socket path");
    }
    address.loopback = true;
    return address;
  }
  std::string port_text;
  if (absl::StartsWith(listen, "[")) {
    const size_t close = listen.find(']');
    if (close == std::string::npos || listen.size() < close + 2 || listen[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("--listen: '", listen, "' is not [address]:port"));
    }
    address.host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--listen: '", listen, "' has no port; write host:port"));
    }
    address.host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  if (address.host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen: '", listen, "' has no host; write e.g. 127.0.0.1:50051"));
  }
  if (!absl::SimpleAtoi(port_text, &address.port) || address.port < 0 ||
      address.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen: port '", port_text, "' is not a number from 0 to 65535"));
  }
  auto loopback = ResolvesToLoopbackOnly(address.host);
  if (!loopback.ok()) return loopback.status();
  address.loopback = *loopback;
  return address;
}

}  // namespace signoff::server
