#pragma once

#include <string>

namespace signoff::app {

// Who is calling, as the transport resolved it. `system` callers are
// signoffd itself (seeding at start-up, timers) and skip the
// administrator checks.
struct Caller {
  std::string user;
  bool system = false;
  // `user` was named by a verified client certificate, not by a token or
  // header: certificates are issued to machines, so such a caller is
  // authenticated only as a service account.
  bool from_client_certificate = false;

  // request_ids are unique per caller: two callers may use the same one
  // without seeing each other's replies. signoffd's own changes share one
  // scope that no directory user can have.
  std::string IdempotencyScope() const { return system ? "" : user; }
};

// request_ids with this prefix are signoffd's own (timer firings, seeding);
// callers may not use them, so none can squat on a timer's key.
inline constexpr char kServiceRequestPrefix[] = "signoffd:";

}  // namespace signoff::app
