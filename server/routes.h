#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/app/application.h"

namespace signoff::server {

// One RPC as bytes in, bytes out: parses the request, checks its limits,
// calls the application and serializes the reply. Transports (gRPC, and
// HTTP later) share these, so every one of them parses and checks alike.
using Route =
    std::function<absl::StatusOr<std::string>(const app::Caller&, absl::string_view request)>;

// Every RPC of the signoff.v1 services, keyed by full method name
// ("/signoff.v1.TaskService/DecideTask").
std::map<std::string, Route> BuildRoutes(app::Application& application);

}  // namespace signoff::server
