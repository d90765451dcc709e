#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/app/application.h"

namespace signoff::server {

// What a call's log line names, read from its request and answer: its
// request_id, and the instance and task it concerns, where it has them.
struct CallFacts {
  std::string request_id;
  std::string instance_id;
  std::string task_id;
};

// One RPC as bytes in, bytes out: parses the request, checks its limits,
// calls the application and serializes the reply, noting the call's facts.
// Transports (gRPC and HTTP) share these, so every one of them parses and
// checks alike.
using Route = std::function<absl::StatusOr<std::string>(
    const app::Caller&, absl::string_view request, CallFacts* facts)>;

// Every RPC of the signoff.v1 services, keyed by full method name
// ("/signoff.v1.TaskService/DecideTask").
std::map<std::string, Route> BuildRoutes(app::Application& application);

}  // namespace signoff::server
